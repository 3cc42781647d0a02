"""/stress end to end on Telegram: the real ``liqwatch run``, python-telegram-bot and ccxt
against the fake Bot API and a fake Deribit portfolio-margin account holding options
(tests/fakes/exchange/options.py: long 2 BTC of the 28JUN24 64k call, short 3 of the put,
short 100,000 USD of BTC-PERPETUAL; equity 5 BTC, maintenance the positions' 0.3 + 0.015625).
"""

from __future__ import annotations

import asyncio

import pytest

from tests.bot.telegram.conftest import App
from tests.fakes.exchange import options as o

pytestmark = pytest.mark.slow

KEY, SECRET = "KEY-stress-deribit-01", "SECRET-stress-deribit-abcdef"
USER = 3003


async def _linked(app: App) -> dict[str, object]:
    """Link the options account and wait for its first poll (its positions shown)."""
    book = o.deribit_book()
    summary = o.deribit_summary(book)
    app.exchange.add_account(
        "deribit", api_key=KEY, secret=SECRET, positions=book, balance=o.deribit_account(summary)
    )
    chat = app.telegram.private_chat(USER, "Ann")
    await app.reply(chat, f"/link deribit {KEY} {SECRET}", 'Linked deribit as "')
    for _ in range(40):
        shown = await app.reply(chat, "/positions", "[deribit")
        if o.DERIBIT_SYMBOLS["P"] in shown.plain:
            return chat
        await asyncio.sleep(0.5)
    raise AssertionError("the account was never polled")


async def test_stress_grid_chart_and_a_malformed_command(app: App) -> None:
    """/stress with a vol shock names the venue's portfolio-margin ratio after it; /stress grid
    is a phone-width table; a vol shock below −100 % is one sentence and the usage; /chart
    stress is a photo. The snapshot is stamped with the wall clock, after the options' 2024
    expiry, so the reply says they are valued at intrinsic (Black-76 at T = 0) — the
    re-pricing itself is checked by hand in tests/engine/test_stress_options.py."""
    chat = await _linked(app)
    shocked = await app.reply(chat, "/stress BTC -10% vol +20%", "Stress BTC -10.0%, vol +20%")
    lines = shocked.plain.splitlines()
    # BTC −10 %: the short 3 puts are worth 3 × 6,400 USD at intrinsic, the perpetual short
    # gains 100,000 × 10 % = 10,000 USD (inverse: its coin gain, valued at the shocked price).
    assert lines[1] == "PnL -9,200.00 USD (options -19,200)"
    # 5 BTC at 64,000, then 4.84 BTC (5 − 9,200 / 57,600) at 57,600.
    assert lines[2] == "equity 320,000 → 278,800 USD"
    # Deribit's own ratio (cross_pm): maintenance 0.315625 BTC held, over 5 then 4.84 BTC.
    assert lines[3] == "margin BTC 6.31% → 6.52% (the venue's, portfolio margin)"
    assert "no position is liquidated" in lines
    assert any("expired at the snapshot's time: valued at intrinsic" in ln for ln in lines)
    assert "<pre>" in (shocked.text or "")

    grid = await app.reply(chat, "/stress grid BTC", "Stress grid BTC")
    table = grid.plain.splitlines()
    cells = [row for row in table if row.split() and row.split()[0].endswith("%")]
    assert [row.split()[0] for row in cells] == [
        "-30%", "-20%", "-15%", "-10%", "-5%", "0%", "+5%", "+10%", "+15%", "+20%",
    ]  # the vol header, then a row per spot shock  # fmt: skip
    assert max(len(row) for row in cells) <= 40
    assert "margin BTC after: the venue's (portfolio margin)" in table

    refused = await app.reply(chat, "/stress BTC -10% vol -120%", "volatility negative")
    first, usage = refused.plain.split("\n")
    assert first == "Vol shock -120% would make volatility negative."
    assert usage.startswith("Usage: /stress [asset] <±pct> [vol ±N%|±Npt]")

    before = len(app.telegram.calls_to("sendPhoto"))
    await app.reply(chat, "/chart stress BTC", "Stress BTC: equity change, USD (deribit)")
    (photo,) = app.telegram.calls_to("sendPhoto")[before:]
    assert photo.params["photo"][:8] == b"\x89PNG\r\n\x1a\n"
