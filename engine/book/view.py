"""A set of accounts' records gathered (or sliced) out of the book, with local key ids."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.book.store import SLOTS, Store, ranges
from engine.types import IntArray

Index = IntArray | slice


@dataclass(frozen=True, eq=False)
class View:
    """Accounts ``records`` (in this order) and their records in every space.

    ``index[space]`` selects the accounts' records in the book's columns (a slice when they
    are the whole book, so nothing is copied); ``base[space][a]`` is where account a's
    records start within the view, so a record's local key id is ``base[space][acc] + l``.
    """

    store: Store
    records: IntArray
    index: dict[str, Index]
    base: dict[str, IntArray]
    count: dict[str, IntArray]
    #: Per view row: the position of its account in ``records``.
    acc: IntArray
    _cache: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return len(self.acc)

    def size(self, space: str) -> int:
        return int(self.count[space].sum())

    def col(self, name: str) -> np.ndarray:
        """A row column for the view's rows (cached: read-only for the caller)."""
        got = self._cache.get(name)
        if got is None:
            got = self._cache[name] = self.store.space["row"][name][self.index["row"]]
        return got

    def slot(self, space: str, name: str) -> np.ndarray:
        """A column of ``space`` for the view's records of it."""
        return self.store.space[space][name][self.index[space]]

    def local(self, space: str, ids: IntArray) -> IntArray:
        """Per view row, ``ids`` (local to its account, -1 for none) as view-wide ids."""
        out = self.base[space][self.acc] + ids
        return np.where(ids < 0, -1, out)

    def write(self, name: str, values: np.ndarray) -> None:
        """Store a dynamic row column back into the book."""
        self.store.space["row"][name][self.index["row"]] = values
        self._cache[name] = values


def open_view(store: Store, records: IntArray, *, whole: bool = False) -> View:
    """The view of ``records``; ``whole`` says they are every record of the book, in order,
    with none retired, so every space is one slice."""
    accounts = store.accounts
    index: dict[str, Index] = {}
    base: dict[str, IntArray] = {}
    count: dict[str, IntArray] = {}
    for space in ("row", *SLOTS):
        starts = accounts[f"{space}_start"][records]
        counts = accounts[f"{space}_n"][records]
        count[space] = counts
        base[space] = np.cumsum(counts) - counts
        index[space] = slice(0, store.space[space].n) if whole else ranges(starts, counts)
    und = accounts["und_n"][records]
    count["und"], base["und"] = und, np.cumsum(und) - und
    acc = np.repeat(np.arange(len(records), dtype=np.int64), count["row"])
    return View(store, records, index, base, count, acc)
