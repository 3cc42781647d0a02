"""This bot's discord.py client: its own REST and gateway URLs (a rate-limit proxy, the tests'
fake), for it alone. discord.py builds every URL from class attributes (``Route.BASE``,
``DiscordWebSocket.DEFAULT_GATEWAY``): setting those would move every client in the process,
so this client's HTTP client and webhook adapter move its own requests instead."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterable, Sequence
from typing import Any, Self

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route
from discord.state import ConnectionState
from discord.webhook.async_ import AsyncWebhookAdapter


def _moved(route: Route, api_url: str) -> Route:
    """``route`` sent to ``api_url``: discord.py builds every URL from the class-wide
    ``Route.BASE``, which stays Discord's for any other client in the process."""
    if not route.url.startswith(Route.BASE):
        return route
    moved = copy.copy(route)
    moved.url = api_url + route.url[len(Route.BASE) :]
    return moved


class _HTTP(discord.http.HTTPClient):
    """The HTTP client of this bot's discord.py client only: REST to ``api_url``, and the
    gateway to ``gateway`` (when set) instead of the one discord.py defaults to."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, api_url: str, gateway: yarl.URL | None
    ) -> None:
        super().__init__(loop)
        self.api_url, self.gateway = api_url, gateway

    async def request(
        self,
        route: Route,
        *,
        files: Sequence[discord.File] | None = None,
        form: Iterable[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> Any:
        moved = _moved(route, self.api_url)
        return await super().request(moved, files=files, form=form, **kwargs)

    async def ws_connect(self, url: str, *, compress: int = 0) -> aiohttp.ClientWebSocketResponse:
        asked = yarl.URL(url)
        if self.gateway is not None and asked.with_query(None) == DiscordWebSocket.DEFAULT_GATEWAY:
            url = str(self.gateway.with_query(asked.query))
        return await super().ws_connect(url, compress=compress)


class Webhooks(AsyncWebhookAdapter):
    """Interaction answers (callbacks, follow-ups) to ``api_url``: discord.py sends them with
    the webhook adapter of the running context (set for the gateway connection's task, which
    every interaction's task inherits), not with its HTTP client."""

    def __init__(self, api_url: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # untyped in discord.py
        self.api_url = api_url

    async def request(self, route: Route, session: aiohttp.ClientSession, **kwargs: Any) -> Any:
        return await super().request(_moved(route, self.api_url), session, **kwargs)


class DiscordClient(discord.Client):
    """A discord.py client that talks to ``api_url`` and ``gateway`` through its own HTTP
    client, leaving discord.py's class attributes (and every other client) alone."""

    def __init__(self, api_url: str, gateway: yarl.URL | None) -> None:
        self._urls = (api_url, gateway)
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)

    def _get_state(self, **options: Any) -> ConnectionState[Self]:
        # discord.py hands its HTTP client to the connection state here: ours, before it does.
        self.http = _HTTP(self.http.loop, *self._urls)
        return super()._get_state(**options)
