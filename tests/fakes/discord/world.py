"""The fake's world: users, guilds, channels, and the JSON shapes discord.py parses them from."""

from __future__ import annotations

from typing import Any

from tests.fakes.discord.model import SentMessage, iso_now, snowflake


class World:
    """Users, guilds, channels and DM channels known to the fake."""

    def __init__(self, app_id: int, bot_user_id: int) -> None:
        self.app_id = app_id
        self.bot_user_id = bot_user_id
        self.users: dict[int, dict[str, Any]] = {}
        self.guilds: dict[int, dict[str, Any]] = {}
        self.channels: dict[int, dict[str, Any]] = {}  # channel id -> channel JSON
        self.permissions: dict[tuple[int, int], int] = {}
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self.messages: dict[int, SentMessage] = {}  # message id -> message
        self.bot_user = {
            "id": str(bot_user_id),
            "username": "liqwatch",
            "global_name": None,
            "discriminator": "0",
            "avatar": None,
            "bot": True,
            "verified": True,
            "mfa_enabled": False,
            "flags": 0,
            "public_flags": 0,
        }

    # ------------------------------------------------------------------ builders
    def user(self, user_id: int, name: str = "ann") -> dict[str, Any]:
        data = {
            "id": str(user_id),
            "username": name,
            "global_name": name.title(),
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
        }
        self.users[user_id] = data
        return data

    def user_json(self, user_id: int) -> dict[str, Any]:
        if user_id == self.bot_user_id:
            return self.bot_user
        return self.users.get(user_id) or self.user(user_id)

    def guild(
        self, guild_id: int, name: str, channels: tuple[int, ...] | list[int], owner_id: int
    ) -> dict[str, Any]:
        chans = [self.text_channel(cid, guild_id, pos) for pos, cid in enumerate(channels)]
        data: dict[str, Any] = {
            "id": str(guild_id),
            "name": name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [
                {
                    "id": str(guild_id),
                    "name": "@everyone",
                    "color": 0,
                    "hoist": False,
                    "position": 0,
                    "permissions": str(1 << 11 | 1 << 10 | 1 << 31),
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "joined_at": iso_now(),
            "large": False,
            "unavailable": False,
            "member_count": 2,
            "voice_states": [],
            "members": [],
            "channels": chans,
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
        }
        self.guilds[guild_id] = data
        return data

    def text_channel(self, channel_id: int, guild_id: int, position: int = 0) -> dict[str, Any]:
        data = {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(guild_id),
            "name": f"chan-{channel_id}",
            "position": position,
            "permission_overwrites": [],
            "topic": None,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": None,
            "flags": 0,
        }
        self.channels[channel_id] = data
        return data

    def dm_channel_of(self, user_id: int) -> int:
        if user_id not in self.dm_channels:
            cid = snowflake()
            self.dm_channels[user_id] = cid
            self.channels[cid] = {
                "id": str(cid),
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self.user_json(user_id)],
            }
        return self.dm_channels[user_id]

    def member_json(self, guild_id: int, user_id: int) -> dict[str, Any]:
        return {
            "user": self.user_json(user_id),
            "nick": None,
            "avatar": None,
            "roles": [],
            "joined_at": iso_now(),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
            "permissions": str(self.permissions.get((guild_id, user_id), 0)),
        }

    def message_json(self, msg: SentMessage) -> dict[str, Any]:
        attachments = [
            {
                "id": str(snowflake()),
                "filename": name,
                "size": len(data),
                "url": f"https://cdn.example/attachments/{msg.channel_id}/{msg.id}/{name}",
                "proxy_url": f"https://media.example/attachments/{msg.channel_id}/{msg.id}/{name}",
                "content_type": "image/png" if name.endswith(".png") else None,
            }
            for name, data in msg.files.items()
        ]
        data: dict[str, Any] = {
            "id": str(msg.id),
            "channel_id": str(msg.channel_id),
            "author": self.bot_user,
            "content": msg.content or "",
            "timestamp": msg.timestamp,
            "edited_timestamp": msg.edited_timestamp,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": attachments,
            "embeds": msg.embeds,
            "components": msg.components,
            "pinned": False,
            "type": 19 if msg.message_reference else 0,
            "flags": msg.flags,
        }
        guild_id = self.channels.get(msg.channel_id, {}).get("guild_id")
        if guild_id is not None:
            data["guild_id"] = guild_id
        if msg.message_reference:
            data["message_reference"] = msg.message_reference
        if msg.interaction_id is not None:
            data["webhook_id"] = str(self.app_id)
            data["application_id"] = str(self.app_id)
        return data
