"""The options features end to end on Discord: the real ``liqwatch run`` and discord.py client
against the fake Discord, with a Deribit portfolio-margin option account on the fake exchange
(tests/fakes/exchange/options.py): long 2 BTC of the 64k call, short 3 of the 64k put, short
100,000 USD of BTC-PERPETUAL; equity 5 BTC, maintenance 0.315625 BTC (cross_pm).

The options expire 0.1 year after the test starts (``live_options``), so Black-76 prices them
with time left and a vol shock moves them: the fake's own expiry (June 2024) is long past, and
an expired option is valued at intrinsic, which no vol shock moves. Every answer is asked in a
guild channel, so it comes back ephemeral.

Hand values (F = 64,000, K = 64,000, σ = 50 %, T = 0.1; the fake's docstring works the greeks):
- net Δ = 2 × 0.468494 (the call's premium-adjusted delta, as Deribit reports it)
  + 3 × 0.531506 (short the put, −0.531506 each) − 100,000 / 64,000 (the inverse perpetual)
  = 0.936988 + 1.594518 − 1.5625 = +0.969006 BTC = +62,016 USD;
- γ (2 − 3) × 3.93009e-5 × 64,000² / 100 = −1,609.77 USD per 1 %; vega −80.49; θ +55.13.
- /stress BTC −10 % vol +20 %: F' = 57,600, σ' = 60 %. A coin-settled option is worth
  V = price / F coin per coin; its PnL 2·(V'c − Vc) − 3·(V'p − Vp) coin, valued at 57,600 USD:
  about −17,654 USD. The perpetual gains 100,000 × (1/57,600 − 1/64,000) × 57,600 = 10,000
  USD. Equity 5 BTC × 64,000 = 320,000 → (5 + PnL in coin) × 57,600 ≈ 280,346 USD; the venue's
  maintenance (0.315625 BTC) held: 6.31 % → 6.48 %. ``_shocked`` computes these with the
  fake's own Black-76 (the math module, not the engine).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.bot.discord import test_discord_e2e as e2e
from tests.bot.discord.test_discord_e2e import ANN, DESK_CHANNEL, GUILD, World, _answer, _png_size
from tests.fakes.discord.model import Response
from tests.fakes.discord.rest import DESCRIPTION_MAX, EMBED_TOTAL_MAX
from tests.fakes.exchange import options as o

pytestmark = pytest.mark.slow

KEY, SECRET = "KEY-options-discord-01", "SECRET-options-discord-abcdef"
EQUITY_BTC, MAINTENANCE_BTC = 5.0, 0.315625
NET_DELTA_BTC = 2 * o.CALL.adjusted_delta - 3 * o.PUT.adjusted_delta - 100_000 / o.INDEX
#: ``liqwatch run`` against the fake Discord and fake exchange, as the other end-to-end tests.
world = e2e.world


@pytest.fixture
def live_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake lists its options as expiring 0.1 year from now (its T), not in June 2024.
    Deribit's instruments carry the expiry; ccxt names the option by it, the engine prices by
    it. The snapshot is taken seconds later: T is shorter by those seconds, which moves the
    shock's PnL by about 3e-5 USD a second."""
    now_ms = int(time.time() * 1000)
    monkeypatch.setattr(o, "EXPIRY_MS", now_ms + (o.EXPIRY_MS - o.TAKEN_MS))


def _shocked(shock: float, vol: float) -> tuple[float, float]:
    """Hand values of a BTC shock (−0.1: −10 %) and relative vol shock (0.2: σ·1.2): the
    options' PnL and the whole PnL, in USD at the shocked price."""
    after = o.INDEX * (1 + shock)

    def coin(price: float, sigma: float, call: bool) -> float:
        return o.black76(price, o.STRIKE, sigma, o.YEARS, call=call).premium_coin

    options = sum(
        size * (coin(after, o.IV * (1 + vol), call) - coin(o.INDEX, o.IV, call))
        for size, call in ((2.0, True), (-3.0, False))
    )
    perpetual = -100_000 * (1 / o.INDEX - 1 / after)  # inverse: coin
    return options * after, (options + perpetual) * after


def _number(text: str) -> float:
    """``-7,653.64`` or ``-39k`` or ``+1.2k`` as a float."""
    text = text.replace(",", "")
    return float(text[:-1]) * 1000 if text.endswith("k") else float(text)


def _text(response: Response) -> str:
    """The reply's text, within Discord's limits: one embed, a table in a code block."""
    (embed,) = response.embeds
    description = str(embed["description"])
    assert len(description) <= DESCRIPTION_MAX and len(description) <= EMBED_TOTAL_MAX
    return description.removeprefix("```\n").removesuffix("\n```")


async def _ask(
    world: World, name: str, options: dict[str, object], expect: str, sub: str | None = None
) -> str:
    """Ask in the guild channel; the ephemeral answer's text."""
    asked = world.discord.slash(
        ANN, name, options, subcommand=sub, guild_id=GUILD, channel_id=DESK_CHANNEL
    )
    answer = await _answer(world.discord, asked, expect)
    assert answer.ephemeral
    return _text(answer)


