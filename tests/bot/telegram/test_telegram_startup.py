"""Start-up of `liqwatch run` with Telegram: a wrong token or an unreachable Bot API fails fast
with one sentence naming the setting, and never repeats the token."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.runtime.app import run
from bot.security.vault import generate_key
from bot.settings import Settings, SettingsError
from tests.fakes.telegram import FakeTelegram


def _settings(tmp_path: Path, token: str, url: str) -> Settings:
    return Settings.from_env(
        {
            "LIQWATCH_DB": str(tmp_path / "liqwatch.db"),
            "LIQWATCH_MASTER_KEY": generate_key(),
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_API_URL": url,
        }
    )


async def test_a_wrong_token_stops_start_up_by_name(tmp_path: Path) -> None:
    async with FakeTelegram() as fake:
        wrong = "999999:not-the-bots-token"
        with pytest.raises(SettingsError) as caught:
            await run(_settings(tmp_path, wrong, fake.url))
    message = str(caught.value)
    assert message.startswith("TELEGRAM_BOT_TOKEN was rejected") and "not-the-bots" not in message
    assert [c.method for c in fake.calls] == ["getMe"]


async def test_an_unreachable_bot_api_names_the_url_setting(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(SettingsError, match="TELEGRAM_API_URL") as caught:
        await run(_settings(tmp_path, "123456:TEST-token", f"http://127.0.0.1:{port}"))
    assert "TEST-token" not in str(caught.value)
