"""Issue 21: option books priced in the right units (venue payloads through real ccxt).

Each expected figure is computed here from the payload's own fields, by hand, never read
back from the engine.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from engine.analysis import Analysis, analyze
from engine.model import ContractType
from engine.normalise import Snapshot, normalise
from tests.engine.normalise.payloads import options as o

SUMMARY = o.DERIBIT_SUMMARY
#: USD per BTC in Deribit's own totals: total_equity_usd / equity.
DERIBIT_RATE = SUMMARY["total_equity_usd"] / SUMMARY["equity"]


def _deribit() -> tuple[Snapshot, Analysis]:
    snapshot = normalise("deribit", o.deribit_book(), o.deribit_balance())
    return snapshot, analyze(snapshot)


def test_deribit_equity_is_the_venues_usd_total() -> None:
    """A coin-settled options account's equity is in USD (total_equity_usd), not the coin
    amount times an option's premium (0.0798 "USD" before), with the coin amount beside it."""
    _snapshot, result = _deribit()
    portfolio = result.portfolio
    assert math.isclose(portfolio.equity_usd, SUMMARY["total_equity_usd"], rel_tol=1e-12)
    assert dict(portfolio.equity_by_currency) == {"BTC": SUMMARY["equity"]}


def test_deribit_maintenance_and_leverage_in_usd() -> None:
    """Maintenance is the coin maintenance at the venue's rate (≈ total_maintenance_margin_usd,
    not 0.005) and effective leverage is gross USD exposure over USD equity (not 4.6 million)."""
    _snapshot, result = _deribit()
    portfolio = result.portfolio
    maint = SUMMARY["maintenance_margin"] * DERIBIT_RATE
    assert math.isclose(portfolio.maintenance_usd, maint, rel_tol=1e-12)
    assert math.isclose(
        portfolio.maintenance_usd, SUMMARY["total_maintenance_margin_usd"], rel_tol=1e-4
    )
    gross = (0.62 + 0.25) * o.INDEX + 100_000.0
    assert math.isclose(portfolio.gross_exposure_usd, gross, rel_tol=1e-12)
    assert math.isclose(portfolio.effective_leverage, gross / SUMMARY["total_equity_usd"])
    assert math.isclose(portfolio.margin_ratio, maint / SUMMARY["total_equity_usd"])


def test_option_marks_never_price_their_coin() -> None:
    """Without Deribit's USD totals the coin is priced at the index (or a future's mark),
    never at an option's premium (0.0317 BTC)."""
    balance = o.deribit_balance(total_equity_usd=None)
    puts = o.deribit_book()[:1]
    result = analyze(normalise("deribit", puts, balance))
    assert math.isclose(result.portfolio.equity_usd, SUMMARY["equity"] * o.INDEX)


def test_deribit_exposure_is_the_delta_equivalent() -> None:
    """Deribit's position delta × index: the short put (delta +0.62) is long BTC."""
    snapshot, result = _deribit()
    p = snapshot.positions
    np.testing.assert_allclose(p.delta[:2], [0.62 / -2.0, 0.25 / 1.0])
    net = result.portfolio.net_by_underlying
    np.testing.assert_allclose(net, [(0.62 + 0.25) * o.INDEX - 100_000.0])
    notional = result.notional_usd
    np.testing.assert_allclose(notional, [2.0 * o.INDEX, 1.0 * o.INDEX, 100_000.0])


@pytest.mark.parametrize("settle", ["USDC", "USDT"])
def test_bybit_unified_wallet_counts_once(settle: str) -> None:
    """The UNIFIED account's USD totals and its coin row are one wallet: equity is the
    margin balance once (not doubled), maintenance the venue's totalMaintenanceMargin."""
    margin, maint = 70_037.5, 12_121.2
    coin = o.bybit_coin(settle, equity=margin, usd=margin, maint=maint)
    wallet = o.bybit_wallet(o.bybit_unified(coin, margin=margin, maint=maint, equity=margin))
    portfolio = analyze(normalise("bybit", [o.bybit_option()], wallet)).portfolio
    assert math.isclose(portfolio.equity_usd, margin)
    assert math.isclose(portfolio.maintenance_usd, maint)
    assert math.isclose(portfolio.margin_ratio, maint / margin)


