"""`liqwatch run` on PostgreSQL (LIQWATCH_DB=postgresql://…): the whole service on the fake
venues and the fake Bot API — link, poll, a streamed mark that fires a critical, its delivery,
/positions — with every repository on PostgreSQL; rotate-key is refused while a worker runs.
Skipped with the reason when no server answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.ops import operator
from bot.security.vault import generate_key
from storage.lock import DatabaseInUse
from tests.bot.stream.test_run_e2e import SOL, USER, VENUE, Stack, _at, _critical_within, _running
from tests.postgres import postgres_schema

pytestmark = pytest.mark.slow


@pytest.fixture
async def on_postgres(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Stack]:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    monkeypatch.chdir(tmp_path)
    async with postgres_schema() as url:
        async for stack in _running(tmp_path, poll_s=60, env={"LIQWATCH_DB": url}):
            yield stack


async def test_the_service_runs_on_postgres(on_postgres: Stack) -> None:
    stack = on_postgres
    assert stack.settings.db_url is not None and stack.settings.database.startswith("postgresql")
    stack.stream.set_mark(VENUE, SOL, _at(3.0))
    assert await _critical_within(stack, 10.0, before=0) <= 10.0
    before = len(stack.telegram.bot_messages(USER))
    stack.telegram.send(stack.chat, "/positions")
    answers = await stack.telegram.wait_for(
        lambda: stack.telegram.bot_messages(USER)[before:], timeout=10
    )
    assert "SOL" in answers[-1].plain
    # A worker holds the database (shared): rotate-key, which no worker may run beside (they
    # hold the old key), is refused naming it.
    with pytest.raises(DatabaseInUse, match="in use by liqwatch run"):
        await operator.rotate_key(stack.settings, generate_key())
