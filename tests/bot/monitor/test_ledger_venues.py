"""OKX's and Deribit's days in the digest, end to end (issue 19 part 5): the real ledger job
reads the fake venues through the real hub and ccxt, stores the flows, and the digest text
shows realised PnL, funding and trading fees as the test recomputes them by hand.

OKX reports a position's realised PnL with its fees and funding inside (positions history)
and the same fees and funding again in its bills: each must count once. A position closed in
two parts, read between the parts, counts each part once, at its time.
"""

from __future__ import annotations

import logging
import time

import pytest

from bot.digest import build as digest
from bot.digest import text as digest_text
from bot.monitor.ledger import Ledger
from storage.flows import Flows
from tests.bot.monitor.conftest import World
from tests.fakes.clock import FakeClock

H_MS = 3_600_000
OKX, DERIBIT = "KEY-okx-0", "KEY-deribit-0"
BTC_USDT, ETH_USDT = "BTC/USDT:USDT", "ETH/USDT:USDT"
PERP, LINEAR = "BTC/USD:BTC", "BTC/USDC:USDC"
OPTION = "BTC/USD:BTC-240628-64000-C"


def _okx_day(world: World, now_ms: int) -> None:
    """A BTC long: 0.50 to open, 0.40 to close, 3.00 funding paid and 1.25 received, closed
    100.00 up (OKX's realizedPnl 97.35). An ETH long closed 60.00 up in part (0.30 to open);
    the inverse swap 0.002 BTC up with 0.0001 BTC funding paid."""
    add = world.fake.add_flow
    add(OKX, "commission", BTC_USDT, -0.5, now_ms - 10 * H_MS)
    add(OKX, "funding", BTC_USDT, -3.0, now_ms - 8 * H_MS)
    add(OKX, "funding", BTC_USDT, 1.25, now_ms - 6 * H_MS)
    add(OKX, "commission", BTC_USDT, -0.4, now_ms - 4 * H_MS)
    add(OKX, "realised", BTC_USDT, 100.0, now_ms - 4 * H_MS, ref="77")
    add(OKX, "commission", ETH_USDT, -0.3, now_ms - 9 * H_MS)
    add(OKX, "realised", ETH_USDT, 60.0, now_ms - 8 * H_MS, ref="5.1")
    add(OKX, "funding", PERP, -0.0001, now_ms - 3 * H_MS)
    add(OKX, "realised", PERP, 0.002, now_ms - 2 * H_MS)


def _deribit_day(world: World, now_ms: int) -> None:
    """BTC-PERPETUAL's 08:00 settlement (0.00198 BTC realised, 0.00012 funding received), an
    option delivered 0.03 BTC up less a 0.0003 BTC fee, a 0.0001 BTC trading fee; the USDC
    perpetual settling −12.80 USDC with 0.80 USDC funding, and 1.50 USDC of trading fees."""
    add, settled = world.fake.add_flow, now_ms - 5 * H_MS
    add(DERIBIT, "realised", PERP, 0.00198, settled)
    add(DERIBIT, "funding", PERP, 0.00012, settled)
    add(DERIBIT, "realised", OPTION, 0.03, now_ms - 4 * H_MS)
    add(DERIBIT, "commission", OPTION, -0.0003, now_ms - 4 * H_MS)
    add(DERIBIT, "commission", PERP, -0.0001, now_ms - 3 * H_MS)
    add(DERIBIT, "realised", LINEAR, -12.8, settled)
    add(DERIBIT, "funding", LINEAR, 0.8, settled)
    add(DERIBIT, "commission", LINEAR, -1.5, now_ms - 2 * H_MS)


def _row(text: str, label: str) -> list[float]:
    """The realised, funding and fees cells (USD) of ``label``'s row of the day's table."""
    table = text.split("PnL 24h USD", 1)[1]
    line = next(line for line in table.splitlines() if line.startswith(f"{label} "))
    return [float(cell.replace(",", "")) for cell in line.split()[1:4]]


