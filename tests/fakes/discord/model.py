"""Records and small helpers shared by the fake Discord's REST and gateway halves."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

DISCORD_EPOCH_MS = 1420070400000
_counter = itertools.count(1)


def snowflake() -> int:
    """A fresh, increasing snowflake whose timestamp is now (so ``created_at`` makes sense)."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (next(_counter) & 0x3FFFFF)


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON with ``Content-Type: application/json`` exactly: discord.py compares the header verbatim
    and treats ``application/json; charset=utf-8`` (aiohttp's ``json_response``) as plain text."""
    resp = web.Response(status=status, body=json.dumps(payload).encode(), headers=headers)
    resp.content_type = "application/json"  # body=bytes keeps aiohttp from appending a charset
    return resp


class ApiError(Exception):
    """Raised inside a handler to answer ``{"message", "code"}`` with ``status``."""

    def __init__(self, status: int, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


@dataclass
class Call:
    """One HTTP request the bot made (path is relative to ``/api/v10``)."""

    method: str
    path: str
    json: Any = None
    files: dict[str, bytes] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    at: float = 0.0
    status: int = 0


@dataclass
class Response:
    """One answer the bot gave to an interaction: the callback, an @original edit or a follow-up."""

    kind: str  # "callback" | "edit_original" | "followup" | "edit_followup" | "delete_original"
    type: int | None = None
    content: str | None = None
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    files: dict[str, bytes] = field(default_factory=dict)
    choices: list[dict[str, Any]] | None = None
    message_id: int | None = None
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & 64)


@dataclass
class SentMessage:
    """A message the bot created; fields show the current state after edits."""

    id: int
    channel_id: int
    content: str | None = None
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    message_reference: dict[str, Any] | None = None
    flags: int = 0
    edits: int = 0
    deleted: bool = False
    interaction_id: str | None = None
    timestamp: str = field(default_factory=iso_now)
    edited_timestamp: str | None = None

    @property
    def custom_ids(self) -> list[str]:
        """Every ``custom_id`` in the message's components (buttons, selects), in order."""
        found: list[str] = []

        def walk(items: list[dict[str, Any]]) -> None:
            for item in items:
                if "custom_id" in item:
                    found.append(item["custom_id"])
                walk(item.get("components", []))

        walk(self.components)
        return found


@dataclass
class Fault:
    method: str
    path_regex: str
    status: int
    times: int
    retry_after: float | None = None
