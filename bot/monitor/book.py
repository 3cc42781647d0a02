"""The position book: every polled account's latest analysis, re-priced at streamed marks.

A poll puts an account's analysis in; a mark tick re-prices, at the new marks, the accounts of
that venue holding a symbol that moved (``engine.reprice.with_marks`` then ``analyze``), and
the result replaces the stored analysis, so /positions and /risk read the freshest numbers.
Only accounts whose last poll succeeded are re-priced: a blind account's positions may have
changed, and pricing stale positions at live marks would alarm about what is gone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace

from engine.analysis import Analysis, analyze
from engine.domain import AccountStatus, LinkedAccount
from engine.reprice import with_marks


@dataclass
class _Entry:
    account: LinkedAccount
    analysis: Analysis


class Book(Mapping[int, Analysis]):
    """Account id → its latest analysis (a read-only mapping for the use cases)."""

    def __init__(self, *, on_held_change: Callable[[], None] = lambda: None) -> None:
        self._entries: dict[int, _Entry] = {}
        #: Venue → symbol → the accounts holding it (rebuilt when a poll changes holdings).
        self._holders: dict[str, dict[str, set[int]]] = {}
        #: Called when the set of held symbols changes (the streams follow it).
        self.on_held_change = on_held_change

    # --- the mapping the use cases read ---------------------------------------------------
    def __getitem__(self, account_id: int) -> Analysis:
        return self._entries[account_id].analysis

    def __iter__(self) -> Iterator[int]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    # --- what polls change ----------------------------------------------------------------
    def put(self, account: LinkedAccount, analysis: Analysis) -> None:
        """A poll's analysis of ``account`` (ACTIVE: its positions are current)."""
        before = self._symbols(account.id)
        self._entries[account.id] = _Entry(account, analysis)
        if _symbols(analysis) != before:
            self._reindex()

    def set_status(self, account_id: int, status: AccountStatus) -> None:
        """A failed poll: the account keeps its figures but is not re-priced until it is
        polled again successfully."""
        entry = self._entries.get(account_id)
        if entry is not None and entry.account.status != status:
            entry.account = _with_status(entry.account, status)
            self._reindex()

    def drop(self, account_id: int) -> None:
        if self._entries.pop(account_id, None) is not None:
            self._reindex()

    def held(self) -> dict[str, set[str]]:
        """Venue → the symbols some re-priceable account holds (what the streams follow)."""
        return {venue: set(symbols) for venue, symbols in self._holders.items()}

    # --- what ticks change ----------------------------------------------------------------
    def reprice(
        self, venue: str, marks: Mapping[str, float]
    ) -> list[tuple[LinkedAccount, Analysis]]:
        """Re-price, at ``marks`` (symbol → mark), every account of ``venue`` holding one of
        those symbols; each new analysis replaces the stored one. The accounts re-priced."""
        holders = self._holders.get(venue, {})
        touched = sorted({a for symbol in marks for a in holders.get(symbol, ())})
        moved = []
        for account_id in touched:
            entry = self._entries[account_id]
            entry.analysis = _repriced(entry.analysis, marks)
            moved.append((entry.account, entry.analysis))
        return moved

    def _symbols(self, account_id: int) -> frozenset[str]:
        entry = self._entries.get(account_id)
        return frozenset() if entry is None else _symbols(entry.analysis)

    def _reindex(self) -> None:
        holders: dict[str, dict[str, set[int]]] = {}
        for account_id, entry in self._entries.items():
            if entry.account.status is not AccountStatus.ACTIVE:
                continue
            venue = holders.setdefault(entry.account.venue, {})
            for symbol in _symbols(entry.analysis):
                venue.setdefault(symbol, set()).add(account_id)
        changed = _shape(holders) != _shape(self._holders)
        self._holders = holders
        if changed:
            self.on_held_change()


def _symbols(analysis: Analysis) -> frozenset[str]:
    positions = analysis.snapshot.positions
    return frozenset(s for s, ok in zip(positions.symbol, positions.valid, strict=True) if ok)


def _shape(holders: Mapping[str, Mapping[str, set[int]]]) -> dict[str, frozenset[str]]:
    return {venue: frozenset(symbols) for venue, symbols in holders.items()}


def _repriced(analysis: Analysis, marks: Mapping[str, float]) -> Analysis:
    """The analysis at new marks, with the same σ per position and horizon as the poll's."""
    positions = analysis.snapshot.positions
    sigma = {
        symbol: float(s)
        for symbol, s in zip(positions.symbol, analysis.sigma, strict=True)
        if math.isfinite(s)
    }
    return analyze(
        with_marks(analysis.snapshot, marks),
        volatility=sigma,
        horizon_hours=analysis.horizon_hours,
        target_distance_pct=float(analysis.advice.target_pct),
    )


def _with_status(account: LinkedAccount, status: AccountStatus) -> LinkedAccount:
    return replace(account, status=status)
