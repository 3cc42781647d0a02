"""A chat bot's connection ending for good mid-run (Telegram refusing the token once, as when
it is revoked and re-issued): the supervisor restarts long polling, commands are answered
again, and the ops chat hears of it. Real `liqwatch run`, python-telegram-bot, fake Bot API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.runtime.app import run
from bot.security.vault import generate_key
from bot.settings import Settings
from tests.fakes.exchange import FakeExchange
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.slow

USER, OPS = 1001, 4242


async def test_telegram_polling_that_dies_is_restarted_and_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """getUpdates answers 401 once: PTB's poller gives up for good (InvalidToken). Without a
    supervisor the bot would stay deaf until a restart; with it, /start is answered again
    and the ops chat is told which task crashed."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    monkeypatch.chdir(tmp_path)
    async with FakeExchange() as exchange, FakeTelegram() as telegram:
        settings = Settings.from_env(
            {
                "LIQWATCH_DB": str(tmp_path / "liqwatch.db"),
                "LIQWATCH_MASTER_KEY": generate_key(),
                "LIQWATCH_EXCHANGE_URL_PREFIX": exchange.url,
                "LIQWATCH_OPS_CHAT": f"telegram:{OPS}",
                "TELEGRAM_BOT_TOKEN": telegram.token,
                "TELEGRAM_API_URL": telegram.url,
            }
        )
        stop = asyncio.Event()
        task = asyncio.create_task(run(settings, stop=stop))
        try:
            await telegram.wait_for(lambda: telegram.calls_to("getUpdates"), timeout=30)
            ops = telegram.private_chat(OPS, "Ops")
            telegram.fail("getUpdates", status=401, description="Unauthorized")
            telegram.send(ops, "/help")  # ends the long poll in progress: the next one fails
            await telegram.wait_for(
                lambda: [c for c in telegram.calls_to("getUpdates") if c.status == 401], 30
            )
            chat = telegram.private_chat(USER, "Ann")  # spoken to after the poller died
            telegram.send(chat, "/start")
            await telegram.wait_for(
                lambda: any("warns you" in m.plain for m in telegram.bot_messages(USER)),
                timeout=30,
            )
            told = await telegram.wait_for(
                lambda: next(
                    (m for m in telegram.bot_messages(OPS) if "telegram bot crashed" in m.plain),
                    None,
                ),
                timeout=30,
            )
            assert "InvalidToken" in told.plain and telegram.token not in told.plain
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=30)
