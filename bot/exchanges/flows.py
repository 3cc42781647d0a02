"""Realised PnL, funding payments, trading fees and transfers of an account, per venue.

Venues report these in different places and with different signs: Binance's income history
(``fetch_ledger``, every type in one call), Bybit's execution list (a positive fee is *paid*)
and closed-PnL list, Hyperliquid's ``userFunding`` and its fills' ``closedPnl`` and ``fee``,
OKX's bills and positions history, Deribit's transaction log. Every flow leaves here in one
convention: the trader's side, + received or profit, − paid or loss, in the currency it
settled in (never converted: a COIN-M profit is reported in BTC).

Each flow is counted once, in one line: where a venue's realised figure already holds fees or
funding (OKX's ``realizedPnl``, Bybit's ``closedPnl``), they are taken out of it here, because
the same fees and funding are read as their own lines from the venue's ledger.

Each flow's ``ref`` is the ccxt method and what identifies the entry *on its venue*, which is
not always ccxt's id: Hyperliquid gives every funding payment the hash 0x00…0 (ccxt's id), so a
payment there is its time and coin; a Binance ``tranId`` is unique per income type only. The
store keeps one row per kind and ref, so a ref shared by two entries of a kind loses one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from bot.exchanges.flows_base import KINDS, Call, Flow, FlowKind, amount, malformed
from bot.exchanges.flows_deribit import TransactionLog
from bot.exchanges.flows_source import Source

__all__ = ["KINDS", "SOURCES", "Flow", "FlowKind", "fetch", "groups", "reported"]


class Reader(Protocol):
    """One read of a venue's flows (a ccxt ``Source``, or Deribit's transaction log)."""

    @property
    def serves(self) -> frozenset[FlowKind]: ...

    @property
    def together(self) -> bool: ...

    async def read(
        self,
        reader: Any,
        venue: str,
        params: Mapping[str, Any],
        *,
        since_ms: int,
        until_ms: int,
        call: Call,
    ) -> list[Flow]: ...


#: Binance's income history, every type in one call (``/fapi/v1/income`` weighs 30 whatever it
#: returns: one read for four kinds, not one per kind), through ccxt's ledger reader (its
#: funding-history reader always asks for FUNDING_FEE only). The amount is the raw signed
#: ``income``, already from the trader's side (a COMMISSION is negative when paid, and
#: REALIZED_PNL holds no commission); ``tranId`` is unique only per type, and a trade's
#: REALIZED_PNL and COMMISSION rows share one. Refs keep the prefix they had when each type was
#: read through ``fetch_funding_history``.
_BINANCE: tuple[Reader, ...] = (
    Source(
        "funding",
        "fetch_ledger",
        page=1000,
        amount="info.income",
        key=("info.tranId", "info.incomeType"),
        at="info.time",
        kind_field="info.incomeType",
        kinds_by_type={
            "FUNDING_FEE": "funding",
            "REALIZED_PNL": "realised",
            "COMMISSION": "fee",
            "TRANSFER": "transfer",
        },
        ref_prefix="fetch_funding_history",
    ),
)


def bybit_gross(entry: Mapping[str, Any], venue: str) -> float | None:
    """A Bybit close's PnL before fees and funding, from its entry and exit values.

    Bybit's ``closedPnl`` is net of the fees to open and close and of the funding paid while
    the position was held (Bybit help, "Closed P&L"); those are read as their own lines, so the
    realised line takes the price move alone. ``side`` is the closing order's: Sell closes a
    long. Linear values are in the quote (exit − entry for a long); inverse ones in the coin
    (qty / price: entry − exit for a long).
    """
    side = entry.get("info", {}).get("side") if isinstance(entry.get("info"), Mapping) else None
    opened = amount(entry, "info.cumEntryValue", venue)
    closed = amount(entry, "info.cumExitValue", venue)
    if side not in ("Buy", "Sell") or opened is None or closed is None:
        raise malformed(venue, "a closed PnL without its side or entry and exit values")
    symbol = str(entry.get("symbol") or "")
    inverse = symbol.split("/")[0] == symbol.rpartition(":")[2]
    move = closed - opened if side == "Sell" else opened - closed
    return -move if inverse else move


_BYBIT: tuple[Reader, ...] = tuple(
    source
    for sub in ("linear", "inverse")
    for source in (
        # Bybit documents ``limit`` (default 50) where ccxt sends ``size``: send both.
        Source(
            "funding",
            "fetch_funding_history",
            {"subType": sub, "limit": 100},
            sign=-1.0,
            key=("info.execId",),  # ccxt's id too: refs stored before stay valid
            newest_first=True,
        ),
        Source(
            "realised",
            "fetch_positions_history",
            {"subType": sub},
            amount=bybit_gross,
            key=("info.orderId",),
            at="info.updatedTime",
            newest_first=True,
        ),
        # Trading fees: the execution list's Trade rows (ccxt asks for those), ``execFee``
        # positive when paid. Liquidation (BustTrade) and delivery fees are not read.
        Source(
            "fee",
            "fetch_my_trades",
            {"subType": sub},
            sign=-1.0,
            amount="info.execFee",
            key=("info.execId",),
            at="info.execTime",
            only={"info.execType": "Trade"},
            newest_first=True,
        ),
    )
)
_HYPERLIQUID: tuple[Reader, ...] = (
    # The hash (ccxt's id) is zeros for every payment; each coin is paid once at a time.
    Source("funding", "fetch_funding_history", page=500, key=("info.time", "info.delta.coin")),
    # Fills: opening ones carry closedPnl "0.0" and are skipped as zero flows. ``tid`` is
    # ccxt's id, so the refs stored before venue keys stay valid. closedPnl holds no fee.
    Source("realised", "fetch_my_trades", amount="info.closedPnl", page=2000, key=("info.tid",)),
    # The same fills' fees (``fee`` is what was paid, in ``feeToken``: USDC). A second read of
    # userFillsByTime (weight 20 a page), kept apart so a fee read cannot cost the realised one.
    Source("fee", "fetch_my_trades", amount="info.fee", page=2000, key=("info.tid",), sign=-1.0),
)


def okx_realised(entry: Mapping[str, Any], venue: str) -> float | None:
    """A position's realised PnL so far without its fees and funding.

    OKX's positions history documents ``realizedPnl = pnl + fee + fundingFee + liqPenalty +
    settledPnl`` (fee and fundingFee negative when paid). The fees and funding are read as
    their own lines from the bills, so the realised line is ``realizedPnl − fee − fundingFee``
    (the close's ``pnl``, with any liquidation penalty and settled PnL). An entry whose parts do
    not add up to its ``realizedPnl`` is garbled: the read fails rather than guess the split.
    """
    total = amount(entry, "info.realizedPnl", venue)
    if total is None:
        return None  # not a derivative position (MARGIN has none)
    fee = amount(entry, "info.fee", venue) or 0.0
    funding = amount(entry, "info.fundingFee", venue) or 0.0
    pnl = amount(entry, "info.pnl", venue)
    if pnl is not None:
        rest = sum(amount(entry, f"info.{k}", venue) or 0.0 for k in ("liqPenalty", "settledPnl"))
        parts = pnl + fee + funding + rest
        if abs(parts - total) > 1e-8 + 1e-6 * max(abs(pnl), abs(total), abs(fee), abs(funding)):
            raise malformed(venue, f"realizedPnl {total:g} is not the sum of its parts {parts:g}")
    return total - fee - funding


#: OKX answers both lists newest first, 100 a page, between raw millisecond bounds it
#: documents as exclusive (positions history: ``before``/``after`` an update time) or leaves
#: unsaid (bills: ``begin``/``end``): sent one millisecond wider, the read keeps its window.
_OKX_PAGE: Mapping[str, Any] = {"newest_first": True, "exclusive": True}
_OKX: tuple[Reader, ...] = (
    # Funding: bills of type 8 (ccxt asks for those, from the 3-month archive); ccxt's amount
    # is the balance change (the position's, for isolated margin), + received.
    Source("funding", "fetch_funding_history", until_param="end", since_param="begin",
           **_OKX_PAGE),
    # Trading fees: every bill with a fee (trades, deliveries, exercises; a funding bill's fee
    # is 0), ``fee`` negative when charged: already the trader's side.
    Source("fee", "fetch_ledger", {"method": "privateGetAccountBillsArchive"},
           amount="info.fee", market="info.instId", until_param="end", since_param="begin",
           **_OKX_PAGE),
    # Realised: the positions history lists each position (``posId`` and its creation time)
    # with what it realised so far, updated at every partial close: a running total, of which
    # the store keeps the increase at each update. ccxt filters the list by creation time, so
    # the window goes to OKX only, by update time.
    Source("realised", "fetch_positions_history", amount=okx_realised,
           key=("info.posId", "info.cTime"), total=("info.posId", "info.cTime"),
           at="info.uTime", until_param="after", since_param="before", since_to_ccxt=False,
           **_OKX_PAGE),
)  # fmt: skip
SOURCES: dict[str, tuple[Reader, ...]] = {
    "binanceusdm": _BINANCE,
    "binancecoinm": _BINANCE,
    "bybit": _BYBIT,
    "hyperliquid": _HYPERLIQUID,
    "okx": _OKX,
    "deribit": (TransactionLog(),),
}


def reported(venue: str) -> tuple[FlowKind, ...]:
    """The flow kinds liqwatch reads from ``venue`` (empty: the venue is not supported)."""
    return tuple(k for k in KINDS if any(k in s.serves for s in SOURCES.get(venue, ())))


def groups(venue: str, kinds: Sequence[FlowKind]) -> list[tuple[FlowKind, ...]]:
    """``kinds`` in the groups one read serves together (a multi-kind source's kinds), each
    read alone otherwise: a failing source costs its own kinds only."""
    out: list[tuple[FlowKind, ...]] = []
    left = list(kinds)
    for source in SOURCES.get(venue, ()):
        if not source.together:
            continue
        group = tuple(k for k in left if k in source.serves)
        if group:
            out.append(group)
            left = [k for k in left if k not in group]
    return out + [(k,) for k in left]


async def fetch(
    reader: Any,
    venue: str,
    kinds: FlowKind | Sequence[FlowKind],
    params: Mapping[str, Any],
    *,
    since_ms: int,
    until_ms: int,
    call: Call,
) -> list[Flow]:
    """Every ``kind`` flow of the account with ``since_ms <= time <= until_ms``, oldest first.

    Raises what ``call`` raises (``ExchangeFailure``), and ``ExchangeFailure`` ("malformed")
    for an entry it cannot read: a kind is read whole or not at all, so a caller never
    mistakes a failed read for a quiet day.
    """
    wanted = {kinds} if isinstance(kinds, str) else set(kinds)
    found: list[Flow] = []
    for source in SOURCES.get(venue, ()):
        if source.serves & wanted:
            read = await source.read(
                reader, venue, params, since_ms=since_ms, until_ms=until_ms, call=call
            )
            found += [f for f in read if f.kind in wanted]
    return sorted(found, key=lambda f: (f.at, f.ref))
