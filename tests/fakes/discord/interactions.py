"""Interactions: the payloads users cause (slash, autocomplete, click) and the bot's answers."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from tests.fakes.discord.model import ApiError, Response, SentMessage, snowflake
from tests.fakes.discord.rest import InteractionRecord, RestApi

OPTION_TYPES: list[tuple[type, int]] = [(bool, 5), (int, 4), (float, 10), (str, 3)]


def option_type(value: object) -> int:
    for kind, code in OPTION_TYPES:  # bool before int: bool is an int subclass
        if isinstance(value, kind):
            return code
    raise TypeError(f"no option type for {value!r}")


def options_json(options: dict[str, object] | None, focused: str | None = None) -> list[dict]:
    out = []
    for name, value in (options or {}).items():
        opt: dict[str, Any] = {"type": option_type(value), "name": name, "value": value}
        if name == focused:
            opt["focused"] = True
        out.append(opt)
    return out


class InteractionApi(RestApi):
    """Builds INTERACTION_CREATE payloads and serves the callback and webhook routes."""

    dispatch: Callable[[str, dict[str, Any]], None]  # provided by the gateway

    def _interaction(
        self,
        kind: int,
        user_id: int,
        data: dict[str, Any],
        *,
        guild_id: int | None,
        channel_id: int | None,
        message: dict[str, Any] | None = None,
    ) -> str:
        world = self.world
        iid, token = str(snowflake()), "itok-" + secrets.token_urlsafe(24)
        payload: dict[str, Any] = {
            "id": iid,
            "application_id": str(self.app_id),
            "type": kind,
            "data": data,
            "token": token,
            "version": 1,
            "locale": "en-US",
            "app_permissions": str((1 << 51) - 1),
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if guild_id is not None:
            if guild_id not in world.guilds:
                raise ValueError(f"unknown guild {guild_id}; call fake.guild() first")
            if channel_id is None:
                text = [c for c in world.guilds[guild_id]["channels"] if c["type"] == 0]
                if not text:
                    raise ValueError(f"guild {guild_id} has no channel; pass channel_id")
                channel_id = int(text[0]["id"])
            chan = world.channels.get(channel_id) or world.text_channel(channel_id, guild_id)
            payload.update(
                guild_id=str(guild_id),
                guild={"id": str(guild_id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member=world.member_json(guild_id, user_id),
                channel=chan,
                channel_id=str(channel_id),
                context=0,
                authorizing_integration_owners={"0": str(guild_id)},
            )
        else:
            if channel_id is None:
                channel_id = world.dm_channel_of(user_id)
            payload.update(
                user=world.user_json(user_id),
                channel={
                    "id": str(channel_id),
                    "type": 1,
                    "flags": 0,
                    "last_message_id": None,
                    "recipients": [world.user_json(user_id)],
                },
                channel_id=str(channel_id),
                context=1,
                authorizing_integration_owners={"0": "0"},
            )
        if message is not None:
            payload["message"] = message
        rec = InteractionRecord(iid, token, kind, channel_id, guild_id)
        if message is not None:
            rec.message_id = int(message["id"])
        self.interactions[iid] = rec
        self.dispatch("INTERACTION_CREATE", payload)
        return iid

    def _command_data(
        self, name: str, options: list[dict], subcommand: str | None, guild_id: int | None
    ) -> dict[str, Any]:
        if subcommand is not None:
            options = [{"type": 1, "name": subcommand, "options": options}]
        data: dict[str, Any] = {"name": name, "type": 1, "options": options}
        registered = None
        if guild_id is not None:
            registered = next(
                (c for c in self.synced_commands.get(str(guild_id), []) if c["name"] == name), None
            )
            if registered is not None:
                data["guild_id"] = str(guild_id)
        registered = registered or next(
            (c for c in self.synced_commands.get("global", []) if c["name"] == name), None
        )
        data["id"] = registered["id"] if registered else str(snowflake())
        return data

    # ------------------------------------------------------------------ the routes
    def _record(self, iid: str | None = None, token: str | None = None) -> InteractionRecord:
        for rec in self.interactions.values():
            if rec.id == iid or (token is not None and rec.token == token):
                return rec
        raise ApiError(404, "Unknown interaction", 10062)

    def _response(
        self, kind: str, rtype: int | None, body: dict, files: dict, msg: SentMessage | None
    ) -> Response:
        return Response(
            kind=kind,
            type=rtype,
            content=body.get("content"),
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            flags=int(body.get("flags") or 0),
            files=dict(files),
            choices=body.get("choices"),
            message_id=msg.id if msg else None,
            body=body,
        )

    async def _callback(self, body: Any, files: Any, query: Any, iid: str, token: str) -> Any:
        rec = self._record(iid)
        if rec.token != token:
            raise ApiError(401, "Invalid Webhook Token", 50027)
        if rec.acknowledged:
            raise ApiError(400, "Interaction has already been acknowledged.", 40060)
        rtype, data = int(body["type"]), body.get("data") or {}
        msg: SentMessage | None = None
        if rtype in (4, 5):
            flags = int(data.get("flags") or 0) | (128 if rtype == 5 else 0)
            msg = self.new_message(rec.channel_id, {**data, "flags": flags}, files, rec.id)
            rec.original_id = msg.id
        elif rtype in (6, 7) and rec.message_id is not None:
            msg = self.world.messages.get(rec.message_id)
            rec.original_id = rec.message_id
            if msg is not None and rtype == 7:
                self._apply(msg, data, files, edit=True)
        rec.acknowledged = rtype != 1
        rec.responses.append(self._response("callback", rtype, data, files, msg))
        answer: dict[str, Any] = {
            "interaction": {
                "id": rec.id,
                "type": rec.kind,
                "response_message_id": str(msg.id) if msg else None,
                "response_message_loading": rtype == 5,
                "response_message_ephemeral": bool(int(data.get("flags") or 0) & 64),
            },
            "resource": {"type": rtype},
        }
        if msg is not None:
            answer["resource"]["message"] = self.world.message_json(msg)
        return answer

    def _hook(self, app: str, token: str, mid: str) -> tuple[InteractionRecord, SentMessage]:
        if int(app) != self.app_id:
            raise ApiError(404, "Unknown Webhook", 10015)
        rec = self._record(token=token)
        if mid == "@original":
            if rec.original_id is None:
                raise ApiError(404, "Unknown Message", 10008)
            mid = str(rec.original_id)
        msg = self.world.messages.get(int(mid))
        if msg is None or msg.deleted:
            raise ApiError(404, "Unknown Message", 10008)
        return rec, msg

    async def _followup(self, body: Any, files: Any, query: Any, app: str, token: str) -> Any:
        if int(app) != self.app_id:
            raise ApiError(404, "Unknown Webhook", 10015)
        rec = self._record(token=token)
        if not rec.acknowledged:
            raise ApiError(404, "Unknown Webhook", 10015)
        msg = self.new_message(rec.channel_id, body or {}, files, rec.id)
        rec.responses.append(self._response("followup", None, body or {}, files, msg))
        return self.world.message_json(msg)

    async def _hook_get(self, body: Any, files: Any, query: Any, app: str, token: str, mid: str):
        return self.world.message_json(self._hook(app, token, mid)[1])

    async def _hook_edit(self, body: Any, files: Any, query: Any, app: str, token: str, mid: str):
        rec, msg = self._hook(app, token, mid)
        body = body or {}
        if msg.flags & 128:  # the deferred "thinking" message becomes a real one
            msg.flags &= ~128
        self._apply(msg, body, files, edit=True)
        kind = "edit_original" if mid == "@original" else "edit_followup"
        rec.responses.append(self._response(kind, None, body, files, msg))
        return self.world.message_json(msg)

    async def _hook_del(self, body: Any, files: Any, query: Any, app: str, token: str, mid: str):
        rec, msg = self._hook(app, token, mid)
        msg.deleted = True
        kind = "delete_original" if mid == "@original" else "delete_followup"
        rec.responses.append(self._response(kind, None, {}, {}, msg))
        return None
