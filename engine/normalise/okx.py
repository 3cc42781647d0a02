"""OKX v5 raw fields: account/positions (``pos`` in contracts of ``ctVal``) and account/balance."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from engine.model import Account, ContractType, Leg, MarginMode
from engine.normalise.fields import NAN, STABLECOINS, items, mapping, num, positive, put, text
from engine.normalise.generic import set_margin_mode
from engine.normalise.greeks import store_position_figure
from engine.normalise.row import Row

_LEGS = {"net": Leg.BOTH, "long": Leg.LONG, "short": Leg.SHORT}

#: Pool of cross positions in multi-currency and portfolio margin (``adjEq`` in USD).
MULTI_CURRENCY_POOL = "USD"


class OkxReader:
    """Reads OKX positions and balances.

    OKX API v5 "Get positions": ``pos`` is in contracts (× ``ctVal`` of the instrument gives
    base units for linear, USD for inverse), ``imr``/``mmr`` are margin AMOUNTS in the margin
    currency, ``margin`` is an isolated position's margin excluding ``upl``, ``liqPx`` is "" when
    none. "Get balance": ``mgnRatio`` is equity / maintenance (the inverse of our convention).
    """

    def refine(self, position: Mapping[str, Any], info: Mapping[str, Any], row: Row) -> None:
        """Overlay ccxt's unified view with what account/positions itself says."""
        row.leg = int(_LEGS.get(text(info.get("posSide", "net")).lower(), Leg.BOTH))
        pos = num(info.get("pos"))
        if row.side != row.side and pos == pos and pos != 0:
            row.side = 1.0 if pos > 0 else -1.0
        if pos == pos:
            row.contracts = abs(pos)
        if row.kind == ContractType.OPTION:
            _option(info, row)
        elif position.get("contractSize") is None:
            self._contract_value(info, row)
        row.qty = row.contracts * row.contract_size
        if row.kind == ContractType.OPTION:
            _option_greeks(info, row)
        mark = positive(info.get("markPx"))
        if mark == mark:
            row.mark = mark
        self._margin(info, row)
        self._amounts(info, row)
        lever = positive(info.get("lever"))
        if lever == lever:
            row.leverage = lever

    def _contract_value(self, info: Mapping[str, Any], row: Row) -> None:
        """ctVal back-solved from ``notionalUsd`` when ccxt's market was not loaded."""
        usd = positive(info.get("notionalUsd"))
        mark = positive(info.get("markPx"))
        if not (usd == usd and row.contracts > 0):
            row.contract_size = NAN
            row.note("contract value (ctVal) unknown: size cannot be converted from contracts")
            return
        if row.kind == ContractType.INVERSE:
            row.contract_size = usd / row.contracts
        else:
            row.contract_size = usd / (row.contracts * mark)
        row.note(f"contract value not in the market data: derived {row.contract_size:.6g}")

    def _margin(self, info: Mapping[str, Any], row: Row) -> None:
        mode = text(info.get("mgnMode")).lower()
        if mode == "isolated":
            wallet = positive(info.get("margin"))
            if wallet != wallet:
                row.note("isolated position without margin: margin unknown")
            set_margin_mode(row, MarginMode.ISOLATED, wallet)
        elif mode == "cross":
            set_margin_mode(row, MarginMode.CROSS)
        ccy = info.get("ccy")
        if isinstance(ccy, str) and ccy:
            row.pool = ccy

    def _amounts(self, info: Mapping[str, Any], row: Row) -> None:
        upl = num(info.get("upl"))
        if upl == upl:
            row.venue_upnl = upl
        maint = positive(info.get("mmr"))
        row.venue_maint_margin = maint
        initial = positive(info.get("imr"))
        if row.margin_mode == MarginMode.ISOLATED:
            initial = positive(info.get("margin"))
        row.venue_initial_margin = initial
        notional = _notional(row)
        # mmr is an amount: the rate is that amount over the position's value at the mark.
        row.mmr = maint / notional if maint == maint and notional > 0 else NAN
        row.maint_amount = 0.0

    def account(self, venue: str, balance: Mapping[str, Any] | None) -> Account:
        """Cross figures per currency, plus USD totals in multi-currency/portfolio margin."""
        info = mapping(mapping(balance).get("info"))
        data = info.get("data")
        summary = mapping(data[0]) if isinstance(data, list) and data else {}
        if not summary:
            return Account(venue=venue, diagnostics=("no OKX account/balance payload",))
        figures: dict[str, dict[str, float]] = {"w": {}, "m": {}, "mm": {}, "usd": {}}
        notes = _multi_currency(summary, figures)
        # In multi-currency margin only the USD totals back positions: per-currency cross
        # figures would shadow them, so only the USD rates are kept.
        per_currency = not figures["m"]
        for detail in items(summary.get("details")):
            _currency(mapping(detail), figures, per_currency=per_currency)
        pm = _portfolio_margin(info, summary)
        return Account(
            venue=venue,
            wallet_balance=figures["w"],
            margin_balance=figures["m"],
            maintenance_margin=figures["mm"],
            usd_rate=figures["usd"],
            diagnostics=tuple(notes),
            portfolio_margin=frozenset(pm),
            venue_margin_ratio=pm,
        )


#: OKX account mode (``acctLv`` of /api/v5/account/config) that is portfolio margin.
PORTFOLIO_MARGIN_LEVEL = "4"