def test_bybit_unified_with_coin_collateral_counts_once() -> None:
    """A unified account holding USDC and BTC: its coin rows together are the USD total."""
    usdc = o.bybit_coin("USDC", equity=40_000.0, usd=40_000.0, maint=9_000.0)
    btc = o.bybit_coin("BTC", equity=0.3, usd=28_500.0, maint=0.0)
    entry = o.bybit_unified(usdc, btc, margin=68_000.0, maint=9_000.0, equity=68_500.0)
    portfolio = analyze(normalise("bybit", [], o.bybit_wallet(entry))).portfolio
    assert math.isclose(portfolio.equity_usd, 68_000.0)
    assert math.isclose(portfolio.maintenance_usd, 9_000.0)


def test_bybit_classic_contract_account_sums_its_coins() -> None:
    """A CONTRACT (classic) account has no USD totals: each coin row is its own wallet."""
    usdt = o.bybit_coin("USDT", equity=10_000.0, usd=10_000.0, maint=100.0)
    btc = o.bybit_coin("BTC", equity=0.1, usd=9_500.0, maint=0.001)
    entry = {"accountType": "CONTRACT", "coin": [usdt, btc]}
    portfolio = analyze(normalise("bybit", [], o.bybit_wallet(entry))).portfolio
    assert math.isclose(portfolio.equity_usd, 10_000.0 + 9_500.0)
    assert math.isclose(portfolio.maintenance_usd, 100.0 + 0.001 * 95_000.0)


def test_bybit_option_notional_is_size_times_underlying() -> None:
    """5 BTC of options are 5 × 95,000 USD of notional (5.0 before), priced from the BTC
    perpetual's mark when the venue's position gives no underlying price."""
    perp = o._exchange("bybit").parse_position(
        {"symbol": "BTCUSDT", "side": "Buy", "size": "0.1", "avgPrice": "94000",
         "markPrice": str(o.INDEX), "positionValue": "9400", "tradeMode": 0, "leverage": "10"}
    )  # fmt: skip
    result = analyze(normalise("bybit", [o.bybit_option(), perp]))
    np.testing.assert_allclose(result.notional_usd, [5 * o.INDEX, 0.1 * o.INDEX])
    short_put = 1.75 * o.INDEX  # the venue's position delta, positive for a short put
    np.testing.assert_allclose(result.portfolio.net_by_underlying, [short_put + 0.1 * o.INDEX])


def test_okx_option_uses_delta_bs_and_its_size_in_coins() -> None:
    """OKX: 500 contracts × 0.01 BTC (ccxt's contractSize misses ctMult), notional 475,000
    (null before), exposure from deltaBS (+1.75 BTC), never the PA fields (1.8975)."""
    result = analyze(normalise("okx", [o.okx_option()]))
    p = result.snapshot.positions
    assert p.qty[0] == pytest.approx(5.0) and p.kind[0] == ContractType.OPTION
    np.testing.assert_allclose(result.notional_usd, [5.0 * o.INDEX])
    np.testing.assert_allclose(result.portfolio.net_by_underlying, [1.75 * o.INDEX])


def _put_delta(forward: float, strike: float, sigma: float, years: float) -> float:
    """Black-76 put delta N(d1) − 1, by hand."""
    d1 = (math.log(forward / strike) + 0.5 * sigma * sigma * years) / (sigma * math.sqrt(years))
    return NormalDist().cdf(d1) - 1.0


