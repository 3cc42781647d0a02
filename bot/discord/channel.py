"""``DiscordChannel``: the notifier's way out to Discord, with Discord's errors classified."""

from __future__ import annotations

import asyncio
import base64
import io
import logging
from collections.abc import Awaitable, Callable

import aiohttp
import discord

from bot.chat.buttons import encode
from bot.chat.context import CAPTIONS, Action, actions_for
from bot.delivery.channel import Outgoing
from bot.discord import render
from bot.errors import DeliveryError
from engine.alerts.events import AlertNotice, DigestNotice
from engine.domain import Platform

log = logging.getLogger(__name__)

#: Discord allows about 5 messages per 5 s in one channel (DMs included).
CHANNEL_INTERVAL_S = 1.0
#: Discord error codes meaning the chat itself is unreachable for good.
_GONE_CODES = {10003, 10013, 50001, 50007}  # unknown channel/user, missing access, DMs closed


def view(actions: tuple[Action, ...], *, outbox_id: int, account_id: int) -> discord.ui.View:
    """The buttons under an alert; clicks arrive as interactions (see the adapter)."""
    buttons = discord.ui.View(timeout=None)
    for action in actions:
        style = (
            discord.ButtonStyle.primary if action is Action.ACK else discord.ButtonStyle.secondary
        )
        payload = encode(action, outbox_id=outbox_id, account_id=account_id)
        buttons.add_item(discord.ui.Button(label=CAPTIONS[action], style=style, custom_id=payload))
    return buttons


def classify(exc: Exception) -> DeliveryError:
    """Discord's answer as the notifier's ``DeliveryError``."""
    if isinstance(exc, discord.RateLimited):
        return DeliveryError(
            f"Discord rate limit: {exc}", retryable=True, retry_after_s=exc.retry_after
        )
    if isinstance(exc, discord.Forbidden | discord.NotFound):
        gone = exc.code in _GONE_CODES or isinstance(exc, discord.NotFound)
        return DeliveryError(f"Discord refused: {exc.text or exc}", retryable=False, chat_gone=gone)
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429 or exc.status >= 500:
            return DeliveryError(f"Discord unavailable: {exc}", retryable=True)
        return DeliveryError(f"Discord refused the message: {exc.text or exc}", retryable=False)
    return DeliveryError(f"Discord unreachable: {exc!r}", retryable=True)


class DiscordChannel:
    """Implements ``bot.delivery.channel.Channel`` for Discord (a DM or a guild text channel id)."""

    platform = Platform.DISCORD

    def __init__(
        self,
        client: discord.Client,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        #: Waits between the messages of one long digest (the channel's pace); for tests.
        self.sleep = sleep

    def min_interval_s(self, chat_id: str) -> float:
        return CHANNEL_INTERVAL_S

    async def send(self, message: Outgoing) -> str | None:
        try:
            channel_id = int(message.chat_id)
        except ValueError as exc:
            raise DeliveryError(f"not a Discord channel id: {exc}", retryable=False) from exc
        notice = message.notice
        if isinstance(notice, DigestNotice):
            return await self._digest(channel_id, notice)
        kwargs: dict[str, object] = {"embed": discord.Embed.from_dict(render.notice(notice))}
        if isinstance(notice, AlertNotice):
            kwargs["view"] = view(
                actions_for(notice), outbox_id=message.id, account_id=notice.account_id
            )
        if message.related_refs and message.related_refs[-1].isdigit():
            # The resolved notice replies to the alert it closes (if that message still exists).
            kwargs["reference"] = discord.MessageReference(
                message_id=int(message.related_refs[-1]),
                channel_id=channel_id,
                fail_if_not_exists=False,
            )
        try:
            sent = await self.client.get_partial_messageable(channel_id).send(**kwargs)  # type: ignore[call-overload]
        except (TimeoutError, discord.DiscordException, aiohttp.ClientError) as exc:
            raise classify(exc) from exc
        return str(sent.id)

    async def _digest(self, channel_id: int, notice: DigestNotice) -> str | None:
        """The text, then the charts as several files of one message (with the text's end when
        it fits, else after it), the messages ``CHANNEL_INTERVAL_S`` apart. Returns the first
        message's id."""
        parts = render.digest(notice)
        target = self.client.get_partial_messageable(channel_id)
        first = None
        try:
            for i, part in enumerate(parts):
                if i:
                    await self.sleep(CHANNEL_INTERVAL_S)
                files = _files(notice) if i == len(parts) - 1 else []
                sent = await target.send(
                    embeds=[discord.Embed.from_dict(e) for e in part], files=files
                )
                first = first or sent
        except (discord.DiscordException, aiohttp.ClientError, TimeoutError) as exc:
            raise classify(exc) from exc
        return None if first is None else str(first.id)


def _files(notice: DigestNotice) -> list[discord.File]:
    """The charts shown by the last message's embeds (``attachment://<name>``)."""
    return [
        discord.File(io.BytesIO(base64.b64decode(c.png_base64)), filename=c.name)
        for c in notice.charts[: render.EMBEDS_PER_MESSAGE - 1]
    ]
