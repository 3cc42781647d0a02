"""How fresh each followed symbol's streamed mark is, and which are stale (time comes in)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass


@dataclass
class _Entry:
    #: The last time the stream was known to be current for the symbol: a push, the symbol
    #: being followed, or REST showing the very mark the stream last sent.
    fresh_at: float
    #: The last streamed mark (``None``: nothing streamed yet).
    streamed: float | None = None
    #: REST once showed another mark while the stream stayed quiet (one strike of two).
    doubted: bool = False
    stale: bool = False


class Freshness:
    """The followed symbols of one venue and the verdict on each one's stream.

    A symbol is *quiet* after ``stale_after_s`` without a push. On a periodic venue quiet is
    stale. Elsewhere a quiet market may simply be still, so REST judges: the same mark as the
    stream last sent means the stream is current; another mark twice in a row (a push may be
    on its way the first time) means the stream missed it, and the symbol is stale. Only a
    push makes a stale symbol live again.
    """

    def __init__(self, *, periodic: bool, stale_after_s: float) -> None:
        self.periodic = periodic
        self.stale_after_s = stale_after_s
        self._entries: dict[str, _Entry] = {}

    def symbols(self) -> frozenset[str]:
        return frozenset(self._entries)

    def follow(self, symbols: Collection[str], now: float) -> None:
        """Follow exactly ``symbols``; a new one gets ``stale_after_s`` for its first push."""
        self._entries = {s: self._entries.get(s) or _Entry(fresh_at=now) for s in symbols}

    def pushed(self, symbol: str, mark: float, now: float) -> bool:
        """Record a streamed mark; whether it ended the symbol's staleness."""
        entry = self._entries.get(symbol)
        if entry is None:
            return False
        was_stale = entry.stale
        entry.fresh_at, entry.streamed, entry.doubted, entry.stale = now, mark, False, False
        return was_stale

    def quiet(self, now: float) -> list[str]:
        """Symbols without a push (or a REST confirmation) for ``stale_after_s``, stale ones
        included: those REST reads."""
        limit = now - self.stale_after_s
        return sorted(s for s, e in self._entries.items() if e.stale or e.fresh_at <= limit)

    def judge(self, quiet: Collection[str], marks: Mapping[str, float], now: float) -> list[str]:
        """Rule on ``quiet`` symbols given the REST ``marks`` read for them (a symbol REST
        could not read is absent); the symbols whose REST mark should stand in for the
        stream's (stale or doubted)."""
        standing_in: list[str] = []
        for symbol in quiet:
            entry = self._entries.get(symbol)
            # Dropped, or pushed while REST was being read: nothing to judge.
            if entry is None or (not entry.stale and entry.fresh_at > now - self.stale_after_s):
                continue
            if not entry.stale and not self.periodic:
                rest = marks.get(symbol)
                if rest is not None and rest == entry.streamed:
                    entry.fresh_at, entry.doubted = now, False
                    continue
                entry.stale, entry.doubted = entry.doubted, True
            else:
                entry.stale = True
            standing_in.append(symbol)
        return standing_in

    def is_stale(self, symbol: str) -> bool:
        entry = self._entries.get(symbol)
        return entry is not None and entry.stale

    def stale(self) -> tuple[str, ...]:
        return tuple(sorted(s for s, e in self._entries.items() if e.stale))