async def test_okx_and_deribit_days_in_the_digest_count_each_flow_once(world: World) -> None:
    okx, deribit = await world.link("okx"), await world.link("deribit")
    clock = FakeClock(time.time())
    now_ms = int(clock.now * 1000)
    _okx_day(world, now_ms)
    _deribit_day(world, now_ms)
    ledger = Ledger(world.db, world.hub, world.monitor.credentials, clock=clock)
    await ledger.sync_all()

    # The ETH position's second part closes 40.00 up after that read; the next read finds the
    # position's total at 100.00 and stores the 40.00 it added, at the second close's time.
    second = int((clock.now + 600) * 1000)
    world.fake.add_flow(OKX, "realised", ETH_USDT, 40.0, second, ref="5.2")
    clock.now += 900
    await ledger.sync_all()
    eth = await Flows(world.db).totals([okx.id], since=second / 1000 - 1, until=clock.now)
    assert [(t.kind, t.currency, t.amount, t.count) for t in eth] == [("realised", "USDT", 40.0, 1)]

    text = digest_text.text(await digest.build(world.db, [okx, deribit], {}, now=clock.now))

    # Per currency, over both accounts, nothing converted: BTC 0.002 + 0.00198 + 0.03,
    # USDT 100 + 60 + 40; funding BTC −0.0001 + 0.00012, USDT −3 + 1.25; fees BTC −0.0003 −
    # 0.0001, USDT −0.5 − 0.4 − 0.3.
    assert "Realised PnL, 24 h: +0.03398 BTC · -12.80 USDC · +200.00 USDT" in text
    assert "Funding, 24 h: received 0.00002 BTC · received 0.8 USDC · paid 1.75 USDT" in text
    assert "Fees, 24 h: paid 0.0004 BTC · paid 1.50 USDC · paid 1.20 USDT" in text
    assert "not included" not in text and "not available" not in text
    # Per account in USD (dollars only here: no position prices BTC).
    assert _row(text, "okx-0") == pytest.approx([200.0, -1.75, -1.2])
    assert _row(text, "deribit-0") == pytest.approx([-12.8, 0.8, -1.5])
    assert "not in USD totals (no price): BTC" in text
    # OKX's own net for the two USDT positions, realizedPnl (97.35 + 99.70), is the row's sum:
    # the fees and funding inside realizedPnl are not counted a second time.
    assert sum(_row(text, "okx-0")) == pytest.approx(97.35 + 99.7)


async def test_a_garbled_okx_positions_history_leaves_realised_unread_and_says_why(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """One sentence in the log naming the field; no realised flow stored and the window not
    counted as read, so the digest names the account instead of showing a quiet day; the
    account's funding and fees, read apart, still count."""
    okx = await world.link("okx")
    clock = FakeClock(time.time())
    now_ms = int(clock.now * 1000)
    _okx_day(world, now_ms)
    page = ('{"code": "0", "msg": "", "data": [{"instId": "BTC-USDT-SWAP", "posId": "1", '
            f'"cTime": "1", "uTime": "{now_ms - H_MS}", "realizedPnl": "NaN"}}]}}')  # fmt: skip
    world.fake.fail("okx", status=200, body=page, path="/positions-history")
    ledger = Ledger(world.db, world.hub, world.monitor.credentials, clock=clock)
    with caplog.at_level(logging.WARNING, logger="bot.monitor.ledger"):
        await ledger.sync_all()

    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning == (
        f"account {okx.id}: realised flows not read (okx sent a ledger entry liqwatch could "
        "not read (realizedPnl 'NaN'))"
    )
    flows = Flows(world.db)
    assert {c.kind for c in await flows.coverage([okx.id])} == {"funding", "fee"}
    assert {t.kind for t in await flows.totals([okx.id], since=0, until=clock.now)} == {
        "funding",
        "fee",
    }
    text = digest_text.text(await digest.build(world.db, [okx], {}, now=clock.now))
    assert "Realised PnL, 24 h: not available" in text
    assert "  not in realised PnL: okx-0 (not read yet)" in text
    assert "Fees, 24 h: paid 1.20 USDT" in text
