"""The demo's market and simulated venue, priced by the real snapshot parser and engine."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import AsyncIterator

import numpy as np
import pytest

from bot.analysis.snapshot import parse
from bot.demo.accounts import DEMO_ACCOUNTS, DESK_BINANCE, HL_WALLET, SWING_BYBIT, DemoAccount
from bot.demo.market import (
    CALM,
    CRITICAL_HOLD,
    CRITICAL_MOVE,
    PHASES,
    RECOVERED,
    SCENARIO_S,
    START_PRICES,
    WARNING_HOLD,
    Market,
)
from bot.demo.venue import SimulatedVenue
from bot.exchanges.errors import ExchangeFailure
from engine.analysis import Analysis, analyze
from tests.fakes.clock import FakeClock

SEEDS = (0, 1, 2)


@pytest.fixture
async def venue() -> AsyncIterator[SimulatedVenue]:
    simulated = SimulatedVenue(Market(0), FakeClock(1000.0), DEMO_ACCOUNTS)
    yield simulated
    await simulated.close()


def analysis_at(venue: SimulatedVenue, account: DemoAccount, elapsed_s: float) -> Analysis:
    loaded = parse(venue.snapshot_at(account, elapsed_s), source=account.label)
    return analyze(loaded.snapshot, volatility=loaded.volatility)


@functools.cache
def sweep(seed: int, label: str) -> tuple[Analysis, ...]:
    """The engine's analysis of one account at every whole second of the scenario (shared)."""
    account = next(a for a in DEMO_ACCOUNTS if a.label == label)
    venue = SimulatedVenue(Market(seed), FakeClock(1000.0), DEMO_ACCOUNTS)
    return tuple(analysis_at(venue, account, t) for t in seconds(0.0, SCENARIO_S))


def distance(seed: int, account: DemoAccount, underlying: str, at_s: float) -> float:
    result = sweep(seed, account.label)[int(at_s)]
    (index,) = np.flatnonzero(np.asarray(result.snapshot.positions.underlying) == underlying)
    return float(result.distance_pct[index])


def seconds(phase_start: float, phase_end: float) -> list[float]:
    return [float(t) for t in range(math.ceil(phase_start), math.ceil(phase_end))]


def test_market_is_deterministic_per_seed() -> None:
    """The same seed gives the same marks whatever order the times are asked in."""
    forward = Market(7)
    backward = Market(7)
    times = [0.0, 3.5, 17.25, 59.0, 200.0]
    expected = [forward.marks(t) for t in times]
    assert [backward.marks(t) for t in reversed(times)] == list(reversed(expected))
    assert Market(8).marks(17.25) != expected[2]


def test_market_without_noise_follows_the_script() -> None:
    """With the walk off, BTC sits at its scripted crash level through the critical hold."""
    marks = Market(0, tick_sigma=0.0).marks(CRITICAL_HOLD.mid_s)
    assert marks["BTC"] == pytest.approx(START_PRICES["BTC"] * math.exp(CRITICAL_MOVE))
    assert marks["ETH"] / START_PRICES["ETH"] < marks["BTC"] / START_PRICES["BTC"]


def test_market_refuses_negative_elapsed_time() -> None:
    """Elapsed time before the start is a caller bug, not a price."""
    with pytest.raises(ValueError, match="elapsed_s"):
        Market(0).marks(-1.0)


def test_phases_tile_the_scenario() -> None:
    """The documented phases follow each other without gaps and end with the scenario."""
    assert PHASES[0].start_s == 0.0
    assert all(a.end_s == b.start_s for a, b in itertools.pairwise(PHASES))
    assert PHASES[-1].end_s == SCENARIO_S <= 60.0
    assert CRITICAL_HOLD.start_s <= 30.0


