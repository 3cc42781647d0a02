"""The bot's own discord.py client against the fake Discord: its REST calls and its gateway go
to the URLs it was given, while discord.py's class-wide URLs (and any other client) stay
Discord's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import discord
import pytest
import yarl
from discord.http import Route

from bot.discord.adapter import DiscordAdapter
from bot.discord.client import DiscordClient
from tests.fakes.discord import FakeDiscord

DISCORD_API = "https://discord.com/api/v10"
DISCORD_GATEWAY = yarl.URL("wss://gateway.discord.gg/")


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


def _untouched() -> None:
    assert Route.BASE == DISCORD_API
    assert discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY == DISCORD_GATEWAY
    assert Route("GET", "/users/@me").url == f"{DISCORD_API}/users/@me"


async def test_logging_in_reaches_the_api_url_it_was_given(fake: FakeDiscord) -> None:
    """The adapter logs in (GET /users/@me) at DISCORD_API_URL without moving discord.py's
    Route.BASE: a second client in the process would still talk to Discord."""
    adapter = DiscordAdapter(fake.token, f"{fake.url}/api/v10", gateway_url=fake.ws_url)
    async with adapter:
        assert [c.path for c in fake.calls][:1] == ["/users/@me"]
        _untouched()
    assert isinstance(adapter.client, DiscordClient)
    assert type(discord.Client(intents=discord.Intents.none()).http) is discord.http.HTTPClient


async def test_the_gateway_is_the_one_it_was_given(fake: FakeDiscord) -> None:
    """The client identifies on the fake's gateway (Discord's default left as it is) and
    receives READY there."""
    client = DiscordClient(f"{fake.url}/api/v10", yarl.URL(fake.ws_url))
    task = asyncio.create_task(client.start(fake.token))
    try:
        await asyncio.wait_for(client.wait_until_ready(), timeout=10)
        assert fake.identified.is_set() and client.user is not None
        _untouched()
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
