"""Staleness against the fakes: a silent venue's symbols go stale, REST marks stand in, the
operator hears once, and the venue recovers by itself; a still market does not flap."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.delivery.ops import OpsAlerts
from bot.render.notices import render
from bot.stream import MarkStreams
from bot.stream.venues import stream_spec
from engine.domain import Platform
from storage import Database
from storage.outbox import Outbox
from tests.bot.stream.conftest import CASES, Case, World, each_venue

#: Venues that push on change only (or idle longer than the stale limit).
STILL = [case for case in CASES if not stream_spec(case.venue).periodic]


async def _degrade(world: World, case: Case, rest_mark: float) -> MarkStreams:
    """Streams on ``case.symbol``, then the venue silenced while its mark moves to
    ``rest_mark`` (REST has it, the stream keeps it), past the stale limit."""
    world.agree(case.venue, case.symbol)
    streams = world.start({case.venue: [case.symbol]})
    await world.until(lambda: world.marks(case.symbol), "the first tick")
    world.stream.silence(case.venue)
    world.stream.set_mark(case.venue, case.symbol, rest_mark)
    world.go_quiet()
    await world.until(lambda: streams.status()[case.venue].state == "degraded", "degraded")
    return streams


@each_venue
async def test_a_silent_venue_goes_stale_and_rest_marks_stand_in(world: World, case: Case) -> None:
    """Socket open, nothing sent: the symbol goes stale, the REST fake's mark arrives as
    ``rest`` ticks every few tenths, and the operator is told once."""
    streams = await _degrade(world, case, 4242.5)
    await world.until(lambda: len(world.marks(case.symbol, "rest")) >= 4, "REST marks")
    assert set(world.marks(case.symbol, "rest")) == {4242.5}
    assert streams.status()[case.venue].stale == (case.symbol,)
    (told,) = world.ops.about(case.venue, "degraded")
    assert told.detail is not None and told.detail.startswith(f"marks degraded on {case.venue}:")
    assert case.symbol in told.detail
    assert world.ops.about(case.venue, "recovered") == []


@each_venue
async def test_a_silent_venue_recovers_when_it_speaks_again(world: World, case: Case) -> None:
    """The next push after the silence makes the venue live again by itself, and the
    operator hears that once, after the one message about the degradation."""
    streams = await _degrade(world, case, 4242.5)
    world.stream.silence(case.venue, on=False)
    world.stream.set_mark(case.venue, case.symbol, 4243.0)
    await world.until(lambda: 4243.0 in world.marks(case.symbol, "stream"), "a streamed mark")
    await world.until(lambda: streams.status()[case.venue].state == "live", "live again")
    await asyncio.sleep(0.3)  # a few more checks: none may tell again
    assert len(world.ops.about(case.venue, "degraded")) == 1
    assert len(world.ops.about(case.venue, "recovered")) == 1
    assert streams.status()[case.venue].stale == ()


async def test_a_silent_venue_whose_rest_fails_too_stays_degraded(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Neither the stream nor REST answers: the symbol is stale with no mark to stand in,
    the operator is told once, and the venue keeps trying (nothing crashes)."""
    case = next(c for c in CASES if c.venue == "bybit")
    world.fake.fail("bybit", status=503, times=10_000, path="tickers")
    streams = await _degrade(world, case, 4242.5)
    await world.until(lambda: world.fake.count("bybit", case.rest) >= 12, "REST retried")
    assert streams.status()["bybit"].stale == (case.symbol,)
    assert world.marks(case.symbol, "rest") == []
    assert len(world.ops.about("bybit", "degraded")) == 1
    assert not [r for r in caplog.records if "crashed" in r.getMessage()]


@pytest.mark.parametrize("case", STILL, ids=str)
async def test_a_still_market_does_not_go_stale(world: World, case: Case) -> None:
    """On a venue that pushes on change, no push past the limit is no silence when REST
    shows the mark the stream last sent: the symbol stays live, one REST read per quiet
    spell, no REST tick, no operator message."""
    world.agree(case.venue, case.symbol)
    streams = world.start({case.venue: [case.symbol]})
    await world.until(lambda: world.marks(case.symbol), "the first tick")
    await world.hub.public(case.venue)  # the hub's markets: loading them reads contexts too
    reads = world.fake.count(case.venue, case.rest)
    for spell in range(1, 4):
        world.go_quiet()
        await world.until(
            lambda n=spell: world.fake.count(case.venue, case.rest) == reads + n, "a REST read"
        )
    await asyncio.sleep(0.3)  # a few more checks
    assert world.fake.count(case.venue, case.rest) == reads + 3
    assert streams.status()[case.venue].state == "live"
    assert world.marks(case.symbol, "rest") == [] and world.ops.told == []


async def test_on_binance_no_push_is_stale_even_at_the_same_mark(world: World) -> None:
    """Binance pushes every second whether the mark moved or not: a symbol without a push
    past the limit is stale even though REST shows the very mark it last streamed."""
    world.agree("binanceusdm", "ETH/USDT:USDT")
    streams = world.start({"binanceusdm": ["ETH/USDT:USDT"]})
    await world.until(lambda: world.marks("ETH/USDT:USDT"), "the first tick")
    world.go_quiet()
    await world.until(lambda: streams.status()["binanceusdm"].state == "degraded", "degraded")
    assert set(world.marks("ETH/USDT:USDT", "rest")) == set(world.marks("ETH/USDT:USDT"))


async def test_the_operator_message_goes_through_the_ops_outbox(
    world: World, tmp_path: Path
) -> None:
    """With liqwatch's OpsAlerts as the sink, a degradation is one outbox row for the ops
    chat under the episode's key, rendered "marks degraded on bybit: …"."""
    async with Database.open(tmp_path / "liqwatch.db") as db:
        ops = OpsAlerts(db, (Platform.TELEGRAM, "ops"))
        world.agree("bybit", "ETH/USDT:USDT")
        streams = world.start({"bybit": ["ETH/USDT:USDT"]}, ops=ops)
        await world.until(lambda: world.marks("ETH/USDT:USDT"), "the first tick")
        world.stream.silence("bybit")
        world.stream.set_mark("bybit", "ETH/USDT:USDT", 3000.5)
        world.go_quiet()
        await world.until(lambda: streams.status()["bybit"].state == "degraded", "degraded")
        await streams.close()
        row = await Outbox(db).sent_notice(1)
        assert await Outbox(db).sent_notice(2) is None
    assert row is not None and row.dedup_key.startswith("ops:marks:bybit:degraded:")
    assert (row.platform, row.chat_id) == (Platform.TELEGRAM, "ops")
    assert "marks degraded on bybit: no stream update for ETH/USDT:USDT" in render(row.notice)
