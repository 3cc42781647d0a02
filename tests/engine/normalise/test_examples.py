"""The committed example snapshots parse cleanly and are what make_examples generates."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bot.analysis.snapshot import load
from engine.greeks import by_underlying, position_greeks
from engine.liquidation import compute
from tests.engine.normalise import make_examples

FILES = {
    "binanceusdm.json": make_examples.binanceusdm_snapshot,
    "hyperliquid.json": make_examples.hyperliquid_snapshot,
    "deribit_options.json": make_examples.deribit_options_snapshot,
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_example_positions_are_all_valid(name: str) -> None:
    """Every position of the example is valid, without any diagnostic."""
    snapshot = load(make_examples.EXAMPLES / name).snapshot
    assert snapshot.positions.valid.all()
    assert all(d == () for d in snapshot.positions.diagnostics)
    assert snapshot.account.diagnostics == ()


@pytest.mark.parametrize("name", sorted(FILES))
def test_example_is_reproducible(name: str) -> None:
    """The committed file equals what the generator makes from the raw payloads."""
    committed = json.loads((make_examples.EXAMPLES / name).read_text(encoding="utf-8"))
    assert committed == json.loads(make_examples.render(FILES[name]()))


def test_binance_example_isolated_sol_is_six_percent_away() -> None:
    """The isolated SOL long sits about 6 % above its venue liquidation price."""
    p = load(make_examples.EXAMPLES / "binanceusdm.json").snapshot.positions
    i = list(p.symbol).index("SOL/USDT:USDT")
    np.testing.assert_allclose((p.mark[i] - p.venue_liq[i]) / p.mark[i], 0.06, atol=0.002)


@pytest.mark.parametrize("name", sorted(FILES))
def test_example_venue_liquidation_prices_match_the_engine(name: str) -> None:
    """Each venue liquidation price equals the engine's own figure from the raw fields."""
    snapshot = load(make_examples.EXAMPLES / name).snapshot
    np.testing.assert_allclose(compute(snapshot).price, snapshot.positions.venue_liq, rtol=1e-6)


def test_options_example_greeks_by_hand() -> None:
    """The straddle's greeks from Deribit's own position figures, summed with the perpetual as
    payloads/deribit_options.py works out: net delta −0.0010472 BTC, gamma −6,333.40 USD per
    1 %, vega −791.68 USD per vol point, theta +216.90 USD a day; each option's source is the
    venue and agrees with Black-76 at the mark IV (no diagnostic)."""
    snapshot = load(make_examples.EXAMPLES / "deribit_options.json").snapshot
    p = snapshot.positions
    (btc,) = by_underlying(p, position_greeks(p))
    assert btc.delta_coin == pytest.approx(-0.0010472, abs=1e-7)
    assert btc.delta_usd == pytest.approx(-104.72, abs=0.01)
    assert btc.gamma_usd == pytest.approx(-4 * 1.583351e-5 * 100_000.0**2 / 100, rel=1e-6)
    assert btc.vega_usd == pytest.approx(-4 * 197.9188, rel=1e-6)
    assert btc.theta_usd == pytest.approx(4 * 54.22434, rel=1e-6)
    assert [p.greeks_source.names[c] for c in p.greeks_source.code[:2]] == ["venue", "venue"]
