"""1,000 Hyperliquid wallets and 300 Binance USDⓈ-M accounts on one real monitor, for longer
than a venue's minute: neither venue ever receives more weight in a minute than it publishes
(counted by the fake as the venue counts it), near accounts are polled at the near band's
interval throughout, and it is the far band that stretches to fit each budget."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest

from engine.cadence import Band, Bands
from tests.bot.monitor.fleet import Fleet, fleet
from tests.fakes.exchange import FakeExchange
from tests.fakes.exchange.weights import LIMITS, describe

#: Long enough for more than one full minute of each venue's window, most of it the start-up
#: round (every account due at once, as after a restart: 1,000 clearinghouseState reads are
#: 2,000 of Hyperliquid's weight, close to two minutes of its budget).
RUN_S = 110.0
#: A far band of a minute (LIQWATCH_POLL_FAR_SECONDS=60): at the default 300 s, 1,000 far
#: wallets cost 400 of Hyperliquid's 1,200 a minute and nothing would need to stretch; at 60 s
#: the far accounts alone pass each budget, which must then stretch them and only them.
BANDS = Bands(far_s=60.0)
#: Near and middle fit each budget with room (Hyperliquid 240 + 160 of 960 planned at 2 a
#: poll; Binance 600 + 500 of 1,920 at 10 a poll); the far accounts are the rest.
MIX = {
    "hyperliquid": {Band.NEAR: 10, Band.MIDDLE: 40, Band.FAR: 950},
    "binanceusdm": {Band.NEAR: 5, Band.MIDDLE: 25, Band.FAR: 270},
}
#: A near poll may start this much later than its 5 s: APScheduler's tick, the budget's one
#: request in flight ahead of it (a 20-weight read is 1.1 s of Hyperliquid's pace), the fake's
#: answer on a loop busy with a thousand other polls.
NEAR_SLACK_S = 2.5


@pytest.mark.scale
@pytest.mark.slow
@pytest.mark.timeout(RUN_S + 120)
async def test_a_thousand_wallets_and_300_binance_keys_stay_inside_both_budgets(
    tmp_path: Path,
) -> None:
    """From a restart, for 110 s: no sliding minute past either venue's published limit, near
    accounts every 5 s, the far band stretched to fit and the near band not."""
    async with FakeExchange() as fake, fleet(tmp_path, fake, MIX, bands=BANDS) as running:
        started = time.monotonic()
        await _run(running, RUN_S)
        polls = running.polls()
        fitted = {v: running.monitor.cadences.bands_of(v) for v in MIX}
        intervals = _job_intervals(running)
        now = {a: c.band for a in running.wanted if (c := running.monitor.cadences[a])}
    meter = fake.weights
    print(f"\n{describe(meter)}; fitted {fitted}")
    assert not meter.unknown, f"requests the weight table does not know: {dict(meter.unknown)}"
    assert not meter.breaches, f"{meter.breaches[:3]} … ({describe(meter)})"
    for venue in MIX:
        # The budget was really used: a test whose load stays far under the limit proves nothing.
        assert meter.peak(venue) > 0.6 * LIMITS[venue], describe(meter)
    assert fake.requests[-1].at - started > 60.0
    _near_polled_every_interval(running, polls)
    for venue, bands in fitted.items():
        assert bands is not None
        assert bands.near_s == BANDS.near_s, f"{venue}: near stretched to {bands.near_s}"
        assert bands.far_s > BANDS.far_s, f"{venue}: far not stretched ({bands.far_s})"
        far = {intervals[a] for a, band in now.items() if band is Band.FAR
               and running.venue_of[a] == venue}  # fmt: skip
        assert far and all(every == pytest.approx(bands.far_s, abs=1e-3) for every in far), (
            f"{venue}: far jobs at {far}, fitted {bands.far_s}"
        )
        assert sum(running.venue_of[a] == venue for a in now) > MIX[venue][Band.NEAR] * 10


async def _run(running: Fleet, seconds: float) -> None:
    """Let the scheduler poll for ``seconds``; no poll may fail."""
    await asyncio.sleep(seconds)
    assert running.monitor.stats.failures == 0


def _near_polled_every_interval(running: Fleet, polls: dict[int, list[float]]) -> None:
    """Every near account: its band is near, and from its second poll on no gap between two
    polls is longer than the band's interval (plus the slack); the gaps' median is the
    interval itself. (Its first poll queued with every other account's first: nothing said it was
    near yet.)"""
    near = [a for a, band in running.wanted.items() if band is Band.NEAR]
    gaps = []
    for account_id in near:
        cadence = running.monitor.cadences[account_id]
        assert cadence is not None and cadence.band is Band.NEAR, (account_id, cadence)
        times = polls[account_id]
        assert len(times) >= 6, (account_id, len(times))
        own = np.diff(times[1:])
        assert own.max() <= BANDS.near_s + NEAR_SLACK_S, (
            f"near account {account_id} ({running.venue_of[account_id]}) waited "
            f"{own.max():.1f} s between polls"
        )
        gaps.extend(own.tolist())
    print(f"near gaps: median {np.median(gaps):.2f} s, longest {max(gaps):.2f} s")
    assert abs(float(np.median(gaps)) - BANDS.near_s) < 0.5


def _job_intervals(running: Fleet) -> dict[int, float]:
    """Each account's poll job interval now (seconds)."""
    out = {}
    for job in running.monitor.scheduler.get_jobs():
        if job.id.startswith("poll:"):
            out[int(job.id.split(":")[1])] = job.trigger.interval.total_seconds()
    return out
