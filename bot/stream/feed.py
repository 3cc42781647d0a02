"""One venue's marks: its client kept alive through drops and silences, REST standing in for
stale symbols, and the operator told when the venue degrades and when it recovers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Sequence
from typing import Any, Protocol

from bot.exchanges import ExchangeFailure, ExchangeHub
from bot.stream.client import EXPECTED, Session, StreamSilent, build
from bot.stream.freshness import Freshness
from bot.stream.records import Backoff, MarkTick, State, Tuning, VenueStatus
from bot.stream.venues import stream_spec
from engine.alerts.events import NoticeKind, OpsNotice
from engine.alerts.rules import Severity

log = logging.getLogger(__name__)

#: Symbols named in an operator message before "and N more".
NAMED = 3


class OpsSink(Protocol):
    """Where operator messages go: ``bot.delivery.ops.OpsAlerts`` (queued under a dedup key)."""

    async def tell(self, notice: OpsNotice, key: str) -> bool: ...


class VenueFeed:
    """Follows one venue's set of symbols; ``run`` until cancelled (it closes its client)."""

    def __init__(
        self,
        venue: str,
        *,
        hub: ExchangeHub,
        emit: Callable[[Sequence[MarkTick]], None],
        ops: OpsSink | None,
        tuning: Tuning,
        ws_prefix: str | None,
        clock: Callable[[], float],
        traders: Callable[[str, Collection[str]], object] | None = None,
    ) -> None:
        self.venue, self.hub, self.ops, self.tuning = venue, hub, ops, tuning
        self._traders = traders
        self._emit_to, self._ws_prefix, self._clock = emit, ws_prefix, clock
        self.spec = stream_spec(venue)
        self.fresh = Freshness(periodic=self.spec.periodic, stale_after_s=tuning.stale_after_s)
        self.reconnects = 0
        self._backoff = Backoff(tuning.backoff_s, tuning.backoff_cap_s)
        self._changed = asyncio.Event()
        self._running = False
        self._last_tick_at: float | None = None
        self._degraded_since: float | None = None
        self._telling: set[asyncio.Task[bool]] = set()

    def _traded(self, addresses: Collection[str]) -> None:
        if self._traders is not None:
            self._traders(self.venue, addresses)

    def follow(self, symbols: Collection[str]) -> None:
        self.fresh.follow(symbols, self._clock())
        self._changed.set()

    async def run(self) -> None:
        """The stream and its REST guard, until cancelled; raises only for a bug."""
        self._running = True
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._stream(), name=f"marks:{self.venue}:stream")
                tasks.create_task(self._guard(), name=f"marks:{self.venue}:rest")
        finally:
            self._running = False

    async def close(self) -> None:
        """Wait for the operator messages still being queued."""
        await asyncio.gather(*self._telling, return_exceptions=True)

    def status(self, now: float) -> VenueStatus:
        symbols, stale = tuple(sorted(self.fresh.symbols())), self.fresh.stale()
        state: State = "off" if not symbols or not self._running else "live"
        if state == "live" and stale:
            state = "degraded"
        age = None if self._last_tick_at is None else max(0.0, now - self._last_tick_at)
        return VenueStatus(state, age, symbols, stale, self.reconnects)

    # ------------------------------------------------------------------ the stream
    async def _stream(self) -> None:
        while True:
            if not self.fresh.symbols():
                self._changed.clear()
                await self._changed.wait()
            elif await self._connect():
                self.reconnects += 1
                await asyncio.sleep(self._backoff.next())

    async def _connect(self) -> bool:
        """One client's life; True when it failed (then reconnect after a backoff), False
        when it was replaced on purpose (the followed set changed, or emptied)."""
        self._changed.clear()
        session: Session | None = None
        try:
            exchange = build(
                self.venue,
                rest_prefix=self.hub.url_prefix,
                ws_prefix=self._ws_prefix,
                timeout_s=self.tuning.http_timeout_s,
                rate_limit=self.hub.rate_limit,
            )
            session = Session(
                self.venue,
                exchange,
                watch_timeout_s=self.tuning.watch_timeout_s,
                answer_timeout_s=self.tuning.stale_after_s,
                on_mark=self._pushed,
                stale=self.fresh.is_stale,
                on_traders=self._traded if self._traders is not None else None,
            )
            await session.start(self.fresh.symbols())
            await self._follow(session)
            return False
        except Exception as exc:
            self._failed(exc)
            return True
        finally:
            if session is not None:
                await session.close()

    async def _follow(self, session: Session) -> None:
        """Keep ``session`` on the followed set until it fails (raises its error) or only a
        new client can serve the set (returns)."""
        while True:
            changed = asyncio.ensure_future(self._changed.wait())
            waiting: set[asyncio.Future[Any]] = {session.failed, changed}
            try:
                await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            finally:
                changed.cancel()
            if session.failed.done():
                raise session.failed.result()
            self._changed.clear()
            wanted = self.fresh.symbols()
            added, dropped = wanted - session.symbols, session.symbols - wanted
            if not wanted or ((added or dropped) and self.spec.unwatch is None):
                return
            session.add(added)
            if dropped and not await session.drop(dropped):
                return

    def _failed(self, exc: Exception) -> None:
        # The type only: a venue's or ccxt's text can carry a URL.
        what = "went silent" if isinstance(exc, StreamSilent) else "failed"
        if isinstance(exc, (*EXPECTED, StreamSilent)):
            log.warning(
                "%s: mark stream %s (%s): reconnecting", self.venue, what, type(exc).__name__
            )
        else:
            log.error("%s: mark stream failed unexpectedly: reconnecting", self.venue, exc_info=exc)

    def _pushed(self, symbol: str, mark: float) -> None:
        now = self._clock()
        self._backoff.reset()
        recovered = self.fresh.pushed(symbol, mark, now)
        self._emit([MarkTick(self.venue, symbol, mark, now, "stream")])
        if recovered:
            self._settle(now)

    def _emit(self, ticks: Sequence[MarkTick]) -> None:
        self._last_tick_at = ticks[-1].at
        try:
            self._emit_to(ticks)
        except Exception:
            log.exception("%s: the mark consumer raised on %d tick(s)", self.venue, len(ticks))

    # ------------------------------------------------------------------ REST and the operator
    async def _guard(self) -> None:
        while True:
            await asyncio.sleep(self.tuning.rest_every_s)
            await self._check()

    async def _check(self) -> None:
        """One REST read of every quiet symbol's mark: stale ones get it as a tick, quiet
        ones are judged by it (``Freshness``); then the operator hears of a change of state."""
        quiet = self.fresh.quiet(self._clock())
        if quiet:
            marks = await self._rest(quiet)
            now = self._clock()
            standing_in = self.fresh.judge(quiet, marks, now)
            ticks = [
                MarkTick(self.venue, s, marks[s], now, "rest") for s in standing_in if s in marks
            ]
            if ticks:
                self._emit(ticks)
        self._settle(self._clock())

    async def _rest(self, symbols: list[str]) -> dict[str, float]:
        try:
            return await self.hub.fetch_marks(self.venue, symbols)
        except ExchangeFailure as failure:
            log.warning("%s: REST marks failed (%s)", self.venue, failure)
            return {}

    def _settle(self, now: float) -> None:
        """Tell the operator once when the venue degrades, and once when it recovers."""
        stale = self.fresh.stale()
        if stale and self._degraded_since is None:
            self._degraded_since = now
            self._tell(Severity.WARNING, "degraded", now, self._degraded(stale))
        elif not stale and self._degraded_since is not None:
            since, self._degraded_since = self._degraded_since, None
            if self.fresh.symbols():
                detail = f"marks recovered on {self.venue}: the stream delivers again"
                self._tell(Severity.INFO, "recovered", since, f"{detail} after {now - since:.0f} s")

    def _degraded(self, stale: Sequence[str]) -> str:
        more = f" and {len(stale) - NAMED} more" if len(stale) > NAMED else ""
        return (
            f"marks degraded on {self.venue}: no stream update for {', '.join(stale[:NAMED])}"
            f"{more} in {self.tuning.stale_after_s:g} s; reading REST marks every "
            f"{self.tuning.rest_every_s:g} s until the stream delivers again"
        )

    def _tell(self, severity: Severity, change: str, episode: float, detail: str) -> None:
        """Queue an operator message. Its dedup key names the episode (when the venue
        degraded): each change is told once, and never mistaken for one before a restart."""
        if self.ops is None:
            log.log(logging.WARNING if severity == Severity.WARNING else logging.INFO, detail)
            return
        key = f"ops:marks:{self.venue}:{change}:{int(episode * 1000)}"
        # An operator message carries how many accounts are watched; the streams know symbols,
        # not accounts, and this kind of message does not show the count.
        notice = OpsNotice(
            NoticeKind.OPERATOR, self._clock(), severity, 0, subject=self.venue, detail=detail
        )
        telling = asyncio.create_task(self.ops.tell(notice, key))
        self._telling.add(telling)
        telling.add_done_callback(self._telling.discard)
