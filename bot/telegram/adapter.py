"""The Telegram bot: commands and buttons in, ``Conversation`` replies out, on our own loop.

python-telegram-bot runs inside liqwatch's event loop (``initialize → start →
updater.start_polling``), never ``run_polling`` (which owns the loop and the signals), with no
job queue (liqwatch has one scheduler). Alerts do not go through here: the notifier sends them
through ``TelegramChannel`` with its own pacing.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import Any, TypeAlias

from telegram import BotCommand, Chat, Message, Update
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, InvalidToken, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    filters,
)

from bot.chat import buttons
from bot.chat.commands import parse as cmd
from bot.chat.context import ChatContext, Pressed, Reply, chat_identity
from bot.chat.conversation import Conversation, unexpected
from bot.settings import SettingsError
from bot.telegram import render
from bot.telegram.channel import TelegramChannel, keyboard, seconds
from engine.domain import Platform

log = logging.getLogger(__name__)

#: How long a "this user is an admin here" answer is trusted before asking Telegram again.
ADMIN_CACHE_S = 60.0
#: Longest a reply waits out Telegram's flood control before giving up on that reply.
MAX_REPLY_WAIT_S = 30.0
TelegramApp: TypeAlias = Application[Any, Any, Any, Any, Any, Any]


class TelegramAdapter:
    """Owns the PTB application: build, start polling with a ``Conversation``, stop."""

    def __init__(
        self,
        token: str,
        api_url: str,
        *,
        clock: Callable[[], float] = time.time,
        commands: cmd.Registry = cmd.COMMANDS,
    ) -> None:
        """``commands``: what the bot answers and lists in its menu (every command)."""
        root = self.api_url = api_url.rstrip("/")
        self.app: TelegramApp = (
            ApplicationBuilder()
            .token(token)
            .base_url(f"{root}/bot")
            .base_file_url(f"{root}/file/bot")
            .job_queue(None)
            # A slow /link (one venue round trip) must not hold up everyone else's commands.
            .concurrent_updates(16)
            .build()
        )
        self.channel = TelegramChannel(self.app.bot)
        self.clock, self.commands = clock, commands
        self._admins: dict[tuple[int, int], tuple[float, bool]] = {}
        self._conversation: Conversation | None = None

    async def __aenter__(self) -> TelegramAdapter:
        """Check the token (getMe) so a wrong one fails at start-up, by name."""
        try:
            await self.app.initialize()
        except InvalidToken:
            raise SettingsError(
                f"TELEGRAM_BOT_TOKEN was rejected by the Bot API at {self.api_url}: "
                "copy the token again from @BotFather"
            ) from None
        except TelegramError as exc:
            raise SettingsError(
                f"cannot reach the Telegram Bot API at {self.api_url} (TELEGRAM_API_URL): {exc}"
            ) from None
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
        await self.app.shutdown()

    async def start(self, conversation: Conversation) -> None:
        """Register the handlers and the command menu, then start long polling."""
        self._conversation = conversation
        only_new = filters.UpdateType.MESSAGE  # an edited "/ack 3" must not run twice
        names = [spec.name for spec in self.commands]
        self.app.add_handler(CommandHandler(names, self._on_command, filters=only_new))
        self.app.add_handler(CallbackQueryHandler(self._on_button))
        self.app.add_error_handler(self._on_error)
        try:
            await self.app.bot.set_my_commands(menu(self.commands))
        except TelegramError as exc:  # the menu is a convenience: never fatal
            log.warning("Telegram setMyCommands failed: %s", exc)
        await self.app.start()
        await self._start_polling()

    async def _start_polling(self) -> None:
        assert self.app.updater is not None  # built by ApplicationBuilder
        await self.app.updater.start_polling(
            poll_interval=0.0, timeout=25, drop_pending_updates=False
        )
        log.info("Telegram bot @%s polling", self.app.bot.username)

    async def serve(self) -> None:
        """Hold long polling until it ends for good. PTB retries network errors itself and
        gives up only when the token is refused (revoked at BotFather): its poller task then
        ends with ``InvalidToken``, which is raised here; called again, polling restarts."""
        updater = self.app.updater
        assert updater is not None
        polling = _polling_task()
        if polling is None or polling.done():
            # A dead poller leaves the updater "running"; stop() would re-raise its error and
            # leave PTB 22's stop event set, so the next poller would quit at once. Marking it
            # stopped lets start_polling begin a fresh poller (tested against PTB's real loop).
            updater._running = False
            await self._start_polling()
            polling = _polling_task()
        if polling is None:
            raise RuntimeError("Telegram long polling did not start")
        await asyncio.shield(polling)  # cancelling serve (shutdown) leaves polling to stop()
        error = None if polling.cancelled() else polling.exception()
        raise error or RuntimeError("Telegram long polling stopped")

    async def stop(self) -> None:
        """Stop polling and handlers (idempotent)."""
        if self.app.updater is not None and self.app.updater.running:
            # A poller that died re-raises its error here: the supervisor already reported it.
            with contextlib.suppress(TelegramError):
                await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()

    # --- updates -----------------------------------------------------------------------------
    def _context(self, update: Update) -> ChatContext | None:
        message, chat, user = update.effective_message, update.effective_chat, update.effective_user
        if chat is None or user is None:
            return None
        thread = None
        if message is not None and message.is_topic_message and message.message_thread_id:
            thread = str(message.message_thread_id)
        private = chat.type == ChatType.PRIVATE
        # Only a command message can be sent on behalf of a chat (a button press always names
        # the person who pressed it; a button's effective_message is our own message).
        sender = update.message.sender_chat if update.message is not None else None
        if sender is not None and not private:
            return self._as_chat(sender, str(chat.id), thread, anonymous=sender.id == chat.id)

        async def is_admin() -> bool:
            return await self._is_admin(chat.id, user.id)

        return ChatContext(
            Platform.TELEGRAM,
            str(user.id),
            user.full_name or user.username or str(user.id),
            str(chat.id),
            private,
            thread,
            is_admin,
        )

    @staticmethod
    def _as_chat(sender: Chat, chat_id: str, thread: str | None, *, anonymous: bool) -> ChatContext:
        """A message sent on behalf of a chat: an anonymous admin posts as the group itself
        (from GroupAnonymousBot, the same "user" in every group), a channel as itself. The
        sender is that chat's own identity, never a person; only Telegram's own admins can
        post as the group, so that one is an admin here and a channel is not."""

        async def is_admin() -> bool:
            return anonymous

        return ChatContext(
            Platform.TELEGRAM,
            chat_identity(str(sender.id)),
            sender.title or sender.username or str(sender.id),
            chat_id,
            False,
            thread,
            is_admin,
            sender_chat=str(sender.id),
        )

    async def _is_admin(self, chat_id: int, user_id: int) -> bool:
        cached = self._admins.get((chat_id, user_id))
        if cached is not None and self.clock() - cached[0] < ADMIN_CACHE_S:
            return cached[1]
        member = await self.app.bot.get_chat_member(chat_id, user_id)
        admin = member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
        self._admins[(chat_id, user_id)] = (self.clock(), admin)
        return admin

    async def _on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        ctx = self._context(update)
        if message is None or ctx is None or self._conversation is None:
            return
        text = message.text or ""
        if self.commands.carries_secret(text):
            # The secret must not stay in the chat a moment longer than needed, and never in
            # a log: delete first (even if the command turns out malformed), then answer,
            # telling the conversation whether it is gone (the answer says only what happened).
            ctx = replace(ctx, deleted=await self._delete(message))
        answer = await self._conversation.handle(ctx, text)
        await self._reply(message, answer)

    async def _delete(self, message: Message) -> bool:
        """Delete a message that carried a secret; False if Telegram would not let us."""
        try:
            await message.delete()
            return True
        except TelegramError as exc:
            log.warning("could not delete a /link message in chat %s: %s", message.chat_id, exc)
            return False

    async def _reply(self, message: Message, answer: Reply) -> None:
        for image in answer.images:
            await _patiently(
                partial(
                    message.reply_photo,
                    base64.b64decode(image.png_base64),
                    caption=render.escape(image.title),
                    parse_mode=ParseMode.HTML,
                    do_quote=False,
                )
            )
        if answer.images and answer.text in {i.title for i in answer.images}:
            return  # the caption already says it
        for chunk in render.reply(answer):
            await _patiently(
                partial(message.reply_text, chunk, parse_mode=ParseMode.HTML, do_quote=False)
            )

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        ctx = self._context(update)
        if query is None or ctx is None or self._conversation is None:
            return
        pressed = await self._conversation.press(ctx, str(query.data or ""))
        await query.answer(pressed.toast[:200])
        message = query.message
        if pressed.notice is not None and isinstance(message, Message):
            await self._edit(message, pressed)
        if pressed.reply is not None and isinstance(message, Message):
            await self._reply(message, pressed.reply)

    async def _edit(self, message: Message, pressed: Pressed) -> None:
        """Show the alert message again with its new state and the buttons it keeps."""
        assert pressed.notice is not None
        outbox_id = _outbox_id(message)
        markup = keyboard(
            render.buttons(
                pressed.actions, outbox_id=outbox_id, account_id=pressed.notice.account_id
            )
        )
        try:
            await message.edit_text(
                render.notice(pressed.notice, pressed.state),
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():  # a second press of the same button
                raise

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Anything a handler did not turn into a sentence: log it with a reference."""
        error = context.error
        # Never the update itself in the log: it may be a /link message with a secret.
        note = unexpected("Telegram update", error)
        if isinstance(update, Update) and update.effective_message is not None:
            with contextlib.suppress(TelegramError):
                await update.effective_message.reply_text(note, do_quote=False)


def _polling_task() -> asyncio.Task[Any] | None:
    """PTB's long-polling task (its updater keeps it private; the task's name is stable)."""
    for task in asyncio.all_tasks():
        if task.get_name() == "Updater:start_polling:polling_task" and not task.done():
            return task
    return None


def menu(commands: cmd.Registry) -> list[BotCommand]:
    """The command menu (setMyCommands): every command with its summary."""
    return [BotCommand(spec.name, spec.summary[:256]) for spec in commands]


def _outbox_id(message: Message) -> int:
    """The outbox row an alert message came from, read back from its own buttons."""
    markup = message.reply_markup
    rows = markup.inline_keyboard if markup else ()
    return buttons.outbox_id(button.callback_data for row in rows for button in row)


async def _patiently(send: Callable[[], Awaitable[object]], *, attempts: int = 3) -> None:
    """A chat reply, retried when Telegram says "too many requests" (flood control)."""
    for attempt in range(attempts):
        try:
            await send()
            return
        except RetryAfter as exc:
            wait = seconds(exc.retry_after)
            if attempt == attempts - 1 or wait > MAX_REPLY_WAIT_S:
                raise
            await asyncio.sleep(wait)
