"""End to end: `liqwatch run`'s composition root with python-telegram-bot, ccxt REST against the
fake exchange and ccxt.pro against the fake stream. A mark pushed across the critical level
reaches the phone within 2 s while polls are 60 s apart; a killed socket reconnects and
resubscribes; a silent stream degrades to REST marks and the ops chat hears it once; positions
a poll opens or closes change what is streamed."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.ops import operator
from bot.runtime.app import run
from bot.security.vault import generate_key
from bot.settings import Settings
from tests.engine.normalise.payloads import binance as pb
from tests.fakes.exchange import FakeExchange
from tests.fakes.stream import FakeStream
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram.model import ChatRef, Msg

pytestmark = pytest.mark.slow

VENUE, SOL, ETH = "binanceusdm", "SOL/USDT:USDT", "ETH/USDT:USDT"
KEY, SECRET = "KEY-stream-e2e-0001", "SECRET-stream-e2e-abcdef"
USER, OPS = 1001, 4242
SOL_LEG = pb.LEGS[2]
SOL_LIQ = pb.liquidation_price((SOL_LEG,), "SOLUSDT")


def _at(distance_pct: float) -> float:
    return SOL_LIQ / (1 - distance_pct / 100)


@dataclass
class Stack:
    exchange: FakeExchange
    stream: FakeStream
    telegram: FakeTelegram
    settings: Settings
    chat: ChatRef

    def sent_to(self, chat: int, startswith: str) -> list[Msg]:
        return [m for m in self.telegram.bot_messages(chat) if m.plain.startswith(startswith)]


async def _running(
    tmp_path: Path, poll_s: int, env: dict[str, str] | None = None
) -> AsyncIterator[Stack]:
    async with FakeExchange() as exchange, FakeTelegram() as telegram:
        stream = FakeStream(exchange=exchange)
        async with stream:
            exchange.add_account(VENUE, api_key=KEY, secret=SECRET, positions=(SOL_LEG,))
            stream.set_mark(VENUE, SOL, _at(25.0))
            settings = Settings.from_env(
                {
                    "LIQWATCH_DB": str(tmp_path / "liqwatch.db"),
                    "LIQWATCH_MASTER_KEY": generate_key(),
                    "LIQWATCH_POLL_SECONDS": str(poll_s),
                    "LIQWATCH_POLL_BANDS": "off",  # fixed polls: the streamed mark is the test
                    "LIQWATCH_EXCHANGE_URL_PREFIX": exchange.url,
                    "LIQWATCH_EXCHANGE_WS_URL_PREFIX": stream.url,
                    "LIQWATCH_OPS_CHAT": f"telegram:{OPS}",
                    "TELEGRAM_BOT_TOKEN": telegram.token,
                    "TELEGRAM_API_URL": telegram.url,
                }
                | (env or {})
            )
            stop = asyncio.Event()
            task = asyncio.create_task(run(settings, stop=stop))
            try:
                await telegram.wait_for(lambda: telegram.calls_to("getUpdates"), timeout=30)
                telegram.private_chat(OPS, "Ops")
                chat = telegram.private_chat(USER, "Ann")
                telegram.send(chat, f"/link {VENUE} {KEY} {SECRET}")
                await stream.wait_subscribed(VENUE, SOL, timeout=30)
                yield Stack(exchange, stream, telegram, settings, chat)
            finally:
                stop.set()
                await asyncio.wait_for(task, timeout=30)


@pytest.fixture
async def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Stack]:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    monkeypatch.chdir(tmp_path)
    async for built in _running(tmp_path, poll_s=60):
        yield built


async def _critical_within(stack: Stack, seconds: float, *, before: int) -> float:
    started = time.monotonic()
    await stack.telegram.wait_for(
        lambda: len(stack.sent_to(USER, "🔴 CRITICAL")) > before, timeout=seconds
    )
    return time.monotonic() - started


async def test_a_mark_across_the_critical_level_reaches_the_chat_within_2s(stack: Stack) -> None:
    """Polls 60 s apart: the critical arrives on the streamed mark, not at the next poll; after
    the socket is killed it reconnects, resubscribes and the next crossing arrives too."""
    stack.stream.set_mark(VENUE, SOL, _at(3.0))
    assert await _critical_within(stack, 2.0, before=0) <= 2.0
    stack.stream.set_mark(VENUE, SOL, _at(25.0))
    await stack.telegram.wait_for(lambda: stack.sent_to(USER, "✅ RESOLVED"), timeout=5)
    subscribed = stack.stream.subscribed(VENUE, SOL)
    stack.stream.kill_connections(VENUE)
    await stack.stream.wait_subscribed(VENUE, SOL, count=subscribed + 1, timeout=15)
    stack.stream.set_mark(VENUE, SOL, _at(2.0))
    assert await _critical_within(stack, 2.0, before=1) <= 2.0


async def test_a_silent_stream_degrades_to_rest_marks_and_tells_the_ops_chat_once(
    stack: Stack,
) -> None:
    """The venue stops pushing (the socket stays open): within the staleness limit the marks
    come over REST, so a crossing still reaches the chat; the ops chat hears once that marks
    are degraded, and once that they recovered."""
    stack.stream.silence(VENUE)
    stack.exchange.set_mark(VENUE, SOL, _at(3.0))  # only REST knows
    await stack.telegram.wait_for(lambda: stack.sent_to(USER, "🔴 CRITICAL"), timeout=30)
    told = await stack.telegram.wait_for(
        lambda: [m for m in stack.telegram.bot_messages(OPS) if "degraded" in m.plain],
        timeout=30,
    )
    stack.stream.silence(VENUE, on=False)
    stack.stream.set_mark(VENUE, SOL, _at(3.1))
    await stack.telegram.wait_for(
        lambda: [m for m in stack.telegram.bot_messages(OPS) if "recovered" in m.plain.lower()],
        timeout=30,
    )
    degraded = [m for m in stack.telegram.bot_messages(OPS) if "degraded" in m.plain]
    assert len(told) == len(degraded) == 1 and VENUE in degraded[0].plain


async def test_status_and_accounts_list_show_each_venues_stream_tick_age_and_budget(
    stack: Stack,
) -> None:
    """/status in the chat and `liqwatch accounts list` on the server (another connection, as
    the CLI is another process) say whether the venue's marks are live or degraded, how old its
    last tick is, and how much of its REST budget the polls use."""
    live = await _status_saying(stack, "marks live (1 symbol)")
    assert re.search(rf"{VENUE}: marks live \(1 symbol\), last tick \d+\.\ds ago", live), live
    assert re.search(
        r"REST \d+% of the per-IP limit \(\d+/2400 a minute\), \d+ polls? a minute", live
    )
    listed = await operator.accounts_list(stack.settings)
    assert re.search(rf"{VENUE}: marks live .*per-IP limit.*, 1 account$", listed, re.M), listed
    stack.stream.silence(VENUE)
    stack.exchange.set_mark(VENUE, SOL, _at(30.0))  # REST moves, the stream does not say so
    await _status_saying(stack, "marks degraded (1 of 1 symbol read over REST)", timeout=40)
    listed = await operator.accounts_list(stack.settings)
    assert f"{VENUE}: marks degraded (1 of 1 symbol read over REST)" in listed, listed


async def _status_saying(stack: Stack, text: str, *, timeout: float = 20.0) -> str:
    """Send /status until its answer says ``text`` (the service reports every few seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        before = len(stack.sent_to(USER, "How your venues"))
        stack.telegram.send(stack.chat, "/status")

        def answered(n: int = before) -> list[Msg]:
            return stack.sent_to(USER, "How your venues")[n:]

        answers = await stack.telegram.wait_for(answered, timeout=10)
        if text in answers[-1].plain:
            return answers[-1].plain
        assert time.monotonic() < deadline, f"/status never said {text!r}: {answers[-1].plain}"
        await asyncio.sleep(0.5)


async def test_positions_opened_and_closed_by_a_poll_change_what_is_streamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ETH position appears at the next poll: ETH is subscribed; the SOL one is closed:
    SOL is unsubscribed (polls every 2 s here)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    monkeypatch.chdir(tmp_path)
    async for built in _running(tmp_path, poll_s=2):
        account = built.exchange.accounts[KEY]
        account.positions = (SOL_LEG, pb.LEGS[1])
        await built.stream.wait_subscribed(VENUE, ETH, timeout=20)
        account.positions = (pb.LEGS[1],)
        stream = built.stream

        def sol_dropped(s: FakeStream = stream) -> bool:
            return s.unsubscribed(VENUE, SOL) >= 1 or s.watchers(VENUE, SOL) == 0

        await stream.wait_until(
            sol_dropped,
            timeout=20,
            what="SOL dropped",
        )
        assert built.stream.watchers(VENUE, ETH) >= 1


async def test_a_position_an_account_update_opens_is_in_positions_without_a_poll(
    stack: Stack,
) -> None:
    """Polls are 60 s apart and the venue's positions endpoint hangs: the ETH position a
    Binance ACCOUNT_UPDATE opens on the key's user-data stream is in /positions within
    seconds, and its mark is streamed from then on."""
    await stack.stream.wait_until(
        lambda: stack.stream.open_connections(VENUE) >= 2, timeout=20, what="the user-data socket"
    )
    stack.exchange.stall(VENUE, 60.0, path="/fapi/v3/positionRisk")
    try:
        stack.stream.account_update(KEY, [SOL_LEG, pb.LEGS[1]])
        deadline = time.monotonic() + 5.0
        while True:
            before = len(stack.telegram.bot_messages(USER))
            stack.telegram.send(stack.chat, "/positions")

            def answered(n: int = before) -> list[Msg]:
                return stack.telegram.bot_messages(USER)[n:]

            answer = (await stack.telegram.wait_for(answered, timeout=10))[-1].plain
            if "ETH" in answer:
                break
            assert time.monotonic() < deadline, f"/positions never showed ETH: {answer}"
            await asyncio.sleep(0.2)
        assert "SOL" in answer
        await stack.stream.wait_subscribed(VENUE, ETH, timeout=10)
    finally:
        stack.exchange.release()
