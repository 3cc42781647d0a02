"""End to end: the real ``liqwatch run`` composition root, python-telegram-bot and ccxt, against
the fake Bot API and the fake exchange. A user links a key, reads positions, and lives through
warning → critical → acknowledge → resolved on their phone."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from tests.bot.telegram.conftest import App
from tests.engine.normalise.payloads import binance as pb
from tests.fakes.exchange import FakeExchange
from tests.fakes.telegram.model import Msg

pytestmark = pytest.mark.slow

SOL = "SOL/USDT:USDT"
KEY, SECRET = "KEY-e2e-binance-0001", "SECRET-e2e-binance-abcdef"
USER = 1001


def _mark(liq: float, distance_pct: float) -> float:
    """The mark that puts a long ``distance_pct`` above its liquidation price."""
    return liq / (1 - distance_pct / 100)


@pytest.fixture
def liq(exchange: FakeExchange) -> float:
    """A 200 SOL isolated long (its liquidation price does not move with the mark), parked
    25 % from liquidation before the app starts."""
    leg = pb.LEGS[2]
    exchange.add_account("binanceusdm", api_key=KEY, secret=SECRET, positions=(leg,))
    price = pb.liquidation_price((leg,), leg.symbol)
    exchange.set_mark("binanceusdm", SOL, _mark(price, 25.0))
    return price


async def _alert(app: App, headline: str, timeout: float = 30.0) -> Msg:
    tg = app.telegram
    return await tg.wait_for(
        lambda: next((m for m in tg.bot_messages(USER) if m.plain.startswith(headline)), None),
        timeout=timeout,
    )


def _buttons(message: Msg) -> dict[str, str]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


async def test_link_positions_warning_critical_ack_resolved(
    liq: float, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tg = app.telegram
    chat = tg.private_chat(USER, "Ann")
    assert {c["command"] for c in tg.commands} >= {"positions", "risk", "alert", "link", "ack"}

    await app.reply(chat, "/start", "warns you before liquidation")

    # /link: the message carrying the secret is deleted before the reply, the key validated.
    linked = await app.reply(chat, f"/link binanceusdm {KEY} {SECRET}", 'Linked binanceusdm as "')
    link_message = next(
        m for m in tg.messages[USER] if not m.from_bot and "/link" in (m.text or "")
    )
    assert link_message.deleted
    deletes = tg.calls_to("deleteMessage")
    assert deletes and deletes[0].params["message_id"] == link_message.message_id
    assert deletes[0].at <= linked.sent_at  # deleted before the bot answered
    assert KEY not in linked.plain and SECRET not in linked.plain

    # /positions shows the position with the liquidation price the engine agrees with.
    positions = None
    for _ in range(30):
        positions = await app.reply(chat, "/positions", "[binanceusdm]")
        if SOL in positions.plain:
            break
        await asyncio.sleep(0.5)
    assert positions is not None and f"{SOL} long 200" in positions.plain
    shown = float(re.search(r"liq ([\d,.]+)", positions.plain)[1].replace(",", ""))  # type: ignore[index]
    assert shown == pytest.approx(liq, rel=1e-4)
    assert "<pre>" in (positions.text or "")

    # The mark walks towards liquidation: warning at 8 %, critical at 3 %.
    app.exchange.set_mark("binanceusdm", SOL, _mark(liq, 8.0))
    warning = await _alert(app, "🟠 WARNING")
    assert "8.00% away" in warning.plain or "7.99% away" in warning.plain
    app.exchange.set_mark("binanceusdm", SOL, _mark(liq, 3.0))
    critical = await _alert(app, "🔴 CRITICAL")
    buttons = _buttons(critical)
    assert set(buttons) == {"✅ Acknowledge", "💤 Snooze 1h", "📊 Show positions"}

    # Acknowledge: the callback is answered and the alert message edited in place.
    query = tg.press(USER, critical.message_id, buttons["✅ Acknowledge"], user_id=USER)
    edited = await tg.wait_for(
        lambda: critical if "Acknowledged by Ann" in critical.plain else None, timeout=15
    )
    assert edited.edits >= 1 and _buttons(edited) == {
        "📊 Show positions": buttons["📊 Show positions"]
    }
    assert any(
        c.params.get("callback_query_id") == query for c in tg.calls_to("answerCallbackQuery")
    )
    assert "[acknowledged]" not in warning.plain  # only the pressed message changed

    # Recovery: the resolved notice replies to the critical alert, so the thread reads as one.
    app.exchange.set_mark("binanceusdm", SOL, _mark(liq, 20.0))
    resolved = await _alert(app, "✅ RESOLVED")
    assert resolved.reply_to_message_id == critical.message_id
    assert set(_buttons(resolved)) == {"📊 Show positions"}  # nothing left to acknowledge

    # Nothing secret reached a log line or a message.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (KEY, SECRET, tg.token):
        assert secret not in logged
        assert all(secret not in (m.text or "") for m in tg.bot_messages(USER))
