"""Per-position diagnostics gathered while the formulas run."""

from __future__ import annotations

import numpy as np

from engine.types import BoolArray


class Notes:
    """One list of sentences per position; a sentence is recorded once per position."""

    def __init__(self, n: int) -> None:
        self._rows: list[list[str]] = [[] for _ in range(n)]

    def add(self, mask: BoolArray, message: str) -> None:
        """Attach ``message`` to every position where ``mask`` is True."""
        # Diagnostics, not maths: a loop over the (few) flagged positions is fine here.
        for i in np.flatnonzero(mask):
            if message not in self._rows[i]:
                self._rows[i].append(message)

    def frozen(self) -> tuple[tuple[str, ...], ...]:
        """The notes as immutable per-position tuples."""
        return tuple(tuple(row) for row in self._rows)
