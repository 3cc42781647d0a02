"""De-leveraging advice restores the target distance, checked by re-solving independently."""

from __future__ import annotations

import numpy as np

from engine.advice import advise
from engine.model import ContractType
from tests.engine.builders import positions


def _long_linear() -> tuple[object, np.ndarray]:
    p = positions(side=[1], qty=[1], mark=[100], entry=[100], mmr=[0.01], maint_amount=[0.0])
    return p, np.array([95.0])


def test_margin_to_add_moves_a_long_to_the_target() -> None:
    """Q=1, MP=100, LP=95, MMR=1 %, target 15 % ⇒ P_t = 85, add = 0.99·1·(95 − 85) = 9.9."""
    p, lp = _long_linear()
    advice = advise(p, lp, target_pct=15.0)  # type: ignore[arg-type]
    np.testing.assert_allclose(advice.target_price, [85.0])
    np.testing.assert_allclose(advice.margin_to_add, [9.9])


def test_size_cut_moves_a_long_to_the_target() -> None:
    """Equity 5.95 kept; after the cut, E + Q'(P − 100) = 0.01·Q'·P must hold at P = 85."""
    p, lp = _long_linear()
    advice = advise(p, lp, target_pct=15.0)  # type: ignore[arg-type]
    kept = 1.0 - advice.reduce_qty[0]
    # Independent re-solve of the liquidation price with the kept size.
    new_lp = (100 * kept - 5.95) / (kept * (1 - 0.01))
    np.testing.assert_allclose(new_lp, 85.0)
    np.testing.assert_allclose(advice.reduce_fraction, [1.0 - 5.95 / 15.85])


def test_inverse_short_margin_in_coin() -> None:
    """Q=1000 USD, MP=50k, LP=52k, MMR 0.5 %, target 10 % ⇒ add = 0.995·1000·(1/52k − 1/55k)."""
    p = positions(
        side=[-1],
        qty=[1000],
        mark=[50_000],
        entry=[50_000],
        mmr=[0.005],
        kind=[int(ContractType.INVERSE)],
    )
    advice = advise(p, np.array([52_000.0]), target_pct=10.0)
    np.testing.assert_allclose(advice.margin_to_add, [995 * (1 / 52_000 - 1 / 55_000)])
    a0 = 995 * (1 / 50_000 - 1 / 52_000)  # margin available now, solved from LP
    after = a0 + advice.margin_to_add[0]
    # New LP: after − 995·1000·(1/P − 1/MP)/1000 = 0.
    new_lp = 1.0 / (1 / 50_000 - after / 995)
    np.testing.assert_allclose(new_lp, 55_000.0)


def test_positions_far_enough_get_no_advice() -> None:
    """A long 20 % away, one with no liquidation price and one breached get NaN."""
    p = positions(side=[1, 1, 1], qty=[1, 1, 1], mark=[100, 100, 100], mmr=[0.01] * 3)
    advice = advise(p, np.array([80.0, np.nan, 101.0]), target_pct=15.0)
    assert advice.needed.tolist() == [False, False, False]
    assert np.isnan(advice.margin_to_add).all()
