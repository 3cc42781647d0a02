"""Missing fields, sentinels and edge cases: NaN with a note, never an exception hiding others."""

from __future__ import annotations

import numpy as np
import pytest

from engine.liquidation import NO_LIQUIDATION, PAST, compute, margin_ratio_at
from engine.liquidation.generic import MMR_UNKNOWN
from engine.liquidation.select import OPTION as OPTION_NOTE
from engine.model import FORMULAS, Account, Formula
from tests.engine.liquidation.conftest import CROSS, ISOLATED, OPTION, make_snapshot

#: Generic isolated long: LP = 100 − (200 − 10)/10 = 81 (see test_venues).
GENERIC_LONG = {
    "symbol": "X/USDT:USDT",
    "side": 1.0,
    "qty": 10.0,
    "entry": 100.0,
    "mmr": 0.01,
    "isolated_wallet": 200.0,
    "margin_mode": ISOLATED,
}


def test_invalid_position_is_nan_and_none_without_hiding_others() -> None:
    """A position without a side is skipped (NaN, NONE, a note); its neighbour is still 81."""
    broken = {**GENERIC_LONG, "symbol": "Y/USDT:USDT", "side": float("nan")}
    result = compute(make_snapshot("kraken", [broken, GENERIC_LONG]))
    np.testing.assert_allclose(result.price, [np.nan, 81.0])
    assert FORMULAS[result.formula[0]] == Formula.NONE
    assert result.notes[0]


def test_options_get_no_formula() -> None:
    """Options everywhere: Formula.NONE, NaN and a note."""
    row = {"symbol": "BTC/USDT:USDT-250627-60000-C", "kind": OPTION, "side": 1.0, "qty": 1.0}
    result = compute(make_snapshot("binanceusdm", [{**row, "entry": 500.0}]))
    assert np.isnan(result.price[0])
    assert FORMULAS[result.formula[0]] == Formula.NONE
    assert result.notes[0] == (OPTION_NOTE,)


def test_missing_mmr_is_nan_with_a_note() -> None:
    """Generic isolated without any maintenance rate: MM unknown ⇒ NaN, formula still named."""
    result = compute(make_snapshot("kraken", [{**GENERIC_LONG, "mmr": float("nan")}]))
    assert np.isnan(result.price[0])
    assert FORMULAS[result.formula[0]] == Formula.GENERIC
    assert MMR_UNKNOWN in result.notes[0]


def test_missing_entry_is_derived_from_the_venue_upnl() -> None:
    """Entry missing, mark 110, venue uPnL +100 on 10 units ⇒ EP = 110 − 100/10 = 100 ⇒ LP 81."""
    row = {**GENERIC_LONG, "entry": float("nan"), "mark": 110.0, "venue_upnl": 100.0}
    result = compute(make_snapshot("kraken", [row]))
    np.testing.assert_allclose(result.price, [81.0])
    assert "entry price not reported: derived from the venue's unrealised PnL" in result.notes[0]


def test_missing_entry_without_upnl_is_nan_with_a_note() -> None:
    """Neither entry nor venue uPnL: not computable, said so."""
    row = {**GENERIC_LONG, "entry": float("nan"), "mark": 110.0}
    result = compute(make_snapshot("kraken", [row]))
    assert np.isnan(result.price[0])
    assert any("entry price not reported" in note for note in result.notes[0])


def test_fully_collateralised_long_has_no_liquidation() -> None:
    """Collateral 1,500 on a 1,000 position: LP = 100 − (1,500 − 10)/10 = −49 ⇒ NaN."""
    result = compute(make_snapshot("kraken", [{**GENERIC_LONG, "isolated_wallet": 1_500.0}]))
    assert np.isnan(result.price[0])
    assert NO_LIQUIDATION in result.notes[0]


def test_far_computed_price_is_kept() -> None:
    """A short with collateral 100,000 on a 1,000 position: LP = 100 + (100,000 − 10)/10 =
    10,099, a hundred times the mark and still the position's real liquidation price."""
    row = {**GENERIC_LONG, "side": -1.0, "isolated_wallet": 100_000.0}
    result = compute(make_snapshot("kraken", [row]))
    np.testing.assert_allclose(result.price, [10_099.0])
    assert NO_LIQUIDATION not in result.notes[0]


