"""What rules see of a real analysis: per-position and account values in each kind's unit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bot.analysis.snapshot import parse
from engine.alerts.observe import observe, observe_failure
from engine.alerts.rules import Kind
from engine.analysis import analyze
from engine.domain import AccountStatus
from tests.engine.alerts.helpers import ACCOUNT

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "binanceusdm.json"


def _analysis():  # type: ignore[no-untyped-def]
    loaded = parse(json.loads(EXAMPLE.read_text()))
    return analyze(loaded.snapshot, volatility={"BTC": 0.6, "ETH": 0.7}, horizon_hours=24)


def test_position_values_come_from_the_engine_arrays_in_percent() -> None:
    """liq is the distance %, prob is probability × 100, funding is the rate × 100."""
    analysis = _analysis()
    obs = observe(analysis, ACCOUNT, at=5.0, funding={"BTC/USDT:USDT": 0.0005})
    valid = np.flatnonzero(analysis.snapshot.positions.valid)
    assert [s.key.rsplit(":", 1)[0] for s in obs.positions] == [
        analysis.snapshot.positions.symbol[i] for i in valid
    ]
    btc = next(s for s in obs.positions if s.symbol == "BTC/USDT:USDT")
    i = int(valid[0])
    np.testing.assert_allclose(btc.value(Kind.LIQ), analysis.distance_pct[i])
    np.testing.assert_allclose(btc.value(Kind.PROB), analysis.probability[i] * 100)
    np.testing.assert_allclose(btc.value(Kind.FUNDING), 0.05)
    assert np.isnan(obs.positions[1].value(Kind.FUNDING))


def test_account_values_are_margin_percent_leverage_and_gross_exposure() -> None:
    """margin is maintenance / equity × 100; health states read 0 on a good poll."""
    analysis = _analysis()
    account = observe(analysis, ACCOUNT, at=5.0).account_subject
    np.testing.assert_allclose(account.value(Kind.MARGIN), analysis.portfolio.margin_ratio * 100)
    np.testing.assert_allclose(account.value(Kind.LEVERAGE), analysis.portfolio.effective_leverage)
    assert (account.value(Kind.BLIND), account.value(Kind.AUTH)) == (0.0, 0.0)


def test_a_failed_poll_only_knows_the_health_state() -> None:
    """Blind: BLIND reads 1, positions unknown (not seen)."""
    obs = observe_failure(ACCOUNT, at=5.0, status=AccountStatus.BLIND)
    assert not obs.seen and obs.positions == ()
    assert obs.account_subject.value(Kind.BLIND) == 1.0
    assert np.isnan(obs.account_subject.value(Kind.MARGIN))
