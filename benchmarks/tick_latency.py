"""Tick → outbox row and tick → Telegram sendMessage, with 5,000 accounts of 5 positions.

Run: ``PYTHONPATH=. .venv/bin/python -m benchmarks.tick_latency [--accounts 5000] [--rounds 40]``

Everything between the venue's stream and the chat is the real code: the monitor's book
(``bot.monitor.book`` over ``engine.book``), the tick stage (coalescing, screening, one
transaction per batch), the alert stage and its SQLite outbox, the notifier at Telegram's
30 messages a second, the Telegram channel (python-telegram-bot) and the fake Bot API on
127.0.0.1 (``tests/fakes/telegram``), all in this one process.

The book is ``benchmarks.synthetic.synthetic_book`` (70 % Binance USDⓈ-M, 20 % COIN-M, 10 %
Hyperliquid; BTC and ETH in most accounts), one owner and one private chat per account, each
with the default rules (liquidation warning at 10 %, critical at 5 %). A first pass evaluates
every account as a poll would and delivers what that fires (to a counting channel, untimed),
so the rounds start from a settled state. Each round is one burst of USDⓈ-M marks, as Binance
pushes them (every symbol each second): BTC down ``--step`` percent, every other symbol
jittered, so every USDⓈ-M account is re-priced and the BTC longs nearest liquidation cross a
threshold. A second scenario spreads the same ticks over the second, symbol after symbol (as
venues that push on change do), so a crossing tick may wait for the 250 ms window.

Reported, per scenario: the batch latency (oldest tick of a batch → its transaction's commit,
the outbox rows included; every batch, and those that queued a message) and each message's
tick → ``sendMessage`` received by the fake, p50 and p95.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from telegram import Bot

from benchmarks.synthetic import synthetic_book
from bot.alerting.stage import AlertPipeline
from bot.delivery.channel import Channel, Outgoing
from bot.delivery.notifier import Notifier
from bot.monitor.book import Book
from bot.monitor.events import PollEvent
from bot.monitor.ticks import TickStage
from bot.stream.records import MarkTick
from bot.telegram.channel import TelegramChannel
from engine.analysis import analyze
from engine.domain import AccountStatus, LinkedAccount, Platform
from engine.normalise import Snapshot
from engine.reprice import with_marks
from storage import Database
from storage.accounts import Accounts
from storage.users import Users
from tests.fakes.telegram import FakeTelegram

VENUE, BTC = "binanceusdm", "BTC/USDT:USDT"
SCENARIOS = (
    ("bursts (Binance: every symbol each second)", 0.0),
    ("spread (one symbol after another over 0.9 s)", 0.9),
)
#: The first user id: chat ids are user ids, as in Telegram's private chats.
FIRST_USER = 10_000


@dataclass
class _Counting:
    """Takes the settling pass's messages (untimed, not what is measured)."""

    platform: Platform = Platform.TELEGRAM
    sent: int = 0

    def min_interval_s(self, chat_id: str) -> float:
        return 0.0

    async def send(self, message: Outgoing) -> str | None:
        self.sent += 1
        return f"settle-{self.sent}"


@dataclass
class _Scenario:
    name: str
    batch_s: list[float] = field(default_factory=list)
    queuing_batch_s: list[float] = field(default_factory=list)
    send_s: list[float] = field(default_factory=list)
    repriced: int = 0
    messages: int = 0


async def _accounts(
    db: Database, snapshots: list[Snapshot], telegram: FakeTelegram
) -> list[LinkedAccount]:
    users, accounts, now, out = Users(db), Accounts(db), time.time(), []
    for n, snapshot in enumerate(snapshots):
        uid = FIRST_USER + n
        telegram.private_chat(uid, f"trader{n}")
        user = await users.ensure(Platform.TELEGRAM, str(uid), f"trader{n}", str(uid), now=now)
        linked = await accounts.add(user.id, snapshot.positions.venue, f"acct{n}", now=now)
        out.append(replace(linked, status=AccountStatus.ACTIVE))
    return out


async def _settle(
    db: Database,
    book: Book,
    pipeline: AlertPipeline,
    accounts: list[LinkedAccount],
    snapshots: list[Snapshot],
    sigma: dict[str, float],
) -> int:
    """Every account priced and evaluated as its poll would; what fires is delivered."""
    at = time.time()
    for start in range(0, len(accounts), 500):
        async with db.transaction() as tx:
            for account, snapshot in zip(
                accounts[start : start + 500], snapshots[start : start + 500], strict=True
            ):
                analysis = analyze(snapshot, volatility=sigma)
                generation = book.put(account, analysis)
                event = PollEvent(
                    account, at, AccountStatus.ACTIVE, analysis=analysis, generation=generation
                )
                await pipeline.stage(tx, event)
    counting = _Counting()
    await Notifier(db, {Platform.TELEGRAM: counting}, global_per_s=float("inf")).drain()
    return counting.sent


def _marks(snapshot: Snapshot) -> tuple[list[str], list[float]]:
    return list(snapshot.positions.symbol), snapshot.positions.mark.tolist()


def _burst(rng: np.random.Generator, marks: dict[str, float], step_pct: float) -> list[MarkTick]:
    """One second of USDⓈ-M marks: BTC down ``step_pct``, the rest jittered (±0.05 %)."""
    now, ticks = time.time(), []
    for symbol, mark in marks.items():
        moved = mark * (1 - step_pct / 100) if symbol == BTC else mark * (1 + rng.normal(0, 5e-4))
        marks[symbol] = moved
        ticks.append(MarkTick(VENUE, symbol, moved, now, "stream"))
    return ticks