def test_engine_delta_from_mark_iv_at_the_snapshot_time() -> None:
    """No venue delta: Black-76 with ccxt's mark IV and forward, T from ``taken_at``; the
    short put's exposure is positive. A later snapshot time gives a different delta."""
    position = o.bybit_option(delta="")
    greeks = {o.USDC_PUT: {"markImpliedVolatility": 0.55, "underlyingPrice": 95_400.0}}
    years = (o.EXPIRY_MS - o.TAKEN_MS) / 1000.0 / (365 * 86_400)
    snap = normalise("bybit", [position], greeks=greeks, taken_at=o.TAKEN_MS / 1000.0)
    delta = _put_delta(95_400.0, o.STRIKE, 0.55, years)
    assert snap.positions.delta[0] == pytest.approx(delta, rel=1e-12)
    net = analyze(snap).portfolio.net_exposure_usd
    assert net == pytest.approx(-1.0 * 5.0 * delta * 95_400.0) and net > 0
    later = normalise("bybit", [position], greeks=greeks, taken_at=o.EXPIRY_MS / 1000.0 - 86_400)
    assert later.positions.delta[0] != pytest.approx(delta)


def test_no_snapshot_time_means_no_engine_delta() -> None:
    """Without a time the engine does not guess one (no clock): delta unknown, with a note,
    and the option is left out of exposure rather than counted with a wrong sign."""
    greeks = {o.USDC_PUT: {"markImpliedVolatility": 0.55, "underlyingPrice": 95_400.0}}
    snap = normalise("bybit", [o.bybit_option(delta="")], greeks=greeks)
    assert np.isnan(snap.positions.delta[0])
    assert any("snapshot time unknown" in d for d in snap.positions.diagnostics[0])
    assert analyze(snap).portfolio.net_exposure_usd == 0.0


def test_a_streamed_mark_keeps_the_snapshot_time() -> None:
    """Re-pricing at a new mark keeps when the venue reported the rest of the snapshot."""
    from engine.reprice import with_marks

    snap = normalise("deribit", o.deribit_book(), o.deribit_balance(), taken_at=1_768_478_400.0)
    moved = with_marks(snap, {"BTC/USD:BTC": 96_000.0})
    assert moved is not snap and moved.taken_at == snap.taken_at


def test_option_pnl_alert_reads_usd_at_the_settle_rate() -> None:
    """The `pnl` alert's value: a USDC option's 1,500 uPnL is 1,500 USD (not 1,500 × 5 /
    (5 × 2,800 premium)), a coin-settled one's 0.0125 BTC is 0.0125 × the index."""
    from engine.alerts.observe import position_values
    from engine.alerts.rules import Kind

    bybit = analyze(normalise("bybit", [o.bybit_option()]))
    okx = analyze(normalise("okx", [o.okx_option()]))
    assert position_values(bybit, bybit.snapshot.positions.mark)[Kind.PNL][0] == 1_500.0
    pnl = position_values(okx, okx.snapshot.positions.mark)[Kind.PNL][0]
    assert pnl == pytest.approx(0.0125 * o.INDEX)


def test_bybit_option_priced_at_the_wallets_coin_rate() -> None:
    """No index on a Bybit option position: the BTC row's usdValue / equity of the unified
    wallet prices the underlying (before a future's mark)."""
    usdc = o.bybit_coin("USDC", equity=40_000.0, usd=40_000.0, maint=9_000.0)
    btc = o.bybit_coin("BTC", equity=0.2, usd=0.2 * 94_900.0, maint=0.0)
    wallet = o.bybit_wallet(o.bybit_unified(usdc, btc, margin=59_000.0, maint=9_000.0, equity=6e4))
    result = analyze(normalise("bybit", [o.bybit_option()], wallet))
    np.testing.assert_allclose(result.notional_usd, [5 * 94_900.0])


def test_okx_option_size_survives_a_notional_priced_off_the_index() -> None:
    """notionalUsd priced 1 % off idxPx still means 0.01 BTC a contract (OKX's multipliers
    are powers of ten), not 0.0101."""
    result = analyze(normalise("okx", [o.okx_option(notionalUsd=str(475_000 * 1.01))]))
    assert result.snapshot.positions.qty[0] == 5.0
