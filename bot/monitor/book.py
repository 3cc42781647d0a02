"""The position book: every polled account's latest analysis, re-priced at streamed marks.

A poll puts an account's analysis in; a mark tick re-prices, at the new marks, the accounts of
that venue holding a symbol that moved — all of them in one vectorised pass of
``engine.book.Book``, which moves marks as ``engine.reprice.with_marks`` does and re-solves the
touched pools as ``analyze`` would — and the result replaces the stored analysis, so /positions
and /risk read the freshest numbers.
Only accounts whose last poll succeeded are re-priced: a blind account's positions may have
changed, and pricing stale positions at live marks would alarm about what is gone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace

from engine.analysis import Analysis
from engine.book import Book as PricingBook
from engine.domain import AccountStatus, LinkedAccount


@dataclass
class _Entry:
    account: LinkedAccount
    analysis: Analysis
    #: Where the engine's book prices it: (its horizon and advice target, its id there).
    priced_in: tuple[float, float]
    priced_as: int


def _terms(analysis: Analysis) -> tuple[float, float]:
    """The settings an analysis was priced with, which an engine book holds for all its
    accounts (the default ones for every poll today: one book)."""
    return float(analysis.horizon_hours), float(analysis.advice.target_pct)


class Book(Mapping[int, Analysis]):
    """Account id → its latest analysis (a read-only mapping for the use cases)."""

    def __init__(self, *, on_held_change: Callable[[], None] = lambda: None) -> None:
        self._entries: dict[int, _Entry] = {}
        #: The engine's books, by the terms their accounts were priced with.
        self._pricing: dict[tuple[float, float], PricingBook] = {}
        #: Per engine book, its ids → our account ids.
        self._accounts: dict[tuple[float, float], dict[int, int]] = {}
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
        old = self._entries.get(account.id)
        terms = _terms(analysis)
        if old is not None and old.priced_in != terms:
            self._pricing[old.priced_in].replace(old.priced_as, None)
            old = None
        book = self._pricing.get(terms)
        if book is None:
            book = self._pricing[terms] = PricingBook(
                horizon_hours=terms[0], target_distance_pct=terms[1]
            )
            self._accounts[terms] = {}
        sigma = _sigma(analysis)
        if old is None:
            priced_as = book.add(analysis.snapshot, volatility=sigma)
        else:
            priced_as = old.priced_as
            book.replace(priced_as, analysis.snapshot, volatility=sigma)
        self._accounts[terms][priced_as] = account.id
        self._entries[account.id] = _Entry(account, analysis, terms, priced_as)
        if _symbols(analysis) != before or (old is not None and old.account != account):
            self._reindex()

    def set_status(self, account_id: int, status: AccountStatus) -> None:
        """A failed poll: the account keeps its figures but is not re-priced until it is
        polled again successfully."""
        entry = self._entries.get(account_id)
        if entry is not None and entry.account.status != status:
            entry.account = _with_status(entry.account, status)
            if status is not AccountStatus.ACTIVE:
                self._pricing[entry.priced_in].replace(entry.priced_as, None)
            self._reindex()

    def drop(self, account_id: int) -> None:
        entry = self._entries.pop(account_id, None)
        if entry is not None:
            self._pricing[entry.priced_in].replace(entry.priced_as, None)
            self._accounts[entry.priced_in].pop(entry.priced_as, None)
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
        if not any(symbol in holders for symbol in marks):
            return []
        moved = []
        for terms, book in self._pricing.items():
            ids = self._accounts[terms]
            for priced_as, analysis in book.reprice(marks, venue=venue).analyses():
                entry = self._entries[ids[priced_as]]
                entry.analysis = analysis
                moved.append((entry.account, analysis))
        return sorted(moved, key=lambda pair: pair[0].id)

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


def _sigma(analysis: Analysis) -> dict[str, float]:
    """The poll's σ per symbol (a tick re-prices with the poll's volatility)."""
    positions = analysis.snapshot.positions
    return {
        symbol: float(s)
        for symbol, s in zip(positions.symbol, analysis.sigma, strict=True)
        if math.isfinite(s)
    }


def _with_status(account: LinkedAccount, status: AccountStatus) -> LinkedAccount:
    return replace(account, status=status)
