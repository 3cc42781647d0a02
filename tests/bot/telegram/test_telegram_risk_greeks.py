"""/risk on an option book, end to end: the real ``liqwatch run``, python-telegram-bot and ccxt
against the fake Bot API and a fake Deribit account holding a short call beside two perpetuals.

Deribit's positions (tests/engine/normalise/payloads/deribit.py), marks set here:
- BTC-PERPETUAL long 10,000 USD (inverse) at mark 62,000 → Δ 10,000/62,000 = +0.16129 BTC;
- BTC_USDC-PERPETUAL short 0.5 BTC (linear) → Δ −0.5 BTC;
- short 1.5 BTC of the 70,000 call, the venue's position figures: delta −0.45 BTC, gamma
  −3e-5 per USD, vega −150 USD per vol point, theta +75 USD per day.
Net Δ = 0.16129 − 0.5 − 0.45 = −0.78871 BTC. γ in USD per 1 % at the index 61,990.12:
−3e-5 × 61,990.12² / 100 = −1,152.83; vega and θ are the call's alone.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.telegram.render import MAX_CHARS
from tests.bot.telegram.conftest import App
from tests.engine.normalise.payloads import deribit as pd
from tests.fakes.exchange import FakeExchange

pytestmark = pytest.mark.slow

KEY, SECRET = "KEY-risk-deribit-0001", "SECRET-risk-deribit-abcdef"
USER = 1301
NET_DELTA_BTC = 10_000 / 62_000 - 0.5 - 0.45


@pytest.fixture
def book(exchange: FakeExchange) -> None:
    call = pd.deribit_option_short(gamma=-3e-5, vega=-150.0, theta=75.0)
    positions = [pd.deribit_raw(), pd.deribit_linear_short(), call]
    exchange.add_account("deribit", api_key=KEY, secret=SECRET, positions=positions)
    exchange.set_mark("deribit", "BTC/USD:BTC", 62_000.0)


async def test_risk_shows_net_greeks_and_the_options_table(book: None, app: App) -> None:
    tg = app.telegram
    chat = tg.private_chat(USER, "Ann")
    await app.reply(chat, f"/link deribit {KEY} {SECRET}", 'Linked deribit as "')
    risk = None
    for _ in range(40):
        risk = await app.reply(chat, "/risk", "[deribit")
        if "Greeks per underlying" in risk.plain:
            break
        await asyncio.sleep(0.5)
    assert risk is not None and "Greeks per underlying" in risk.plain
    text = risk.plain
    assert f"BTC   Δ {NET_DELTA_BTC:+.4f} = " in text  # −0.7887 BTC, hand value above
    assert "vega USD per vol point · θ USD per day" in text
    assert "γ -1,152.83 · vega -150.00 · θ +75.00 · 1 option" in text
    # The short call's row: strike and C, signed size in coin, then Δ coin, γ, vega, θ.
    assert "70,000 C  -1.5 -0.4500 -1,153 -150 +75.00" in text
    assert " BTC 27 Jun 2025 08:00 UTC" in text
    assert "greeks unknown" not in text
    # One message, a monospace table within Telegram's limit, perpetuals not in the table.
    assert (risk.text or "").startswith("<pre>") and len(risk.text or "") <= MAX_CHARS
    table = text[text.index("Options (per position") : text.index("closest to liquidation")]
    assert "PERPETUAL" not in table and "BTC/USDC" not in table
