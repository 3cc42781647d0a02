"""Each venue's option greeks through real ccxt into the engine's per-unit columns, checked
against Black-76 by hand (the arithmetic is in tests/engine/normalise/payloads/greeks.py), the
venue/Black-76 disagreement note, and the account payloads' portfolio margin and greeks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from engine.analysis import analyze
from engine.normalise import Snapshot, normalise
from engine.options import black76
from engine.portfolio import build
from tests.engine.builders import positions
from tests.engine.normalise.payloads import greeks as g

#: The per-unit greeks of one long call / put, by hand (payloads/greeks.py).
CALL = (g.CALL_DELTA, g.GAMMA, g.VEGA, g.THETA)
PUT = (g.PUT_DELTA, g.GAMMA, g.VEGA, g.THETA)
IV = {"markImpliedVolatility": g.SIGMA, "underlyingPrice": g.F}


def _snap(venue: str, position: Any, greeks: Any = None, balance: Any = None) -> Snapshot:
    symbol = position["symbol"] if position else ""
    return normalise(
        venue,
        [position] if position else [],
        balance,
        markets=g.MARKETS[venue],
        greeks={symbol: greeks} if greeks else {},
        taken_at=g.TAKEN_AT,
    )


def _per_unit(snap: Snapshot) -> tuple[float, ...]:
    p = snap.positions
    return tuple(float(getattr(p, name)[0]) for name in ("delta", "gamma", "vega", "theta"))


def _greek_notes(snap: Snapshot) -> list[str]:
    return [n for n in snap.positions.diagnostics[0] if "Black-76" in n]


def test_deribit_position_totals_per_long_unit() -> None:
    """Long 2 BTC: Deribit's position totals / 2, the delta premium-adjusted (0.4502618 =
    0.5497382 − 0.0994764 BTC of premium); they agree with Black-76 at the ticker's 50 %."""
    snap = _snap("deribit", g.deribit_call(), g.deribit_ticker_greeks())
    expected = (g.ADJUSTED_CALL_DELTA, g.GAMMA, g.VEGA, g.THETA)
    np.testing.assert_allclose(_per_unit(snap), expected, rtol=1e-6)
    assert snap.positions.greeks_source[0] == "venue"
    assert _greek_notes(snap) == []


def test_okx_black_scholes_fields_never_pa() -> None:
    """Short 1 BTC (100 × 0.01) of the put: deltaBS +0.4502618 / −1 is the plain put delta,
    gammaBS/vegaBS/thetaBS / −1 the per-coin figures; the PA fields (coin units) are unread."""
    snap = _snap("okx", g.okx_put(), g.okx_summary_greeks())
    np.testing.assert_allclose(_per_unit(snap), PUT, rtol=1e-6)
    assert snap.positions.greeks_source[0] == "venue"
    assert _greek_notes(snap) == []


def test_bybit_option_position_greeks() -> None:
    """Long 3 BTC of the USDC call: the position's delta/gamma/vega/theta / 3."""
    snap = _snap("bybit", g.bybit_call(), IV)
    np.testing.assert_allclose(_per_unit(snap), CALL, rtol=1e-6)
    assert _greek_notes(snap) == []


def test_ccxt_greeks_fill_what_the_position_lacks_okx_from_bs_fields() -> None:
    """No BS fields on the OKX position: ccxt's fetch_greeks gives them, read from ``info``'s
    BS fields (its unified ``delta`` −0.5497 is the PA one); the source says ccxt."""
    blank = {f"{name}BS": "" for name in ("delta", "gamma", "vega", "theta")}
    snap = _snap("okx", g.okx_put(**blank), g.okx_summary_greeks())
    np.testing.assert_allclose(_per_unit(snap), PUT, rtol=1e-6)
    assert snap.positions.greeks_source[0] == "ccxt"


