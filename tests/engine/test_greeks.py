"""Greeks per position and per underlying (engine/greeks.py), from hand-picked columns.

One option throughout, checked by hand against Black-76 (docs/risk.md#greeks): F = K =
100,000 USD, σ = 0.50, T = 0.25 year, so σ√T = 0.25, d1 = (ln 1 + 0.25²/2) / 0.25 = 0.125,
d2 = −0.125, N(d1) = 0.5497382, N(d2) = 0.4502618, φ(d1) = e^(−0.0078125)/√(2π) = 0.3958377:
  call delta N(d1) = 0.5497382, put delta N(d1) − 1 = −0.4502618,
  gamma φ/(F·σ√T) = 0.3958377 / 25,000 = 1.583351e-5 per USD,
  vega F·φ·√T / 100 = 100,000 · 0.3958377 · 0.5 / 100 = 197.9188 USD per vol point,
  theta −F·φ·σ/(2√T) / 365 = −100,000 · 0.3958377 · 0.5 / 1.0 / 365 = −54.22434 USD per day.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.analysis import analyze
from engine.book import Book
from engine.greeks import account_notes, by_underlying, position_greeks
from engine.model import Account, ContractType
from engine.options import DAYS_PER_YEAR, VOL_POINT, black76
from engine.portfolio import build
from tests.engine.book_helpers import assert_same_analysis
from tests.engine.builders import positions, snapshot

F = 100_000.0
CALL_DELTA, PUT_DELTA = 0.5497382, -0.4502618
GAMMA, VEGA, THETA = 1.583351e-5, 197.9188, -54.22434
OPTION = int(ContractType.OPTION)


def _option(side: float, qty: float, *, call: bool, **extra: object) -> dict[str, object]:
    """One USDC-settled option's columns at the hand-checked greeks."""
    return {
        "symbol": f"BTC/USDC:USDC-260626-100000-{'C' if call else 'P'}",
        "underlying": "BTC",
        "settle": "USDC",
        "side": side,
        "qty": qty,
        "mark": 9_947.64,
        "kind": OPTION,
        "underlying_price": F,
        "delta": CALL_DELTA if call else PUT_DELTA,
        "gamma": GAMMA,
        "vega": VEGA,
        "theta": THETA,
        **extra,
    }


def _book(*rows: dict[str, object]) -> object:
    names = sorted({k for row in rows for k in row})
    nan = math.nan
    return positions(**{k: [row.get(k, nan) for row in rows] for k in names})  # type: ignore[arg-type]


def test_black76_matches_the_hand_arithmetic() -> None:
    """The engine's Black-76 at the module's option, in the columns' units."""
    call = black76(F, F, 0.5, 0.25, is_call=True)
    assert float(call.delta) == pytest.approx(CALL_DELTA, abs=1e-7)
    assert float(call.gamma) == pytest.approx(GAMMA, rel=1e-6)
    assert float(call.vega) * VOL_POINT == pytest.approx(VEGA, rel=1e-6)
    assert float(call.theta) / DAYS_PER_YEAR == pytest.approx(THETA, rel=1e-6)


@pytest.mark.parametrize("strike", [60_000.0, 100_000.0, 140_000.0])
def test_put_call_parity_pair(strike: float) -> None:
    """Call − put of one strike is a forward: deltas differ by exactly 1, gamma, vega and
    theta are equal (r = 0), at any strike."""
    call = black76(F, strike, 0.5, 0.25, is_call=True)
    put = black76(F, strike, 0.5, 0.25, is_call=False)
    assert float(call.delta - put.delta) == pytest.approx(1.0, abs=1e-15)
    for name in ("gamma", "vega", "theta"):
        assert float(getattr(call, name)) == float(getattr(put, name))


def test_long_call_short_put_is_a_synthetic_forward() -> None:
    """Long 2 calls and short 2 puts of one strike: 2 coins of delta, no gamma, vega, theta."""
    g = position_greeks(_book(_option(1.0, 2.0, call=True), _option(-1.0, 2.0, call=False)))  # type: ignore[arg-type]
    assert float(g.delta_coin.sum()) == pytest.approx(2.0 * (CALL_DELTA - PUT_DELTA))
    assert float(g.delta_coin.sum()) == pytest.approx(2.0, abs=1e-6)
    for name in ("gamma_coin", "gamma_usd", "vega_usd", "theta_usd"):
        assert float(getattr(g, name).sum()) == pytest.approx(0.0, abs=1e-9)


