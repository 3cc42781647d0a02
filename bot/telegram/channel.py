"""``TelegramChannel``: the notifier's way out to Telegram, with Telegram's errors classified.

Pacing is the notifier's job (``min_interval_s`` per chat, a global cap): this channel makes
one request per outbox row and turns Telegram's answer into sent, retry-later or give-up. A
digest is the exception: its text and its album are several messages of one row, so the channel
spaces them at the chat's interval itself, and the notifier counts the chat's next interval
from when the send finished.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    LinkPreviewOptions,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)

from bot.chat.context import actions_for
from bot.delivery.channel import Outgoing
from bot.errors import DeliveryError
from bot.telegram import render
from engine.alerts.events import AlertNotice, Chart, DigestNotice
from engine.domain import Platform, split_target

log = logging.getLogger(__name__)

#: Telegram allows about one message a second to a private chat and 20 a minute to a group.
PRIVATE_INTERVAL_S = 1.0
GROUP_INTERVAL_S = 3.0
#: Telegram's album holds 2 to 10 photos (sendMediaGroup); one chart goes as a photo.
ALBUM_MAX = 10
CAPTION_MAX = 1024


def keyboard(buttons: list[render.Button]) -> InlineKeyboardMarkup | None:
    """One row of inline buttons (None when there are none, to remove a keyboard)."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data) for b in buttons]]
    )


def seconds(value: int | float | dt.timedelta) -> float:
    """``RetryAfter.retry_after`` is an int or a timedelta depending on PTB's settings."""
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def classify(exc: TelegramError) -> DeliveryError:
    """Telegram's answer as the notifier's ``DeliveryError``.

    - RetryAfter (429): retry when Telegram says.
    - Forbidden (403: blocked by the user, kicked from the group): the chat is gone for good.
    - BadRequest (400): this message is refused ("chat not found" also means gone).
    - InvalidToken: our configuration, not the message: keep it and retry later.
    - Anything else (timeouts, 5xx, network): retry with backoff.
    """
    text = str(exc)
    if isinstance(exc, RetryAfter):
        return DeliveryError(
            f"Telegram rate limit: {text}", retryable=True, retry_after_s=seconds(exc.retry_after)
        )
    if isinstance(exc, Forbidden):
        return DeliveryError(f"Telegram refused the chat: {text}", retryable=False, chat_gone=True)
    if isinstance(exc, ChatMigrated):
        return DeliveryError(
            f"the group became a supergroup (new id {exc.new_chat_id}): send /start there",
            retryable=False,
            chat_gone=True,
        )
    if isinstance(exc, BadRequest):
        gone = "chat not found" in text.lower()
        return DeliveryError(
            f"Telegram refused the message: {text}", retryable=False, chat_gone=gone
        )
    if isinstance(exc, InvalidToken):
        return DeliveryError("Telegram rejected the bot token", retryable=True)
    return DeliveryError(f"Telegram unreachable: {text}", retryable=True)


class TelegramChannel:
    """Implements ``bot.delivery.channel.Channel`` for Telegram."""

    platform = Platform.TELEGRAM

    def __init__(
        self, bot: Bot, *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    ) -> None:
        self.bot = bot
        #: Waits between the messages of one digest (the chat's pace); injected by tests.
        self.sleep = sleep

    def min_interval_s(self, chat_id: str) -> float:
        # Group and channel ids are negative; private chats are the users' positive ids.
        return GROUP_INTERVAL_S if chat_id.startswith("-") else PRIVATE_INTERVAL_S

    async def send(self, message: Outgoing) -> str | None:
        chat, thread = split_target(message.chat_id)
        notice = message.notice
        if isinstance(notice, DigestNotice):
            pace_s = self.min_interval_s(message.chat_id)
            return await self._digest(int(chat), int(thread) if thread else None, notice, pace_s)
        markup = None
        if isinstance(notice, AlertNotice):
            markup = keyboard(
                render.buttons(
                    actions_for(notice),
                    outbox_id=message.id,
                    account_id=notice.account_id,
                )
            )
        # A resolved notice (or a repeat) answers the last message about the same alerts, so
        # the chat reads as one thread; if that message is gone it is sent on its own.
        reply_to = None
        if message.related_refs and message.related_refs[-1].isdigit():
            reply_to = ReplyParameters(
                int(message.related_refs[-1]), allow_sending_without_reply=True
            )
        try:
            sent = await self.bot.send_message(
                chat_id=int(chat),
                text=render.notice(notice),
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                reply_parameters=reply_to,
                message_thread_id=int(thread) if thread else None,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except TelegramError as exc:
            raise classify(exc) from exc
        except ValueError as exc:  # a chat id that is not a number: never deliverable
            raise DeliveryError(f"not a Telegram chat id: {exc}", retryable=False) from exc
        return str(sent.message_id)

    async def _digest(
        self, chat: int, thread: int | None, notice: DigestNotice, pace_s: float
    ) -> str | None:
        """The text first (a desk reads the figures before the pictures), then the charts as
        one album, each message ``pace_s`` after the previous one: the chat's pace holds inside
        a digest too (the notifier paces from when the last of them went out). Returns the
        first text message's id.

        A retry after a failure part-way sends the digest again from the start: digests are
        at-least-once like alerts, and a repeated part is harmless.
        """
        first = None
        try:
            for i, part in enumerate(render.digest(notice)):
                if i:
                    await self.sleep(pace_s)
                sent = await self.bot.send_message(
                    chat_id=chat, text=part, parse_mode=ParseMode.HTML, message_thread_id=thread
                )
                first = first or sent
            for album in _albums(notice.charts):
                await self.sleep(pace_s)
                await self._album(chat, thread, album)
        except TelegramError as exc:
            raise classify(exc) from exc
        return None if first is None else str(first.message_id)

    async def _album(self, chat: int, thread: int | None, charts: Sequence[Chart]) -> None:
        """Charts as one album (``sendMediaGroup``), each captioned with its title; a lone
        chart as a photo, since an album needs two."""
        photos = [
            (base64.b64decode(c.png_base64), render.escape(c.title)[:CAPTION_MAX], c.name)
            for c in charts
        ]
        if len(photos) == 1:
            png, caption, _ = photos[0]
            await self.bot.send_photo(
                chat_id=chat, photo=png, caption=caption, parse_mode=ParseMode.HTML,
                message_thread_id=thread,
            )  # fmt: skip
            return
        media = [
            InputMediaPhoto(media=png, caption=caption, parse_mode=ParseMode.HTML, filename=name)
            for png, caption, name in photos
        ]
        await self.bot.send_media_group(chat_id=chat, media=media, message_thread_id=thread)


def _albums(charts: Sequence[Chart]) -> list[Sequence[Chart]]:
    """Charts in albums of at most ``ALBUM_MAX``."""
    return [charts[i : i + ALBUM_MAX] for i in range(0, len(charts), ALBUM_MAX)]
