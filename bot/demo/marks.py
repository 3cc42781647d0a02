"""The demo market's marks pushed as ticks: the path a venue's websocket stream takes.

``liqwatch demo`` polls its simulated accounts every few seconds like any account, and streams
their marks every ``every_s`` like a venue, so the warning comes when the mark crosses the
level, not at the next poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, Sequence

from bot.demo.venue import SimulatedVenue
from bot.stream.records import MarkTick, VenueStatus

#: A venue pushes marks every 0.1-1 s; the demo's walk ticks once a second (0.25 s: a crossing
#: is seen within a quarter of a second of the walk making it).
EVERY_S = 0.25


class SimulatedMarks:
    """Implements ``bot.monitor.ticks.MarkSource`` over a ``SimulatedVenue``'s market."""

    def __init__(
        self,
        venue: SimulatedVenue,
        on_ticks: Callable[[Sequence[MarkTick]], None],
        *,
        every_s: float = EVERY_S,
    ) -> None:
        self.venue, self.on_ticks, self.every_s = venue, on_ticks, every_s
        self._held: dict[str, tuple[str, ...]] = {}
        self._last_at: float | None = None

    def follow(self, held: Mapping[str, Collection[str]]) -> None:
        self._held = {venue: tuple(sorted(symbols)) for venue, symbols in held.items()}

    def tell_traders(self, handler: Callable[[str, Collection[str]], object]) -> None:
        """The simulated market's trades name no one."""

    async def run(self) -> None:
        while True:
            self.push()
            await asyncio.sleep(self.every_s)

    def push(self) -> int:
        """One round of ticks at the market's current marks; how many."""
        now = self.venue.clock()
        marks = self.venue.market.marks(self.venue.elapsed_s())
        ticks = [
            MarkTick(venue, symbol, marks[base], now, "stream")
            for venue, symbols in self._held.items()
            for symbol in symbols
            if (base := symbol.split("/")[0]) in marks
        ]
        if ticks:
            self._last_at = now
            self.on_ticks(ticks)
        return len(ticks)

    def status(self) -> dict[str, VenueStatus]:
        age = None if self._last_at is None else self.venue.clock() - self._last_at
        return {
            venue: VenueStatus("live" if symbols else "off", age, symbols, (), 0)
            for venue, symbols in self._held.items()
        }

    async def close(self) -> None:
        self._held = {}
