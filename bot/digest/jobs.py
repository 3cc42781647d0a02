"""Scheduled digests: one APScheduler cron job per subscription, delivered through the outbox.

Jobs are rebuilt from the database at start and after every subscription change (no job
store). A digest is built once (text and charts) and queued like an alert, so pacing, retries
and the at-least-once guarantee are the notifier's. A digest missed while the process was down
is sent once at start-up, not once per missed day.
"""

from __future__ import annotations

import base64
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.accounts.visibility import audience_of, visible
from bot.digest import build as digest
from bot.digest import charts
from bot.digest import text as digest_text
from engine.alerts.events import Chart, DigestNotice
from engine.alerts.rules import Severity
from engine.analysis import Analysis
from engine.domain import LinkedAccount, Platform
from storage import Database, Transaction
from storage.chats import Chats
from storage.digests import Digests, Subscription
from storage.outbox import NewMessage, Outbox

log = logging.getLogger(__name__)

JOB_PREFIX = "digest:"
#: A digest due while the loop was busy still goes out within this window (then catch-up).
MISFIRE_GRACE_S = 3600


def trigger(subscription: Subscription) -> CronTrigger:
    """Every day at the subscription's local wall-clock time, DST included."""
    hour, minute = (int(part) for part in subscription.local_time.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(subscription.timezone))


def last_fire(cron: CronTrigger, now: float) -> float | None:
    """The latest scheduled time at or before ``now`` (within the last two days)."""
    moment = datetime.fromtimestamp(now, UTC)
    cursor = cron.get_next_fire_time(None, moment - timedelta(days=2))
    last = None
    while cursor is not None and cursor <= moment:
        last = cursor
        cursor = cron.get_next_fire_time(cursor, cursor + timedelta(seconds=1))
    return None if last is None else last.timestamp()


#: Brings what a digest reads from the venue (realised PnL, funding) up to date for accounts.
Refresh = Callable[[Sequence[LinkedAccount]], Awaitable[None]]


