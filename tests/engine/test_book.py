"""The book re-prices many accounts as ``analyze(with_marks(...))`` prices each one."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.analysis import analyze
from engine.book import Book
from engine.book import book as book_module
from engine.normalise import Snapshot
from engine.probability import TouchModel
from engine.reprice import with_marks
from tests.engine import test_reprice as cases
from tests.engine.book_cases import accounts, ticks
from tests.engine.book_helpers import assert_same_analysis

VOL = {"BTC": 0.6, "ETH": 0.8, "SOL": 1.1}


def _check(book: Book, marks: dict[str, float], state: dict[int, Snapshot], venue: str | None):
    """Tick the book and the reference alike; the touched accounts and their analyses agree."""
    moved = {}
    for account, snap in state.items():
        if venue is None or snap.positions.venue == venue:
            new = with_marks(snap, marks)
            if new is not snap:
                moved[account] = new
    repriced = book.reprice(marks, venue=venue)
    assert sorted(repriced.accounts.tolist()) == sorted(moved)
    state.update(moved)
    for account, analysis in repriced.analyses():
        assert_same_analysis(analysis, analyze(state[account], volatility=VOL))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(accounts(), min_size=1, max_size=6),
    st.lists(ticks(), min_size=1, max_size=3),
    st.sampled_from([None, "binanceusdm", "okx", "deribit", "hyperliquid"]),
)
def test_book_agrees_with_analyze_of_with_marks(
    snapshots: list[Snapshot], marks: list[dict[str, float]], venue: str | None
) -> None:
    """Random books (every venue, cross and isolated, linear, inverse and options, hedge legs,
    unreadable rows): each tick re-prices exactly the accounts ``with_marks`` moves, each to
    1e-9 of ``analyze`` of its moved snapshot; a whole-book pass agrees for every account."""
    book = Book.build(snapshots, volatility=VOL)
    state = dict(enumerate(snapshots))
    for tick in marks:
        _check(book, tick, state, venue)
    whole = book.reprice({}, whole=True)
    assert sorted(whole.accounts.tolist()) == sorted(state)
    for account, analysis in whole.analyses():
        assert_same_analysis(analysis, analyze(state[account], volatility=VOL))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(accounts(), min_size=2, max_size=5),
    st.lists(accounts(), min_size=1, max_size=3),
    ticks(),
    ticks(),
)
def test_replaced_and_dropped_accounts_price_from_their_new_snapshot(
    snapshots: list[Snapshot],
    polls: list[Snapshot],
    first: dict[str, float],
    then: dict[str, float],
) -> None:
    """A poll's snapshot replaces the account's (its earlier ticks forgotten), a dropped
    account is no longer re-priced, an added one is; compaction changes nothing."""
    book = Book.build(snapshots, volatility=VOL)
    state = dict(enumerate(snapshots))
    _check(book, first, state, None)
    for k, poll in enumerate(polls):
        account = k % len(snapshots)
        book.replace(account, poll, volatility=VOL)
        state[account] = poll
    book.replace(len(snapshots) - 1, None)
    del state[len(snapshots) - 1]
    state[book.add(polls[0], volatility=VOL)] = polls[0]
    book._compact(0)
    _check(book, then, state, None)


def test_a_btc_tick_moves_the_eth_position_of_the_same_cross_pool() -> None:
    """Binance cross, wallet 10,000: ETH short 10 at 3,000 (MMR 0.5 %) beside BTC long 0.5
    (MMR 0.4 %). ETH's LP = (WB + UPNL1 − TMM1 + s_ETH... ) = (10,000 + UPNL1 − TMM1 + 30,000)
    / (10·0.005 + 10): before, (10,000 + 0 − 120 + 30,000)/10.05 = 3,968.159; after BTC to
    61,000, UPNL1 = 500 and TMM1 = 0.5·61,000·0.004 = 122: 40,378/10.05 = 4,017.711."""
    book = Book.build([cases._usdm()])
    before = book.reprice({}, whole=True)
    np.testing.assert_allclose(before.analysis(0).computed.price[1], 39_880 / 10.05)
    after = book.reprice({"BTC/USDT:USDT": 61_000.0})
    np.testing.assert_allclose(after.analysis(0).computed.price[1], 40_378 / 10.05)
    np.testing.assert_allclose(after.column("liquidation_price")[1], 40_378 / 10.05)


def test_a_tick_on_other_symbols_or_venues_touches_nothing() -> None:
    """No account holds DOGE; BTC/USDT:USDT on OKX is not Binance's; the poll's own marks."""
    book = Book.build([cases._usdm(), cases._coinm()])
    assert len(book.reprice({"DOGE/USDT:USDT": 0.1})) == 0
    assert len(book.reprice({"BTC/USDT:USDT": 61_000.0}, venue="okx")) == 0
    assert len(book.reprice({"BTC/USDT:USDT": 60_000.0, "BTC/USD:BTC": 50_000.0})) == 0
    assert book.reprice({"BTC/USDT:USDT": 61_000.0}, venue="binanceusdm").accounts.tolist() == [0]


def test_the_columns_are_the_analyses_side_by_side() -> None:
    """Per-position columns run account after account; per-account totals in the same order."""
    book = Book.build([cases._usdm(), cases._hyperliquid(), cases._usdm("okx")], volatility=VOL)
    repriced = book.reprice({"BTC/USDT:USDT": 61_000.0, "ETH/USDC:USDC": 3_300.0})
    assert repriced.accounts.tolist() == [0, 1, 2]
    for k, account in enumerate(repriced.accounts.tolist()):
        analysis = repriced.analysis(account)
        part = repriced.rows(account)
        np.testing.assert_array_equal(repriced.distance_pct[part], analysis.distance_pct)
        np.testing.assert_array_equal(repriced.mark[part], analysis.snapshot.positions.mark)
        assert repriced.margin_ratio[k] == analysis.portfolio.margin_ratio


def test_the_book_prices_with_the_touch_model_it_was_given() -> None:
    """A GBM book (LIQWATCH_TOUCH_MODEL=gbm) agrees with ``analyze`` under GBM, and its
    probabilities differ from the default model's: the choice reaches every re-pricing."""
    snapshots = [cases._usdm(), cases._hyperliquid()]
    gbm = Book.build(snapshots, volatility=VOL, touch_model=TouchModel.GBM)
    default = Book.build(snapshots, volatility=VOL)
    marks = {"BTC/USDT:USDT": 61_000.0, "ETH/USDC:USDC": 3_300.0}
    moved = gbm.reprice(marks)
    for account, analysis in moved.analyses():
        assert analysis.touch_model is TouchModel.GBM
        expected = analyze(
            with_marks(snapshots[account], marks), volatility=VOL, touch_model=TouchModel.GBM
        )
        assert_same_analysis(analysis, expected)
    other = default.reprice(marks).column("probability")
    finite = np.isfinite(other) & (other > 0.0) & (other < 1.0)
    assert finite.any()
    assert not np.allclose(moved.column("probability")[finite], other[finite])


def test_compaction_is_triggered_by_retired_records(monkeypatch: object) -> None:
    """Replacing accounts retires their records; past the threshold the book is rebuilt from
    the live ones, and re-prices the same."""
    book = Book.build([cases._usdm(), cases._coinm()])
    setattr(book_module, "COMPACT_AFTER", 1)  # noqa: B010 - the module constant, for this test
    try:
        for _ in range(3):
            book.replace(0, cases._usdm())
        assert book._store.dead_records <= 1
    finally:
        book_module.COMPACT_AFTER = 65_536
    got = book.reprice({"BTC/USDT:USDT": 61_000.0}).analysis(0)
    assert_same_analysis(got, analyze(with_marks(cases._usdm(), {"BTC/USDT:USDT": 61_000.0})))
