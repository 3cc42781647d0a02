"""The gateway half of the fake: HELLO, heartbeats, IDENTIFY -> READY + GUILD_CREATE, dispatches."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord.world import World

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, HELLO, HEARTBEAT_ACK = 0, 1, 2, 6, 10, 11


class Gateway:
    """Mixed into ``FakeDiscord``. One live session at a time (a new connection replaces it)."""

    world: World
    token: str
    app_id: int
    ws_url: str

    def _init_gateway(self) -> None:
        self.identified = asyncio.Event()
        self.ready_sent = asyncio.Event()
        self.heartbeats = 0
        self.heartbeat_interval_ms = 41250
        self.identify_payloads: list[dict[str, Any]] = []
        self.gateway_frames: list[dict[str, Any]] = []  # every frame the client sent
        self.session_id = secrets.token_hex(16)
        self._seq = 0
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self._wake = asyncio.Event()
        self._live: web.WebSocketResponse | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self._send_lock = asyncio.Lock()

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Queue an op 0 dispatch; sent as soon as a session is READY (or RESUMED)."""
        self._pending.append((event, data))
        self._wake.set()

    async def _send(self, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            if not ws.closed:
                await ws.send_str(json.dumps(frame))

    async def _send_dispatch(self, ws: web.WebSocketResponse, event: str, data: Any) -> None:
        self._seq += 1
        await self._send(ws, {"op": DISPATCH, "s": self._seq, "t": event, "d": data})

    async def _writer(self, ws: web.WebSocketResponse) -> None:
        while not ws.closed:
            while self._pending and self._live is ws and not ws.closed:
                event, data = self._pending.pop(0)
                await self._send_dispatch(ws, event, data)
            self._wake.clear()
            await self._wake.wait()

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.add(ws)
        writer: asyncio.Task[None] | None = None
        try:
            await self._send(
                ws, {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}
            )
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                self.gateway_frames.append(frame)
                op = frame.get("op")
                if op == HEARTBEAT:
                    self.heartbeats += 1
                    await self._send(ws, {"op": HEARTBEAT_ACK})
                elif op in (IDENTIFY, RESUME):
                    if frame["d"].get("token") != self.token:
                        await ws.close(code=4004, message=b"Authentication failed.")
                        break
                    if op == IDENTIFY:
                        self.identify_payloads.append(frame["d"])
                        self.identified.set()
                        self._seq = 0
                        await self._send_ready(ws)
                    else:
                        await self._send_dispatch(ws, "RESUMED", {})
                    self._live = ws
                    if writer is None:
                        writer = asyncio.create_task(self._writer(ws))
                    self._wake.set()
        finally:
            if self._live is ws:
                self._live = None
            self._sockets.discard(ws)
            self._wake.set()
            if writer is not None:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await writer
        return ws

    async def _send_ready(self, ws: web.WebSocketResponse) -> None:
        ready = {
            "v": 10,
            "user": self.world.bot_user,
            "guilds": [{"id": str(g), "unavailable": True} for g in self.world.guilds],
            "session_id": self.session_id,
            "resume_gateway_url": self.ws_url,
            "shard": [0, 1],
            "application": {"id": str(self.app_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "user_settings": {},
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
        }
        await self._send_dispatch(ws, "READY", ready)
        for guild in list(self.world.guilds.values()):
            await self._send_dispatch(ws, "GUILD_CREATE", guild)
        self.ready_sent.set()

    async def _close_sockets(self) -> None:
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"fake shutting down")