def test_ccxt_deribit_delta_is_premium_adjusted_for_a_coin_settled_option() -> None:
    """Deribit's ticker delta is plain Black-Scholes (0.5497382); the coin-settled position's
    is that minus its premium in coin (0.0994764), as Deribit's own position delta is."""
    blank = {"delta": None, "gamma": None, "vega": None, "theta": None}
    snap = _snap("deribit", g.deribit_call(**blank), g.deribit_ticker_greeks())
    expected = (g.ADJUSTED_CALL_DELTA, g.GAMMA, g.VEGA, g.THETA)
    np.testing.assert_allclose(_per_unit(snap), expected, rtol=1e-6)
    assert snap.positions.greeks_source[0] == "ccxt"


def test_engine_black76_when_only_the_mark_iv_is_known() -> None:
    """No venue or ccxt greeks, only the mark IV: Black-76 gives all four (plain delta for
    the USDC call), source "engine"."""
    blank = {"delta": "", "gamma": "", "vega": "", "theta": ""}
    snap = _snap("bybit", g.bybit_call(**blank), IV)
    np.testing.assert_allclose(_per_unit(snap), CALL, rtol=1e-6)
    assert snap.positions.greeks_source[0] == "engine"


def test_venue_delta_with_model_gamma() -> None:
    """A Deribit position with a delta but no gamma/vega/theta keeps its delta (source venue)
    and takes the rest from Black-76."""
    percent = {"markImpliedVolatility": g.SIGMA * 100}  # Deribit's IV is in percent
    snap = _snap("deribit", g.deribit_call(gamma=None, vega=None, theta=None), percent)
    expected = (g.ADJUSTED_CALL_DELTA, g.GAMMA, g.VEGA, g.THETA)
    np.testing.assert_allclose(_per_unit(snap), expected, rtol=1e-6)
    assert snap.positions.greeks_source[0] == "venue"


@pytest.mark.parametrize(
    ("fields", "fires"),
    [
        ({"delta": str(3 * (g.CALL_DELTA + 0.015))}, ""),  # 0.015 per coin: within 0.02
        ({"delta": str(3 * (g.CALL_DELTA + 0.03))}, "delta"),
        ({"vega": str(3 * g.VEGA * 1.08)}, ""),  # 8 %: within 10 %
        ({"vega": str(3 * g.VEGA * 100)}, "vega"),  # per 1.00 of vol, not per point
        ({"theta": str(3 * g.THETA * 365)}, "theta"),  # per year, not per day
        ({"gamma": str(3 * g.GAMMA * g.F)}, "gamma"),
    ],
)
def test_venue_and_black76_disagreement(fields: dict[str, str], fires: str) -> None:
    """A venue figure Black-76 at the mark IV does not reproduce (delta beyond 0.02 a coin,
    gamma/vega/theta beyond 10 %) is a note naming both numbers; within, none."""
    snap = _snap("bybit", g.bybit_call(**fields), IV)
    notes = _greek_notes(snap)
    if not fires:
        assert notes == []
        return
    (note,) = notes
    assert f"{fires} " in note and "mark IV 50.0%" in note
    assert "delta" not in note or fires == "delta"


def test_no_disagreement_without_a_mark_iv() -> None:
    """Without the mark IV there is no Black-76 figure to compare with: no note."""
    snap = _snap("bybit", g.bybit_call(vega=str(3 * g.VEGA * 100)))
    assert _greek_notes(snap) == [] and snap.positions.vega[0] == pytest.approx(100 * g.VEGA)


def test_deribit_portfolio_margin_and_greeks_read() -> None:
    """cross_pm: BTC is on portfolio margin at Deribit's 0.3 / 1.2 = 25 %; the portfolio
    greeks and per-index maps are kept as reported."""
    account = _snap("deribit", None, balance=g.deribit_summary()).account
    assert account.portfolio_margin == {"BTC"}
    assert account.venue_margin_ratio == {"BTC": pytest.approx(0.25)}
    figures = account.venue_greeks["BTC"]
    assert figures["options_vega"] == pytest.approx(2 * g.VEGA)
    assert figures["delta_total:btc_usd"] == pytest.approx(2 * g.ADJUSTED_CALL_DELTA)