@pytest.mark.parametrize("seed", SEEDS)
def test_desk_btc_long_goes_warning_critical_and_back(seed: int) -> None:
    """desk-binance's BTC long: safe, then < 10 %, then < 5 %, then > 12 %, in every seed."""
    zones = [
        (CALM, lambda d: d > 12.0),
        (WARNING_HOLD, lambda d: 5.0 < d < 10.0),
        (CRITICAL_HOLD, lambda d: d < 5.0),
        (RECOVERED, lambda d: d > 12.0),
    ]
    for phase, inside in zones:
        for at_s in seconds(phase.start_s, phase.end_s):
            found = distance(seed, DESK_BINANCE, "BTC", at_s)
            assert inside(found), f"seed {seed}, {phase.name} at {at_s}s: {found:.2f}%"


@pytest.mark.parametrize("seed", SEEDS)
def test_other_accounts_warn_at_most(seed: int) -> None:
    """swing-bybit's BTC long only warns during the critical hold; hl-wallet never alerts."""
    for at_s in seconds(0.0, SCENARIO_S):
        swing = distance(seed, SWING_BYBIT, "BTC", at_s)
        assert swing > 5.0
        if CRITICAL_HOLD.start_s <= at_s < CRITICAL_HOLD.end_s:
            assert swing < 10.0
        elif not WARNING_HOLD.end_s <= at_s < RECOVERED.start_s:
            assert swing > 12.0
        assert (sweep(seed, HL_WALLET.label)[int(at_s)].distance_pct > 12.0).all()


@pytest.mark.parametrize("account", DEMO_ACCOUNTS, ids=lambda a: a.label)
def test_every_position_is_valid_with_a_finite_liquidation_price(account: DemoAccount) -> None:
    """No demo position carries a diagnostic, and each has a venue and an engine price."""
    for seed in SEEDS:
        for result in sweep(seed, account.label):
            positions = result.snapshot.positions
            assert positions.valid.all()
            assert [result.diagnostics(i) for i in range(len(positions))] == [()] * len(positions)
            assert np.isfinite(result.liquidation_price).all()
            assert np.isfinite(result.computed.price).all()
            assert not result.snapshot.account.diagnostics


@pytest.mark.parametrize("account", DEMO_ACCOUNTS, ids=lambda a: a.label)
def test_venue_and_engine_liquidation_prices_agree(account: DemoAccount) -> None:
    """The venue's reported price is the engine's own, to rounding, at every second."""
    for seed in SEEDS:
        for result in sweep(seed, account.label):
            np.testing.assert_allclose(
                result.snapshot.positions.venue_liq, result.computed.price, rtol=1e-6
            )


async def test_fetch_snapshot_reads_the_clock_and_bound_keys() -> None:
    """A bound account id answers with the snapshot at the clock's elapsed time."""
    clock = FakeClock(1000.0)
    venue = SimulatedVenue(Market(3), clock, DEMO_ACCOUNTS)
    venue.bind(42, DESK_BINANCE)
    clock.now += 27.5
    fetched = await venue.fetch_snapshot("42", "binanceusdm", None)
    assert fetched == venue.snapshot_at(DESK_BINANCE, 27.5)
    assert await venue.fetch_snapshot("desk-binance", "binanceusdm", None) == fetched
    await venue.close()


async def test_snapshot_has_the_hub_shape(venue: SimulatedVenue) -> None:
    """exchange, ccxt positions and balance with raw info, tiers keyed by position symbol."""
    for account in DEMO_ACCOUNTS:
        raw = await venue.fetch_snapshot(account.label, account.venue, None)
        assert raw["exchange"] == account.venue
        assert len(raw["positions"]) == len(account.positions)
        assert all(isinstance(p["info"], dict) for p in raw["positions"])
        assert isinstance(raw["balance"]["info"], dict)
        symbols = {p["symbol"] for p in raw["positions"]}
        assert set(raw["leverage_tiers"]) in (symbols, set())


async def test_unknown_keys_and_wrong_venues_are_exchange_failures(
    venue: SimulatedVenue,
) -> None:
    """The monitor sees failures it already handles, never a KeyError."""
    with pytest.raises(ExchangeFailure) as unknown:
        await venue.fetch_snapshot("99", "bybit", None)
    assert unknown.value.kind == "auth"
    with pytest.raises(ExchangeFailure):
        await venue.fetch_snapshot("swing-bybit", "binanceusdm", None)
