"""The REST half of the fake: a routing table of ``(method, path regex) -> handler``."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tests.fakes.discord.model import ApiError, Call, SentMessage, iso_now, snowflake
from tests.fakes.discord.world import World

Handler = Callable[..., Awaitable[Any]]
MESSAGE_KEYS = ("content", "embeds", "components", "flags")
#: Discord's limits on one message (API reference, "Create Message" and "Embed Limits").
MAX_FILES = MAX_EMBEDS = 10
EMBED_TOTAL_MAX = 6000
DESCRIPTION_MAX = 4096
CONTENT_MAX = 2000
INVALID_FORM = 50035


def check_message(body: dict[str, Any], files: dict[str, bytes]) -> None:
    """Refuse, as Discord does with 400 "Invalid Form Body", a message past its limits: more
    than 10 files or embeds, an embed description over 4096 characters, over 6000 characters
    across the embeds, content over 2000 characters, or an ``attachment://`` image naming a
    file the request did not upload (Discord would show an empty image)."""
    embeds = body.get("embeds") or []
    if len(files) > MAX_FILES or len(embeds) > MAX_EMBEDS:
        raise ApiError(400, "Invalid Form Body: must be 10 or fewer in length", INVALID_FORM)
    if len(body.get("content") or "") > CONTENT_MAX:
        raise ApiError(400, "Invalid Form Body: content too long", INVALID_FORM)
    total = 0
    for embed in embeds:
        description = embed.get("description") or ""
        if len(description) > DESCRIPTION_MAX:
            raise ApiError(400, "Invalid Form Body: description too long", INVALID_FORM)
        footer = (embed.get("footer") or {}).get("text") or ""
        total += len(embed.get("title") or "") + len(description) + len(footer)
        url = (embed.get("image") or {}).get("url") or ""
        if url.startswith("attachment://") and url.removeprefix("attachment://") not in files:
            raise ApiError(400, f"Invalid Form Body: no file uploaded as {url}", INVALID_FORM)
    if total > EMBED_TOTAL_MAX:
        too_big = "Invalid Form Body: Embed size exceeds maximum size of 6000"
        raise ApiError(400, too_big, INVALID_FORM)


async def read_body(request: web.Request) -> tuple[Any, dict[str, bytes]]:
    """JSON body, or multipart ``payload_json`` plus ``files[n]`` parts keyed by filename."""
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        body: Any = None
        files: dict[str, bytes] = {}
        for key, value in form.items():
            if key == "payload_json":
                body = json.loads(value if isinstance(value, str) else value.file.read())
            elif isinstance(value, web.FileField):
                files[value.filename or key] = value.file.read()
        return body, files
    raw = await request.read()
    return (json.loads(raw) if raw else None), {}


class InteractionRecord:
    """What the fake remembers about one interaction it dispatched."""

    def __init__(self, iid: str, token: str, kind: int, channel_id: int, guild_id: int | None):
        self.id, self.token, self.kind = iid, token, kind
        self.channel_id, self.guild_id = channel_id, guild_id
        self.message_id: int | None = None  # the message a component sat on
        self.original_id: int | None = None  # what @original points at
        self.acknowledged = False
        self.responses: list[Any] = []


class RestApi:
    """Mixed into ``FakeDiscord``; expects ``world``, ``token``, ``app_id``, ``ws_url`` etc."""

    world: World
    token: str
    app_id: int
    ws_url: str
    calls: list[Call]
    synced_commands: dict[str, list[dict[str, Any]]]
    interactions: dict[str, InteractionRecord]

    def _routes(self) -> list[tuple[str, re.Pattern[str], Handler, bool]]:
        """(method, path regex, handler, needs bot auth)."""
        table: list[tuple[str, str, Handler, bool]] = [
            ("GET", r"/users/@me", self._get_me, True),
            ("GET", r"/users/(\d+)", self._get_user, True),
            ("GET", r"/oauth2/applications/@me", self._get_app, True),
            ("GET", r"/gateway", self._get_gateway, False),
            ("GET", r"/gateway/bot", self._get_gateway, True),
            ("PUT", r"/applications/(\d+)/commands", self._put_commands, True),
            ("GET", r"/applications/(\d+)/commands", self._get_commands, True),
            ("PUT", r"/applications/(\d+)/guilds/(\d+)/commands", self._put_commands, True),
            ("GET", r"/applications/(\d+)/guilds/(\d+)/commands", self._get_commands, True),
            ("POST", r"/interactions/(\d+)/([^/]+)/callback", self._callback, False),
            ("POST", r"/webhooks/(\d+)/([^/]+)", self._followup, False),
            ("GET", r"/webhooks/(\d+)/([^/]+)/messages/(@original|\d+)", self._hook_get, False),
            ("PATCH", r"/webhooks/(\d+)/([^/]+)/messages/(@original|\d+)", self._hook_edit, False),
            ("DELETE", r"/webhooks/(\d+)/([^/]+)/messages/(@original|\d+)", self._hook_del, False),
            ("POST", r"/users/@me/channels", self._open_dm, True),
            ("GET", r"/channels/(\d+)", self._get_channel, True),
            ("POST", r"/channels/(\d+)/messages", self._create_message, True),
            ("GET", r"/channels/(\d+)/messages/(\d+)", self._get_message, True),
            ("PATCH", r"/channels/(\d+)/messages/(\d+)", self._edit_message, True),
            ("DELETE", r"/channels/(\d+)/messages/(\d+)", self._delete_message, True),
        ]
        return [(m, re.compile(p), h, a) for m, p, h, a in table]

    # ------------------------------------------------------------------ identity
    async def _get_me(self, body: Any, files: dict[str, bytes], query: dict[str, str]) -> Any:
        return self.world.bot_user

    async def _get_user(self, body: Any, files: Any, query: Any, user_id: str) -> Any:
        return self.world.user_json(int(user_id))

    async def _get_app(self, body: Any, files: Any, query: Any) -> Any:
        owner = {"id": "1", "username": "owner", "discriminator": "0", "avatar": None}
        return {
            "id": str(self.app_id),
            "name": "liqwatch",
            "description": "",
            "icon": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": owner,
            "team": None,
            "verify_key": "00" * 32,
            "flags": 0,
            "summary": "",
            "rpc_origins": [],
            "bot": self.world.bot_user,
            "interactions_endpoint_url": None,
            "redirect_uris": [],
            "approximate_guild_count": len(self.world.guilds),
        }

    async def _get_gateway(self, body: Any, files: Any, query: Any) -> Any:
        return {
            "url": self.ws_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14400000,
                "max_concurrency": 1,
            },
        }

    # ------------------------------------------------------------------ commands
    async def _put_commands(self, body: Any, files: Any, query: Any, app: str, guild=None) -> Any:
        key = "global" if guild is None else str(guild)
        old = {c["name"]: c["id"] for c in self.synced_commands.get(key, [])}
        stored = []
        for cmd in body or []:
            full = {
                "type": 1,
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                **cmd,
                "id": old.get(cmd["name"]) or str(snowflake()),
                "application_id": str(self.app_id),
                "version": str(snowflake()),
            }
            if guild is not None:
                full["guild_id"] = str(guild)
            stored.append(full)
        self.synced_commands[key] = stored
        return stored

    async def _get_commands(self, body: Any, files: Any, query: Any, app: str, guild=None) -> Any:
        return self.synced_commands.get("global" if guild is None else str(guild), [])

    # ------------------------------------------------------------------ channels and messages
    async def _open_dm(self, body: Any, files: Any, query: Any) -> Any:
        return self.world.channels[self.world.dm_channel_of(int(body["recipient_id"]))]

    def _channel(self, channel_id: str | int) -> dict[str, Any]:
        try:
            return self.world.channels[int(channel_id)]
        except KeyError:
            raise ApiError(404, "Unknown Channel", 10003) from None

    def _message(self, channel_id: str | int, message_id: str | int) -> SentMessage:
        msg = self.world.messages.get(int(message_id))
        if msg is None or msg.deleted or msg.channel_id != int(channel_id):
            raise ApiError(404, "Unknown Message", 10008)
        return msg

    async def _get_channel(self, body: Any, files: Any, query: Any, cid: str) -> Any:
        return self._channel(cid)

    def new_message(  # also how a test plants a message "sent by an earlier run"
        self, channel_id: int, body: dict[str, Any], files: dict[str, bytes], iid: str | None = None
    ) -> SentMessage:
        msg = SentMessage(id=snowflake(), channel_id=channel_id, interaction_id=iid)
        self._apply(msg, body or {}, files, edit=False)
        self.world.messages[msg.id] = msg
        return msg

    def _apply(
        self, msg: SentMessage, body: dict[str, Any], files: dict[str, bytes], *, edit: bool
    ):
        ephemeral = msg.flags & 64  # an edit never makes an ephemeral message public
        for key in MESSAGE_KEYS:
            if key in body:
                setattr(msg, key, body[key] if body[key] is not None else type(getattr(msg, key))())
        if not edit and body.get("message_reference"):
            # discord.py sends the ids as ints; Discord answers with strings
            ref = body["message_reference"]
            msg.message_reference = {
                k: str(v) if k.endswith("_id") and v is not None else v for k, v in ref.items()
            }
        if edit:
            if "attachments" in body:  # the attachments to keep, by id; new files join them
                keep = {a.get("filename") for a in body["attachments"] if "filename" in a}
                msg.files = {k: v for k, v in msg.files.items() if k in keep}
            msg.flags |= ephemeral
            msg.edits += 1
            msg.edited_timestamp = iso_now()
        msg.files.update(files)

    async def _create_message(self, body: Any, files: Any, query: Any, cid: str) -> Any:
        self._channel(cid)
        check_message(body or {}, files)
        return self.world.message_json(self.new_message(int(cid), body or {}, files))

    async def _get_message(self, body: Any, files: Any, query: Any, cid: str, mid: str) -> Any:
        return self.world.message_json(self._message(cid, mid))

    async def _edit_message(self, body: Any, files: Any, query: Any, cid: str, mid: str) -> Any:
        msg = self._message(cid, mid)
        self._apply(msg, body or {}, files, edit=True)
        return self.world.message_json(msg)

    async def _delete_message(self, body: Any, files: Any, query: Any, cid: str, mid: str) -> Any:
        self._message(cid, mid).deleted = True
        return None
