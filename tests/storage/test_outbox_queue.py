"""Digest charts beside the outbox row: stored at enqueue, back at claim, gone once done; rows
an older liqwatch queued with charts in the payload still send, and migration 0009 strips them
from digests already sent."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from engine.alerts.events import Chart, DigestNotice, to_payload
from engine.alerts.rules import Severity
from engine.domain import Platform
from storage.db import Database
from storage.migrate import load_migrations
from storage.outbox import NewMessage, Outbox, OutboxStatus
from tests.fakes.notices import message

NOW = 1_700_000_000.0
#: A claim time after anything these tests queue.
LATER = NOW + 3600.0


def _charts() -> tuple[Chart, ...]:
    """Three charts of distinct, incompressible bytes (PNG-sized: tens of KB each)."""
    return tuple(
        Chart(f"{name}.png", f"{name} chart", base64.b64encode(os.urandom(40_000)).decode())
        for name in ("exposure", "ladder", "equity")
    )


def _digest(key: str = "digest:1:1", *, charts: tuple[Chart, ...] | None = None) -> NewMessage:
    notice = DigestNotice(
        1, NOW, "Daily digest", "Equity 1,000 USD", _charts() if charts is None else charts
    )
    return NewMessage(key, None, Platform.TELEGRAM, "100", Severity.INFO, notice)


async def enqueue(db: Database, *messages: NewMessage) -> int:
    async with db.transaction() as tx:
        return await Outbox(tx.db).enqueue(messages, now=NOW, tx=tx)


async def _stored(db: Database) -> int:
    row = await db.fetchone("SELECT count(*) FROM outbox_charts")
    assert row is not None
    return int(row[0])


async def test_a_digest_claims_back_with_its_charts_in_order(db: Database) -> None:
    """What was queued is what the notifier gets: the same charts, in the same order."""
    queued = _digest()
    await enqueue(db, queued)
    [claimed] = await Outbox(db).claim(LATER, 10, 60.0)
    assert claimed.notice == queued.notice


async def test_the_payload_keeps_the_text_and_not_the_charts(db: Database) -> None:
    """The row is the log of what was said: a few hundred bytes, not the ~160 KB of charts."""
    await enqueue(db, _digest())
    row = await db.fetchone("SELECT payload_json FROM outbox")
    assert row is not None and len(row["payload_json"]) < 1000
    assert json.loads(row["payload_json"])["charts"] == []
    assert await _stored(db) == 3


@pytest.mark.parametrize("outcome", ["sent", "dead", "dead_chat"])
async def test_charts_go_once_the_row_is_done(db: Database, outcome: str) -> None:
    """Sent, dead-lettered or given up with its chat: the charts go, the row stays."""
    await enqueue(db, _digest())
    outbox = Outbox(db)
    [claimed] = await outbox.claim(LATER, 10, 60.0)
    if outcome == "sent":
        await outbox.mark_sent(claimed.id, LATER, "m-1")
    elif outcome == "dead":
        await outbox.dead(claimed.id, "Forbidden")
    else:
        await outbox.dead_chat(Platform.TELEGRAM, "100", "chat gone")
    assert await _stored(db) == 0
    sent = await outbox.sent_notice(claimed.id)
    assert sent is not None and isinstance(sent.notice, DigestNotice)
    assert sent.notice.text == "Equity 1,000 USD"


async def test_a_retried_digest_keeps_its_charts(db: Database) -> None:
    """A failed attempt leaves the row pending: the retry sends the charts again."""
    queued = _digest()
    await enqueue(db, queued)
    outbox = Outbox(db)
    [claimed] = await outbox.claim(LATER, 10, 60.0)
    await outbox.retry(claimed.id, LATER, "timeout")
    [again] = await outbox.claim(LATER, 10, 60.0)
    assert again.notice == queued.notice


async def test_a_repeated_key_stores_no_second_set_of_charts(db: Database) -> None:
    """Dedup holds for digests too: one row, one set of charts."""
    assert await enqueue(db, _digest("same")) == 1
    assert await enqueue(db, _digest("same")) == 0
    assert await _stored(db) == 3


async def test_a_digest_without_charts_stores_none(db: Database) -> None:
    """'Nothing to report' has no charts, and claims back as it was."""
    queued = _digest(charts=())
    await enqueue(db, queued)
    [claimed] = await Outbox(db).claim(LATER, 10, 60.0)
    assert claimed.notice == queued.notice and await _stored(db) == 0


async def test_mixed_messages_keep_their_queueing_order(db: Database) -> None:
    """Ids follow the order given, digests included (the claim's tie-break is the id)."""
    first, second = (
        message(key="a", severity=Severity.INFO),
        message(key="c", severity=Severity.INFO),
    )
    assert await enqueue(db, first, _digest("b"), second) == 3
    claimed = await Outbox(db).claim(LATER, 10, 60.0)
    assert [c.dedup_key for c in claimed] == ["a", "b", "c"]


async def _legacy_row(db: Database, key: str, *, status: str = "pending") -> DigestNotice:
    """A digest as liqwatch queued it before 0009: the charts' base64 in payload_json."""
    notice = _digest(key).notice
    assert isinstance(notice, DigestNotice)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO outbox (dedup_key, owner_id, platform, chat_id, severity, payload_json,"
            " status, next_attempt_at, created_at) VALUES (?, NULL, 'telegram', '100', 'info',"
            " ?, ?, ?, ?)",
            (key, json.dumps(to_payload(notice)), status, NOW, NOW),
        )
    return notice


async def test_a_digest_queued_with_charts_in_its_payload_still_sends_them(db: Database) -> None:
    """Upgrading with a digest in the queue: it is claimed with the charts it carries."""
    notice = await _legacy_row(db, "old")
    [claimed] = await Outbox(db).claim(LATER, 10, 60.0)
    assert claimed.notice == notice and len(claimed.notice.charts) == 3


async def test_migration_strips_charts_only_from_digests_already_done(db_path: Path) -> None:
    """0009 on a database with old digests: the sent one loses its charts (the space they
    took is reused), the pending one keeps them and still sends, a corrupt row is left as is."""
    async with Database.open(db_path, migrations=load_migrations()[:8]) as db:
        await _legacy_row(db, "sent", status="sent")
        pending = await _legacy_row(db, "pending")
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO outbox (dedup_key, platform, chat_id, severity, payload_json, status,"
                " next_attempt_at, created_at) VALUES ('bad', 'telegram', '1', 'info', '{not json',"
                " 'dead', 0, 0)"
            )
    async with Database.open(db_path) as db:
        assert await db.schema_version() == len(load_migrations())
        rows = {
            r["dedup_key"]: r["payload_json"]
            for r in await db.fetchall("SELECT dedup_key, payload_json FROM outbox")
        }
        assert json.loads(rows["sent"])["charts"] == [] and rows["bad"] == "{not json"
        assert json.loads(rows["sent"])["text"] == "Equity 1,000 USD"
        [claimed] = await Outbox(db).claim(LATER, 10, 60.0)
        assert claimed.notice == pending
        assert (await Outbox(db).by_key("sent")).status is OutboxStatus.SENT  # type: ignore[union-attr]
