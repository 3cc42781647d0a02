"""`liqwatch demo` on a platform that acknowledges each message a second after delivering it.

Run as ``python -m tests.bot.demo.slow_ack_demo --db … --transcript … --duration … --poll …
--seed …`` by the kill -9 test: the second between "delivered" (the transcript line) and
"recorded as sent" is the window that test aims its kill at. The product has no such flag.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bot.delivery.channel import Channel, Outgoing
from bot.demo.run import DemoOptions, demo

ACK_DELAY_S = 1.0


class SlowAck:
    """A channel whose platform answers ``ACK_DELAY_S`` after it delivered."""

    def __init__(self, inner: Channel) -> None:
        self.inner, self.platform = inner, inner.platform

    def min_interval_s(self, chat_id: str) -> float:
        return self.inner.min_interval_s(chat_id)

    async def send(self, message: Outgoing) -> str | None:
        ref = await self.inner.send(message)
        await asyncio.sleep(ACK_DELAY_S)
        return ref


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--transcript", type=Path, required=True)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--poll", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    options = DemoOptions(
        duration_s=args.duration, seed=args.seed, poll_s=args.poll, db=args.db,
        transcript=args.transcript,
    )  # fmt: skip
    asyncio.run(demo(options, wrap=SlowAck))


if __name__ == "__main__":
    main()