def test_position_units() -> None:
    """A short call of 3 BTC: delta −3·0.5497 coin and ×F in USD; gamma_usd is the change of
    the USD delta for a 1 % move, −3·γ·F²/100; vega and theta per position."""
    g = position_greeks(_book(_option(-1.0, 3.0, call=True)))  # type: ignore[arg-type]
    assert g.delta_coin[0] == pytest.approx(-3 * CALL_DELTA)
    assert g.delta_usd[0] == pytest.approx(-3 * CALL_DELTA * F)
    assert g.gamma_coin[0] == pytest.approx(-3 * GAMMA)
    assert g.gamma_usd[0] == pytest.approx(-3 * GAMMA * F * F / 100)
    assert (g.vega_usd[0], g.theta_usd[0]) == (pytest.approx(-3 * VEGA), pytest.approx(-3 * THETA))


def _hedge(kind: ContractType, qty: float) -> dict[str, object]:
    symbol = "BTC/USD:BTC" if kind == ContractType.INVERSE else "BTC/USDT:USDT"
    settle = "BTC" if kind == ContractType.INVERSE else "USDT"
    return {"symbol": symbol, "underlying": "BTC", "settle": settle, "side": -1.0, "qty": qty,
            "mark": F, "kind": int(kind), "settle_usd": F if settle == "BTC" else 1.0}  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "qty"),
    [
        # Linear perp: Q in BTC, delta s·Q = −2·0.5497382.
        (ContractType.LINEAR, 2.0 * CALL_DELTA),
        # Inverse perp: Q in USD, delta s·Q/U = −(2·0.5497382·100,000)/100,000.
        (ContractType.INVERSE, 2.0 * CALL_DELTA * F),
    ],
)
def test_delta_hedged_book_nets_to_zero(kind: ContractType, qty: float) -> None:
    """Long 2 calls hedged by a short perp of their delta: net delta ≈ 0, gamma and vega the
    calls' own (the hedge has none)."""
    book = _book(_option(1.0, 2.0, call=True), _hedge(kind, qty))
    (btc,) = by_underlying(book, position_greeks(book))  # type: ignore[arg-type]
    assert btc.delta_coin == pytest.approx(0.0, abs=1e-9)
    assert btc.delta_usd == pytest.approx(0.0, abs=1e-4)
    assert btc.gamma_coin == pytest.approx(2 * GAMMA)
    assert btc.vega_usd == pytest.approx(2 * VEGA)
    assert (btc.options, btc.unknown, btc.price_usd) == (1, 0, F)


def test_unknown_greeks_are_counted_and_left_out() -> None:
    """An option without a delta (no venue figure, no mark IV) is counted unknown and adds
    nothing; a known one's vega still sums; ETH is its own underlying."""
    known = _option(1.0, 1.0, call=True)
    unknown = _option(1.0, 5.0, call=False, delta=math.nan, gamma=math.nan)
    eth = _hedge(ContractType.LINEAR, 1.0) | {"underlying": "ETH", "symbol": "ETH/USDT:USDT",
                                             "mark": 2_500.0}  # fmt: skip
    book = _book(known, unknown, eth)
    btc, eth_sums = by_underlying(book, position_greeks(book))  # type: ignore[arg-type]
    assert (btc.underlying, btc.options, btc.unknown) == ("BTC", 1, 1)
    assert btc.delta_coin == pytest.approx(CALL_DELTA)
    assert btc.vega_usd == pytest.approx(VEGA + 5 * VEGA)
    assert (eth_sums.delta_coin, eth_sums.delta_usd) == (-1.0, -2_500.0)
    assert eth_sums.price_usd == 2_500.0


def test_invalid_position_has_no_greeks() -> None:
    """A position the normaliser marked invalid is NaN, not zero."""
    book = _book(_option(1.0, 1.0, call=True))
    book.valid[0] = False  # type: ignore[attr-defined]
    g = position_greeks(book)  # type: ignore[arg-type]
    assert np.isnan(g.delta_coin[0]) and np.isnan(g.vega_usd[0])


def _perp_book() -> object:
    return positions(side=[1.0], qty=[1.0], mark=[F], entry=[F], mmr=[0.005], pool=["USDT"])


def _account(**fields: object) -> Account:
    """Equity 10,000 USDT and the venue's maintenance 500 (5 %), plus ``fields``."""
    figures = {"margin_balance": {"USDT": 10_000.0}, "maintenance_margin": {"USDT": 500.0}}
    return Account(venue="t", **figures, **fields)  # type: ignore[arg-type]


#: The same account on portfolio margin, where the venue reports 23 %.
PM = {"portfolio_margin": frozenset({"USDT"}), "venue_margin_ratio": {"USDT": 0.23}}


