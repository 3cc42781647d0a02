"""Fixtures: ``liqwatch run``'s composition root against the fake Bot API and fake exchange."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.runtime.app import run
from bot.security.vault import generate_key
from bot.settings import Settings
from tests.fakes.exchange import FakeExchange
from tests.fakes.telegram import ChatRef, FakeTelegram
from tests.fakes.telegram.model import Msg
from tests.postgres import postgres_schema


@dataclass
class App:
    """A running ``liqwatch run`` and the two fakes it talks to."""

    exchange: FakeExchange
    telegram: FakeTelegram
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def reply(
        self,
        chat: ChatRef,
        text: str,
        expect: str = "",
        *,
        user_id: int | None = None,
        first_name: str = "Ann",
        thread_id: int | None = None,
        sender_chat: ChatRef | None = None,
        timeout: float = 20.0,
    ) -> Msg:
        """Send ``text`` in ``chat`` (on behalf of ``sender_chat`` if given); the first new bot
        message there containing ``expect``."""
        tg = self.telegram
        chat_id = int(chat["id"])
        before = len(tg.bot_messages(chat_id))
        tg.send(
            chat,
            text,
            user_id=user_id,
            first_name=first_name,
            thread_id=thread_id,
            sender_chat=sender_chat,
        )

        def found() -> Msg | None:
            fresh = tg.bot_messages(chat_id)[before:]
            return next((m for m in fresh if expect in m.plain), None)

        return await tg.wait_for(found, timeout=timeout)


@pytest.fixture
async def exchange() -> AsyncIterator[FakeExchange]:
    async with FakeExchange() as server:
        yield server


@pytest.fixture
async def app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: FakeExchange
) -> AsyncIterator[App]:
    """Starts once the bot is long polling; stops (and must stop) at teardown."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    async with FakeTelegram() as telegram, contextlib.AsyncExitStack() as databases:
        # LIQWATCH_TEST_BACKEND=postgres runs this suite with every repository on PostgreSQL.
        database = str(tmp_path / "liqwatch.db")
        if os.environ.get("LIQWATCH_TEST_BACKEND") == "postgres":
            database = await databases.enter_async_context(postgres_schema())
        settings = Settings.from_env(
            {
                "LIQWATCH_DB": database,
                "LIQWATCH_MASTER_KEY": generate_key(),
                "LIQWATCH_POLL_SECONDS": "1",
                "LIQWATCH_POLL_BANDS": "off",  # these tests move REST marks between polls
                "LIQWATCH_EXCHANGE_URL_PREFIX": exchange.url,
                "TELEGRAM_BOT_TOKEN": telegram.token,
                "TELEGRAM_API_URL": telegram.url,
            }
        )
        stop = asyncio.Event()
        task = asyncio.create_task(run(settings, stop=stop))
        try:
            await telegram.wait_for(lambda: telegram.calls_to("getUpdates"), timeout=30)
            yield App(exchange, telegram, stop, task)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=30)
