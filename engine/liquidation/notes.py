"""Per-position diagnostics gathered while the formulas run, stored as (sentence, mask) pairs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

import numpy as np

from engine.types import BoolArray


class Notes(Sequence[tuple[str, ...]]):
    """A read-only sequence of per-position sentence tuples, built lazily.

    Formulas flag positions with vectorised masks; a million positions must not cost a million
    Python lists, so each sentence keeps its mask and ``notes[i]`` assembles position i's
    tuple on demand (each sentence once, in the order first added).
    """

    def __init__(self, n: int) -> None:
        self._n = n
        self._entries: list[tuple[str, BoolArray]] = []

    def add(self, mask: BoolArray, message: str) -> None:
        """Attach ``message`` to every position where ``mask`` is True."""
        flagged = np.asarray(mask, dtype=np.bool_)
        if flagged.any():
            self._entries.append((message, flagged.copy()))

    @classmethod
    def joined(cls, notes: Notes, added: Sequence[tuple[str, BoolArray]]) -> Notes:
        """``notes`` followed by ``added`` (sentence, mask) pairs, as if added after them."""
        out = cls(len(notes))
        out._entries = list(notes._entries)
        for message, mask in added:
            out.add(mask, message)
        return out

    def frozen(self) -> Notes:
        """The notes as they stand (callers no longer add to them)."""
        return self

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> tuple[str, ...]: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[tuple[str, ...], ...]: ...
    def __getitem__(self, index: int | slice) -> tuple[str, ...] | tuple[tuple[str, ...], ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(self._n)))
        if not -self._n <= index < self._n:
            raise IndexError(index)
        out: list[str] = []
        for message, mask in self._entries:
            if mask[index] and message not in out:
                out.append(message)
        return tuple(out)

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        return (self[i] for i in range(self._n))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))
