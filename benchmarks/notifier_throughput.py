"""Messages per second through the real notifier and the real SQLite outbox, fake channel.

Run: ``PYTHONPATH=. .venv/bin/python -m benchmarks.notifier_throughput [--messages 10000]
[--chats 1000]``

The outbox is filled first (grouped alert notices, one transaction), then one timed
``drain()`` claims, sends and records every row: leases, priority ordering, the related-
message look-up for alert notices and the batched outcome writes all count. The channel
accepts everything at once and no pacing applies (``min_interval_s`` 0, no global limit), so
the figure is the notifier's own ceiling, far above any platform's rate limit (Telegram
allows ~30/s). Every row must end ``sent`` before a time is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bot.delivery.channel import Outgoing
from bot.delivery.notifier import Notifier
from engine.alerts.events import AlertItem, AlertNotice, AlertStatus, Reason
from engine.alerts.rules import Kind, Op, Severity
from engine.domain import Platform
from storage.db import Database
from storage.outbox import NewMessage, Outbox, OutboxStatus

SEVERITIES = (Severity.INFO, Severity.WARNING, Severity.CRITICAL)


class CountingChannel:
    """A channel with no latency and no limits: it only counts."""

    platform = Platform.TELEGRAM

    def __init__(self) -> None:
        self.sent = 0

    def min_interval_s(self, chat_id: str) -> float:
        return 0.0

    async def send(self, message: Outgoing) -> str | None:
        self.sent += 1
        return f"m{self.sent}"


def _notice(n: int, now: float) -> AlertNotice:
    severity = SEVERITIES[n % 3]
    item = AlertItem(
        alert_id=n,
        rule_id=1,
        kind=Kind.LIQ,
        op=Op.BELOW,
        threshold=5.0,
        severity=severity,
        status=AlertStatus.FIRING,
        reason=Reason.FIRST,
        symbol="BTC/USDT:USDT",
        side="long",
        value=3.1,
        worst=2.4,
        since=now - 60.0,
    )
    return AlertNotice(n, f"acct-{n}", "binanceusdm", now, severity, (item,))


def _messages(count: int, chats: int, now: float) -> list[NewMessage]:
    return [
        NewMessage(f"bench-{n}", None, Platform.TELEGRAM, str(n % chats), SEVERITIES[n % 3], note)
        for n in range(count)
        for note in (_notice(n, now),)
    ]


async def measure(count: int, chats: int, directory: Path) -> tuple[float, float]:
    """(seconds to enqueue, seconds to deliver) ``count`` messages over ``chats`` chats."""
    now = time.time()
    channel = CountingChannel()
    async with Database.open(directory / "bench.db") as db:
        start = time.perf_counter()
        async with db.transaction() as tx:
            await Outbox(tx.db).enqueue(_messages(count, chats, now), now=now, tx=tx)
        enqueued = time.perf_counter() - start
        notifier = Notifier(db, {Platform.TELEGRAM: channel}, global_per_s=float("inf"))
        start = time.perf_counter()
        await notifier.drain()
        delivered = time.perf_counter() - start
        counts = await Outbox(db).counts()
    if counts[OutboxStatus.SENT] != count or channel.sent != count:
        raise SystemExit(f"not everything was sent: {counts}, channel saw {channel.sent}")
    return enqueued, delivered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--chats", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        enqueued, delivered = asyncio.run(measure(args.messages, args.chats, Path(tmp)))
    print(
        f"{args.messages} messages over {args.chats} chats: "
        f"enqueue {args.messages / enqueued:,.0f} msgs/s, "
        f"deliver {args.messages / delivered:,.0f} msgs/s ({delivered:.2f} s)"
    )


if __name__ == "__main__":
    main()