def test_deribit_segregated_sm_is_not_portfolio_margin() -> None:
    summary = g.deribit_summary(margin_model="segregated_sm", portfolio_margining_enabled=False)
    account = _snap("deribit", None, balance=summary).account
    assert account.portfolio_margin == frozenset() and account.venue_margin_ratio == {}


def test_deribit_portfolio_greeks_agree_with_the_positions() -> None:
    """The summary's figures are the long call's own: no account note but the PM one."""
    snap = _snap("deribit", g.deribit_call(), g.deribit_ticker_greeks(), g.deribit_summary())
    notes = analyze(snap).portfolio.diagnostics
    pm = "BTC is on portfolio margin: its margin ratio is the venue's own maintenance / equity"
    assert notes == (f"{pm}, 25.0%",)


def test_deribit_portfolio_vega_disagreement_names_both_numbers() -> None:
    """Deribit's options_vega 500 against the position's 395.838: a note with both."""
    summary = g.deribit_summary(options_vega=500.0)
    snap = _snap("deribit", g.deribit_call(), g.deribit_ticker_greeks(), summary)
    (note,) = [n for n in analyze(snap).portfolio.diagnostics if "options_vega " in n]
    assert "500" in note and "395.838" in note and "BTC" in note


@pytest.mark.parametrize(("level", "pm"), [("4", True), ("3", False)])
def test_okx_portfolio_margin_ratio_inverts_mgn_ratio(level: str, pm: bool) -> None:
    """acctLv 4: the USD pool's ratio is 1 / mgnRatio 4 = 25 % (OKX states equity /
    maintenance), not the engine's mmr / adjEq = 10 %; acctLv 3 keeps the engine's."""
    account = _snap("okx", None, balance=g.okx_balance(level, "4")).account
    assert (account.portfolio_margin == {"USD"}) is pm
    # A USDT swap's pool reads the multi-currency "USD" pool's figures.
    swap = positions(side=[1.0], qty=[0.1], mark=[g.F], entry=[g.F], mmr=[0.004], pool=["USDT"])
    ratio = build(swap, account, np.zeros(1)).pool_margin_ratio["USDT"]
    assert ratio == pytest.approx(0.25 if pm else 5_000 / 50_000)


@pytest.mark.parametrize(("mode", "pm"), [("PORTFOLIO_MARGIN", True), ("REGULAR_MARGIN", False)])
def test_bybit_portfolio_margin_uses_account_mm_rate(mode: str, pm: bool) -> None:
    """A unified account on PORTFOLIO_MARGIN: the USD pool's ratio is accountMMRate (30 %)."""
    account = _snap("bybit", None, balance=g.bybit_balance(mode)).account
    assert (account.venue_margin_ratio == {"USD": 0.3}) is pm
    assert (account.portfolio_margin == {"USD"}) is pm


def test_black76_prices_on_the_forward_not_the_index() -> None:
    """Deribit's position carries the index (100,000: the notional's U), ccxt's greeks the
    expiry's forward (103,000): Black-76 takes the forward, so a 3 % basis is not a delta
    disagreement (γ·ΔF = 1.58e-5 · 3,000 ≈ 0.05 coin would be)."""
    forward = 103_000.0
    quote = {"markImpliedVolatility": g.SIGMA * 100, "underlyingPrice": forward}
    blank = {"delta": None, "gamma": None, "vega": None, "theta": None}
    model = black76(forward, g.F, g.SIGMA, 0.25, is_call=True)
    snap = _snap("deribit", g.deribit_call(**blank), quote)
    assert snap.positions.underlying_price[0] == g.F
    assert snap.positions.delta[0] == pytest.approx(float(model.deribit_delta), rel=1e-9)
    reported = 2 * float(model.deribit_delta)
    assert _greek_notes(_snap("deribit", g.deribit_call(delta=reported), quote)) == []
    index_only = {"markImpliedVolatility": g.SIGMA * 100}
    (note,) = _greek_notes(_snap("deribit", g.deribit_call(delta=reported), index_only))
    assert note.startswith("venue greeks") and "delta" in note
