"""Realised PnL and funding payments of an account, read through ccxt where the venue has them.

Venues report these in different places and with different signs: Binance's income history
(``fetch_funding_history`` with an ``incomeType``), Bybit's execution list (a positive fee is
*paid*) and closed-PnL list, Hyperliquid's ``userFunding`` and its fills' ``closedPnl``. Every
flow leaves here in one convention: the trader's side, + received or profit, − paid or loss,
in the currency it settled in (never converted: a COIN-M profit is reported in BTC).

Each flow's ``ref`` is the ccxt method and what identifies the entry *on its venue*, which is
not always ccxt's id: Hyperliquid gives every funding payment the hash 0x00…0 (ccxt's id), so a
payment there is its time and coin; a Binance ``tranId`` is unique per income type only. The
store keeps one row per ref, so a ref shared by two entries loses one of them.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

FlowKind = Literal["realised", "funding", "fee", "transfer"]
KINDS: tuple[FlowKind, ...] = ("realised", "funding", "fee", "transfer")
#: Pages fetched per source and window at most: a bot closing thousands of orders a day is
#: still read whole in 15-minute windows, and a runaway cursor cannot loop for ever.
MAX_PAGES = 20

Call = Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]


@dataclass(frozen=True)
class Flow:
    """One cash flow: ``amount`` from the trader's side, in ``currency``."""

    kind: FlowKind
    ref: str
    at: float
    symbol: str
    currency: str
    amount: float


@dataclass(frozen=True)
class _Source:
    """One ccxt call that lists flows of one kind, and how to read its entries."""

    kind: FlowKind
    method: str
    params: Mapping[str, Any] = field(default_factory=dict)
    page: int = 100
    #: -1 where the venue reports the fee (positive = paid) rather than the cash received.
    sign: float = 1.0
    #: Where the amount is: a unified key, or ``info.<key>`` (``info.<a>.<b>``) for a raw field.
    amount: str = "amount"
    #: The fields that together identify an entry on the venue; the ref joins them with ':'.
    #: ccxt's id is not always one (every Hyperliquid funding payment has the same).
    key: tuple[str, ...] = ("id",)
    #: Raw fields an entry must hold to be of this kind: a venue answering more than was asked
    #: for must not make a commission realised PnL.
    only: Mapping[str, str] = field(default_factory=dict)
    at: str = "timestamp"
    #: The venue answers a window with its newest rows first (Bybit): a full page continues
    #: before its oldest row. Otherwise after its newest. (ccxt may re-sort a page, so the
    #: order it hands back does not tell.)
    newest_first: bool = False
    #: A source listing several kinds in one call (Binance's income history): the raw field
    #: naming an entry's type, and the kind of each type read (other types are skipped).
    kind_field: str | None = None
    kinds_by_type: Mapping[str, FlowKind] = field(default_factory=dict)
    #: The ref's first part when not ``method`` (refs stored before a source moved to another
    #: ccxt method stay the same, so an overlap read does not store an entry twice).
    ref_prefix: str | None = None

    @property
    def serves(self) -> frozenset[FlowKind]:
        return frozenset(self.kinds_by_type.values()) if self.kind_field else frozenset({self.kind})


