"""Alert delivery through the real notifier, outbox, DiscordChannel and discord.py against the
fake Discord: 429s retried, a user with closed DMs stops being targeted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest

from bot.delivery.notifier import Notifier
from bot.discord.channel import DiscordChannel
from engine.alerts.rules import Severity
from engine.domain import Platform
from storage import Database
from storage.chats import Chats
from storage.outbox import Outbox, OutboxStatus
from tests.fakes.discord import FakeDiscord
from tests.fakes.notices import alert_notice, item, message

pytestmark = pytest.mark.slow


Pair = tuple[FakeDiscord, discord.Client]


@pytest.fixture
async def client(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Pair]:
    async with FakeDiscord() as fake:
        monkeypatch.setattr(discord.http.Route, "BASE", f"{fake.url}/api/v10")
        bot = discord.Client(intents=discord.Intents.default())
        await bot.login(fake.token)  # HTTP only: sending needs no gateway
        try:
            yield fake, bot
        finally:
            await bot.close()


async def test_429_is_retried_and_closed_dms_block_the_chat(client: Pair, tmp_path: Path) -> None:
    fake, bot = client
    open_dm, closed_dm = fake.dm_channel_of(1), fake.dm_channel_of(2)
    fake.fail("POST", rf"/channels/{open_dm}/messages", status=429, times=2, retry_after=0.3)
    fake.fail("POST", rf"/channels/{closed_dm}/messages", status=403, times=10)
    async with Database.open(str(tmp_path / "db.sqlite")) as db:
        rows = [
            message(
                str(chat),
                Severity.CRITICAL,
                platform=Platform.DISCORD,
                notice=alert_notice(item(alert_id=chat + n)),
            )
            for chat in (open_dm, closed_dm)
            for n in range(2)
        ]
        async with db.transaction() as tx:
            await Outbox(tx.db).enqueue(rows, now=0.0, tx=tx)
        notifier = Notifier(db, {Platform.DISCORD: DiscordChannel(bot)}, backoff_s=0.2)
        task = asyncio.create_task(notifier.run())
        try:

            async def settled() -> bool:
                return (await Outbox(db).counts())[OutboxStatus.PENDING] == 0

            for _ in range(300):
                if await settled():
                    break
                await asyncio.sleep(0.1)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        counts = await Outbox(db).counts()
        blocked = await Chats(db).blocked([(Platform.DISCORD, str(closed_dm))])
    assert counts[OutboxStatus.SENT] == 2 and counts[OutboxStatus.DEAD] == 2
    assert len(fake.channel_messages(open_dm)) == 2
    assert "Cannot send messages to this user" in blocked[(Platform.DISCORD, str(closed_dm))]
    to_closed = [c for c in fake.calls if c.path == f"/channels/{closed_dm}/messages"]
    assert len(to_closed) == 1  # one refusal, then the chat is no longer targeted
    throttled = [c for c in fake.calls if c.path == f"/channels/{open_dm}/messages"]
    assert [c.status for c in throttled] == [429, 429, 200, 200]