def _portfolio_margin(info: Mapping[str, Any], summary: Mapping[str, Any]) -> dict[str, float]:
    """``{"USD": maintenance / equity}`` on portfolio margin (acctLv 4), from the account's
    ``mgnRatio``, which OKX states the other way round (adjusted equity / maintenance, 1 =
    liquidation). ``acctLv`` is in account/config, which ccxt's balance does not fetch: it is
    read from the summary or from the response beside ``data`` where the caller merged it."""
    level = text(summary.get("acctLv")) or text(info.get("acctLv"))
    ratio = num(summary.get("mgnRatio"))
    if level != PORTFOLIO_MARGIN_LEVEL or not ratio > 0:
        return {}
    return {MULTI_CURRENCY_POOL: 1.0 / ratio}


def _option(info: Mapping[str, Any], row: Row) -> None:
    """An option's underlying price (``idxPx``) and size in coins.

    ccxt's contractSize for an OKX option is ``ctVal`` (1) without the multiplier ``ctMult``
    (0.01 BTC a contract), so the size comes from ``notionalUsd / idxPx`` where OKX gives both;
    that it differs from ccxt's is noted only where the option's market (ctVal × ctMult) does
    not confirm it (``options.read_terms``: this reader does not see the markets).
    """
    index = positive(info.get("idxPx"))
    usd = positive(info.get("notionalUsd"))
    row.underlying_price = index
    if row.settle == row.underlying:
        usd_px = positive(info.get("usdPx"))
        row.settle_usd = usd_px if usd_px == usd_px else index
    if not (usd == usd and index == index and row.contracts > 0):
        return
    row.contract_size = _power_of_ten(usd / index / row.contracts)


def _power_of_ten(size: float) -> float:
    """``size`` snapped to the power of ten it is within 5 % of: OKX's option multipliers are
    (0.01 BTC, 0.1 ETH), and notionalUsd may be priced a little off the index."""
    nearest = 10.0 ** round(math.log10(size))
    return nearest if abs(size / nearest - 1.0) < 0.05 else size


def _option_greeks(info: Mapping[str, Any], row: Row) -> None:
    """The position's Black-Scholes greeks ``deltaBS``/``gammaBS``/``vegaBS``/``thetaBS``
    (coins, per USD, USD per vol point, USD per day: OKX's "in dollars" are USD-priced
    Black-Scholes, docs/risk.md#greeks). Never the ``PA`` fields (price-adjusted, in coin
    units of the premium). A delta larger than the position itself cannot be coins of the
    underlying: read as a dollar delta, per dollar of the underlying."""
    delta = num(info.get("deltaBS"))
    if delta == delta and abs(delta) > row.qty * 1.000001 and row.underlying_price > 0:
        delta = delta / row.underlying_price
        row.note("deltaBS exceeds the position's size: read in USD")
    store_position_figure(row, "delta", delta)
    for name in ("gamma", "vega", "theta"):
        store_position_figure(row, name, num(info.get(f"{name}BS")))


def _notional(row: Row) -> float:
    """Position value at the mark in margin currency: Q·P (linear) or Q/P coin (inverse)."""
    if not (row.qty > 0 and row.mark > 0):
        return NAN
    return row.qty / row.mark if row.kind == ContractType.INVERSE else row.qty * row.mark


def _maintenance(maint: float, equity: float, ratio: float) -> float:
    """The maintenance amount, or equity / mgnRatio when only OKX's ratio is reported."""
    if maint == maint:
        return maint
    return equity / ratio if ratio > 0 and equity == equity else NAN


def _multi_currency(summary: Mapping[str, Any], figures: dict[str, dict[str, float]]) -> list[str]:
    """Account-level ``adjEq``/``mmr`` in USD (multi-currency and portfolio margin only)."""
    equity = num(summary.get("adjEq"))
    if equity != equity:
        return []
    maint = _maintenance(num(summary.get("mmr")), equity, num(summary.get("mgnRatio")))
    figures["m"][MULTI_CURRENCY_POOL] = equity
    figures["usd"][MULTI_CURRENCY_POOL] = 1.0
    if maint == maint:
        figures["mm"][MULTI_CURRENCY_POOL] = maint
        return []
    return ["account maintenance margin not reported (mmr, mgnRatio)"]


def _currency(
    detail: Mapping[str, Any], figures: dict[str, dict[str, float]], *, per_currency: bool
) -> None:
    """One currency's cross equity (eq − isoEq) and wallet (that minus cross upl)."""
    code = text(detail.get("ccy"))
    equity = num(detail.get("eq"))
    if not code or equity != equity:
        return
    _usd_rate(detail, code, equity, figures)
    if not per_currency:
        return
    iso_eq = _zero(detail.get("isoEq"))
    cross_equity = equity - iso_eq
    cross_upl = _zero(detail.get("upl")) - _zero(detail.get("isoUpl"))
    figures["m"][code] = cross_equity
    figures["w"][code] = cross_equity - cross_upl
    maint = _maintenance(num(detail.get("mmr")), cross_equity, num(detail.get("mgnRatio")))
    put(figures["mm"], code, maint)


def _usd_rate(
    detail: Mapping[str, Any], code: str, equity: float, figures: dict[str, dict[str, float]]
) -> None:
    usd = num(detail.get("eqUsd"))
    if code in STABLECOINS:
        figures["usd"][code] = 1.0
    elif equity > 0 and usd == usd:
        figures["usd"][code] = usd / equity


def _zero(value: Any) -> float:
    """OKX leaves inapplicable fields as "": they count as zero in sums."""
    out = num(value)
    return out if out == out else 0.0


READER = OkxReader()
