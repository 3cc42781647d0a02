"""The book's storage: columns that grow by whole accounts, shared tier tables, a symbol index."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from engine.book.block import Block
from engine.model import Tiers
from engine.types import IntArray

Columns = dict[str, np.ndarray]


class Space:
    """Columns of one kind of record (positions, pools, balance keys …), appended in runs.

    Capacity doubles, so appending an account costs its own size, amortised; a replaced
    account's old records stay where they are (its new ones are appended) until the book is
    compacted.
    """

    def __init__(self) -> None:
        self._cols: Columns = {}
        self.n = 0

    def append(self, parts: Sequence[Columns], sizes: Sequence[int]) -> int:
        """Append every part's records in order; where the first one lands."""
        start, total = self.n, int(sum(sizes))
        if not parts:
            return start
        for name in parts[0]:
            values = np.concatenate([part[name] for part in parts])
            column = self._room(name, values.dtype, start + total)
            column[start : start + total] = values
        self.n += total
        return start

    def _room(self, name: str, dtype: np.dtype[np.generic], size: int) -> np.ndarray:
        column = self._cols.get(name)
        if column is None or len(column) < size:
            grown = np.empty(max(size, 2 * (0 if column is None else len(column)), 16), dtype)
            if column is not None:
                grown[: self.n] = column[: self.n]
            self._cols[name] = column = grown
        return column

    def __getitem__(self, name: str) -> np.ndarray:
        return self._cols[name][: self.n]

    def __contains__(self, name: str) -> bool:
        return name in self._cols


class TierTables:
    """Every distinct maintenance table of the book once (a symbol's venue table is shared by
    every account holding it), padded with NaN to the widest, as ``Tiers`` reads them."""

    def __init__(self) -> None:
        self._ids: dict[bytes, int] = {}
        self._tables = [np.full((16, 1), np.nan) for _ in range(4)]
        self._count = np.ones(16, dtype=np.int64)
        self.m = 0

    def register(self, tiers: Tiers) -> IntArray:
        """The book's table id of each of ``tiers``' tables (added when new)."""
        out = np.empty(len(tiers.count), dtype=np.int64)
        sources = (tiers.floor, tiers.cap, tiers.mmr, tiers.cum)
        for t, count in enumerate(tiers.count.tolist()):
            row = [a[t, :count] for a in sources]
            key = np.concatenate(row).tobytes()
            found = self._ids.get(key)
            if found is None:
                found = self._ids[key] = self._add(row, count)
            out[t] = found
        return out

    def _add(self, row: list[np.ndarray], count: int) -> int:
        m, (cap, width) = self.m, self._tables[0].shape
        if m == cap or count > width:
            grown = (2 * cap if m == cap else cap, max(width, count))
            self._tables = [_resized(a, grown) for a in self._tables]
            self._count = np.concatenate([self._count, np.ones(grown[0] - cap, np.int64)])
        for table, values in zip(self._tables, row, strict=True):
            table[m, :count] = values
        self._count[m] = count
        self.m += 1
        return m

    def tiers(self, table: IntArray) -> Tiers:
        """The book's tables with ``table`` as the rows' table ids."""
        m = max(self.m, 1)
        floor, cap, mmr, cum = (a[:m] for a in self._tables)
        return Tiers(floor=floor, cap=cap, mmr=mmr, cum=cum, count=self._count[:m], table=table)


