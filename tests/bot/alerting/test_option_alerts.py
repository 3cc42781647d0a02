"""The option alert kinds end to end: real ccxt polling a Deribit option book on the fake
exchange, the monitor's poll, the real alert stage and the SQLite outbox, rendered as every
chat platform renders a notice (issue 19 part 4).

The book (tests/fakes/exchange/options.py, Black-76 by hand there): long 2 BTC of the
28JUN24 64k call, short 3 of the put, short 100,000 USD of BTC-PERPETUAL, the index at 64,000.
Deribit's premium-adjusted deltas are 0.468494 (call) and −0.531506 (put) per coin, so

    BTC delta = 2 × 0.468494 + 3 × 0.531506 − 100,000 / 64,000 = 0.969006 BTC = 62,016 USD

and with the perpetual short 125,000 USD instead: 0.578381 BTC = 37,016 USD.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.alerting.service import AlertService
from bot.alerting.stage import AlertPipeline
from bot.render.notices import render
from engine.alerts.events import VENUE_PM, AlertItem, AlertNotice
from engine.alerts.grammar import parse_rule
from engine.alerts.rules import Kind
from engine.domain import LinkedAccount
from tests.bot.exchanges.conftest import link
from tests.bot.monitor.conftest import World, fake, make_world
from tests.bot.monitor.test_alerts import _outbox as outbox_notices
from tests.fakes.exchange import FakeExchange
from tests.fakes.exchange import options as o

__all__ = ["fake"]  # the fake exchange fixture, shared with the monitor's tests

HOUR = 3_600.0
EXPIRY_S = o.EXPIRY_MS / 1000.0
CALL, PUT = o.DERIBIT_SYMBOLS["C"], o.DERIBIT_SYMBOLS["P"]


class Clock:
    """The monitor's clock: polls happen when the test says."""

    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock(EXPIRY_S - 30 * HOUR)


@pytest.fixture
async def world(tmp_path: Path, fake: FakeExchange, clock: Clock) -> AsyncIterator[World]:
    async for w in make_world(tmp_path, fake, alerts=AlertPipeline(), clock=clock):
        yield w


def _balance(book: list[Any], **fields: Any) -> Any:
    return o.deribit_account(o.deribit_summary(book, **fields))


async def _options_account(world: World, **summary: Any) -> LinkedAccount:
    """A Deribit account holding the book, its summary's fields overridden by ``summary``."""
    book = o.deribit_book()
    credentials = link(world.fake, "deribit", 0, positions=book, balance=_balance(book, **summary))
    linked = await world.service.link(world.owner_id, "deribit", credentials, label="opts")
    return linked.account


async def _rules(world: World, *texts: str) -> None:
    service = AlertService(world.db)
    for text in texts:
        await service.add_rule(world.owner_id, parse_rule(text))


def _items(world: World, kind: Kind) -> list[tuple[AlertNotice, AlertItem]]:
    return [(n, i) for n in outbox_notices(world.db_path) for i in n.items if i.kind is kind]


def _line(notice: AlertNotice, item: AlertItem) -> str:
    """The item's line of the notice as rendered for every platform."""
    lines = render(notice).splitlines()
    return next(line.strip() for line in lines if f"#{item.alert_id} " in line)


async def test_delta_fires_and_clears_through_the_monitor(world: World, clock: Clock) -> None:
    """delta>50k BTC: 62,016 USD fires (the message names BTC's net delta); a bigger
    perpetual short (37,016 USD, under the 45,000 clear level) resolves it."""
    account = await _options_account(world)
    await _rules(world, "delta>50k BTC")
    await world.monitor.poll(account.id)
    ((notice, item),) = _items(world, Kind.DELTA)
    assert item.symbol == "BTC" and item.value == pytest.approx(62_016.4, abs=1.0)
    assert _line(notice, item).startswith(
        f"WARNING #{item.alert_id} BTC — net delta +62,016 USD (> 50,000 USD)"
    )
    held = world.fake.lookup("deribit", "KEY-deribit-0")
    assert held is not None
    held.positions = o.deribit_book(perpetual_usd=-125_000.0)
    clock.at += 60
    await world.monitor.poll(account.id)
    states = [(i.status.value, round(i.value or 0.0)) for _n, i in _items(world, Kind.DELTA)]
    assert states == [("firing", 62_016), ("resolved", 37_016)]


async def test_expiry_fires_names_the_option_and_clears_once_expired(
    world: World, clock: Clock
) -> None:
    """expiry<24h: 30 h before the 28JUN24 expiry nothing; 20 h before it both options fire,
    each line naming the option, its side and size and the time left; the poll after the
    expiry (the venue still lists them) resolves both."""
    account = await _options_account(world)
    await _rules(world, "expiry<24h BTC")
    await world.monitor.poll(account.id)
    assert _items(world, Kind.EXPIRY) == []
    clock.at = EXPIRY_S - 20 * HOUR
    await world.monitor.poll(account.id)
    fired = _items(world, Kind.EXPIRY)
    lines = sorted(_line(n, i).split(" — ", 1)[1].split(",")[0] for n, i in fired)
    subjects = sorted(_line(n, i).split(" — ", 1)[0].split(" ", 2)[2] for n, i in fired)
    assert subjects == [f"{CALL} long 2 BTC", f"{PUT} short 3 BTC"]
    assert lines == ["expires in 20h (< 24h)"] * 2
    clock.at = EXPIRY_S + 60
    await world.monitor.poll(account.id)
    resolved = [i for _n, i in _items(world, Kind.EXPIRY) if i.status.value == "resolved"]
    assert sorted(i.symbol or "" for i in resolved) == [CALL, PUT]


async def test_the_margin_alert_reads_deribits_portfolio_margin_ratio(world: World) -> None:
    """On cross_pm Deribit's maintenance / equity (4.25 / 5 BTC = 85 %) is the margin ratio
    margin>80% reads, and the notice says it is the venue's portfolio-margin ratio."""
    account = await _options_account(world, maintenance_margin=4.25)
    await _rules(world, "margin>80%")
    await world.monitor.poll(account.id)
    ((notice, item),) = _items(world, Kind.MARGIN)
    assert item.basis == VENUE_PM and item.value == pytest.approx(85.0)
    assert "margin ratio (the venue's portfolio-margin ratio) 85.0% (> 80%)" in _line(notice, item)


async def test_a_standard_margin_account_keeps_the_engines_ratio(world: World) -> None:
    """The same figures on cross_sm: the margin rule fires on the engine's ratio (the
    venue's maintenance over equity here too), and the notice claims no venue ratio."""
    account = await _options_account(
        world, maintenance_margin=4.25, margin_model="cross_sm", portfolio_margining_enabled=False
    )
    await _rules(world, "margin>80%")
    await world.monitor.poll(account.id)
    ((notice, item),) = _items(world, Kind.MARGIN)
    assert item.basis == "" and "portfolio-margin" not in _line(notice, item)
