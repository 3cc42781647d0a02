"""Per-position metrics, checked against hand-computed values."""

from __future__ import annotations

import numpy as np

from engine import metrics
from engine.model import ContractType, MarginMode
from tests.engine.builders import positions

LIN, INV, OPT = int(ContractType.LINEAR), int(ContractType.INVERSE), int(ContractType.OPTION)


def test_linear_pnl_has_the_sign_of_the_side() -> None:
    """2 BTC from 100 to 110: long +20, short −20 (quote currency)."""
    p = positions(side=[1, -1], qty=[2, 2], entry=[100, 100], mark=[110, 110])
    np.testing.assert_allclose(metrics.unrealised_pnl(p), [20.0, -20.0])


def test_inverse_pnl_is_in_coin() -> None:
    """1000 USD long from 50k to 40k: 1000·(1/50000 − 1/40000) = −0.005 BTC."""
    p = positions(side=[1], qty=[1000], entry=[50_000], mark=[40_000], kind=[INV])
    np.testing.assert_allclose(metrics.unrealised_pnl(p), [-0.005])


def test_options_and_missing_entry_keep_the_venue_pnl() -> None:
    """Without an entry (or for an option) only the venue's uPnL is known."""
    p = positions(
        side=[1, 1],
        qty=[1, 1],
        entry=[np.nan, 0.05],
        mark=[100, 0.06],
        kind=[LIN, OPT],
        venue_upnl=[3.5, 0.01],
    )
    np.testing.assert_allclose(metrics.unrealised_pnl(p), [3.5, 0.01])


def test_leverage_is_derived_when_the_venue_omits_it() -> None:
    """Isolated wallet 10 on a 100 notional is 10x; a reported leverage wins."""
    p = positions(
        side=[1, 1],
        qty=[1, 1],
        mark=[100, 100],
        isolated_wallet=[10, 10],
        leverage=[np.nan, 20],
        margin_mode=[int(MarginMode.ISOLATED)] * 2,
    )
    np.testing.assert_allclose(metrics.leverage(p), [10.0, 20.0])


def test_maintenance_subtracts_the_bracket_amount() -> None:
    """Linear: 2·150·0.01 − 0.5 = 2.5; inverse: (1000/50000)·0.005 − 0 = 0.0001 coin."""
    p = positions(
        side=[1, -1],
        qty=[2, 1000],
        mark=[150, 50_000],
        mmr=[0.01, 0.005],
        maint_amount=[0.5, 0.0],
        kind=[LIN, INV],
    )
    np.testing.assert_allclose(metrics.maintenance_margin(p), [2.5, 0.0001])


def test_notional_usd_per_contract_type() -> None:
    """Linear Q·MP·rate = 300; inverse Q = 1000 USD; option Q·underlying price = 2·60000
    (a USDC-settled option: its settle rate 1 and its premium mark play no part)."""
    nan = float("nan")
    p = positions(
        side=[1, 1, 1],
        qty=[2, 1000, 2],
        mark=[150, 50_000, 3_000],
        kind=[LIN, INV, OPT],
        settle_usd=[1.0, 50_000, 1.0],
        underlying_price=[nan, nan, 60_000],
    )
    np.testing.assert_allclose(metrics.notional_usd(p), [300.0, 1000.0, 120_000.0])


def test_option_exposure_is_its_delta_equivalent() -> None:
    """s·Q·delta·underlying: a short put (delta −0.3) is +0.3·2·60000 long; a perp is s·value."""
    nan = float("nan")
    p = positions(
        side=[-1, -1],
        qty=[2, 1],
        mark=[3_000, 60_000],
        kind=[OPT, LIN],
        underlying_price=[60_000, nan],
        delta=[-0.3, nan],
    )
    np.testing.assert_allclose(metrics.exposure_usd(p), [0.3 * 2 * 60_000, -60_000.0])


def test_roe_is_pnl_over_initial_margin() -> None:
    """uPnL 5 on a 10 isolated wallet is an ROE of 0.5."""
    p = positions(
        side=[1],
        qty=[1],
        mark=[105],
        entry=[100],
        isolated_wallet=[10],
        margin_mode=[int(MarginMode.ISOLATED)],
    )
    np.testing.assert_allclose(metrics.roe(p, metrics.unrealised_pnl(p)), [0.5])


def test_distance_is_percent_of_mark_and_nan_without_a_price() -> None:
    """Mark 100, LP 90 → 10 %; LP 104 → 4 %; no LP → NaN."""
    got = metrics.distance_pct(np.array([100.0, 100.0, 100.0]), np.array([90.0, 104.0, np.nan]))
    np.testing.assert_allclose(got, [10.0, 4.0, np.nan])


def test_breached_means_the_mark_is_at_or_past_the_price() -> None:
    """A long at 89 with LP 90 is breached, a short at 89 with LP 90 is not; NaN LP never is."""
    got = metrics.breached(
        np.array([1.0, -1.0, 1.0]), np.array([89.0, 89.0, 89.0]), np.array([90.0, 90.0, np.nan])
    )
    assert got.tolist() == [True, False, False]


def test_isolated_margin_ratio_is_maintenance_over_margin_balance() -> None:
    """MM = 1·100·0.01 = 1; balance = wallet 10 + uPnL −5 = 5 → 0.2; balance ≤ 0 → inf."""
    p = positions(
        side=[1, 1],
        qty=[1, 1],
        mark=[100, 100],
        entry=[105, 120],
        mmr=[0.01, 0.01],
        isolated_wallet=[10, 10],
        margin_mode=[int(MarginMode.ISOLATED)] * 2,
    )
    got = metrics.isolated_margin_ratio(p, metrics.unrealised_pnl(p))
    np.testing.assert_allclose(got, [0.2, np.inf])
