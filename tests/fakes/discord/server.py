"""The fake Discord: REST API under ``/api/v10`` and a gateway websocket at ``/gateway``.

Point liqwatch's Discord adapter at it with ``DISCORD_API_URL = f"{fake.url}/api/v10"`` and
``DISCORD_GATEWAY_URL = fake.ws_url`` (the adapter configures its own client: discord.py's class
attributes are never rewritten). Tests build the
world (``guild``, ``user``, ``set_permissions``), act as users (``slash``, ``autocomplete``,
``click``), inject faults (``fail``) and read back what the bot did (``calls``, ``responses``,
``channel_messages``, ``synced_commands``).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Sequence
from typing import Any, Self, TypeVar

from aiohttp import web

from tests.fakes.discord.gateway import Gateway
from tests.fakes.discord.interactions import InteractionApi, options_json
from tests.fakes.discord.model import ApiError, Call, Fault, Response, SentMessage, json_response
from tests.fakes.discord.rest import InteractionRecord, read_body
from tests.fakes.discord.world import World

T = TypeVar("T")
API_PREFIX = "/api/v10"
FAULT_MESSAGES = {
    401: ("401: Unauthorized", 0),
    403: ("Missing Access", 50001),
    404: ("Unknown", 0),
    500: ("Internal Server Error", 0),
}


class FakeDiscord(InteractionApi, Gateway):
    """Discord's REST API and gateway on 127.0.0.1, for the real discord.py client."""

    def __init__(
        self, token: str = "fake-discord-token", app_id: int = 424242, bot_user_id: int = 424242
    ) -> None:
        self.token, self.app_id, self.bot_user_id = token, app_id, bot_user_id
        self.world = World(app_id, bot_user_id)
        self.calls: list[Call] = []
        self.synced_commands: dict[str, list[dict[str, Any]]] = {}
        self.interactions: dict[str, InteractionRecord] = {}
        self.faults: list[Fault] = []
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._table = self._routes()
        self._init_gateway()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:  # type: ignore[override]
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._serve)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        await self._close_sockets()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ world
    def guild(
        self, guild_id: int, name: str = "Desk", *, channels: Sequence[int] = (), owner_id: int = 1
    ) -> dict[str, Any]:
        data = self.world.guild(guild_id, name, list(channels), owner_id)
        if self.ready_sent.is_set():
            # A join omits "unavailable": discord.py reads False as "became available" and
            # dispatches on_guild_available instead of on_guild_join.
            self.dispatch("GUILD_CREATE", {k: v for k, v in data.items() if k != "unavailable"})
        return data

    def user(self, user_id: int, name: str = "ann") -> dict[str, Any]:
        return self.world.user(user_id, name)

    def set_permissions(self, guild_id: int, user_id: int, permissions: int) -> None:
        self.world.permissions[(guild_id, user_id)] = permissions

    def dm_channel_of(self, user_id: int) -> int:
        return self.world.dm_channel_of(user_id)

    # ------------------------------------------------------------------ what users do
    def slash(
        self,
        user_id: int,
        name: str,
        options: dict[str, object] | None = None,
        *,
        subcommand: str | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
    ) -> str:
        data = self._command_data(name, options_json(options), subcommand, guild_id)
        return self._interaction(2, user_id, data, guild_id=guild_id, channel_id=channel_id)

    def autocomplete(
        self,
        user_id: int,
        name: str,
        focused: str,
        value: str,
        *,
        options: dict[str, object] | None = None,
        subcommand: str | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
    ) -> str:
        opts = options_json({**(options or {}), focused: value}, focused=focused)
        data = self._command_data(name, opts, subcommand, guild_id)
        return self._interaction(4, user_id, data, guild_id=guild_id, channel_id=channel_id)

    def click(
        self,
        user_id: int,
        channel_id: int,
        message_id: int,
        custom_id: str,
        *,
        guild_id: int | None = None,
    ) -> str:
        msg = self.world.messages.get(message_id)
        if msg is None or msg.deleted or msg.channel_id != channel_id:
            raise ValueError(f"no live bot message {message_id} in channel {channel_id}")
        if guild_id is None and channel_id not in self.world.dm_channels.values():
            gid = self.world.channels.get(channel_id, {}).get("guild_id")
            guild_id = int(gid) if gid is not None else None
        data = {"custom_id": custom_id, "component_type": 2}
        return self._interaction(
            3,
            user_id,
            data,
            guild_id=guild_id,
            channel_id=channel_id,
            message=self.world.message_json(msg),
        )

    # ------------------------------------------------------------------ faults
    def fail(
        self,
        method: str,
        path_regex: str,
        *,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
    ) -> None:
        """The next ``times`` requests whose path (below ``/api/v10``, no query) fully matches
        ``path_regex`` answer ``status``; 429s carry ``Via`` and the rate-limit headers."""
        self.faults.append(Fault(method.upper(), path_regex, status, times, retry_after))

    def _fault_response(self, method: str, path: str) -> web.Response | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method == method and re.fullmatch(fault.path_regex, path):
                fault.times -= 1
                if fault.status == 429:
                    after = fault.retry_after if fault.retry_after is not None else 0.1
                    headers = {
                        "Via": "1.1 google",
                        "Retry-After": str(max(1, round(after))),
                        "X-RateLimit-Limit": "5",
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": f"{time.time() + after:.3f}",
                        "X-RateLimit-Reset-After": f"{after:.3f}",
                        "X-RateLimit-Bucket": "fakebucket",
                        "X-RateLimit-Scope": "user",
                    }
                    body = {
                        "message": "You are being rate limited.",
                        "retry_after": after,
                        "global": False,
                    }
                    return json_response(body, 429, headers)
                message, code = FAULT_MESSAGES.get(fault.status, ("Error", 0))
                if fault.status == 403 and path.startswith("/channels/") and self._is_dm(path):
                    message, code = "Cannot send messages to this user", 50007
                return json_response({"message": message, "code": code}, fault.status)
        return None

    def _is_dm(self, path: str) -> bool:
        parts = path.split("/")
        return (
            len(parts) > 2
            and parts[2].isdigit()
            and int(parts[2]) in self.world.dm_channels.values()
        )

    # ------------------------------------------------------------------ serving
    async def _serve(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        try:
            body, files = await read_body(request)
        except (ValueError, json.JSONDecodeError):
            body, files = None, {}
        call = Call(request.method, path, body, files, dict(request.query), time.monotonic())
        self.calls.append(call)
        resp = self._fault_response(request.method, path)
        if resp is None:
            resp = await self._route(request, path, body, files)
        call.status = resp.status
        return resp

    async def _route(self, request: web.Request, path: str, body: Any, files: dict) -> web.Response:
        for method, pattern, handler, needs_auth in self._table:
            match = pattern.fullmatch(path)
            if method != request.method or match is None:
                continue
            if needs_auth and request.headers.get("Authorization") != f"Bot {self.token}":
                return json_response({"message": "401: Unauthorized", "code": 0}, 401)
            try:
                result = await handler(body, files, dict(request.query), *match.groups())
            except ApiError as exc:
                return json_response({"message": exc.message, "code": exc.code}, exc.status)
            if result is None:
                return web.Response(status=204)
            return json_response(result)
        return json_response({"message": "Unknown", "code": 0}, 404)

    # ------------------------------------------------------------------ what the bot did
    def responses(self, interaction_id: str) -> list[Response]:
        rec = self.interactions.get(str(interaction_id))
        return list(rec.responses) if rec is not None else []

    def channel_messages(self, channel_id: int) -> list[SentMessage]:
        """Live, non-ephemeral bot messages in ``channel_id``, oldest first."""
        return [
            m
            for m in self.world.messages.values()
            if m.channel_id == channel_id and not m.deleted and not m.flags & 64
        ]

    def message(self, message_id: int) -> SentMessage | None:
        return self.world.messages.get(message_id)

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 10.0) -> T:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                recent = "\n".join(
                    f"  {c.status} {c.method} {c.path} {json.dumps(c.json)[:200]}"
                    for c in self.calls[-15:]
                )
                raise AssertionError(
                    f"condition not met within {timeout}s; recent calls:\n{recent}"
                )
            await asyncio.sleep(0.02)
