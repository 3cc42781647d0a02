"""The book: many accounts' snapshots as columns, re-priced together when marks move."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from engine.advice import DEFAULT_TARGET_PCT
from engine.book.block import prepare_block
from engine.book.pricing import price_view
from engine.book.result import Repriced
from engine.book.store import DYNAMIC, Store, compacted
from engine.book.tick import apply_marks
from engine.book.view import View, open_view
from engine.normalise import Snapshot
from engine.probability import DEFAULT_TOUCH_MODEL, TouchModel
from engine.types import FloatArray, IntArray

Volatility = Mapping[str, float] | Sequence[Mapping[str, float]] | None

#: Retired records are dropped (the book rebuilt from its live blocks) once they outnumber
#: the live ones and this many: a replace then costs its own account, amortised.
COMPACT_AFTER = 65_536


class Book:
    """Many accounts' snapshots, re-priced at streamed marks in one vectorised pass.

    Every account of the book is an int id (``build``'s order, then ``add``'s). A poll puts
    its new snapshot in with ``replace``; a tick's marks go through ``reprice``, which moves
    every position of those symbols exactly as ``engine.reprice.with_marks`` moves one
    account, then re-prices each account holding one — the cross pools re-solved with every
    position's current mark — and returns a ``Repriced``: what ``analyze`` of each touched
    account's moved snapshot returns, as columns, and ``Repriced.analysis(account)``.

    How the bot uses it (each venue's accounts may share one book; ids are the bot's to map):

    - on start: ``Book.build([snapshot, …], volatility=[σ by symbol, …], horizon_hours=…,
      target_distance_pct=…)`` with each account's last successful poll;
    - on each successful poll: ``book.replace(account, snapshot, volatility=σ)`` (``add`` for
      a new account); a failed, paused or unlinked account: ``book.replace(account, None)``
      so it is no longer re-priced;
    - on each tick: ``repriced = book.reprice({symbol: mark, …}, venue=exchange_id)``, then
      ``for account, analysis in repriced.analyses()`` (or read the columns: ``accounts``,
      ``rows(account)``, ``distance_pct``, ``margin_ratio`` …) for the alert stage.

    A tick's marks stay in the book until the account's next ``replace``; ``reprice(marks,
    whole=True)`` re-prices every account, moved or not.
    """

    def __init__(
        self,
        *,
        horizon_hours: float = 24.0,
        target_distance_pct: float = DEFAULT_TARGET_PCT,
        touch_model: TouchModel = DEFAULT_TOUCH_MODEL,
    ) -> None:
        self.horizon_hours = horizon_hours
        self.target_distance_pct = target_distance_pct
        self.touch_model = touch_model
        self._store = Store()
        #: Account id → its live record (-1 when it has none); record → account id is the
        #: store's ``owner`` column.
        self._record: list[int] = []

    @classmethod
    def build(
        cls,
        snapshots: Sequence[Snapshot],
        *,
        volatility: Volatility = None,
        horizon_hours: float = 24.0,
        target_distance_pct: float = DEFAULT_TARGET_PCT,
        touch_model: TouchModel = DEFAULT_TOUCH_MODEL,
    ) -> Book:
        """A book of ``snapshots`` (account ids 0, 1, …); ``volatility`` is one σ mapping for
        all (symbol or underlying → σ per year, as ``analyze`` takes it) or one per snapshot."""
        book = cls(
            horizon_hours=horizon_hours,
            target_distance_pct=target_distance_pct,
            touch_model=touch_model,
        )
        sigmas = _per_account(volatility, len(snapshots))
        blocks = [prepare_block(s, v) for s, v in zip(snapshots, sigmas, strict=True)]
        owners = np.arange(len(blocks), dtype=np.int64)
        book._record = book._store.append(blocks, owners).tolist()
        return book

    def __len__(self) -> int:
        """Account ids handed out (including those replaced by None)."""
        return len(self._record)

    def add(self, snapshot: Snapshot, *, volatility: Mapping[str, float] | None = None) -> int:
        """A new account's id, priced from ``snapshot``."""
        self._record.append(-1)
        self.replace(len(self._record) - 1, snapshot, volatility=volatility)
        return len(self._record) - 1

    def replace(
        self,
        account: int,
        snapshot: Snapshot | None,
        *,
        volatility: Mapping[str, float] | None = None,
    ) -> None:
        """A poll's new ``snapshot`` of ``account`` (None: stop re-pricing it)."""
        old = self._record[account]
        if old >= 0:
            self._store.kill(old)
        self._record[account] = -1
        if snapshot is not None:
            block = prepare_block(snapshot, volatility or {})
            (record,) = self._store.append([block], np.array([account])).tolist()
            self._record[account] = record
        self._compact(COMPACT_AFTER)

    def reprice(
        self, marks: Mapping[str, float], *, venue: str | None = None, whole: bool = False
    ) -> Repriced:
        """Move ``marks`` (unified symbol → mark; of ``venue``'s accounts only, or every
        venue's when None) into the book and re-price each account holding a symbol whose mark
        changed — every live account with ``whole``."""
        store = self._store
        if whole:
            view = open_view(store, store.live(), whole=store.dead_records == 0)
            apply_marks(view, self._per_row(view, marks, venue))
        else:
            rows, values = self._hit(marks, venue)
            records = np.unique(store.space["row"]["account"][rows])
            view = open_view(store, records)
            new = np.full(view.rows, np.nan)
            new[_view_rows(view, rows)] = values
            apply_marks(view, new)
        return self._result(view)

    def snapshot(self, account: int) -> Snapshot | None:
        """The snapshot ``account`` was last given (its poll), or None."""
        record = self._record[account]
        return None if record < 0 else self._store.blocks[record].snapshot

    def _hit(self, marks: Mapping[str, float], venue: str | None) -> tuple[IntArray, FloatArray]:
        """The live rows of the symbols in ``marks`` whose mark differs, and their new marks."""
        store = self._store
        alive = store.space["row"]["alive"]
        parts, values = [], []
        for symbol, price in marks.items():
            for symbol_id in store.symbols.lookup(venue, symbol):
                rows = store.symbols.rows(symbol_id, alive)
                parts.append(rows)
                values.append(np.full(len(rows), float(price)))
        if not parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        rows, new = np.concatenate(parts), np.concatenate(values)
        valid, mark = store.space["row"]["valid"][rows], store.space["row"]["mark"][rows]
        with np.errstate(invalid="ignore"):
            moved = valid & np.isfinite(new) & (new > 0) & (new != mark)
        return rows[moved], new[moved]

    def _per_row(self, view: View, marks: Mapping[str, float], venue: str | None) -> FloatArray:
        symbols = self._store.symbols
        table = np.full(max(symbols.count, 1), np.nan)
        for symbol, mark in marks.items():
            table[symbols.lookup(venue, symbol)] = float(mark)
        return np.asarray(table[view.col("sym_g")], dtype=np.float64)

    def _result(self, view: View) -> Repriced:
        priced = price_view(
            view,
            horizon_hours=self.horizon_hours,
            target_pct=self.target_distance_pct,
            touch_model=self.touch_model,
        )
        owner = self._store.accounts["owner"]
        keys = {space: (view.base[space], view.count[space]) for space in view.count}
        return Repriced(
            accounts=owner[view.records],
            start=view.base["row"],
            count=view.count["row"],
            horizon_hours=self.horizon_hours,
            touch_model=self.touch_model,
            priced=priced,
            _blocks=self._store.blocks,
            _records=view.records,
            _keys=keys,
        )

    def _compact(self, threshold: int) -> None:
        """Drop retired records once they outnumber the live ones (and ``threshold``)."""
        store = self._store
        live_rows = store.space["row"].n - store.dead_rows
        if store.dead_rows <= max(threshold, live_rows) and store.dead_records <= threshold:
            return
        live = store.live()
        self._store = compacted(store, live, DYNAMIC)
        self._record = [-1] * len(self._record)
        for record, account in enumerate(self._store.accounts["owner"].tolist()):
            self._record[account] = record


def _per_account(volatility: Volatility, n: int) -> list[Mapping[str, float]]:
    if volatility is None:
        return [{}] * n
    if isinstance(volatility, Mapping):
        return [volatility] * n
    return list(volatility)


def _view_rows(view: View, rows: IntArray) -> IntArray:
    """Where the book's ``rows`` sit in ``view`` (whose records are sorted, rows ascending)."""
    index = view.index["row"]
    assert not isinstance(index, slice)
    return np.asarray(np.searchsorted(index, rows), dtype=np.int64)
