"""``liqwatch run`` against the fake Bot API and fake venues, for the digest's end-to-end test.

Like the Telegram adapter's fixture, with the mark streams off (the digest reads polls; a
streamed mark moving an alert back and forth would hold the group's info-level digest behind a
stream of warnings) and an account blind after two failed polls instead of five.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.runtime.app import run
from bot.security.vault import generate_key
from bot.settings import Settings
from tests.bot.telegram.conftest import App, exchange
from tests.fakes.exchange import FakeExchange
from tests.fakes.telegram import FakeTelegram

__all__ = ["app", "exchange"]


@pytest.fixture
async def app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: FakeExchange
) -> AsyncIterator[App]:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    async with FakeTelegram() as telegram:
        settings = Settings.from_env(
            {
                "LIQWATCH_DB": str(tmp_path / "liqwatch.db"),
                "LIQWATCH_MASTER_KEY": generate_key(),
                "LIQWATCH_POLL_SECONDS": "1",
                "LIQWATCH_POLL_BANDS": "off",
                "LIQWATCH_STREAM": "off",
                "LIQWATCH_BLIND_AFTER": "2",
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