def test_portfolio_margin_pool_uses_the_venues_ratio() -> None:
    """Maintenance 500 on equity 10,000 is 5 %; on portfolio margin the venue's 23 % is the
    pool's ratio (and so the margin-ratio alert's), and a note says so; off it, 5 %."""
    off = build(_perp_book(), _account(), np.zeros(1))  # type: ignore[arg-type]
    assert off.pool_margin_ratio["USDT"] == pytest.approx(0.05)
    pm = _account(**PM)
    on = build(_perp_book(), pm, np.zeros(1))  # type: ignore[arg-type]
    assert on.pool_margin_ratio["USDT"] == 0.23
    result = analyze(snapshot(_perp_book(), pm))  # type: ignore[arg-type]
    assert result.margin_ratio[0] == 0.23
    assert any("portfolio margin" in n and "23.0%" in n for n in result.portfolio.diagnostics)


def test_venue_ratio_is_ignored_off_portfolio_margin() -> None:
    """A ratio for a pool not on portfolio margin does not replace the engine's."""
    account = _account(venue_margin_ratio={"USDT": 0.9})
    got = build(_perp_book(), account, np.zeros(1))  # type: ignore[arg-type]
    assert got.pool_margin_ratio["USDT"] == pytest.approx(0.05)


def test_book_agrees_with_analyze_on_portfolio_margin() -> None:
    """The book re-prices a portfolio-margin account with the venue's ratio too."""
    snap = snapshot(_perp_book(), _account(**PM))  # type: ignore[arg-type]
    ((_, got),) = Book.build([snap]).reprice({}, whole=True).analyses()
    assert_same_analysis(got, analyze(snap))
    assert got.portfolio.pool_margin_ratio["USDT"] == 0.23


def _deribit_book() -> object:
    """Deribit-like coin-settled book: long 2 BTC of calls (per-unit delta 0.45) and a short
    inverse perp of 50,000 USD at 100,000 (−0.5 BTC)."""
    call = _option(1.0, 2.0, call=True, settle="BTC", delta=0.45, symbol="BTC/USD:BTC-C")
    perp = _hedge(ContractType.INVERSE, 50_000.0)
    return _book(call, perp)


@pytest.mark.parametrize(
    ("figure", "reported", "fires"),
    [
        ("delta_total", 2 * 0.45 - 0.5, False),
        ("delta_total", 2 * 0.45 - 0.5 + 0.05, True),  # 0.05 coin > 0.02 × 2 coins of options
        ("options_delta", 0.9, False),
        ("options_gamma", 2 * GAMMA * 1.05, False),  # within 10 %
        ("options_vega", 2 * VEGA * 1.2, True),
        ("options_theta", 2 * THETA, False),
        ("delta_total:btc_usd", 0.4, False),
        ("delta_total:btc_usd", 1.4, True),
        ("estimated_liquidation_ratio", 0.7, False),  # read, not compared
    ],
)
def test_deribit_portfolio_figures_compared(figure: str, reported: float, fires: bool) -> None:
    """Each Deribit portfolio figure against the sum of the BTC-settled positions' greeks:
    a note naming both numbers where they differ beyond the tolerance, none otherwise."""
    book = _deribit_book()
    account = Account(venue="deribit", venue_greeks={"BTC": {figure: reported}})
    notes = account_notes(book, position_greeks(book), account)  # type: ignore[arg-type]
    assert bool(notes) == fires, notes
    if fires:
        assert f"{reported:.6g}" in notes[0] and figure in notes[0]


def test_deribit_comparison_skips_what_it_cannot_sum() -> None:
    """A figure for a currency no position settles in, or over positions with an unknown
    greek, gives no note (nothing to compare, not a disagreement)."""
    book = _deribit_book()
    account = Account(venue="deribit", venue_greeks={"ETH": {"delta_total": 3.0}})
    assert account_notes(book, position_greeks(book), account) == ()  # type: ignore[arg-type]
    book.vega[0] = math.nan  # type: ignore[attr-defined]
    account = Account(venue="deribit", venue_greeks={"BTC": {"options_vega": 1.0}})
    assert account_notes(book, position_greeks(book), account) == ()  # type: ignore[arg-type]


def test_a_figure_no_option_on_the_underlying_has_is_unknown_not_zero() -> None:
    """Every option on BTC lacks gamma, vega and theta (a venue delta, no mark IV) beside a
    perpetual, whose 0 is by definition: those sums are NaN, not 0, so /risk and --json do not
    show a flat book; delta still sums over both."""
    option = _option(1.0, 2.0, call=True, gamma=math.nan, vega=math.nan, theta=math.nan)
    book = _book(option, _hedge(ContractType.LINEAR, 1.0))
    (btc,) = by_underlying(book, position_greeks(book))  # type: ignore[arg-type]
    assert math.isnan(btc.vega_usd) and math.isnan(btc.gamma_usd) and math.isnan(btc.theta_usd)
    assert btc.delta_coin == pytest.approx(2 * CALL_DELTA - 1.0)
    assert btc.unknown == 1
