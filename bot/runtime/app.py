"""The composition root of `liqwatch run`: settings → database → exchanges → monitor, one loop."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack

from bot.chat.adapter import ChatAdapter
from bot.delivery.channel import Channel
from bot.delivery.ops import OpsAlerts
from bot.discord.adapter import DiscordAdapter
from bot.exchanges import ExchangeHub
from bot.render import venues as venue_text
from bot.runtime.assemble import Marks, Pushes, Runtime, assemble
from bot.runtime.http import OpsServer
from bot.runtime.metrics import Metrics
from bot.security import redact
from bot.security.vault import Vault, bind_credentials
from bot.settings import Settings
from bot.stream import MarkStreams
from bot.stream.positions import Keys, OnPositions, PositionStreams
from bot.stream.records import MarkTick
from bot.telegram.adapter import TelegramAdapter
from engine.domain import Platform
from storage import Database
from storage.accounts import Accounts
from storage.errors import StorageError, StorageUnavailable
from storage.lock import ProcessLock
from storage.postgres import PgDatabase

log = logging.getLogger("liqwatch")


#: Library loggers and the least severe level each may log at, whatever liqwatch's own level.
LIBRARY_FLOORS = {
    # ccxt logs request URLs and headers at DEBUG, and httpx (under python-telegram-bot) logs
    # every request URL at INFO: a Bot API URL holds the bot token. Never let them through.
    "ccxt": logging.WARNING,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "discord.http": logging.WARNING,
    "discord.gateway": logging.WARNING,
    # python-telegram-bot logs every update at DEBUG: a /link message with its secret.
    "telegram": logging.INFO,
    # APScheduler says "Running job…" and "…executed successfully" at INFO for every run: two
    # lines per poll, hundreds a second at thousands of accounts. Its warnings (missed runs)
    # and errors (a job raised) still come through; liqwatch's own INFO is what an operator
    # needs: start, stop, account state changes, delivery failures.
    "apscheduler": logging.WARNING,
}


def configure_logging(
    level: str, *, timestamps: bool = True, scheduler: int = logging.WARNING
) -> None:
    """The one place logging is set up (``liqwatch run``, the demo): one line per record on
    stderr, the libraries held at their floors. Secrets never reach a record (see
    tests/bot/monitor/test_secrets.py). The demo drops timestamps and holds APScheduler at
    ``scheduler`` (ERROR: a busy machine's skipped 1-2 s polls are noise beside its story)."""
    stamp = "%(asctime)s " if timestamps else ""
    logging.basicConfig(
        level=level, format=f"{stamp}%(levelname)s %(name)s: %(message)s", force=True
    )
    quiet_libraries(scheduler=scheduler)


def quiet_libraries(*, scheduler: int = logging.WARNING) -> None:
    """Raise each library logger to its floor (never lower one set higher): ``run`` does it
    too, since a process that set up logging its own way (the tests) must not log secrets."""
    for name, floor in {**LIBRARY_FLOORS, "apscheduler": scheduler}.items():
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.level, floor))
    for name in ("apscheduler.executors.default", "asyncpg.pool"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, OneLineOutage) for f in logger.filters):
            logger.addFilter(OneLineOutage())