def test_isolated_price_needs_no_mark() -> None:
    """No mark: the generic isolated long is still 100 − (200 − 10)/10 = 81 (entry, margin and
    maintenance decide it), with no "not readable" note."""
    result = compute(make_snapshot("kraken", [{**GENERIC_LONG, "mark": float("nan")}]))
    np.testing.assert_allclose(result.price, [81.0])
    assert FORMULAS[result.formula[0]] == Formula.GENERIC


def test_cross_price_without_a_mark_is_not_computed() -> None:
    """A cross position's equity moves with its mark: without one it stays unpriced (NaN)."""
    row = {**GENERIC_LONG, "margin_mode": CROSS, "mark": float("nan")}
    account = Account("kraken", margin_balance={"USDT": 500})
    result = compute(make_snapshot("kraken", [row], account=account))
    assert np.isnan(result.price[0])
    assert FORMULAS[result.formula[0]] == Formula.NONE


def test_one_x_long_has_no_liquidation_despite_rounding() -> None:
    """Collateral 3.3165 = Q·EP·(1 + MMR) = 3·1.1·1.005: LP = 1.1 − (3.3165 − 0.0165)/3 = 0
    exactly, which float subtraction leaves as ~1.5e-16; that noise is not a price."""
    row = {**GENERIC_LONG, "qty": 3.0, "entry": 1.1, "mmr": 0.005, "isolated_wallet": 3.3165}
    result = compute(make_snapshot("kraken", [row]))
    assert np.isnan(result.price[0])
    assert NO_LIQUIDATION in result.notes[0]


def test_past_liquidation_is_noted() -> None:
    """Mark 80 is below the LP 81: the margin ratio at the mark is ≥ 1 and the note says so.

    Equity 200 + 10·(80 − 100) = 0 ⇒ ratio +inf.
    """
    result = compute(make_snapshot("kraken", [{**GENERIC_LONG, "mark": 80.0}]))
    np.testing.assert_allclose(result.price, [81.0])
    assert PAST in result.notes[0]


def test_unknown_maintenance_of_another_cross_position_counts_as_zero() -> None:
    """A cross neighbour without MMR adds 0 to TMM1 and a note; the position is still priced.

    Margin balance 500, long 10 @ 100 (mark 100), MMR 0.01, neighbour's uPnL 0:
    500 + 10·(P − 100) = 0 + 0.1·P ⇒ P = 500/9.9 = 50.505.
    """
    rows = [
        {"symbol": "X/USDT:USDT", "side": 1.0, "qty": 10.0, "entry": 100.0, "mmr": 0.01},
        {"symbol": "Y/USDT:USDT", "side": 1.0, "qty": 1.0, "entry": 10.0},
    ]
    rows = [{**row, "margin_mode": CROSS} for row in rows]
    account = Account("kraken", margin_balance={"USDT": 500})
    result = compute(make_snapshot("kraken", rows, account=account))
    np.testing.assert_allclose(result.price[0], 500 / 9.9)
    assert (
        "another cross position's maintenance margin is unknown: counted as 0" in (result.notes[0])
    )


def test_margin_ratio_at_a_given_price() -> None:
    """Generic long at 90: equity 200 + 10·(90 − 100) = 100, MM 10 ⇒ ratio 0.1; at 81 it is 1."""
    snap = make_snapshot("kraken", [GENERIC_LONG])
    np.testing.assert_allclose(margin_ratio_at(snap, np.array([90.0])), [0.1])
    np.testing.assert_allclose(margin_ratio_at(snap, np.array([81.0])), [1.0])


def test_mark_of_the_wrong_length_is_a_programming_error() -> None:
    """One mark per position, or ValueError (a caller bug, not a data problem)."""
    with pytest.raises(ValueError, match="one value per position"):
        compute(make_snapshot("kraken", [GENERIC_LONG]), mark=np.array([1.0, 2.0]))


def test_empty_snapshot_gives_empty_arrays() -> None:
    """No positions: empty price and formula arrays, no notes."""
    result = compute(make_snapshot("kraken", []))
    assert result.price.shape == (0,) and result.formula.shape == (0,) and result.notes == ()
