"""A digest through ``TelegramChannel`` and the real python-telegram-bot, against the fake Bot
API: the text first, then one album, each message the chat's interval after the last."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.delivery.channel import Outgoing
from bot.errors import DeliveryError
from bot.telegram import render
from bot.telegram.channel import GROUP_INTERVAL_S, PRIVATE_INTERVAL_S, TelegramChannel
from engine.alerts.events import Chart, DigestNotice
from engine.alerts.rules import Severity
from engine.domain import Platform
from tests.fakes.telegram import FakeTelegram

GROUP, USER = -100777, 4242
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
TITLES = ("Exposure by underlying", "Distance to liquidation", "Equity and leverage, 30 days")


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeTelegram]:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    async with FakeTelegram() as server:
        server.group(GROUP, "Desk")
        server.private_chat(USER, "Ann")
        yield server


def _digest(text: str, charts: int = 3) -> DigestNotice:
    made = tuple(
        Chart(f"c{n}.png", TITLES[n], base64.b64encode(PNG + bytes([n])).decode())
        for n in range(charts)
    )
    return DigestNotice(1, 0.0, "Digest · 2 accounts · Mon 07 Dec 09:00 CET", text, made)


async def _send(
    fake: FakeTelegram, chat: int, notice: DigestNotice
) -> tuple[str | None, list[float]]:
    """Send through the channel; its message id and the pauses it took between messages."""
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    async with Bot(fake.token, base_url=f"{fake.url}/bot") as bot:
        channel = TelegramChannel(bot, sleep=pause)
        out = Outgoing(1, "k", Platform.TELEGRAM, str(chat), Severity.INFO, notice, 0)
        return await channel.send(out), pauses


async def test_a_group_gets_the_text_then_one_album_at_the_groups_pace(fake: FakeTelegram) -> None:
    """A text too long for one message goes in several, then the three charts in one
    sendMediaGroup captioned with their titles; 3 s between each; the id is the first text's."""
    body = "\n".join(f"desk-{n:03} binanceusdm  12,542  8.0x" for n in range(150))
    texts = len(render.digest(_digest(body)))
    assert texts >= 2
    ref, pauses = await _send(fake, GROUP, _digest(body))

    methods = [c.method for c in fake.calls if c.chat_id == GROUP]
    assert methods == ["sendMessage"] * texts + ["sendMediaGroup"]
    assert pauses == [GROUP_INTERVAL_S] * texts
    sent = fake.bot_messages(GROUP)
    assert ref == str(sent[0].message_id)
    assert sent[0].plain.startswith("Digest · 2 accounts · Mon 07 Dec 09:00 CET\ndesk-000")
    assert "\n".join(m.plain for m in sent[:texts]).count("desk-") == 150  # nothing cut
    album = sent[texts:]
    assert [m.plain for m in album] == list(TITLES)
    assert [m.photo for m in album] == [PNG + bytes([n]) for n in range(3)]
    assert len({m.media_group_id for m in album}) == 1


async def test_a_lone_chart_goes_as_a_photo_at_a_private_chats_pace(fake: FakeTelegram) -> None:
    """An album needs two items: one chart is a photo, a second after the text."""
    _, pauses = await _send(fake, USER, _digest("Equity 12,542 USD", charts=1))
    assert [c.method for c in fake.calls if c.chat_id == USER] == ["sendMessage", "sendPhoto"]
    assert pauses == [PRIVATE_INTERVAL_S]


async def test_an_album_refused_for_now_is_retried_whole(fake: FakeTelegram) -> None:
    """Telegram failing the album (a 500) is retryable: the digest is sent again later."""
    fake.fail("sendMediaGroup", status=500)
    with pytest.raises(DeliveryError) as failed:
        await _send(fake, GROUP, _digest("Equity 12,542 USD"))
    assert failed.value.retryable and not failed.value.chat_gone
