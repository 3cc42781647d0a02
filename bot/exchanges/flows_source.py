"""Reading one ccxt unified method that lists flows, page by page, into ``Flow`` records.

Each ``Source`` says which method, how the venue bounds and orders a page, where an entry's
amount and time are and what identifies it on the venue. ``flows.py`` holds each venue's
sources and the arithmetic that puts its figures in the one sign convention.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.exchanges.flows_base import (
    MAX_PAGES,
    STEP,
    Call,
    Flow,
    FlowKind,
    amount,
    flow_ref,
    number,
)
from bot.exchanges.flows_base import field as at_path

#: An amount read from several fields: the entry and the venue (for the error) give the amount,
#: None for an entry with none.
Amount = Callable[[Mapping[str, Any], str], float | None]


@dataclass(frozen=True)
class Source:
    """One ccxt call that lists flows of one kind (or several, ``kind_field``), and how to read
    its entries."""

    kind: FlowKind
    method: str
    params: Mapping[str, Any] = field(default_factory=dict)
    page: int = 100
    #: -1 where the venue reports the fee (positive = paid) rather than the cash received.
    sign: float = 1.0
    #: Where the amount is: a unified key, or ``info.<key>`` (``info.<a>.<b>``) for a raw
    #: field; or a function of the entry where the amount is arithmetic on several fields.
    amount: str | Amount = "amount"
    #: The fields that together identify an entry on the venue; the ref joins them with ':'.
    #: ccxt's id is not always one (every Hyperliquid funding payment has the same).
    key: tuple[str, ...] = ("id",)
    #: Raw fields an entry must hold to be of this kind: a venue answering more than was asked
    #: for must not make a commission realised PnL.
    only: Mapping[str, str] = field(default_factory=dict)
    at: str = "timestamp"
    #: The venue answers a window with its newest rows first (Bybit, OKX): a full page
    #: continues before its oldest row. Otherwise after its newest. (ccxt may re-sort a page,
    #: so the order it hands back does not tell.)
    newest_first: bool = False
    #: A source listing several kinds in one call (Binance's income history): the raw field
    #: naming an entry's type, and the kind of each type read (other types are skipped).
    kind_field: str | None = None
    kinds_by_type: Mapping[str, FlowKind] = field(default_factory=dict)
    #: The ref's first part when not ``method`` (refs stored before a source moved to another
    #: ccxt method stay the same, so an overlap read does not store an entry twice).
    ref_prefix: str | None = None
    #: Where the window goes: ccxt's ``since`` argument (unless ``since_to_ccxt`` is False:
    #: ccxt filters OKX's positions by their creation time, not their update), and the end
    #: under ``until_param``; ``since_param`` also sends the start as a raw venue parameter.
    #: ``exclusive``: the venue's raw bounds exclude their ends (OKX's ``before``/``after``),
    #: so they are sent one millisecond wider.
    until_param: str = "until"
    since_param: str | None = None
    since_to_ccxt: bool = True
    exclusive: bool = False
    #: The raw market id of an entry ccxt gives no symbol (its ledger entries carry none).
    market: str = "info.symbol"
    #: A venue reporting running totals (``Flow.total_of``): the fields naming the total;
    #: the entry's time is its version.
    total: tuple[str, ...] = ()

    @property
    def serves(self) -> frozenset[FlowKind]:
        return frozenset(self.kinds_by_type.values()) if self.kind_field else frozenset({self.kind})

    @property
    def together(self) -> bool:
        """One read lists every kind this source serves (they are read as one group)."""
        return self.kind_field is not None

    async def read(
        self,
        reader: Any,
        venue: str,
        params: Mapping[str, Any],
        *,
        since_ms: int,
        until_ms: int,
        call: Call,
    ) -> list[Flow]:
        """Every flow of the source with ``since_ms <= time <= until_ms``, page after page."""
        method = getattr(reader, self.method)
        found: dict[str, Flow] = {}
        since, until = since_ms, until_ms
        for _ in range(MAX_PAGES):
            query = self._window(params, since, until)
            start = since if self.since_to_ccxt else None
            entries = await call(lambda q=query, s=start: method(None, s, self.page, q))  # type: ignore[misc]
            if not isinstance(entries, list):
                entries = []
            for entry in entries:
                flow = self._flow(reader, venue, entry)
                if flow is not None and since_ms <= flow.at * 1000 <= until_ms:
                    found.setdefault(flow.ref, flow)
            # Page by every entry's time, zero ones included: a page of opening fills
            # (closedPnl 0) is still a full page, and the closes after it must be read.
            times = [int(t) for e in entries if (t := self._at(e)) is not None]
            if len(entries) < self.page or not times:
                break
            # A full page: continue past it; stop when a page brings nothing new.
            nxt = (since, min(times)) if self.newest_first else (max(times), until)
            if nxt == (since, until):
                break
            since, until = nxt
        return list(found.values())

    def _window(self, params: Mapping[str, Any], since: int, until: int) -> dict[str, Any]:
        wider = 1 if self.exclusive else 0
        query = {**self.params, **params, self.until_param: until + wider}
        if self.since_param is not None:
            query[self.since_param] = since - wider
        return query

    def _at(self, entry: Any) -> float | None:
        """The entry's time in milliseconds (None if it has none)."""
        if not isinstance(entry, Mapping):
            return None
        return number(at_path(entry, self.at)) or number(entry.get("timestamp"))

    def _amount(self, entry: Mapping[str, Any], venue: str) -> float | None:
        if callable(self.amount):
            return self.amount(entry, venue)
        return amount(entry, self.amount, venue)

    def _kind(self, entry: Mapping[str, Any]) -> FlowKind | None:
        if any(at_path(entry, path) != value for path, value in self.only.items()):
            return None
        if self.kind_field is not None:
            return self.kinds_by_type.get(str(at_path(entry, self.kind_field)))
        return self.kind

    def _flow(self, reader: Any, venue: str, entry: Any) -> Flow | None:
        """One entry as a Flow; None for a zero one, or one no ref can stand for; a garbled
        amount raises (``flows_base.amount``)."""
        if not isinstance(entry, Mapping):
            return None
        kind = self._kind(entry)
        if kind is None:
            return None
        value = self._amount(entry, venue)
        at = self._at(entry)
        total = flow_ref((self.ref_prefix or self.method, *(at_path(entry, p) for p in self.total)))
        ref = flow_ref((self.ref_prefix or self.method, *(at_path(entry, p) for p in self.key)))
        if value is None or value == 0.0 or at is None or ref is None or total is None:
            return None
        if self.total:
            ref = f"{total}{STEP}{int(at)}"
        symbol = str(entry.get("symbol") or "") or _raw_symbol(reader, entry, self.market)
        return Flow(
            kind=kind,
            ref=ref,
            at=at / 1000.0,
            symbol=symbol,
            currency=_currency(reader, symbol, entry),
            amount=self.sign * value,
            total_of=total if self.total else None,
        )


def _raw_symbol(reader: Any, entry: Mapping[str, Any], path: str) -> str:
    """The unified symbol of the raw market id a ledger entry names at ``path`` (ccxt's ledger
    entries carry none: Binance's income rows have ``info.symbol``, "" for a transfer; OKX's
    bills ``info.instId``)."""
    market_id = at_path(entry, path)
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
