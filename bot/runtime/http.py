"""The operator's HTTP endpoints (``LIQWATCH_HTTP_PORT``): ``/metrics``, ``/healthz``, ``/livez``.

``/livez`` answers while the event loop turns (a wedged loop cannot answer at all).
``/healthz`` is readiness: the database answers a read within ``DB_TIMEOUT_S``, the poll
scheduler runs, and polls are ending (the last one ended within ``stall_s``, or none is due
yet). It answers 200 or 503 with one JSON object saying which check failed, in a sentence.
On SQLite the process lock is this worker's only lease, held for its whole life.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.runtime.assemble import Runtime
from bot.runtime.metrics import CONTENT_TYPE, Metrics
from storage.errors import StorageError

log = logging.getLogger(__name__)

#: A database slower than this to answer one read is not ready.
DB_TIMEOUT_S = 2.0


class OpsServer:
    """An aiohttp site on ``host``:``port`` (0: any free port, see ``port`` once started)."""

    def __init__(
        self,
        runtime: Runtime,
        metrics: Metrics,
        *,
        host: str,
        port: int,
        stall_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.runtime, self.metrics, self.clock = runtime, metrics, clock
        self.host, self.port, self.stall_s = host, port, stall_s
        self.started_at = clock()
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/livez", self._livez)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise OSError(
                f"LIQWATCH_HTTP_PORT: cannot listen on {self.host}:{self.port} ({exc.strerror})"
            ) from exc
        sockets = getattr(site._server, "sockets", None) or ()
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("metrics and health on http://%s:%d/metrics", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, request: web.Request) -> web.Response:
        try:
            body = await self.metrics.scrape()
        except StorageError as exc:  # a sentence, not a traceback: the scraper shows it
            log.warning("metrics: the outbox could not be read (%s)", exc)
            return web.Response(status=503, text=f"liqwatch: {exc}\n")
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def _livez(self, request: web.Request) -> web.Response:
        return _json(200, {"alive": True})

    async def _healthz(self, request: web.Request) -> web.Response:
        checks = await self.checks()
        ready = all(ok for ok, _ in checks.values())
        body: dict[str, Any] = {"alive": True, "ready": ready}
        body["checks"] = {
            name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()
        }
        return _json(200 if ready else 503, body)

    async def checks(self) -> dict[str, tuple[bool, str]]:
        """Each readiness check: passed, and a sentence saying what was seen."""
        out: dict[str, tuple[bool, str]] = {}
        try:
            async with asyncio.timeout(DB_TIMEOUT_S):
                await self.runtime.db.ping()
            out["database"] = (True, "the database answers")
        except TimeoutError:
            out["database"] = (False, f"the database did not answer within {DB_TIMEOUT_S:g} s")
        except StorageError as exc:
            out["database"] = (False, str(exc))
        if self.runtime.leases is not None:  # a PostgreSQL worker
            out["leases"] = self.runtime.leases.current()
        monitor = self.runtime.monitor
        running = monitor.scheduler.running
        out["scheduler"] = (
            running,
            "polls are scheduled" if running else "the poll scheduler is stopped",
        )
        last = monitor.stats.last_cycle_at
        now = self.clock()
        polled = any(job.id.startswith("poll:") for job in monitor.scheduler.get_jobs())
        if not polled:
            out["polls"] = (True, "no account to poll")
        elif last is None:
            young = now - self.started_at < self.stall_s
            out["polls"] = (
                young,
                "no poll has ended yet" + ("" if young else f" in {self.stall_s:g} s"),
            )
        else:
            age = now - last
            out["polls"] = (age <= self.stall_s, f"the last poll ended {age:.0f} s ago")
        return out


def _json(status: int, body: dict[str, Any]) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")
