"""The greeks' text (/risk, `liqwatch analyze`) and --json fields, from views built by hand.

The book: BTC at U = 60,000 USD, taken 2025-06-15 08:00 UTC.
- short 1.5 BTC of the 27 Jun 2025 70,000 call, per long unit Δ 0.30, γ 2e-5 /USD, vega 100 USD
  per vol point, θ −50 USD/day → Δ −1.5·0.30 = −0.45 BTC = −27,000 USD; γ −1.5·2e-5·60,000²/100
  = −1,080 USD per 1 %; vega −150; θ +75.
- long 2 BTC of the 27 Jun 2025 50,000 put, Δ −0.10, γ 1e-5, vega 40, θ −20 → Δ −0.20 BTC =
  −12,000 USD; γ +2·1e-5·3.6e9/100 = +720; vega +80; θ −40.
- long 0.5 BTC of the 26 Sep 2025 80,000 call, Δ 0.20 → +0.10 BTC = +6,000 USD; γ, vega, θ
  given as +90, +60, −10.
- long 0.5 BTC perpetual: Δ +0.5 BTC = +30,000 USD, the rest 0.
Net: Δ −0.45 − 0.20 + 0.10 + 0.50 = −0.05 BTC = −3,000 USD; γ −1,080 + 720 + 90 = −270;
vega −150 + 80 + 60 = −10; θ 75 − 40 − 10 = +25.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.render.analysis import analysis_text
from bot.render.greeks import coin, greeks_block, options_table, underlying_lines, usd_short
from bot.render.greeks_report import position_greeks_report
from bot.render.greeks_view import OptionTermsView, PositionGreeksView, UnderlyingGreeksView
from bot.render.positions import risk_block
from bot.render.report import document
from bot.render.views import AccountView, PositionView
from tests.bot.render.builders import BTC, account, position

TAKEN = datetime(2025, 6, 15, 8, tzinfo=UTC).timestamp()
JUN = datetime(2025, 6, 27, 8, tzinfo=UTC).timestamp()
SEP = datetime(2025, 9, 26, 8, tzinfo=UTC).timestamp()


def _option(
    symbol: str, expiry: float, strike: float, call: bool, size: float, g: PositionGreeksView
) -> PositionView:
    return position(
        symbol=symbol, underlying="BTC", side="long" if size > 0 else "short",
        contracts=abs(size), contract_type="option", settle="BTC", liquidation_price=None,
        exchange_liquidation_price=None, computed_liquidation_price=None, distance_pct=None,
        probability=None, advice=None, liquidation_formula=None,
        option=OptionTermsView(expiry, strike, call, size), greeks=g,
    )  # fmt: skip


SHORT_CALL = _option(
    "BTC/USD:BTC-250627-70000-C", JUN, 70_000.0, True, -1.5,
    PositionGreeksView(-0.45, -27_000.0, -1_080.0, -150.0, 75.0, "venue"),
)  # fmt: skip
LONG_PUT = _option(
    "BTC/USD:BTC-250627-50000-P", JUN, 50_000.0, False, 2.0,
    PositionGreeksView(-0.20, -12_000.0, 720.0, 80.0, -40.0, "engine"),
)  # fmt: skip
SEP_CALL = _option(
    "BTC/USD:BTC-250926-80000-C", SEP, 80_000.0, True, 0.5,
    PositionGreeksView(0.10, 6_000.0, 90.0, 60.0, -10.0, "ccxt"),
)  # fmt: skip
PERP = replace(BTC, greeks=PositionGreeksView(0.5, 30_000.0, 0.0, 0.0, 0.0))
NET = UnderlyingGreeksView("BTC", 60_000.0, -0.05, -3_000.0, -270.0, -10.0, 25.0, 3, 0)


def _book(**overrides: object) -> AccountView:
    # Listed out of order: the table sorts by expiry, then strike.
    held = (SEP_CALL, PERP, SHORT_CALL, LONG_PUT)
    return account(*held, greeks=(NET,), taken_at=TAKEN, **overrides)


def test_net_greeks_per_underlying_in_stated_units() -> None:
    """Two lines per underlying under a header that says every unit."""
    assert underlying_lines((NET,)) == [
        "Greeks per underlying:",
        "  Δ net in coin and USD · γ USD per 1% move",
        "  vega USD per vol point · θ USD per day",
        "  BTC   Δ -0.0500 = -3,000.00 USD",
        "        γ -270.00 · vega -10.00 · θ +25.00 · 3 options",
    ]


def test_unknown_positions_are_said_to_be_left_out() -> None:
    """Positions whose greeks are unknown are counted under their underlying."""
    lines = underlying_lines((replace(NET, unknown=2),))
    assert lines[-1] == "        (2 positions' greeks unknown: left out)"


def test_options_grouped_by_expiry_then_strike() -> None:
    """June's put and call (strike order), then September's call; signed sizes in coin; the
    perpetual is not in the options table. Every line fits a phone (≤ 44 characters)."""
    lines = options_table(_book())
    assert lines == [
        "Options (per position, units as above):",
        "  strike    size  Δ coin      γ   vega      θ",
        " BTC 27 Jun 2025 08:00 UTC, in 12.0 d",
        "  50,000 P    +2 -0.2000   +720 +80.00 -40.00",
        "  70,000 C  -1.5 -0.4500 -1,080   -150 +75.00",
        " BTC 26 Sep 2025 08:00 UTC, in 103.0 d",
        "  80,000 C  +0.5 +0.1000 +90.00 +60.00 -10.00",
    ]
    assert max(map(len, lines)) <= 45


def test_a_long_table_is_cut_at_the_nearest_expiries() -> None:
    """The chat caps the rows: the latest expiries are counted, not shown."""
    lines = options_table(_book(), limit=2)
    assert "80,000 C" not in "\n".join(lines)
    assert lines[-1] == "  … and 1 more on later expiries"


def test_risk_shows_greeks_only_for_a_book_holding_options() -> None:
    """/risk for a perpetuals-only book is unchanged; an option book adds the block after the
    exposure lines and before the positions nearest liquidation."""
    plain = account()
    assert risk_block(plain, closest=3) == risk_block(replace(plain, greeks=(NET,)), closest=3)
    assert greeks_block(plain) == []
    lines = risk_block(_book(), closest=3)
    text = "\n".join(lines)
    assert "BTC   Δ -0.0500 = -3,000.00 USD" in text
    assert text.index("Greeks per underlying") < text.index("closest to liquidation")
    assert text.index("exposure (gross / net USD)") < text.index("Greeks per underlying")


def test_analyze_text_lists_every_option() -> None:
    """The terminal's text has the greeks and the whole table (no cap)."""
    text = analysis_text(_book())
    assert "26 Sep 2025" in text and "Greeks per underlying" in text
    assert "more on later expiries" not in text


