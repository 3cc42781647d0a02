"""The real discord.py 2.7 client against the fake Discord REST API and gateway."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import discord
import pytest
import yarl
from discord import app_commands

from tests.fakes.discord import FakeDiscord

GUILD, CHANNEL, OTHER_CHANNEL = 700001, 800001, 800002
ANN, BOB = 111, 222
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fk:
        monkeypatch.setattr(discord.http.Route, "BASE", f"{fk.url}/api/v10")
        monkeypatch.setattr(
            discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fk.ws_url)
        )
        fk.user(ANN, "ann")
        fk.user(BOB, "bob")
        fk.guild(GUILD, "Desk", channels=[CHANNEL, OTHER_CHANNEL], owner_id=ANN)
        yield fk


class Bot:
    """A ``discord.Client`` with a command tree, started as a task on the test's loop."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self.client)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.client.start(self.fake.token))
        ready = asyncio.create_task(self.client.wait_until_ready())
        done, _ = await asyncio.wait({ready, self.task}, timeout=10, return_when="FIRST_COMPLETED")
        if self.task in done:
            ready.cancel()
            self.task.result()  # raises the login/connect failure
        assert ready in done, "client never became ready"

    async def stop(self) -> None:
        await self.client.close()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self.task, 5)


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[Bot]:
    b = Bot(fake)
    yield b
    await b.stop()


async def test_login_ready_and_guild(fake: FakeDiscord, bot: Bot) -> None:
    await bot.start()
    assert fake.identified.is_set() and fake.ready_sent.is_set()
    assert bot.client.user is not None and bot.client.user.id == fake.bot_user_id
    assert bot.client.application_id == fake.app_id
    guild = bot.client.get_guild(GUILD)
    assert guild is not None and guild.name == "Desk"
    assert {c.id for c in guild.text_channels} == {CHANNEL, OTHER_CHANNEL}
    paths = [c.path for c in fake.calls]
    assert paths[:2] == ["/users/@me", "/oauth2/applications/@me"]


async def test_slash_in_dm_round_trip(fake: FakeDiscord, bot: Bot) -> None:
    seen: list[tuple[int, str]] = []

    @bot.tree.command(description="Say hi")
    async def hello(interaction: discord.Interaction, word: str) -> None:
        seen.append((interaction.user.id, word))
        await interaction.response.send_message("hi", ephemeral=False)

    await bot.start()
    iid = fake.slash(ANN, "hello", {"word": "yo"})
    first = await fake.wait_for(lambda: fake.responses(iid))
    assert seen == [(ANN, "yo")]
    assert first[0].kind == "callback" and first[0].type == 4
    assert first[0].content == "hi" and not first[0].ephemeral
    assert [m.content for m in fake.channel_messages(fake.dm_channel_of(ANN))] == ["hi"]