#: Binance's income history, every type in one call (``/fapi/v1/income`` weighs 30 whatever it
#: returns: one read for four kinds, not one per kind), through ccxt's ledger reader (its
#: funding-history reader always asks for FUNDING_FEE only). The amount is the raw signed
#: ``income``, already from the trader's side; ``tranId`` is unique only per type, and a
#: trade's REALIZED_PNL and COMMISSION rows share one. Refs keep the prefix they had when each
#: type was read through ``fetch_funding_history``.
_BINANCE = (
    _Source(
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
_BYBIT = tuple(
    source
    for sub in ("linear", "inverse")
    for source in (
        # Bybit documents ``limit`` (default 50) where ccxt sends ``size``: send both.
        _Source(
            "funding",
            "fetch_funding_history",
            {"subType": sub, "limit": 100},
            sign=-1.0,
            key=("info.execId",),  # ccxt's id too: refs stored before stay valid
            newest_first=True,
        ),
        _Source(
            "realised",
            "fetch_positions_history",
            {"subType": sub},
            amount="realizedPnl",
            key=("info.orderId",),
            at="info.updatedTime",
            newest_first=True,
        ),
    )
)
_HYPERLIQUID = (
    # The hash (ccxt's id) is zeros for every payment; each coin is paid once at a time.
    _Source("funding", "fetch_funding_history", page=500, key=("info.time", "info.delta.coin")),
    # Fills: opening ones carry closedPnl "0.0" and are skipped as zero flows. ``tid`` is
    # ccxt's id, so the refs stored before venue keys stay valid.
    _Source("realised", "fetch_my_trades", amount="info.closedPnl", page=2000, key=("info.tid",)),
    # The same fills' fees (``fee`` is what was paid, in ``feeToken``: USDC). A second read of
    # userFillsByTime (weight 20 a page), kept apart so a fee read cannot cost the realised one.
    _Source("fee", "fetch_my_trades", amount="info.fee", page=2000, key=("info.tid",), sign=-1.0),
)
SOURCES: dict[str, tuple[_Source, ...]] = {
    "binanceusdm": _BINANCE,
    "binancecoinm": _BINANCE,
    "bybit": _BYBIT,
    "hyperliquid": _HYPERLIQUID,
    # Not read yet. Their keys when they are: OKX bills by ``info.billId``; Deribit's
    # transaction log by its ``info.id``.
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
        if source.kind_field is None:
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

    Raises what ``call`` raises (``ExchangeFailure``): a kind is read whole or not at all, so
    a caller never mistakes a failed read for a quiet day.
    """
    wanted = {kinds} if isinstance(kinds, str) else set(kinds)
    found: list[Flow] = []
    for source in SOURCES.get(venue, ()):
        if source.serves & wanted:
            read = await _read(
                reader, source, params, since_ms=since_ms, until_ms=until_ms, call=call
            )
            found += [f for f in read if f.kind in wanted]
    return sorted(found, key=lambda f: (f.at, f.ref))


async def _read(
    reader: Any,
    source: _Source,
    params: Mapping[str, Any],
    *,
    since_ms: int,
    until_ms: int,
    call: Call,
) -> list[Flow]:
    method = getattr(reader, source.method)
    found: dict[str, Flow] = {}
    since, until = since_ms, until_ms
    for _ in range(MAX_PAGES):
        query = {**source.params, **params, "until": until}
        entries = await call(lambda q=query, s=since: method(None, s, source.page, q))  # type: ignore[misc]
        if not isinstance(entries, list):
            entries = []
        for entry in entries:
            flow = _flow(reader, source, entry)
            if flow is not None and since_ms <= flow.at * 1000 <= until_ms:
                found.setdefault(flow.ref, flow)
        # Page by every entry's time, zero ones included: a page of opening fills (closedPnl
        # 0) is still a full page, and the closes after it must be read.
        times = [int(t) for e in entries if (t := _at(source, e)) is not None]
        if len(entries) < source.page or not times:
            break
        # A full page: continue past it; stop when a page brings nothing new.
        nxt_since, nxt_until = (since, min(times)) if source.newest_first else (max(times), until)
        if (nxt_since, nxt_until) == (since, until):
            break
        since, until = nxt_since, nxt_until
    return list(found.values())


def _field(entry: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` ("amount", "info.delta.coin"); None where it is missing."""
    value: Any = entry
    for name in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def _ref(source: _Source, entry: Mapping[str, Any]) -> str | None:
    """``<method>:<key part>:…``; None when a part is missing (no ref can stand for it)."""
    parts: list[str] = []
    for path in source.key:
        value = _field(entry, path)
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a time or id sent as 1734026400057.0 is the same entry
        if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
            return None
        parts.append(str(value))
    return ":".join((source.ref_prefix or source.method, *parts))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _at(source: _Source, entry: Any) -> float | None:
    """The entry's time in milliseconds (None if it has none)."""
    if not isinstance(entry, Mapping):
        return None
    return _number(_field(entry, source.at)) or _number(entry.get("timestamp"))


def _flow(reader: Any, source: _Source, entry: Any) -> Flow | None:
    """One entry as a Flow; None for a zero or unreadable one (a garbled row is skipped,
    not guessed)."""
    if not isinstance(entry, Mapping):
        return None
    if any(_field(entry, path) != value for path, value in source.only.items()):
        return None
    kind: FlowKind | None = source.kind
    if source.kind_field is not None:
        kind = source.kinds_by_type.get(str(_field(entry, source.kind_field)))
    if kind is None:
        return None
    amount = _number(_field(entry, source.amount))
    at = _at(source, entry)
    ref = _ref(source, entry)
    if amount is None or amount == 0.0 or at is None or ref is None:
        return None
    symbol = str(entry.get("symbol") or "") or _raw_symbol(reader, entry)
    return Flow(
        kind=kind,
        ref=ref,
        at=at / 1000.0,
        symbol=symbol,
        currency=_currency(reader, symbol, entry),
        amount=source.sign * amount,
    )


def _raw_symbol(reader: Any, entry: Mapping[str, Any]) -> str:
    """The unified symbol of the raw market id a ledger entry names (ccxt's ledger entries
    carry none: Binance's income rows have ``info.symbol``, "" for a transfer)."""
    market_id = _field(entry, "info.symbol")
    if not isinstance(market_id, str) or not market_id:
        return ""
    try:
        return str(reader.safe_symbol(market_id, None, None, "swap"))
    except Exception:  # an unknown id is no reason to lose the flow
        return ""


def _currency(reader: Any, symbol: str, entry: Mapping[str, Any]) -> str:
    """The settle currency of the market (ccxt's Bybit parser names an inverse market's quote,
    USD, where the coin is what actually moved)."""
    market = (getattr(reader, "markets", None) or {}).get(symbol)
    settle = market.get("settle") if isinstance(market, Mapping) else None
    return str(settle or entry.get("code") or entry.get("currency") or "?")
