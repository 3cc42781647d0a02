"""Venue faults under the real runtime: 5xx, 429, timeouts and garbage on four venues at once;
a rejected key (401) and a refusing proxy (407); a slow leverage-tier endpoint. Nothing lost,
nothing sent twice, the loops alive, and whoever must act is told (the owner for an account
the venue stops answering for, the operator for a proxy)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.alerts.events import AlertNotice, NoticeKind
from engine.domain import AccountStatus, LinkedAccount
from tests.bot.exchanges.conftest import link
from tests.engine.normalise.payloads import bybit as pby
from tests.fakes.exchange import FakeExchange
from tests.faults.conftest import Stack, open_stack, until

pytestmark = pytest.mark.slow

#: What each broken venue answers with, for every request, until the fault is lifted.
FAULTS = {
    "bybit": "503",
    "okx": "429",
    "deribit": "timeout",
    "hyperliquid": "garbage",
}


def _break(fake: FakeExchange, venue: str, fault: str) -> None:
    if fault == "503":
        fake.fail(venue, status=503, body="Service Unavailable", times=10_000)
    elif fault == "429":
        fake.fail(venue, status=429, body="Too Many Requests", times=10_000, retry_after=0.1)
    elif fault == "timeout":
        fake.stall(venue, 3.0, times=10_000)  # beyond the hub's 1 s request timeout
    else:
        fake.fail(venue, status=200, body="{not json", times=10_000)


def _heal(fake: FakeExchange) -> None:
    fake.failures.clear()
    fake.stalls.clear()


async def _link(stack: Stack, venue: str, n: int = 0, **positions: object) -> LinkedAccount:
    creds = link(stack.fake, venue, n, **positions)
    linked = await stack.runtime.accounts.link(stack.owner_id, venue, creds, label=f"{venue}-{n}")
    return linked.account


async def _status(stack: Stack, account: LinkedAccount) -> AccountStatus:
    found = await stack.runtime.monitor.accounts.system_get(account.id)
    assert found is not None
    return found.status


async def _all(stack: Stack, accounts: list[LinkedAccount], status: AccountStatus) -> None:
    seen: dict[int, AccountStatus] = {}

    async def look() -> None:
        for account in accounts:
            seen[account.id] = await _status(stack, account)

    await until(lambda: set(seen.values()) == {status}, 60, poll=look)


def _blind_alerts(stack: Stack) -> dict[str, list[str]]:
    """Per account label, the blind alert's statuses as the owner received them."""
    found: dict[str, list[str]] = {}
    for delivery in stack.chat.sent:
        notice = delivery.message.notice
        if isinstance(notice, AlertNotice):
            for item in notice.items:
                if item.kind.value == "blind":
                    found.setdefault(notice.account_label, []).append(item.status.value)
    return found


@pytest.fixture
async def quick_timeouts(tmp_path: Path, fake: FakeExchange) -> AsyncIterator[Stack]:
    async for built in open_stack(tmp_path / "liqwatch.db", fake, timeout_s=1.0):
        yield built


async def test_four_venues_failing_four_ways_blind_their_accounts_only(
    quick_timeouts: Stack,
) -> None:
    """While four venues fail, their accounts go blind (the owner is told, once each) and the
    healthy account's warning still arrives; when they heal every account is active again,
    each blind alert is resolved, and every message arrived exactly once."""
    stack = quick_timeouts
    broken = [await _link(stack, venue) for venue in FAULTS]
    await stack.polled(len(broken))
    for venue, fault in FAULTS.items():
        _break(stack.fake, venue, fault)
    await stack.link_sol(0)  # ~6 % from liquidation: warned on its first poll
    await _all(stack, broken, AccountStatus.BLIND)
    warned = [d for d in stack.chat.sent if "sol-0" in str(d.message.notice)]
    assert warned, "the healthy account's warning did not wait for the broken venues"
    _heal(stack.fake)
    await _all(stack, broken, AccountStatus.ACTIVE)
    await stack.polled(len(broken) + 1)
    statuses = await stack.settled()
    assert set(statuses) == {"sent"}
    delivered = stack.delivered()
    assert max(delivered.values()) == 1 and set(delivered) == await stack.sent_keys()
    blind = _blind_alerts(stack)
    assert {label: states for label, states in blind.items()} == {
        f"{venue}-0": ["firing", "resolved"] for venue in FAULTS
    }
    assert stack.delivering and not stack.runtime.supervisor.crashes


async def test_a_rejected_key_and_a_refusing_proxy(stack: Stack) -> None:
    """401s on every poll for a few seconds only count as failed polls (blind, never
    auth_failed: one bad minute of a venue must not retire a key); a 407 from the operator's
    proxy tells the ops chat and leaves its account active/blind; both recover."""
    keyed = await _link(stack, "binancecoinm")
    proxied = await _link(stack, "binanceusdm")
    await stack.polled(2)
    stack.fake.fail(
        "binancecoinm", status=401, times=10_000,
        body='{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}',
    )  # fmt: skip
    stack.fake.fail("binanceusdm", status=407, body="Proxy Authentication Required", times=10_000)
    await _all(stack, [keyed, proxied], AccountStatus.BLIND)
    await until(lambda: bool(stack.told(NoticeKind.OPERATOR)), 30)
    proxy = stack.told(NoticeKind.OPERATOR)[0]
    assert proxy.subject == "binanceusdm" and "407" in (proxy.detail or "")
    found = await stack.runtime.monitor.accounts.system_get(keyed.id)
    assert found is not None and "still polled" in (found.last_error or "")
    _heal(stack.fake)
    await _all(stack, [keyed, proxied], AccountStatus.ACTIVE)
    statuses = await stack.settled()
    assert set(statuses) == {"sent"} and max(stack.delivered().values()) == 1
    assert stack.delivering and not stack.runtime.supervisor.crashes


async def test_a_slow_tier_endpoint_delays_only_the_account_holding_that_symbol(
    stack: Stack,
) -> None:
    """Bybit's risk-limit read for BTCUSD hangs (5 s at most): the account that does not hold
    it keeps its 1 s rhythm meanwhile; the holder's first poll waits until the read is let go
    (an overrun WARNING in the log), and afterwards its tiers are cached, so it polls at the
    rhythm too."""
    stack.fake.stall("bybit", 5.0, path="/v5/market/risk-limit", query={"symbol": "BTCUSD"})
    holder = await _link(stack, "bybit", 1)  # holds the inverse BTCUSD perp
    linear = await _link(stack, "bybit", 2, positions=[pby.bybit_raw()])
    started = time.monotonic()
    snapshots: dict[int, int] = {}

    async def count() -> None:
        for account in (holder, linear):
            rows = await stack.db.fetchall(
                "SELECT COUNT(*) FROM account_snapshots WHERE account_id = ?", (account.id,)
            )
            snapshots[account.id] = int(rows[0][0])

    await until(lambda: snapshots.get(linear.id, 0) >= 3, 30, poll=count)
    assert snapshots[holder.id] == 0 and time.monotonic() - started < 5.0
    stack.fake.release()  # seen: the rest of the stall would only be waited out
    await until(lambda: snapshots.get(holder.id, 0) >= 3, 30, poll=count)
    assert stack.runtime.monitor.stats.overruns >= 1  # the stalled poll outlasted its interval
    assert stack.delivering and not stack.runtime.supervisor.crashes
