"""Alert delivery through the real notifier, outbox, TelegramChannel and python-telegram-bot,
against the fake Bot API's flood control: nothing lost, nothing faster than the limits."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Bot

from bot.delivery.notifier import Notifier
from bot.telegram.channel import PRIVATE_INTERVAL_S, TelegramChannel
from engine.alerts.rules import Severity
from engine.domain import Platform
from storage import Database
from storage.chats import Chats
from storage.outbox import Outbox, OutboxStatus
from tests.fakes.notices import alert_notice, item, message
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.slow

USERS = (201, 202, 203, 204)
PER_CHAT = 4


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeTelegram]:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    async with FakeTelegram() as server:
        for user in USERS:
            server.private_chat(user, f"user{user}")
        yield server


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(str(tmp_path / "liqwatch.db")) as database:
        yield database


async def _deliver(db: Database, fake: FakeTelegram, count: int, timeout: float = 60.0) -> None:
    """Run the notifier until ``count`` rows are no longer pending."""
    bot = Bot(fake.token, base_url=f"{fake.url}/bot")
    async with bot:
        notifier = Notifier(db, {Platform.TELEGRAM: TelegramChannel(bot)}, backoff_s=0.2)
        task = asyncio.create_task(notifier.run())
        try:

            async def settled() -> bool:
                counts = await Outbox(db).counts()
                return counts[OutboxStatus.PENDING] == 0 and sum(counts.values()) == count

            deadline = asyncio.get_running_loop().time() + timeout
            while not await settled():
                assert asyncio.get_running_loop().time() < deadline, await Outbox(db).counts()
                await asyncio.sleep(0.1)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task


async def _enqueue(db: Database, chats: tuple[int, ...], per_chat: int) -> None:
    rows = [
        message(
            str(chat),
            Severity.CRITICAL,
            owner_id=None,
            notice=alert_notice(item(alert_id=chat * 100 + n)),
        )
        for n in range(per_chat)
        for chat in chats
    ]
    async with db.transaction() as tx:
        await Outbox(tx.db).enqueue(rows, now=0.0, tx=tx)


async def test_a_429_storm_loses_nothing_and_never_outpaces_telegram(
    fake: FakeTelegram, db: Database
) -> None:
    """Flood control on (1 message/s per chat, as Telegram) plus six injected 429s with
    retry_after=1: every message arrives exactly once, each chat's sends are at least the
    per-chat interval apart, and after a 429 nothing goes to that chat before retry_after."""
    fake.rate_limit(per_chat_interval_s=PRIVATE_INTERVAL_S * 0.95, global_per_s=30)
    fake.fail("sendMessage", status=429, retry_after=1, times=6)
    await _enqueue(db, USERS, PER_CHAT)
    await _deliver(db, fake, len(USERS) * PER_CHAT)

    counts = await Outbox(db).counts()
    assert counts[OutboxStatus.SENT] == len(USERS) * PER_CHAT and counts[OutboxStatus.DEAD] == 0
    for user in USERS:
        texts = [m.plain for m in fake.bot_messages(user)]
        assert len(texts) == PER_CHAT and len(set(texts)) == PER_CHAT  # no loss, no duplicate
        sends = fake.accepted_sends(user)
        gaps = [b - a for a, b in itertools.pairwise(sends)]
        assert min(gaps) >= PRIVATE_INTERVAL_S * 0.95, gaps
    refused = [c for c in fake.calls_to("sendMessage") if c.status == 429]
    assert len(refused) >= 6
    for call in refused:
        chat = int(call.params["chat_id"])
        later = [at for at in fake.accepted_sends(chat) if at > call.at]
        assert not later or later[0] - call.at >= 0.95  # retry_after honoured


async def test_a_user_who_blocked_the_bot_stops_being_targeted(
    fake: FakeTelegram, db: Database
) -> None:
    """The first 403 blocks the chat; its other messages are given up without a request,
    and the other chats are served as usual."""
    fake.block(203)
    await _enqueue(db, (202, 203), 3)
    await _deliver(db, fake, 6)

    to_blocked = [c for c in fake.calls_to("sendMessage") if int(c.params["chat_id"]) == 203]
    assert len(to_blocked) == 1 and to_blocked[0].status == 403
    assert len(fake.bot_messages(202)) == 3
    blocked = await Chats(db).blocked([(Platform.TELEGRAM, "203")])
    assert "blocked" in blocked[(Platform.TELEGRAM, "203")].lower()
    counts = await Outbox(db).counts()
    assert counts[OutboxStatus.SENT] == 3 and counts[OutboxStatus.DEAD] == 3