async def _linked(world: World) -> str:
    """Link the option account in Ann's DM; /risk in the guild once its greeks are in."""
    book = o.deribit_book()
    balance = o.deribit_account(o.deribit_summary(book))
    world.exchange.add_account(
        "deribit", api_key=KEY, secret=SECRET, positions=book, balance=balance
    )
    linked = world.discord.slash(
        ANN, "link", {"venue": "deribit", "api_key": KEY, "secret": SECRET}
    )
    await _answer(world.discord, linked, 'Linked deribit as "')
    for _ in range(40):
        risk = await _ask(world, "risk", {}, "[deribit")
        if "Greeks per underlying" in risk:
            return risk
        await asyncio.sleep(0.5)
    raise AssertionError("the account's greeks never reached /risk")


async def test_risk_stress_and_chart_on_an_option_book(live_options: None, world: World) -> None:
    risk = await _linked(world)
    assert f"BTC   Δ {NET_DELTA_BTC:+.4f} = +62,016 USD" in risk  # +0.9690, by hand above
    assert "γ -1,609.77 · vega -80.49 · θ +55.13 · 2 options" in risk
    assert "in 36.5 d" in risk  # the expiry's group, with the time left
    # Strike and C/P, signed size in coin, the venue's delta in coin, γ, vega, θ.
    assert "  64,000 C    +2 +0.9370 +3,220 +161 -110" in risk
    assert "  64,000 P    -3  +1.595 -4,829 -241 +165" in risk
    assert not world.discord.channel_messages(DESK_CHANNEL)  # nothing public

    shock = {"shock": "-10%", "asset": "BTC", "vol": "+20%"}
    lines = (await _ask(world, "stress", shock, "Stress BTC", sub="shock")).splitlines()
    assert lines[0] == "[deribit] Stress BTC -10.0%, vol +20%"
    options_usd, pnl_usd = _shocked(-0.1, 0.2)
    pnl, _, rest = lines[1].removeprefix("PnL ").partition(" USD (options ")
    assert _number(pnl) == pytest.approx(pnl_usd, abs=0.01)  # −7,653.7
    assert _number(rest.removesuffix(")")) == pytest.approx(options_usd, abs=0.5)  # −17,654
    equity_after = EQUITY_BTC * o.INDEX * 0.9 + pnl_usd  # 5 BTC at 57,600, plus the PnL
    assert lines[2] == f"equity 320,000 → {equity_after:,.0f} USD"  # 280,346
    ratio_after = MAINTENANCE_BTC / (EQUITY_BTC + pnl_usd / (o.INDEX * 0.9))
    assert lines[3] == f"margin BTC 6.31% → {ratio_after:.2%} (the venue's, portfolio margin)"
    assert lines[4:] == ["no position is liquidated", "2 option(s) re-priced in full (Black-76)"]

    grid = await _ask(world, "stress", {"asset": "BTC"}, "Stress grid", sub="grid")
    table = grid.splitlines()
    assert table[0] == "[deribit] Stress grid BTC: equity change, USD"
    assert table[2].split() == ["-30%", "-15%", "0%", "+15%", "+30%"]
    rows = {r.split()[0]: [_number(c) for c in r.split()[1:]] for r in table[3:12]}
    assert list(rows) == ["-20%", "-15%", "-10%", "-5%", "0%", "+5%", "+10%", "+15%", "+20%"]
    assert max(len(r) for r in table[2:12]) <= 40  # phone width
    assert rows["0%"][2] == 0
    # The cell under no vol shock at −10 %: the equity change with the collateral's own move.
    cell = EQUITY_BTC * o.INDEX * -0.1 + _shocked(-0.1, 0.0)[1]
    assert rows["-10%"][2] == pytest.approx(cell, abs=500)  # −39k (two figures shown)
    # The book is short vega (−80 USD a point): every row loses as volatility rises.
    assert all(cells == sorted(cells, reverse=True) for cells in rows.values())
    assert "margin BTC after: the venue's (portfolio margin)" in table

    no_unit = {"shock": "-10%", "asset": "BTC", "vol": "+20"}
    refused = await _ask(world, "stress", no_unit, "needs a unit", sub="shock")
    first, usage = refused.split("\n")
    assert first == "'+20' needs a unit: +20% (relative) or +20pt (vol points)."
    assert usage.startswith("Usage: /stress ")
    negative = {"shock": "-10%", "vol": "-120%"}
    refused = await _ask(world, "stress", negative, "negative", sub="shock")
    assert refused.split("\n")[0] == "Vol shock -120% would make volatility negative."
    # A vol that is no number is named, with or without an asset: Discord leaves the empty
    # asset out of the line, and without "vol" before it the word read as the asset.
    for where in ({}, {"asset": "BTC"}):
        not_a_vol = {"shock": "-10%", **where, "vol": "abc"}
        refused = await _ask(world, "stress", not_a_vol, "vol shock", sub="shock")
        assert refused.split("\n")[0] == "'abc' is not a vol shock like +20% or +20pt."

    chart = {"kind": "stress", "account": "BTC"}
    asked = world.discord.slash(ANN, "chart", chart, guild_id=GUILD, channel_id=DESK_CHANNEL)
    shown = await _answer(world.discord, asked, "Stress BTC: equity change, USD (deribit)")
    assert shown.ephemeral and list(shown.files) == ["stress.png"]
    assert shown.embeds[0]["image"]["url"] == "attachment://stress.png"
    assert _png_size(shown.files["stress.png"])[0] > 0  # a PNG image
    # The title rides on the image's embed; no second message repeats it.
    assert [r.kind for r in world.discord.responses(asked)] == ["callback", "followup"]
