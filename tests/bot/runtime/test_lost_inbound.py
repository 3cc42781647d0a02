"""A worker whose connection to PostgreSQL drops while it holds the chat inbound, and whose
inbound lock another session takes before it reconnects, stops reading the chat and exits
with ``EXIT_LOST_INBOUND`` (so a service manager restarts it), instead of reading the chat
beside the new holder. Real ``run`` on a fresh schema with the fake Bot API; the server ends
the worker's sessions (``pg_terminate_backend``), as a restart or a cut network would."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from bot.runtime.app import EXIT_LOST_INBOUND, INBOUND_KEY, run
from bot.security.vault import generate_key
from bot.settings import Settings
from storage.postgres import SPACE
from tests.fakes.telegram import FakeTelegram
from tests.postgres import postgres_schema

pytestmark = pytest.mark.slow


async def test_a_worker_that_lost_the_inbound_while_cut_off_exits_to_be_restarted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    monkeypatch.chdir(tmp_path)
    async with postgres_schema() as url, FakeTelegram() as telegram:
        settings = Settings.from_env(
            {
                "LIQWATCH_DB": url,
                "LIQWATCH_MASTER_KEY": generate_key(),
                "LIQWATCH_LEASE_SECONDS": "3",
                "TELEGRAM_BOT_TOKEN": telegram.token,
                "TELEGRAM_API_URL": telegram.url,
            }
        )
        stop = asyncio.Event()
        worker = asyncio.create_task(run(settings, stop=stop))
        try:
            await telegram.wait_for(lambda: telegram.calls_to("getUpdates"), timeout=30)
            rival = await asyncpg.connect(url)
            try:
                held = f"SELECT pg_try_advisory_lock({SPACE}, $1)"
                assert not await rival.fetchval(held, INBOUND_KEY)  # the worker holds it
                # Every session of the worker ends (its pid is the session's: the schema is ours
                # alone), and the rival takes the lock before the worker reconnects.
                ended = await rival.fetchval(
                    "SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l"
                    " WHERE l.locktype = 'advisory' AND l.objid = $1 AND l.granted"
                    f" AND l.classid::bigint = ({SPACE})::bigint & 4294967295",
                    INBOUND_KEY,
                )
                assert ended == 1
                for _ in range(50):
                    if await rival.fetchval(held, INBOUND_KEY):
                        break
                    await asyncio.sleep(0.1)
                else:
                    pytest.fail("the terminated session's inbound lock was never freed")
                status = await asyncio.wait_for(worker, timeout=30)
            finally:
                await rival.close()
        finally:
            stop.set()
            if not worker.done():
                await asyncio.wait_for(worker, timeout=30)
    assert status == EXIT_LOST_INBOUND
    assert "lost the chat inbound" in caplog.text
