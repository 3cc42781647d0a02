"""Poll bands: near within twice the warning distance or with an alert live, far beyond four
times it (or with nothing that can be liquidated), the middle band between."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.alerts.events import AlertStatus
from engine.alerts.rules import Kind, Op, Rule, RuleSpec, Severity, state_spec
from engine.alerts.state import Alert
from engine.cadence import (
    NEAR_SHARE,
    Band,
    Bands,
    Risk,
    alerting,
    cadence,
    closest,
    fit,
    warning_distance,
)

BANDS = Bands(near_s=5.0, middle_s=30.0, far_s=300.0)


def _risk(pct: float, *, warn: float | None = None, live: bool = False) -> Risk:
    return Risk("BTC/USDT:USDT", pct, warn, live)


@pytest.mark.parametrize(
    ("pct", "band"),
    [(3.0, Band.NEAR), (19.9, Band.NEAR), (20.0, Band.MIDDLE), (40.0, Band.MIDDLE),
     (40.1, Band.FAR), (math.nan, Band.FAR)],
)  # fmt: skip
def test_the_band_follows_the_distance_against_the_default_warning(pct: float, band: Band) -> None:
    found = cadence(_risk(pct), BANDS)
    assert found.band is band
    assert found.every_s == {Band.NEAR: 5.0, Band.MIDDLE: 30.0, Band.FAR: 300.0}[band]


def test_the_accounts_own_warning_level_sets_the_bands() -> None:
    """Warned at 3 %: 5 % away is inside 2 × 3 = 6 (near); 13 % is beyond 4 × 3 = 12 (far)."""
    assert cadence(_risk(5.0, warn=3.0), BANDS).band is Band.NEAR
    assert cadence(_risk(13.0, warn=3.0), BANDS).band is Band.FAR
    assert cadence(_risk(8.0, warn=3.0), BANDS).band is Band.MIDDLE


def test_a_live_alert_is_near_wherever_the_positions_are() -> None:
    found = cadence(_risk(90.0, live=True), BANDS)
    assert found.band is Band.NEAR and found.reason == "an alert is live"


def test_reasons_name_the_closest_position() -> None:
    assert cadence(_risk(12.34), BANDS).reason == (
        "BTC/USDT:USDT 12.3% from liquidation, within 20% (2× the warning)"
    )
    assert cadence(_risk(25.0), BANDS).reason == "closest: BTC/USDT:USDT 25.0% from liquidation"
    assert cadence(_risk(math.nan), BANDS).reason == "no position with a liquidation price"


def test_an_accounts_own_interval_replaces_the_middle_band_and_bounds_the_others() -> None:
    """Linked with --poll-seconds 60: middle 60 s, near still 5 s, far never under 60 s; with
    --poll-seconds 2: near at 2 s (never slower than asked), far still 300 s."""
    assert BANDS.every_s(Band.MIDDLE, 60.0) == 60.0
    assert BANDS.every_s(Band.NEAR, 60.0) == 5.0
    assert BANDS.every_s(Band.FAR, 600.0) == 600.0
    assert BANDS.every_s(Band.NEAR, 2.0) == 2.0
    assert BANDS.every_s(Band.FAR, 2.0) == 300.0


def _rule(rule_id: int, spec: RuleSpec, *, enabled: bool = True) -> Rule:
    return Rule(rule_id, 1, None, spec, enabled=enabled, created_at=0.0)


def test_the_warning_distance_is_the_largest_enabled_liq_below_rule() -> None:
    rules = [
        _rule(1, RuleSpec(Kind.LIQ, Op.BELOW, 10.0, Severity.WARNING)),
        _rule(2, RuleSpec(Kind.LIQ, Op.BELOW, 5.0, Severity.CRITICAL)),
        _rule(3, RuleSpec(Kind.LIQ, Op.BELOW, 25.0, Severity.INFO), enabled=False),
        _rule(4, RuleSpec(Kind.MARGIN, Op.ABOVE, 80.0, Severity.WARNING)),
    ]
    assert warning_distance(rules) == 10.0
    assert warning_distance(rules[3:]) is None


def test_health_alerts_do_not_make_an_account_near() -> None:
    """A blind account polled every few seconds only spends budget on a failing venue."""
    liq = _rule(1, RuleSpec(Kind.LIQ, Op.BELOW, 10.0, Severity.WARNING))
    blind = _rule(2, state_spec(Kind.BLIND, Severity.WARNING))

    def live(rule_id: int) -> Alert:
        return Alert(9, rule_id, 7, "", AlertStatus.FIRING, 0.0, 1, 1.0, 1.0)

    assert not alerting([liq, blind], [live(2)])
    assert alerting([liq, blind], [live(1)])


def test_closest_skips_positions_without_a_liquidation_price() -> None:
    assert closest(np.array([np.nan, 30.0, 12.5]), ["A", "B", "C"]) == ("C", 12.5)
    symbol, pct = closest(np.array([np.nan, np.inf]), ["A", "B"])
    assert symbol is None and math.isnan(pct)


def _cost(bands: Bands, counts: dict[Band, int], poll_cost: float) -> float:
    return (
        poll_cost
        * 60.0
        * sum(counts.get(b, 0) / bands.every_s(b) for b in (Band.NEAR, Band.MIDDLE, Band.FAR))
    )


def test_a_budget_that_serves_every_band_stretches_nothing() -> None:
    """1,000 Hyperliquid wallets, all far (clearinghouseState costs 2 of 1,200 a minute): 400 a
    minute, inside 80 % of the budget; it would allow 40 near, 240 middle or 2,400 far alone."""
    found = fit(BANDS, {Band.FAR: 1000}, poll_cost=2.0, budget_per_min=1200.0)
    assert not found.stretched and found.bands == BANDS
    assert found.allows == {Band.NEAR: 40, Band.MIDDLE: 240, Band.FAR: 2400}
    assert found.demand_per_min == pytest.approx(400.0)


def test_far_accounts_stretch_first_and_the_plan_fits_the_budget() -> None:
    counts = {Band.NEAR: 10, Band.MIDDLE: 100, Band.FAR: 2000}
    found = fit(BANDS, counts, poll_cost=2.0, budget_per_min=1200.0)
    assert found.stretched
    assert found.bands.near_s == 5.0 and found.bands.middle_s == 30.0
    assert found.bands.far_s > 300.0
    assert _cost(found.bands, counts, 2.0) == pytest.approx(0.8 * 1200.0)


def test_the_middle_band_gives_way_when_stretching_far_is_not_enough() -> None:
    counts = {Band.NEAR: 20, Band.MIDDLE: 400, Band.FAR: 1000}
    found = fit(BANDS, counts, poll_cost=2.0, budget_per_min=1200.0)
    assert found.bands.near_s == 5.0
    assert found.bands.middle_s > 30.0 and found.bands.far_s >= 300.0
    assert _cost(found.bands, counts, 2.0) == pytest.approx(0.8 * 1200.0)


def test_a_near_band_that_alone_oversubscribes_the_budget_stretches_last_and_leaves_a_share() -> (
    None
):
    """The 5,000-account run's Hyperliquid half: 125 near wallets every 5 s ask 3,000 of 1,200 a
    minute. Far and middle stretch first, but that cannot make room: the near band then takes
    ``NEAR_SHARE`` of the plan (125 polls of 2 in 0.75 × 960 a minute: every 20.8 s) and the
    2,375 other wallets share the quarter left, instead of never being read."""
    counts = {Band.NEAR: 125, Band.MIDDLE: 375, Band.FAR: 2000}
    found = fit(BANDS, counts, poll_cost=2.0, budget_per_min=1200.0)
    assert found.stretched and found.near_stretched
    assert found.bands.near_s == pytest.approx(2.0 * 60.0 * 125 / (NEAR_SHARE * 0.8 * 1200.0))
    near_cost = _cost(found.bands, {Band.NEAR: 125}, 2.0)
    assert near_cost == pytest.approx(NEAR_SHARE * 0.8 * 1200.0)
    assert found.bands.middle_s > 30.0 and found.bands.far_s > found.bands.middle_s
    assert _cost(found.bands, counts, 2.0) == pytest.approx(0.8 * 1200.0)


def test_near_accounts_alone_may_take_the_whole_plan() -> None:
    found = fit(BANDS, {Band.NEAR: 100}, poll_cost=2.0, budget_per_min=1200.0)
    assert found.near_stretched
    assert _cost(found.bands, {Band.NEAR: 100}, 2.0) == pytest.approx(0.8 * 1200.0)


def test_a_near_band_within_its_share_is_never_stretched_however_starved_the_others() -> None:
    """30 near wallets take 720 of the 960 planned (exactly ``NEAR_SHARE``): far and middle
    give way, the near band keeps its 5 s."""
    counts = {Band.NEAR: 30, Band.MIDDLE: 400, Band.FAR: 4000}
    found = fit(BANDS, counts, poll_cost=2.0, budget_per_min=1200.0)
    assert not found.near_stretched and found.bands.near_s == 5.0
    assert found.bands.middle_s > 30.0
    assert _cost(found.bands, counts, 2.0) == pytest.approx(0.8 * 1200.0)
