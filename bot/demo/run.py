"""`liqwatch demo`: the real monitor, rules, outbox and notifier on a simulated venue.

Embedded defaults only: a temporary SQLite file (or ``--db``), a throw-away master key, three
demo accounts and the console as the chat. With a terminal the user types the chat commands
at a prompt; without one the scripted scenario plays and the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.console.channel import ConsoleChannel
from bot.console.session import ConsoleSession
from bot.delivery.channel import Channel, Outgoing
from bot.demo.accounts import DEMO_ACCOUNTS
from bot.demo.market import SCENARIO_S, Market
from bot.demo.marks import SimulatedMarks
from bot.demo.venue import SimulatedVenue
from bot.runtime.assemble import Runtime, assemble
from bot.security.vault import Vault, generate_key
from bot.settings import Secret, Settings
from engine.alerts.events import to_payload
from engine.domain import Platform
from storage import Database
from storage.accounts import Accounts
from storage.lock import ProcessLock
from storage.users import Users

CHAT_ID = "console"
#: Headless runs play the scenario once, plus time for the last resolved message.
HEADLESS_S = SCENARIO_S + 5.0


@dataclass(frozen=True)
class DemoOptions:
    duration_s: float | None = None
    seed: int = 7
    poll_s: float = 2.0
    db: Path | None = None
    #: Append every delivered message as a JSON line (what the crash test counts).
    transcript: Path | None = None
    interactive: bool = False


class TranscriptChannel:
    """Wraps a channel and appends each delivered message to a file, flushed to disk."""

    def __init__(self, inner: Channel, path: Path) -> None:
        self.inner, self.path, self.platform = inner, path, inner.platform

    def min_interval_s(self, chat_id: str) -> float:
        return self.inner.min_interval_s(chat_id)

    async def send(self, message: Outgoing) -> str | None:
        ref = await self.inner.send(message)
        line = json.dumps({"dedup_key": message.dedup_key, "notice": to_payload(message.notice)})
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())
        return ref


async def _seed(db: Database, venue: SimulatedVenue) -> int:
    """The demo user (reached on the console) and its three accounts; idempotent on ``--db``."""
    now = time.time()
    user = await Users(db).ensure(Platform.CONSOLE, "demo", "you", CHAT_ID, now=now)
    accounts = Accounts(db)
    for spec in DEMO_ACCOUNTS:
        found = await accounts.by_label(user.id, spec.label)
        if found is None:
            # Every demo account is "watched" by address: the simulated venue needs no keys.
            address = spec.wallet_address or f"demo:{spec.label}"
            found = await accounts.add(
                user.id, spec.venue, spec.label, wallet_address=address, now=now
            )
        venue.bind(found.id, spec)
    return user.id


@contextlib.asynccontextmanager
async def _database(path: Path | None) -> AsyncIterator[Database]:
    with tempfile.TemporaryDirectory(prefix="liqwatch-demo-") as tmp:
        file = path or Path(tmp) / "demo.db"
        # The demo runs the notifier: a second demo (or a run) on the same file is refused.
        with ProcessLock(file, purpose="demo"):
            async with Database.open(str(file)) as db:
                yield db


async def demo(
    options: DemoOptions,
    *,
    out: TextIO = sys.stdout,
    wrap: Callable[[Channel], Channel] = lambda channel: channel,
) -> None:
    """Run the demo until its duration ends (or /quit at the prompt); ``wrap`` puts a layer
    between the notifier and the console (a test's slow platform)."""
    venue = SimulatedVenue(Market(options.seed), time.time, DEMO_ACCOUNTS)
    # Fixed polls: the demo's story is the streamed mark, at a poll interval the console names.
    settings = Settings(
        db_path=options.db or Path("demo.db"), poll_s=options.poll_s, poll_bands=False
    )
    channel: Channel = ConsoleChannel(out)
    if options.transcript is not None:
        channel = TranscriptChannel(channel, options.transcript)
    channel = wrap(channel)
    async with _database(options.db) as db:
        await _seed(db, venue)
        vault = Vault(Secret(generate_key()))
        async with assemble(
            settings, db=db, hub=venue, vault=vault, channels={Platform.CONSOLE: channel},
            marks=lambda on_ticks, _ops: SimulatedMarks(venue, on_ticks),
        ) as runtime:  # fmt: skip
            _banner(out, options)
            session = ConsoleSession(CHAT_ID, runtime.conversation)
            await _play(runtime, session, options, out)
            await runtime.monitor.stop()
            await runtime.settle()
            print(_summary(runtime), file=out, flush=True)
    await venue.close()


async def _play(
    runtime: Runtime, session: ConsoleSession, options: DemoOptions, out: TextIO
) -> None:
    duration = options.duration_s
    if duration is None and not options.interactive:
        duration = HEADLESS_S
    if not options.interactive:
        await asyncio.sleep(duration or HEADLESS_S)
        return
    prompt = asyncio.create_task(_prompt(session, out))
    try:
        await asyncio.wait_for(asyncio.shield(prompt), timeout=duration)
    except TimeoutError:
        prompt.cancel()


async def _prompt(session: ConsoleSession, out: TextIO) -> None:
    """Read commands from the terminal without a thread: a reader callback feeds a queue, so
    the demo can end on --duration while the user has typed nothing. /quit or EOF stops."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()
    fd = sys.stdin.fileno()
    loop.add_reader(fd, lambda: lines.put_nowait(sys.stdin.readline()))
    try:
        while True:
            line = await lines.get()
            if not line or line.strip() in {"/quit", "/exit", "quit", "exit"}:
                return
            if line.strip():
                print(await session.handle(line.strip()), file=out, flush=True)
    finally:
        loop.remove_reader(fd)


def _banner(out: TextIO, options: DemoOptions) -> None:
    lines = [
        "liqwatch demo — three simulated accounts (Binance USDⓈ-M, Bybit, Hyperliquid),",
        f"polled every {options.poll_s:g}s by the real monitor. BTC crashes about 10 s in:",
        "watch the warning, then the critical alert, then the resolved messages.",
    ]
    if options.interactive:
        lines.append("Type /positions, /risk, /alerts, /alert add liq<8% BTC, /ack, /snooze, "
                     "/why <id>, /help — /quit to leave.")  # fmt: skip
    print("\n".join(lines), file=out, flush=True)


def _summary(runtime: Runtime) -> str:
    return (
        f"demo over: {runtime.monitor.stats.polls} polls, {runtime.pipeline.queued} messages "
        f"queued, {runtime.notifier.stats.sent} delivered."
    )