class OneLineOutage(logging.Filter):
    """APScheduler logs each failed job run with its traceback, and asyncpg's pool each failed
    attempt to reopen a connection: with the database out of reach that is every poll, report
    and second for as long as it lasts. Those become one line each, with the error's own
    sentence (the supervisor counts failed jobs and tells the ops chat)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, StorageUnavailable | OSError | TimeoutError):
            record.msg, record.args = f"{record.getMessage()}: {exc}", ()
            record.exc_info, record.exc_text = None, None
        return True


def chat_adapters(settings: Settings) -> list[ChatAdapter]:
    """Telegram when its token is set, Discord when its token is set, both when both are."""
    found: list[ChatAdapter] = []
    if settings.telegram_token is not None:
        found.append(TelegramAdapter(settings.telegram_token.reveal(), settings.telegram_api_url))
    if settings.discord_token is not None:
        found.append(
            DiscordAdapter(
                settings.discord_token.reveal(),
                settings.discord_api_url,
                gateway_url=settings.discord_gateway_url,
                guild_ids=settings.discord_guild_ids,
            )
        )
    return found


async def run(settings: Settings, *, stop: asyncio.Event | None = None) -> int:
    """Run until SIGTERM/SIGINT (or ``stop``), then shut everything down cleanly; the exit
    status: 0, or ``EXIT_LOST_INBOUND`` when this worker stopped because it lost the chat
    inbound to another while cut off from the database (a service manager restarts it)."""
    vault = Vault(settings.require_master_key())
    quiet_libraries()
    tokens = (settings.master_key, settings.telegram_token, settings.discord_token)
    secrets = [s.reveal() for s in tokens if s]
    redact.install(secrets)
    stop = stop or asyncio.Event()
    lost: list[int] = []  # the inbound keys this worker lost while cut off
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        # Off the main thread (tests) there are no signal handlers: the caller sets ``stop``.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        # SQLite: one process per database, held until exit (the kernel frees it on kill -9),
        # so a second `run` stops here, before it could touch the first one's leases.
        # PostgreSQL: every `run` is a worker sharing the accounts by lease; the shared lock
        # only keeps rotate-key and migrate-db out while any worker runs.
        if settings.db_url is None:
            stack.enter_context(ProcessLock(settings.db_path, purpose="run"))
        db = await stack.enter_async_context(Database.open(settings.database))
        if isinstance(db, PgDatabase):
            await db.hold("run", shared=True)
            db.on_lead_lost = functools.partial(_lost_lead, stop, lost)
        resealed = await bind_credentials(Accounts(db), vault)
        if resealed:
            log.info("re-sealed %d stored credentials, bound to their accounts", resealed)
        hub = await stack.enter_async_context(ExchangeHub(settings.exchange_url_prefix))
        # Chat channels join here; a platform without one keeps its alerts in the outbox
        # (nothing is lost) and the notifier logs that once per platform.
        channels: dict[Platform, Channel] = {}
        adapters = [await stack.enter_async_context(a) for a in chat_adapters(settings)]
        for adapter in adapters:
            channels[adapter.channel.platform] = adapter.channel
        runtime = await stack.enter_async_context(
            assemble(
                settings,
                db=db,
                hub=hub,
                flows=hub,
                vault=vault,
                channels=channels,
                marks=_streams(settings, hub) if settings.stream else None,
                pushes=_pushes(settings, hub) if settings.stream and settings.push else None,
            )
        )
        # Commands are answered only once the services exist; stopped before they go. Every
        # worker sends through the adapters; only one at a time takes their inbound (Telegram
        # allows one getUpdates consumer per token, Discord one gateway session per shard).
        roles: list[str] = []
        if isinstance(db, PgDatabase):  # wait for the inbound lock without holding up run
            inbound = asyncio.create_task(_inbound(db, adapters, runtime, stack, roles))
            inbound.add_done_callback(_log_failure)
            stack.push_async_callback(_cancel, inbound)
        else:  # one process per file: the inbound is ours, and a failing start stops run
            await _inbound(db, adapters, runtime, stack, roles)
        if settings.http_port is not None:
            metrics = Metrics(runtime, budgets=hub.budgets, leader_roles=roles)
            server = OpsServer(
                runtime, metrics, host=settings.http_host, port=settings.http_port,
                stall_s=settings.stall_s,
            )  # fmt: skip
            await server.start()
            stack.push_async_callback(server.stop)
        count = runtime.heartbeat.watched()
        log.info("liqwatch running: watching %d accounts, database %s", count, db.path)
        venues = {a.venue for a in await Accounts(db).all_pollable()}
        for state in hub.budgets(sorted(venues)):
            log.info("%s", venue_text.budget_state(state))
        await stop.wait()
        log.info("liqwatch stopping")
    return EXIT_LOST_INBOUND if lost else 0


async def _inbound(
    db: Database,
    adapters: Sequence[ChatAdapter],
    runtime: Runtime,
    stack: AsyncExitStack,
    roles: list[str],
) -> None:
    """Start the adapters' inbound once this process may: at once on SQLite (one process per
    file), on PostgreSQL once it holds the inbound lock, tried every few seconds (a dead
    leader's lock is freed by the server when its connection drops)."""
    if not adapters:
        return
    if isinstance(db, PgDatabase):
        while not await _leads(db):
            await asyncio.sleep(INBOUND_RETRY_S)
        log.info("this worker takes the chat inbound")
    # Each connection is supervised (restarted, and told, if it ends), and unsupervised again
    # before its adapter stops, or the stop would look like a crash.
    for adapter in adapters:
        await adapter.start(runtime.conversation)
        stack.push_async_callback(adapter.stop)
        name = f"{adapter.channel.platform} bot"
        runtime.supervisor.start(name, adapter.serve)
        stack.push_async_callback(runtime.supervisor.stop_task, name)
        roles.append(f"{adapter.channel.platform} inbound")


def _lost_lead(stop: asyncio.Event, lost: list[int], key: int) -> None:
    """The inbound lock went with a lost connection and another worker holds it now: this
    one's inbound would be a second reader of the chat (Discord answers every command twice),
    so it stops, with a failing exit status so that a service manager restarts it (systemd's
    ``Restart=on-failure``, a platform's dyno restart); restarted, it joins as a worker without
    the inbound. Handing the inbound back in place would need each adapter to stop reading
    while it keeps sending (discord.py's gateway client does both)."""
    if key == INBOUND_KEY:
        log.error(
            "this worker lost the chat inbound while cut off from the database and another"
            " worker holds it now: stopping so that only one reads the chat (exit status %d:"
            " restart it)",
            EXIT_LOST_INBOUND,
        )
        lost.append(key)
        stop.set()


async def _leads(db: PgDatabase) -> bool:
    """Whether this worker now holds the inbound lock; a database out of reach is a "no" for
    now (the worker keeps trying: it may be the one left when the others die)."""
    try:
        return await db.try_lead(INBOUND_KEY)
    except StorageError:
        return False


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)  # a failure was logged when it ended


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the chat inbound could not start", exc_info=task.exception())


#: The advisory lock of "this worker holds the chat inbound" (docs/storage.md#workers), and
#: how often a worker without it tries to take it.
INBOUND_KEY = 7741002
INBOUND_RETRY_S = 5.0
#: ``run``'s exit status after losing the chat inbound (sysexits' EX_TEMPFAIL: try again).
EXIT_LOST_INBOUND = 75


def _streams(settings: Settings, hub: ExchangeHub) -> Marks:
    """The venues' mark streams (closed with the runtime, before the hub they read through)."""

    def build(on_ticks: Callable[[Sequence[MarkTick]], None], ops: OpsAlerts) -> MarkStreams:
        return MarkStreams(hub, on_ticks, ops=ops, ws_prefix=settings.exchange_ws_url_prefix)

    return build


def _pushes(settings: Settings, hub: ExchangeHub) -> Pushes:
    """Linked keys' position streams (Binance user data, OKX and Bybit private channels)."""

    def build(on_positions: OnPositions, keys: Keys) -> PositionStreams:
        return PositionStreams(hub, on_positions, keys, ws_prefix=settings.exchange_ws_url_prefix)

    return build