async def _round(ticks: TickStage, burst: list[MarkTick], *, spread_s: float) -> float:
    """Hand the burst's ticks over (at once, or one by one over ``spread_s``) and wait out the
    second; the monotonic time BTC's tick was handed over."""
    handed = time.monotonic()
    if spread_s <= 0:
        ticks.on_ticks(burst)
        await asyncio.sleep(1.0)
        return handed
    gap = spread_s / len(burst)
    for tick in burst:
        if tick.symbol == BTC:
            handed = time.monotonic()
        ticks.on_ticks([replace(tick, at=time.time())])
        await asyncio.sleep(gap)
    await asyncio.sleep(max(0.0, 1.0 - spread_s))
    return handed


@dataclass
class _Timed:
    """Around ``TickStage.apply``: when each batch committed, and whether it held BTC's tick."""

    ticks: TickStage
    #: (monotonic commit time, the batch held BTC's mark, oldest tick → commit in seconds).
    batches: list[tuple[float, bool, float]] = field(default_factory=list)

    async def apply(self, original: Callable[[], Awaitable[int]]) -> int:
        pending = self.ticks._pending  # which marks this batch takes (read only)
        held_btc = BTC in pending.get(VENUE, {})
        written = await original()
        latency = self.ticks.stats.last_latency_s or 0.0
        self.batches.append((time.monotonic(), held_btc, latency))
        return written


async def _scenario(
    scenario: _Scenario,
    ticks: TickStage,
    pipeline: AlertPipeline,
    telegram: FakeTelegram,
    *,
    rounds: int,
    step_pct: float,
    marks: dict[str, float],
    spread_s: float,
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    timed, original = _Timed(ticks), ticks.apply
    ticks.apply = lambda: timed.apply(original)  # type: ignore[method-assign]
    try:
        for _ in range(rounds):
            queued, repriced, seen = pipeline.queued, ticks.stats.repriced, len(timed.batches)
            first_send = len(telegram.calls_to("sendMessage"))
            handed = await _round(ticks, _burst(rng, marks, step_pct), spread_s=spread_s)
            batches = timed.batches[seen:]
            scenario.batch_s += [latency for _at, _btc, latency in batches]
            scenario.repriced += ticks.stats.repriced - repriced
            new = pipeline.queued - queued
            if new:
                scenario.messages += new
                scenario.queuing_batch_s += [at - handed for at, btc, _l in batches if btc][:1]
                sends = await _sends(telegram, first_send, new)
                scenario.send_s += [at - handed for at in sends]
    finally:
        ticks.apply = original  # type: ignore[method-assign]


async def _sends(telegram: FakeTelegram, before: int, expected: int) -> list[float]:
    """The receive times of the next ``expected`` sendMessage calls (10 s at most)."""
    deadline = time.monotonic() + 10.0 + expected / 30.0
    while len(telegram.calls_to("sendMessage")) - before < expected:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.005)
    return [call.at for call in telegram.calls_to("sendMessage")[before : before + expected]]


def _pct(values: list[float], q: float) -> str:
    return "—" if not values else f"{1000 * float(np.percentile(values, q)):.0f} ms"


def _print(scenario: _Scenario, rounds: int) -> None:
    print(
        f"{scenario.name}: {rounds} rounds, {scenario.repriced:,} account re-pricings, "
        f"{scenario.messages} messages queued"
    )
    rows = (
        ("oldest tick → commit, every batch", scenario.batch_s),
        ("BTC tick → outbox row committed", scenario.queuing_batch_s),
        ("BTC tick → sendMessage at the fake", scenario.send_s),
    )
    for label, values in rows:
        print(f"  {label:<36} p50 {_pct(values, 50)}, p95 {_pct(values, 95)} (n={len(values)})")


async def main(accounts: int, rounds: int, step_pct: float, seed: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    drawn, sigma = synthetic_book(accounts, 5, seed=seed)
    # The synthetic book draws a mark per position; a venue has one mark per symbol.
    one_mark = {s: float(m) for snap in drawn for s, m in zip(*_marks(snap), strict=True)}
    snapshots = [with_marks(snap, one_mark) for snap in drawn]
    built = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        async with (
            FakeTelegram() as telegram,
            Database.open(str(Path(directory) / "bench.db")) as db,
            Bot(telegram.token, base_url=f"{telegram.url}/bot") as bot,
        ):
            usdm = {
                s for snap in snapshots if snap.positions.venue == VENUE for s in _marks(snap)[0]
            }
            linked = await _accounts(db, snapshots, telegram)
            book, notifier_holder = Book(), []
            pipeline = AlertPipeline(wake=lambda: notifier_holder[0].wake())
            notifier_holder.append(Notifier(db, {}))  # replaced below; settle wakes nothing
            settled = await _settle(db, book, pipeline, linked, snapshots, sigma)
            print(
                f"{accounts:,} accounts, {sum(len(s.positions.symbol) for s in snapshots):,} "
                f"positions; set up in {time.perf_counter() - built:.1f} s; the settling pass "
                f"delivered {settled} messages (untimed)"
            )
            channel: Channel = TelegramChannel(bot)
            notifier = Notifier(db, {Platform.TELEGRAM: channel})
            notifier_holder[0] = notifier
            ticks = TickStage(db, book, pipeline)
            marks = {s: m for s, m in one_mark.items() if s in usdm}
            tasks = [asyncio.create_task(notifier.run()), asyncio.create_task(ticks.run())]
            try:
                for name, spread in SCENARIOS:
                    scenario = _Scenario(name)
                    await _scenario(
                        scenario, ticks, pipeline, telegram, rounds=rounds, step_pct=step_pct,
                        marks=marks, spread_s=spread, seed=seed,
                    )  # fmt: skip
                    _print(scenario, rounds)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--step", type=float, default=0.25, help="BTC's fall per round, in %%")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.accounts, args.rounds, args.step, args.seed))