def test_json_fields_per_position_and_per_underlying() -> None:
    """Per position five figures and their source (null for a perpetual's source); the
    top-level "greeks" by underlying; the units named once; the old fields unchanged."""
    doc = document(_book())
    by_symbol = {p["symbol"]: p for p in doc["positions"]}
    call = by_symbol["BTC/USD:BTC-250627-70000-C"]
    assert {k: call[k] for k in position_greeks_report(None)} == {
        "delta_coin": -0.45, "delta_usd": -27_000.0, "gamma_usd": -1_080.0,
        "vega_usd": -150.0, "theta_usd": 75.0, "greeks_source": "venue",
    }  # fmt: skip
    perp = by_symbol["BTC/USDT:USDT"]
    assert perp["delta_coin"] == 0.5 and perp["greeks_source"] is None
    assert doc["greeks"] == {
        "BTC": {
            "price_usd": 60_000.0, "delta_coin": -0.05, "delta_usd": -3_000.0,
            "gamma_usd": -270.0, "vega_usd": -10.0, "theta_usd": 25.0, "options": 3, "unknown": 0,
        }
    }  # fmt: skip
    assert "vega_usd: USD per +1 volatility point" in doc["greeks_units"]
    assert list(doc)[:5] == ["exchange", "horizon_hours", "timestamp", "account", "positions"]


def test_cells_stay_short() -> None:
    """USD cells take six characters at most; coins keep four decimals under 1."""
    assert [usd_short(v) for v in (0.001, 8.1, -120.4, 12_345.0, -1_250_000.0, None)] == [
        "0", "+8.10", "-120", "+12.3k", "-1.25M", "—",
    ]  # fmt: skip
    assert [coin(v) for v in (0.45, -12.345, 1234.56, 0.00001, None)] == [
        "+0.4500", "-12.35", "+1,234.6", "0", "—",
    ]  # fmt: skip
