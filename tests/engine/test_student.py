"""Student-t tails against their closed forms, and the Student-t touch model's conventions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.errors import EngineError
from engine.probability import TouchModel, hours_to_years, touch_probability
from engine.student import betainc, t_sf

X = np.array([-30.0, -3.0, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 10.0, 30.0, 300.0])


def test_cauchy_and_two_and_three_degrees_of_freedom_match_their_closed_forms() -> None:
    """ν = 1: ½ − atan(x)/π; ν = 2: ½ − x/(2√(2+x²)); ν = 3: ½ − (atan(x/√3) + √3x/(3+x²))/π."""
    np.testing.assert_allclose(t_sf(X, 1), 0.5 - np.arctan(X) / np.pi, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(
        t_sf(X, 2), 0.5 - X / (2.0 * np.sqrt(2.0 + X * X)), rtol=1e-10, atol=1e-16
    )
    three = 0.5 - (np.arctan(X / np.sqrt(3.0)) + np.sqrt(3.0) * X / (3.0 + X * X)) / np.pi
    np.testing.assert_allclose(t_sf(X, 3), three, rtol=1e-10, atol=1e-16)


@pytest.mark.parametrize("nu", [4, 5, 6, 7, 12, 30])
def test_the_closed_form_for_whole_nu_is_the_continued_fraction(nu: int) -> None:
    """The fast path (whole ν) and the incomplete beta agree, deep in the tail too."""
    z = nu / (nu + X * X)
    tail = 0.5 * betainc(nu / 2.0, 0.5, z)
    expected = np.where(X >= 0.0, tail, 1.0 - tail)
    np.testing.assert_allclose(t_sf(X, nu), expected, rtol=1e-9, atol=1e-15)


def test_many_degrees_of_freedom_tend_to_the_normal() -> None:
    np.testing.assert_allclose(t_sf(X, 1e7 + 0.5), t_sf(X, math.inf), rtol=1e-5, atol=1e-12)


def test_student_touch_conventions_follow_gbms() -> None:
    """No barrier ⇒ 0, at the mark ⇒ 1, no time ⇒ 0, bad σ ⇒ unknown; and with ν large the
    model is the driftless GBM's 2·N(−d)."""
    day = float(hours_to_years(24.0))
    p = touch_probability(
        100.0, np.array([np.nan, 100.0, 90.0, 90.0]), np.array([0.8, 0.8, 0.8, -1.0]),
        np.array([day, day, 0.0, day]), model=TouchModel.STUDENT_T,
    )  # fmt: skip
    np.testing.assert_array_equal(p[:3], [0.0, 1.0, 0.0])
    assert np.isnan(p[3])
    wide = touch_probability(100.0, 90.0, 0.8, day, model=TouchModel.STUDENT_T, nu=1e7 + 0.5)
    d = math.log(100.0 / 90.0) / (0.8 * math.sqrt(day))
    assert float(wide) == pytest.approx(math.erfc(d / math.sqrt(2.0)), rel=1e-5)


def test_fat_tails_raise_far_probabilities_and_lower_near_ones() -> None:
    """Variance-matched t puts more mass far out and near the centre than the normal."""
    day = float(hours_to_years(24.0))
    barriers = 100.0 * np.exp(-np.array([0.2, 4.0]) * 0.8 * math.sqrt(day))
    gbm = touch_probability(100.0, barriers, 0.8, day)
    fat = touch_probability(100.0, barriers, 0.8, day, model=TouchModel.STUDENT_T)
    assert fat[0] < gbm[0] and fat[1] > 10 * gbm[1]


def test_nu_of_two_or_less_is_refused() -> None:
    with pytest.raises(EngineError, match="ν > 2"):
        touch_probability(100.0, 90.0, 0.8, 0.01, model=TouchModel.STUDENT_T, nu=2.0)
