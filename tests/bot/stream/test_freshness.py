"""The verdict on each symbol's stream (time comes in as an argument), the reconnect backoff
and where each venue's mark is read."""

from __future__ import annotations

import math

import pytest

from bot.stream.freshness import Freshness
from bot.stream.records import Backoff, Tuning
from bot.stream.venues import read_mark, stream_spec

LIMIT = 10.0
T0 = 1_000.0
QUIET = T0 + LIMIT + 1


def _fresh(*, periodic: bool, mark: float | None = 100.0) -> Freshness:
    """``BTC`` followed at T0 and (unless ``mark`` is None) streamed at ``mark`` then."""
    fresh = Freshness(periodic=periodic, stale_after_s=LIMIT)
    fresh.follow(["BTC"], T0)
    if mark is not None:
        fresh.pushed("BTC", mark, T0)
    return fresh


def test_a_symbol_is_quiet_only_past_the_limit() -> None:
    """No push for less than the limit is not quiet; past it, it is."""
    fresh = _fresh(periodic=True)
    assert fresh.quiet(T0 + LIMIT - 0.5) == []
    assert fresh.quiet(QUIET) == ["BTC"]


def test_on_a_periodic_venue_quiet_is_stale_whatever_rest_says() -> None:
    """The venue promised a push: silence is a fault even at the same mark, and REST's mark
    stands in."""
    fresh = _fresh(periodic=True)
    assert fresh.judge(["BTC"], {"BTC": 100.0}, QUIET) == ["BTC"]
    assert fresh.stale() == ("BTC",)


def test_elsewhere_rest_showing_the_streamed_mark_keeps_the_symbol_live() -> None:
    """A still market: the stream is current, the symbol is fresh again from the REST read."""
    fresh = _fresh(periodic=False)
    assert fresh.judge(["BTC"], {"BTC": 100.0}, QUIET) == []
    assert fresh.stale() == () and fresh.quiet(QUIET + 1) == []


def test_elsewhere_another_rest_mark_is_a_strike_and_two_are_stale() -> None:
    """The first disagreement may be a push on its way: REST stands in, not yet stale; the
    second in a row makes it stale."""
    fresh = _fresh(periodic=False)
    assert fresh.judge(["BTC"], {"BTC": 101.0}, QUIET) == ["BTC"]
    assert fresh.stale() == ()
    assert fresh.judge(["BTC"], {"BTC": 101.0}, QUIET + 0.1) == ["BTC"]
    assert fresh.stale() == ("BTC",)


def test_a_push_between_two_strikes_starts_over() -> None:
    """A push clears the strike: the next disagreement is a first one again."""
    fresh = _fresh(periodic=False)
    fresh.judge(["BTC"], {"BTC": 101.0}, QUIET)
    fresh.pushed("BTC", 101.0, QUIET + 1)
    later = QUIET + 1 + LIMIT + 1
    fresh.judge(["BTC"], {"BTC": 102.0}, later)
    assert fresh.stale() == ()


def test_no_rest_mark_and_no_streamed_mark_is_no_confirmation() -> None:
    """A symbol never streamed, with REST failing, cannot be confirmed (absent ≠ absent)."""
    fresh = _fresh(periodic=False, mark=None)
    fresh.judge(["BTC"], {}, QUIET)
    fresh.judge(["BTC"], {}, QUIET + 0.1)
    assert fresh.stale() == ("BTC",)


def test_a_push_during_the_rest_read_is_not_judged() -> None:
    """Quiet when REST was asked, pushed before it answered: nothing to rule on."""
    fresh = _fresh(periodic=True)
    quiet = fresh.quiet(QUIET)
    fresh.pushed("BTC", 100.5, QUIET + 0.05)
    assert fresh.judge(quiet, {"BTC": 100.0}, QUIET + 0.1) == []
    assert fresh.stale() == ()


def test_only_a_push_ends_staleness() -> None:
    """A stale symbol stays stale through REST reads; a push makes it live and says so."""
    fresh = _fresh(periodic=False)
    for n in range(3):
        fresh.judge(["BTC"], {"BTC": 101.0}, QUIET + n)
    assert fresh.is_stale("BTC")
    assert fresh.pushed("BTC", 101.0, QUIET + 5) is True
    assert fresh.stale() == () and fresh.pushed("BTC", 101.5, QUIET + 6) is False


def test_follow_keeps_the_verdicts_of_symbols_still_followed() -> None:
    """A new symbol gets the whole limit from now; a dropped one is forgotten."""
    fresh = _fresh(periodic=True)
    fresh.judge(["BTC"], {}, QUIET)
    fresh.follow(["BTC", "ETH"], QUIET)
    assert fresh.stale() == ("BTC",) and fresh.quiet(QUIET + 1) == ["BTC"]
    fresh.follow(["ETH"], QUIET + 2)
    assert fresh.symbols() == {"ETH"} and fresh.stale() == ()


def test_backoff_doubles_up_to_its_cap_and_resets() -> None:
    """0.5, 1, 2 … capped at 30 s; after a success it starts over."""
    backoff = Backoff(0.5, 30.0)
    delays = [backoff.next() for _ in range(8)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    backoff.reset()
    assert backoff.next() == 0.5


@pytest.mark.parametrize(
    "timings", [{"stale_after_s": 0.0}, {"rest_every_s": -1.0}, {"backoff_cap_s": 0.1}]
)
def test_timings_must_be_positive_with_the_cap_above_the_start(timings: dict[str, float]) -> None:
    """A zero limit or a cap below the first delay is refused at construction."""
    with pytest.raises(ValueError, match="positive"):
        Tuning(**timings)


def test_hyperliquids_mark_is_read_from_the_context() -> None:
    """ccxt leaves Hyperliquid's markPrice empty: the mark is ``info.markPx``."""
    ticker = {"markPrice": None, "close": 150.5, "info": {"markPx": "150.25"}}
    assert read_mark(stream_spec("hyperliquid"), ticker) == 150.25
    assert read_mark(stream_spec("bybit"), ticker) is None


@pytest.mark.parametrize("raw", [math.nan, math.inf, 0.0, -5.0, "garbage", None])
def test_only_finite_positive_marks_are_read(raw: object) -> None:
    """A mark that is no finite positive number is no mark."""
    assert read_mark(stream_spec("okx"), {"markPrice": raw}) is None
