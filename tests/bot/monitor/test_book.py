"""The monitor's position book: polled accounts re-priced together at a venue's streamed
marks by the engine's vectorised book, each exactly as ``analyze(with_marks(…))`` of its own
poll; only accounts whose last poll succeeded move."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from bot.monitor.book import Book
from engine.analysis import COLUMNS, Analysis, analyze
from engine.domain import AccountStatus
from engine.reprice import with_marks
from tests.bot.exchanges.conftest import link
from tests.bot.monitor.conftest import World, make_world
from tests.engine.normalise.payloads import binance as pb
from tests.fakes.exchange import FakeExchange

BTC, SOL = "BTC/USDT:USDT", "SOL/USDT:USDT"


@pytest.fixture
async def world(tmp_path: Path, fake: FakeExchange) -> AsyncIterator[World]:
    async for w in make_world(tmp_path, fake):
        yield w


async def _polled(world: World, n: int, legs: tuple[pb.Leg, ...]) -> int:
    creds = link(world.fake, "binanceusdm", n, positions=legs)
    linked = await world.service.link(world.owner_id, "binanceusdm", creds, label=f"acct-{n}")
    await world.monitor.poll(linked.account.id)
    return linked.account.id


def _expected(polled: Analysis, marks: dict[str, float]) -> Analysis:
    positions = polled.snapshot.positions
    sigma = {s: float(v) for s, v in zip(positions.symbol, polled.sigma, strict=True)
             if math.isfinite(v)}  # fmt: skip
    return analyze(
        with_marks(polled.snapshot, marks), volatility=sigma,
        horizon_hours=polled.horizon_hours,
    )  # fmt: skip


def _moved(book: Book, venue: str, marks: dict[str, float]) -> list[int]:
    """Re-price; the accounts moved (their figures are then read through the book)."""
    return sorted(a for moved in book.reprice(venue, marks) for a in moved.accounts.tolist())


def _same(got: Analysis, want: Analysis) -> None:
    np.testing.assert_array_equal(got.snapshot.positions.mark, want.snapshot.positions.mark)
    for name in (*COLUMNS, "upnl"):
        np.testing.assert_allclose(
            getattr(got, name), getattr(want, name), rtol=1e-9, equal_nan=True, err_msg=name
        )
    assert got.portfolio.margin_ratio == pytest.approx(want.portfolio.margin_ratio, rel=1e-9)


async def test_a_tick_reprices_every_holder_as_analyze_of_its_own_snapshot(world: World) -> None:
    book: Book = world.monitor.latest
    everything = await _polled(world, 0, pb.LEGS)  # cross BTC, ETH, XRP; isolated SOL
    sol_only = await _polled(world, 1, (pb.LEGS[2],))
    btc_only = await _polled(world, 2, (pb.LEGS[0],))
    polled = {a: book[a] for a in (everything, sol_only, btc_only)}
    marks = {SOL: 139.0}
    assert _moved(book, "binanceusdm", marks) == sorted([everything, sol_only])
    for account in (everything, sol_only):  # /positions reads the re-priced figures
        _same(book[account], _expected(polled[account], marks))
    assert book[btc_only] is polled[btc_only]
    # A second tick starts from the first's marks: BTC moves, SOL stays at 139.
    assert _moved(book, "binanceusdm", {BTC: 58_000.0}) == sorted([everything, btc_only])
    both = {SOL: 139.0, BTC: 58_000.0}
    for account in (everything, btc_only):
        _same(book[account], _expected(polled[account], both))
    _same(book[sol_only], _expected(polled[sol_only], marks))
    assert book.reprice("okx", {SOL: 120.0}) == []  # another venue's SOL


async def test_a_failed_poll_stops_repricing_until_the_next_success(world: World) -> None:
    book: Book = world.monitor.latest
    account = await _polled(world, 0, (pb.LEGS[2],))
    book.set_status(account, AccountStatus.BLIND)
    assert book.reprice("binanceusdm", {SOL: 139.0}) == []
    assert book.held() == {}
    before = book.generation(account)
    await world.monitor.poll(account)  # succeeds: re-priced again, from the new poll
    assert book.generation(account) > before
    polled = book[account]
    (moved,) = book.reprice("binanceusdm", {SOL: 139.0})
    assert moved.accounts.tolist() == [account]
    assert moved.generations.tolist() == [book.generation(account)]
    _same(book[account], _expected(polled, {SOL: 139.0}))
    book.drop(account)
    assert book.reprice("binanceusdm", {SOL: 138.0}) == [] and account not in book