class DigestJobs:
    """Builds, schedules and queues the digests of every subscription."""

    def __init__(
        self,
        db: Database,
        scheduler: AsyncIOScheduler,
        latest: Mapping[int, Analysis],
        *,
        wake: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.time,
        refresh: Refresh | None = None,
    ) -> None:
        self.db, self.scheduler, self.latest = db, scheduler, latest
        self.wake, self.clock, self.refresh = wake, clock, refresh
        self.digests = Digests(db)
        self.cache = charts.ChartCache()

    async def sync(self) -> None:
        """Make the scheduler's digest jobs match the database."""
        subscriptions = await self.digests.all()
        wanted = {f"{JOB_PREFIX}{s.id}": s for s in subscriptions}
        for job in self.scheduler.get_jobs():
            if job.id.startswith(JOB_PREFIX) and job.id not in wanted:
                job.remove()
        for job_id, subscription in wanted.items():
            self.scheduler.add_job(
                self.deliver, trigger(subscription), args=[subscription.id], id=job_id,
                replace_existing=True, max_instances=1, coalesce=True,
                misfire_grace_time=MISFIRE_GRACE_S,
            )  # fmt: skip

    async def catch_up(self) -> int:
        """Send, once, each digest whose last scheduled time passed while we were down."""
        now, sent = self.clock(), 0
        for subscription in await self.digests.all():
            due = last_fire(trigger(subscription), now)
            done = max(subscription.last_sent_at or 0.0, subscription.created_at)
            if due is not None and due > done and await self.deliver(subscription.id):
                sent += 1
        return sent

    async def deliver(self, subscription_id: int) -> bool:
        """Build the digest and queue it for its chat; False if the subscription is gone or
        this occurrence was queued already. Workers sharing a database all fire each digest:
        its outbox key names the occurrence (the scheduled minute, not the worker's clock),
        so the first to queue it wins and the others' rows are refused as duplicates."""
        subscription = await self.digests.get(subscription_id)
        if subscription is None:
            return False
        now = self.clock()
        due = last_fire(trigger(subscription), now) or now

        async def sent(tx: Transaction) -> None:
            await self.digests.mark_sent(subscription_id, now, tx=tx)

        return await self.queue(
            subscription.owner_id, subscription.platform, subscription.chat_id,
            await self.accounts_for(subscription),
            title="Daily digest", tz=subscription.timezone,
            key=f"digest:{subscription.id}:{int(due // 60)}", subscription_id=subscription.id,
            queued=sent,
        )  # fmt: skip

    async def queue(
        self,
        owner_id: int,
        platform: Platform,
        chat_id: str,
        accounts: Sequence[LinkedAccount],
        *,
        title: str,
        key: str,
        subscription_id: int = 0,
        tz: str | None = None,
        queued: Callable[[Transaction], Awaitable[None]] | None = None,
    ) -> bool:
        """Build a digest (text and charts) and queue it for one chat, its times in ``tz``
        (None: the chat's own, ``chat_zone``). The notice's title is the header line and its
        text the rest, so no platform shows a title twice. False when its key was queued
        already (nothing new); else ``queued`` runs in the same transaction."""
        if self.refresh is not None:  # the day's cash flows, read up to this minute
            await self.refresh(accounts)
        zone = tz or await self.chat_zone(platform, chat_id)
        now = self.clock()
        built = await digest.build(self.db, accounts, self.latest, now=now)
        notice = DigestNotice(
            subscription_id=subscription_id,
            at=now,
            title=title if built.empty else digest_text.header(built, title=title, tz=zone),
            text=digest_text.body(built, tz=zone),
            charts=() if built.empty else await self.charts(built, tz=zone),
        )
        message = NewMessage(key, owner_id, platform, chat_id, Severity.INFO, notice)
        async with self.db.transaction() as tx:
            if not await Outbox(tx.db).enqueue([message], now=now, tx=tx):
                return False
            if queued is not None:
                await queued(tx)
        self.wake()
        return True

    async def chat_zone(self, platform: Platform, chat_id: str) -> str:
        """The chat's time zone: its digest subscription's, else its quiet hours', else UTC."""
        subscription = await self.digests.for_chat(platform, chat_id)
        if subscription is not None:
            return subscription.timezone
        quiet = (await Chats(self.db).get(platform, chat_id)).quiet
        return "UTC" if quiet is None else quiet.tz

    async def accounts_for(self, subscription: Subscription) -> list[LinkedAccount]:
        """What the chat may see now (``bot.accounts.visibility``), narrowed to the named
        accounts if any, each once in the named order."""
        audience = await audience_of(
            self.db, subscription.owner_id, subscription.platform, subscription.chat_id
        )
        pool = await visible(self.db, audience)
        if not subscription.account_ids:
            return pool
        # Named from the pool only: an account unshared since the subscription leaves the group's
        # digest even if the subscriber owns it (a named id is not a share).
        return _named(pool, subscription.account_ids)

    async def charts(self, built: digest.Digest, *, tz: str = "UTC") -> tuple[Chart, ...]:
        """Exposure, liquidation ladder and equity/leverage for a digest."""
        return tuple([await self.chart(built, name, tz=tz) for name in CHARTS])

    async def chart(
        self, built: digest.Digest, kind: str, *, version: float | None = None, tz: str = "UTC"
    ) -> Chart:
        """One chart, rendered off the event loop; cached per (accounts, snapshot version):
        the same snapshot never renders twice."""
        name, title = CHARTS[kind]
        render: Callable[..., bytes]
        data: object
        if kind == "exposure":
            render, data = charts.exposure_png, _bars(built)
        elif kind == "ladder":  # coloured and lined by the accounts' own liq rules
            render, data = charts.ladder_chart, built
        else:  # the history's start is noted in the chat's time zone
            render, data = functools.partial(charts.equity_chart, tz=tz), built
        key = (kind, built.accounts, built.at if version is None else version, tz)
        png = await self.cache.get_or_render(key, render, data)
        return Chart(name, title, base64.b64encode(png).decode("ascii"))


#: kind → (file name, title).
CHARTS = {
    "exposure": ("exposure.png", "Exposure by underlying"),
    "ladder": ("ladder.png", "Distance to liquidation"),
    "equity": ("equity.png", "Equity and leverage, 30 days"),
}


def _named(pool: Sequence[LinkedAccount], ids: Sequence[int]) -> list[LinkedAccount]:
    """The accounts of ``pool`` with these ids, in the order of ``ids``, each once."""
    by_id = {account.id: account for account in pool}
    return [by_id[i] for i in dict.fromkeys(ids) if i in by_id]


def _bars(built: digest.Digest) -> list[charts.ExposureBar]:
    return [
        charts.ExposureBar(e.underlying, e.long_usd, e.short_usd, e.stale_usd)
        for e in built.exposure
    ]
