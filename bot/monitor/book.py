"""The position book: every polled account's latest analysis, re-priced at streamed marks.

A poll puts an account's analysis in; a mark tick re-prices, at the new marks, the accounts of
that venue holding a symbol that moved — all of them in one vectorised pass of
``engine.book.Book``, which moves marks as ``engine.reprice.with_marks`` does and re-solves the
touched pools as ``analyze`` would. A re-priced account's ``Analysis`` is assembled only when
someone reads it (/positions, /risk, or the alert stage for the accounts the screen picks), so
a tick touching thousands of accounts builds no Python object per account.
Only accounts whose last poll succeeded are re-priced: a blind account's positions may have
changed, and pricing stale positions at live marks would alarm about what is gone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace

import numpy as np

from engine.analysis import Analysis
from engine.book import Book as PricingBook
from engine.book import Repriced
from engine.domain import AccountStatus, LinkedAccount
from engine.probability import TouchModel
from engine.types import IntArray

#: (horizon hours, advice target %, touch model): what an engine book prices its accounts with.
Terms = tuple[float, float, TouchModel]


@dataclass
class _Entry:
    account: LinkedAccount
    #: The latest analysis, or None while a re-pricing has not been assembled (``moved``).
    analysis: Analysis | None
    #: Where the engine's book prices it: its terms and its id there.
    terms: Terms
    priced_as: int
    #: Bumped by every poll: a re-pricing belongs to the positions of one generation.
    generation: int
    #: The symbols of its readable positions (what the streams follow for it).
    symbols: frozenset[str]
    moved: Repriced | None = None


@dataclass(frozen=True)
class Moved:
    """One engine book's re-pricing at a tick: ``repriced``'s k-th account is our account
    ``accounts[k]``, at its entry's ``generations[k]``."""

    repriced: Repriced
    accounts: IntArray
    generations: IntArray


def _terms(analysis: Analysis) -> Terms:
    return (
        float(analysis.horizon_hours),
        float(analysis.advice.target_pct),
        analysis.touch_model,
    )


class _Priced:
    """One engine book and which of our accounts each of its ids is."""

    def __init__(self, terms: Terms) -> None:
        self.book = PricingBook(
            horizon_hours=terms[0], target_distance_pct=terms[1], touch_model=terms[2]
        )
        self.account = np.zeros(0, dtype=np.int64)
        self.generation = np.zeros(0, dtype=np.int64)

    def place(self, priced_as: int, account: int, generation: int) -> None:
        if priced_as >= len(self.account):
            grow = max(priced_as + 1, 2 * len(self.account))
            self.account = np.resize(self.account, grow)
            self.generation = np.resize(self.generation, grow)
        self.account[priced_as], self.generation[priced_as] = account, generation


class Book(Mapping[int, Analysis]):
    """Account id → its latest analysis (a read-only mapping for the use cases)."""

    def __init__(self, *, on_held_change: Callable[[], None] = lambda: None) -> None:
        self._entries: dict[int, _Entry] = {}
        self._pricing: dict[Terms, _Priced] = {}
        self._generations = 0
        #: Venue → symbol → the accounts holding it (rebuilt when a poll changes holdings).
        self._holders: dict[str, dict[str, set[int]]] = {}
        #: Called when the set of held symbols changes (the streams follow it).
        self.on_held_change = on_held_change

    # --- the mapping the use cases read ---------------------------------------------------
    def __getitem__(self, account_id: int) -> Analysis:
        entry = self._entries[account_id]
        if entry.analysis is None:
            assert entry.moved is not None  # one of the two is always set
            entry.analysis, entry.moved = entry.moved.analysis(entry.priced_as), None
        return entry.analysis

    def __iter__(self) -> Iterator[int]:
        return iter(self._entries)

    def __contains__(self, account_id: object) -> bool:
        return account_id in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def account(self, account_id: int) -> LinkedAccount:
        return self._entries[account_id].account

    def generation(self, account_id: int) -> int:
        """Which poll's positions the account's figures are of (see ``Moved``)."""
        return self._entries[account_id].generation

    # --- what polls change ----------------------------------------------------------------
    def put(self, account: LinkedAccount, analysis: Analysis) -> int:
        """A successful poll's analysis of ``account``, re-priced from now on; its generation."""
        account = replace(account, status=AccountStatus.ACTIVE)
        old = self._entries.get(account.id)
        before = frozenset() if old is None else old.symbols
        terms = _terms(analysis)
        if old is not None and old.terms != terms:
            self._pricing[old.terms].book.replace(old.priced_as, None)
            old = None
        priced = self._pricing.get(terms) or self._pricing.setdefault(terms, _Priced(terms))
        sigma = _sigma(analysis)
        if old is None:
            priced_as = priced.book.add(analysis.snapshot, volatility=sigma)
        else:
            priced_as = old.priced_as
            priced.book.replace(priced_as, analysis.snapshot, volatility=sigma)
        self._generations += 1
        priced.place(priced_as, account.id, self._generations)
        symbols = _symbols(analysis)
        self._entries[account.id] = _Entry(
            account, analysis, terms, priced_as, self._generations, symbols
        )
        if symbols != before or (old is not None and old.account != account):
            self._reindex()
        return self._generations

    def set_status(self, account_id: int, status: AccountStatus) -> None:
        """A failed poll: the account keeps its figures but is not re-priced until it is
        polled again successfully."""
        entry = self._entries.get(account_id)
        if entry is not None and entry.account.status != status:
            entry.account = replace(entry.account, status=status)
            if status is not AccountStatus.ACTIVE:
                entry.analysis = self[account_id]  # its last figures, assembled before they go
                self._pricing[entry.terms].book.replace(entry.priced_as, None)
            self._reindex()

    def drop(self, account_id: int) -> None:
        entry = self._entries.pop(account_id, None)
        if entry is not None:
            self._pricing[entry.terms].book.replace(entry.priced_as, None)
            self._reindex()

    def held(self) -> dict[str, set[str]]:
        """Venue → the symbols some re-priceable account holds (what the streams follow)."""
        return {venue: set(symbols) for venue, symbols in self._holders.items()}

    # --- what ticks change ----------------------------------------------------------------
    def reprice(self, venue: str, marks: Mapping[str, float]) -> list[Moved]:
        """Re-price, at ``marks`` (symbol → mark), every account of ``venue`` holding one of
        those symbols: their figures are the re-priced ones from now on."""
        holders = self._holders.get(venue, {})
        if not any(symbol in holders for symbol in marks):
            return []
        out = []
        for priced in self._pricing.values():
            repriced = priced.book.reprice(marks, venue=venue)
            if not len(repriced):
                continue
            ids = repriced.accounts
            moved = Moved(repriced, priced.account[ids], priced.generation[ids])
            for account_id in moved.accounts.tolist():
                entry = self._entries[account_id]
                entry.analysis, entry.moved = None, repriced
            out.append(moved)
        return out

    def _reindex(self) -> None:
        holders: dict[str, dict[str, set[int]]] = {}
        for account_id, entry in self._entries.items():
            if entry.account.status is not AccountStatus.ACTIVE:
                continue
            venue = holders.setdefault(entry.account.venue, {})
            for symbol in entry.symbols:
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
