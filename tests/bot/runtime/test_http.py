"""The operator's endpoints of `liqwatch run` (LIQWATCH_HTTP_PORT): /metrics in Prometheus'
text format, parsed with prometheus_client's own parser, counting what really happened (a
poll, a streamed crossing that fires a critical, its delivery); /healthz and /livez."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.runtime.http import OpsServer
from bot.runtime.metrics import Metrics
from tests.bot.stream.test_run_e2e import SOL, USER, VENUE, Stack, _at, _critical_within, _running
from tests.fakes.exchange import FakeExchange
from tests.faults.conftest import open_stack

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Stack, str]]:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    monkeypatch.chdir(tmp_path)
    port = _free_port()
    env = {"LIQWATCH_HTTP_PORT": str(port)}
    async for stack in _running(tmp_path, poll_s=60, env=env):
        yield stack, f"http://127.0.0.1:{port}"


async def _get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, response.headers["Content-Type"], await response.text()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_count_polls_streams_alerts_and_deliveries(
    served: tuple[Stack, str],
) -> None:
    """After the first poll: one poll of the venue, its lag observed, one account held, the
    venue's stream live. A streamed mark at 3 % fires a critical: one critical "first"
    transition and one Telegram message sent; nothing pending in the outbox."""
    stack, base = served
    polls = ("liqwatch_polls_total", (("venue", VENUE),))
    deadline = time.monotonic() + 10.0
    while True:  # the stream follows the poll's positions before the poll has ended
        status, kind, text = await _get(f"{base}/metrics")
        assert status == 200 and kind.startswith("text/plain; version=0.0.4")
        seen = _samples(text)
        if polls in seen or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert seen[polls] == 1, text
    assert seen[("liqwatch_poll_lag_seconds_count", ())] >= 1
    assert seen[("liqwatch_accounts_held", ())] == 1
    assert seen[("liqwatch_stream_state", (("state", "live"), ("venue", VENUE)))] == 1
    assert seen[("liqwatch_leader", (("role", "telegram inbound"),))] == 1
    assert (
        "liqwatch_alert_transitions_total",
        (("severity", "critical"), ("transition", "first")),
    ) not in seen
    stack.stream.set_mark(VENUE, SOL, _at(3.0))
    await _critical_within(stack, 10.0, before=0)
    await stack.telegram.wait_for(lambda: stack.sent_to(USER, "🔴 CRITICAL"), timeout=5)
    seen = _samples((await _get(f"{base}/metrics"))[2])
    critical = (
        "liqwatch_alert_transitions_total",
        (("severity", "critical"), ("transition", "first")),
    )
    assert seen[critical] == 1
    sent = seen[("liqwatch_deliveries_total", (("outcome", "sent"), ("platform", "telegram")))]
    assert sent >= 1
    assert seen[("liqwatch_outbox_oldest_age_seconds", ())] >= 0
    assert seen[("liqwatch_rate_limited_total", (("venue", VENUE),))] == 0


async def test_healthz_is_ready_and_livez_alive(served: tuple[Stack, str]) -> None:
    _stack, base = served
    status, kind, text = await _get(f"{base}/healthz")
    assert status == 200 and kind.startswith("application/json"), text
    assert '"ready": true' in text and '"the database answers"' in text
    assert (await _get(f"{base}/livez"))[0] == 200
    assert (await _get(f"{base}/nothing"))[0] == 404


async def test_healthz_says_which_check_fails(tmp_path: Path) -> None:
    """The assembled runtime, then its poll scheduler stopped: 503, and the failing check says
    why while the passing ones say what they saw."""
    async with FakeExchange() as fake:
        async for stack in open_stack(tmp_path / "liqwatch.db", fake):
            runtime = stack.runtime
            server = OpsServer(runtime, Metrics(runtime), host="127.0.0.1", port=0, stall_s=60)
            await server.start()
            try:
                base = f"http://127.0.0.1:{server.port}"
                assert (await _get(f"{base}/healthz"))[0] == 200
                runtime.monitor.scheduler.shutdown(wait=False)
                status, _, text = await _get(f"{base}/healthz")
                assert status == 503, text
                checks = json.loads(text)["checks"]
                assert checks["scheduler"] == {
                    "ok": False,
                    "detail": "the poll scheduler is stopped",
                }
                assert checks["database"]["ok"] is True
            finally:
                await server.stop()
