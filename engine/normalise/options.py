"""Option terms, underlying price and greeks: from the venue, ccxt's markets and greeks, else
Black-76 at the snapshot's time (docs/risk.md#option-exposure, docs/risk.md#greeks).

An option's ``mark`` is its premium, never the underlying's price, so the exposure of an
option needs the underlying's price and the option's delta from somewhere else. In order:
the venue's own figures on the position (``Row.underlying_price``/``Row.delta`` set by a
venue reader), then ccxt's market (strike, expiry, call/put, contract size) and greeks (mark
IV, underlying price, delta) passed beside the snapshot, then the venue's USD rate of the coin
from the balance, then the mark of a future or swap on the same underlying, and for the greeks
Black-76 with the mark IV at ``taken_at`` (``engine.normalise.greeks``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from engine.model import ContractType
from engine.normalise.fields import NAN, STABLECOINS, mapping, positive, split_symbol, text
from engine.normalise.greeks import apply_ccxt, fill_and_check
from engine.normalise.row import Row
from engine.options import YEAR_S as YEAR_S

#: Hour (UTC) at which Deribit, OKX and Bybit options expire: a ccxt symbol names the day only.
EXPIRY_HOUR_UTC = 8

#: Venues whose ccxt greeks give the implied volatility in percent (Deribit ``mark_iv`` 61.27).
IV_IN_PERCENT = frozenset({"deribit"})


def symbol_terms(row: Row) -> None:
    """Expiry, strike and call/put from a ccxt option symbol (``BTC/USD:BTC-260327-90000-P``)."""
    pieces = row.symbol.partition(":")[2].split("-")
    if len(pieces) < 4 or pieces[-1] not in ("C", "P"):
        return
    row.call = 1.0 if pieces[-1] == "C" else 0.0
    row.strike = positive(pieces[-2])
    try:
        day = datetime.strptime(pieces[-3], "%y%m%d").replace(hour=EXPIRY_HOUR_UTC, tzinfo=UTC)
    except ValueError:
        return
    row.expiry = day.timestamp()


def apply_market(row: Row, market: Mapping[str, Any], *, sized: bool) -> None:
    """A ccxt market's option terms; its contract size only when the position dict had none
    (``sized`` False: ccxt parsed it without the market)."""
    strike = positive(market.get("strike"))
    expiry = positive(market.get("expiry"))
    kind = text(market.get("optionType")).lower()
    if strike == strike:
        row.strike = strike
    if expiry == expiry:
        row.expiry = expiry / 1000.0
    if kind in ("call", "put"):
        row.call = 1.0 if kind == "call" else 0.0
    size = market_size(market)
    if not sized and size == size and row.contracts == row.contracts:
        row.contract_size = size
        row.qty = row.contracts * row.contract_size


def market_size(market: Mapping[str, Any]) -> float:
    """A ccxt option market's contract size in coins (NaN: unknown): OKX lists ctVal as ccxt's
    contractSize and the multiplier apart (``info.ctMult``: 0.01 BTC a contract)."""
    size = positive(market.get("contractSize"))
    multiplier = positive(mapping(market.get("info")).get("ctMult"))
    return size * (multiplier if multiplier == multiplier else 1.0)


def check_size(row: Row, position: Mapping[str, Any], market: Mapping[str, Any]) -> None:
    """A note when the venue reader sized the option from the position's own figures (OKX:
    notionalUsd / idxPx) apart from ccxt's contractSize and the option's market does not
    confirm that size: no market lists it, or its contractSize × ctMult differs."""
    ccxt_size = positive(position.get("contractSize"))
    size = row.contract_size
    if not (ccxt_size == ccxt_size and size > 0) or _same(size, ccxt_size):
        return
    listed = market_size(market) if market else NAN
    if _same(size, listed):
        return
    why = (
        f"its market lists {listed:g} (contractSize × ctMult)"
        if listed == listed
        else "no market lists the option"
    )
    row.note(f"contract size {size:.6g} from the position's figures (ccxt: {ccxt_size:g}): {why}")


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def apply_greeks(row: Row, greeks: Mapping[str, Any], venue: str) -> None:
    """ccxt's greeks of the option: mark IV, the underlying's price (the expiry's forward),
    and the greeks the position itself did not report (``engine.normalise.greeks``)."""
    iv = positive(greeks.get("markImpliedVolatility"))
    if iv == iv:
        row.mark_iv = iv / 100.0 if venue in IV_IN_PERCENT else iv
    if row.underlying_price != row.underlying_price:
        row.underlying_price = positive(greeks.get("underlyingPrice"))
    apply_ccxt(row, greeks, venue)


def read_terms(row: Row, position: Mapping[str, Any], markets: Mapping[str, Any]) -> None:
    """An option's strike, expiry and call/put from its symbol, overridden by its market."""
    if row.kind != ContractType.OPTION:
        return
    symbol_terms(row)
    market = mapping(markets.get(row.symbol))
    if market:
        apply_market(row, market, sized=position.get("contractSize") is not None)
    check_size(row, position, market)


def complete(
    rows: Sequence[Row],
    venue: str,
    greeks: Mapping[str, Any],
    taken_at: float,
    rates: Mapping[str, float],
) -> None:
    """Fill every option row's underlying price and delta (one pass over the rows); ``rates``
    are the venue's USD rates of the coins the account holds (Bybit ``usdValue / equity``)."""
    options = [r for r in rows if r.kind == ContractType.OPTION]
    if not options:
        return
    futures = _future_marks(rows)
    forwards = []
    for row in options:
        quote = mapping(greeks.get(row.symbol))
        apply_greeks(row, quote, venue)
        forwards.append(forward_price(quote))
        if row.underlying_price != row.underlying_price:
            rate = rates.get(row.underlying, NAN) if row.underlying not in STABLECOINS else NAN
            row.underlying_price = rate if rate > 0 else futures.get(row.underlying, NAN)
        if row.underlying_price != row.underlying_price:
            row.note(
                f"{row.underlying} price unknown (no venue index or rate, greeks "
                "underlyingPrice or future on it): option notional and exposure unknown"
            )
        if row.settle == row.underlying and row.settle_usd != row.settle_usd:
            row.settle_usd = row.underlying_price
    fill_and_check(options, venue, taken_at, forwards)


def forward_price(greeks: Mapping[str, Any]) -> float:
    """The expiry's forward from ccxt's greeks: ``underlyingPrice`` (Deribit's
    ``underlying_price``), else OKX's ``fwdPx`` in ``info``; NaN when neither is given."""
    forward = positive(greeks.get("underlyingPrice"))
    return forward if forward == forward else positive(mapping(greeks.get("info")).get("fwdPx"))


def _future_marks(rows: Sequence[Row]) -> dict[str, float]:
    """Underlying → the mark of its first future or swap whose mark is a USD price."""
    out: dict[str, float] = {}
    for row in rows:
        if row.kind == ContractType.OPTION or row.underlying in out or not row.mark > 0:
            continue
        if split_symbol(row.symbol)[1] in STABLECOINS:
            out[row.underlying] = row.mark
    return out