def _resized(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    out = np.full(shape, np.nan)
    out[: a.shape[0], : a.shape[1]] = a
    return out


class SymbolIndex:
    """(venue, symbol) → a book-wide id, and each id's position records (dead ones filtered
    when used): a tick finds the rows of the symbols that moved without scanning the book."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], int] = {}
        self._rows: list[list[IntArray]] = []
        self.venues: dict[str, list[int]] = {}

    def register(self, venue: str, symbols: Sequence[str]) -> IntArray:
        """The ids of ``venue``'s ``symbols`` (added when new)."""
        out = np.empty(len(symbols), dtype=np.int64)
        for k, symbol in enumerate(symbols):
            found = self._ids.get((venue, symbol))
            if found is None:
                found = self._ids[(venue, symbol)] = len(self._rows)
                self._rows.append([])
                self.venues.setdefault(venue, []).append(found)
            out[k] = found
        return out

    def add(self, ids: IntArray, start: int) -> None:
        """Index records ``start …`` whose symbol ids are ``ids`` (one sort per append)."""
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        cuts = np.flatnonzero(np.diff(sorted_ids)) + 1
        for run in np.split(order, cuts):
            if len(run):
                self._rows[int(ids[run[0]])].append(run.astype(np.int64) + start)

    def lookup(self, venue: str | None, symbol: str) -> list[int]:
        """The ids of ``symbol`` on ``venue`` (on every venue when None)."""
        if venue is not None:
            found = self._ids.get((venue, symbol))
            return [] if found is None else [found]
        return [i for v in self.venues if (i := self._ids.get((v, symbol))) is not None]

    @property
    def count(self) -> int:
        """Symbol ids handed out."""
        return len(self._rows)

    def rows(self, symbol_id: int, alive: np.ndarray) -> IntArray:
        """The live records of ``symbol_id``, merged into one array on the way."""
        parts = self._rows[symbol_id]
        if not parts:
            return np.zeros(0, dtype=np.int64)
        merged = parts[0] if len(parts) == 1 else np.concatenate(parts)
        merged = np.asarray(merged[alive[merged]], dtype=np.int64)
        self._rows[symbol_id] = [merged]
        return merged

    def clear_rows(self) -> None:
        """Forget every record (the book re-adds them after compacting)."""
        self._rows = [[] for _ in self._rows]


#: Record spaces besides positions, named by the prefix of their start/count columns.
SLOTS = ("pool", "bal", "mm", "eq", "cur")
#: Columns a tick changes, per space: compaction carries them over.
DYNAMIC = {
    "row": ("mark", "venue_upnl", "venue_liq", "settle_usd"),
    "bal": ("value",),
    "mm": ("value",),
    "cur": ("reported",),
}


class Store:
    """Every record space of the book, the blocks behind them, the shared tables and index.

    Records are appended account by account; ``accounts`` holds, per account record, where
    its run starts and how long it is in every space.
    """

    def __init__(self) -> None:
        self.space = {name: Space() for name in ("row", *SLOTS)}
        self.accounts = Space()
        self.tables = TierTables()
        self.symbols = SymbolIndex()
        self.blocks: list[Block] = []
        self.dead_rows = 0
        self.dead_records = 0

    def append(self, blocks: Sequence[Block], owners: IntArray) -> IntArray:
        """Append ``blocks`` as new account records of the book's accounts ``owners``; their
        record ids."""
        first = len(self.blocks)
        parts: dict[str, list[Columns]] = {name: [] for name in self.space}
        sizes: dict[str, list[int]] = {name: [] for name in self.space}
        for r, block in enumerate(blocks):
            for name, columns in _parts(self, block, first + r).items():
                parts[name].append(columns)
                sizes[name].append(len(next(iter(columns.values()))) if columns else 0)
        starts = {
            name: self.space[name].append(parts[name], sizes[name]) + _offsets(sizes[name])
            for name in self.space
        }
        count = len(blocks)
        record: Columns = {f"{name}_start": starts[name] for name in self.space}
        record.update({f"{name}_n": np.asarray(sizes[name], np.int64) for name in self.space})
        record.update(_flags(blocks))
        record["owner"] = np.asarray(owners, dtype=np.int64)
        self.accounts.append([record], [count])
        row_start = int(starts["row"][0]) if count else self.space["row"].n
        self.symbols.add(self.space["row"]["sym_g"][row_start:], row_start)
        self.blocks.extend(blocks)
        return np.arange(first, first + count, dtype=np.int64)

    def kill(self, record: int) -> None:
        """Retire an account record: its rows stop being found by ticks."""
        if not self.accounts["alive"][record]:
            return
        start, n = int(self.accounts["row_start"][record]), int(self.accounts["row_n"][record])
        self.accounts["alive"][record] = False
        self.space["row"]["alive"][start : start + n] = False
        self.dead_rows += n
        self.dead_records += 1

    def live(self) -> IntArray:
        """Live account records, in record order."""
        return np.flatnonzero(self.accounts["alive"]).astype(np.int64)


def _parts(store: Store, block: Block, record: int) -> dict[str, Columns]:
    rows = dict(block.rows)
    n = len(block)
    venue = block.snapshot.positions.venue
    symbols = store.symbols.register(venue, block.symbols)
    tables = store.tables.register(block.tiers)
    rows["account"] = np.full(n, record, dtype=np.int64)
    rows["sym_g"] = symbols[block.rows["sym_l"]] if len(symbols) else np.zeros(0, np.int64)
    rows["table_g"] = tables[block.rows["leg_table"]]
    rows["alive"] = np.ones(n, dtype=np.bool_)
    return {
        "row": rows,
        "pool": block.pool,
        "bal": block.balance,
        "mm": block.maint,
        "eq": block.equity,
        "cur": block.currency,
    }


def _offsets(sizes: Sequence[int]) -> IntArray:
    counts = np.asarray(sizes, dtype=np.int64)
    return np.cumsum(counts) - counts


def _flags(blocks: Sequence[Block]) -> Columns:
    return {
        "und_n": np.array([len(b.underlyings) for b in blocks], dtype=np.int64),
        "hedged": np.array([b.hedged for b in blocks], dtype=np.bool_),
        "from_balance": np.array([b.equity_from_balance for b in blocks], dtype=np.bool_),
        "reported_maint": np.array([b.reported_maint for b in blocks], dtype=np.bool_),
        "alive": np.ones(len(blocks), dtype=np.bool_),
    }


def compacted(store: Store, live: IntArray, dynamic: Mapping[str, tuple[str, ...]]) -> Store:
    """A store of ``live``'s blocks alone, in that order, carrying their moved columns over."""
    out = Store()
    out.append([store.blocks[r] for r in live.tolist()], store.accounts["owner"][live])
    for space, names in dynamic.items():
        old = ranges(store.accounts[f"{space}_start"][live], store.accounts[f"{space}_n"][live])
        for name in names:
            out.space[space][name][:] = store.space[space][name][old]
    return out


def ranges(starts: IntArray, counts: IntArray) -> IntArray:
    """The concatenation of ``range(s, s + c)`` for each pair, without a Python loop."""
    total = int(counts.sum())
    offsets = np.cumsum(counts) - counts
    return np.asarray(np.repeat(starts - offsets, counts) + np.arange(total), dtype=np.int64)
