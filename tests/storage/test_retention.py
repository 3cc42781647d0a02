"""Retention's deletes: what ages out goes, in batches; what is pending, live or still needed by
buttons and replies stays; nothing due takes no write lock."""

from __future__ import annotations

import asyncio

import pytest

from engine.alerts.evaluate import Decision, Evaluation
from engine.alerts.events import AlertStatus, Reason
from engine.alerts.state import Alert
from engine.domain import LinkedAccount, Platform, User
from storage.alerts import Alerts
from storage.db import Database
from storage.outbox import Outbox, OutboxStatus
from storage.retention import Cutoffs, Retention
from storage.rules import Rules
from storage.users import Users
from tests.fakes.notices import alert_notice, item, message

DAY = 86400.0
NOW = 1_700_000_000.0
OLD = NOW - 40 * DAY
CUTOFF = NOW - 30 * DAY


async def _row(db: Database, key: str, *, at: float, status: str = "sent", alert: int = 0) -> int:
    """One outbox row queued at ``at``, then sent (or dead, or left pending); about ``alert``."""
    notice = alert_notice(item(alert)) if alert else None
    async with db.transaction() as tx:
        await Outbox(tx.db).enqueue([message(key=key, notice=notice)], now=at, tx=tx)
    row = await Outbox(db).by_key(key)
    assert row is not None
    if status == "sent":
        await Outbox(db).mark_sent(row.id, at + 1, f"ref-{key}")
    elif status == "dead":
        await Outbox(db).dead(row.id, "Forbidden")
    return row.id


async def _keys(db: Database) -> set[str]:
    return {str(r[0]) for r in await db.fetchall("SELECT dedup_key FROM outbox")}


async def _alert(
    db: Database, account: LinkedAccount, alert_id: int, status: AlertStatus, at: float
) -> None:
    """An alert episode fired at ``at`` (resolved an hour later if so), with two decisions."""
    rule = (await Rules(db).list_for(account.owner_id))[0]
    resolved = at + 3600 if status is AlertStatus.RESOLVED else None
    alert = Alert(
        alert_id, rule.id, account.id, f"k{alert_id}", status, at, 1, 3.0, 3.0,
        fired_at=at, resolved_at=resolved,
    )  # fmt: skip
    decisions = (Decision(alert_id, at, Reason.FIRST), Decision(alert_id, at + 60, Reason.WAITING))
    async with db.transaction() as tx:
        await Alerts(tx.db).apply(Evaluation((alert,), decisions=decisions), tx=tx)


async def _ids(db: Database, table: str, column: str = "id") -> list[int]:
    return [int(r[0]) for r in await db.fetchall(f"SELECT {column} FROM {table} ORDER BY 1")]


def _cutoffs(at: float = CUTOFF) -> Cutoffs:
    return Cutoffs(outbox=at, alerts=at, silences=at, connect_codes=at)


async def test_done_messages_before_the_cutoff_go_and_pending_ones_stay(db: Database) -> None:
    """Sent and dead-lettered rows queued before the cutoff go; an undelivered (pending) row
    stays however old, and so does anything newer than the cutoff."""
    for key, at, status in [
        ("old-sent", OLD, "sent"), ("old-dead", OLD, "dead"), ("old-pending", OLD, "pending"),
        ("new-sent", NOW, "sent"),
    ]:  # fmt: skip
        await _row(db, key, at=at, status=status)
    assert await Retention(db).prune_outbox(CUTOFF) == 2
    assert await _keys(db) == {"old-pending", "new-sent"}
    assert (await Outbox(db).counts())[OutboxStatus.PENDING] == 1


async def test_messages_about_a_live_alert_stay_for_its_buttons_and_replies(
    db: Database, alice_account: LinkedAccount
) -> None:
    """An old message about an alert still firing keeps working: its buttons
    (``sent_notice``) and the resolved notice's reply (``related_refs``) need it. One about
    an alert resolved since goes."""
    await _alert(db, alice_account, 1, AlertStatus.FIRING, OLD)
    await _alert(db, alice_account, 2, AlertStatus.RESOLVED, OLD)
    live = await _row(db, "about-live", at=OLD, alert=1)
    await _row(db, "about-resolved", at=OLD, alert=2)
    await _row(db, "newest", at=NOW)
    assert await Retention(db).prune_outbox(CUTOFF) == 1
    assert await _keys(db) == {"about-live", "newest"}
    assert await Outbox(db).sent_notice(live) is not None
    refs = await Outbox(db).related_refs(Platform.TELEGRAM, "100", [1])
    assert refs == ("ref-about-live",)


async def test_the_newest_message_stays_so_its_id_is_never_reused(db: Database) -> None:
    """Ids are max(id) + 1: deleting the newest row would give its id (named in old buttons)
    to the next message."""
    first = await _row(db, "a", at=OLD)
    newest = await _row(db, "b", at=OLD)
    assert await Retention(db).prune_outbox(CUTOFF) == 1
    assert await _ids(db, "outbox") == [newest]
    assert await _row(db, "c", at=NOW) > newest > first


async def test_a_corrupt_dead_letter_is_pruned_not_fatal(db: Database) -> None:
    """A row dead-lettered for its unreadable payload must not make every prune fail."""
    await _row(db, "bad", at=OLD, status="dead")
    await _row(db, "newest", at=NOW)
    async with db.transaction() as tx:
        await tx.execute("UPDATE outbox SET payload_json = '{not json' WHERE dedup_key = 'bad'")
    assert await Retention(db).prune_outbox(CUTOFF) == 1
    assert await _keys(db) == {"newest"}


async def test_resolved_alerts_go_with_their_decisions_and_live_ones_stay_whole(
    db: Database, alice_account: LinkedAccount
) -> None:
    """Resolved before the cutoff: gone with its decision log. Firing or pending since long
    ago, or resolved within the window: kept with every decision (/why, /alerts, the
    digest's day of alerts)."""
    await _alert(db, alice_account, 1, AlertStatus.RESOLVED, OLD)
    await _alert(db, alice_account, 2, AlertStatus.FIRING, OLD)
    await _alert(db, alice_account, 3, AlertStatus.PENDING, OLD)
    await _alert(db, alice_account, 4, AlertStatus.RESOLVED, NOW - DAY)
    await _alert(db, alice_account, 5, AlertStatus.RESOLVED, OLD + DAY)  # the newest id
    assert await Retention(db).prune_alerts(CUTOFF) == 1
    assert await _ids(db, "alerts") == [2, 3, 4, 5]
    assert sorted(set(await _ids(db, "alert_decisions", "alert_id"))) == [2, 3, 4, 5]
    assert len(await Alerts(db).decisions(2)) == 2


async def test_the_newest_alert_stays_so_its_id_is_never_reused(
    db: Database, alice_account: LinkedAccount
) -> None:
    """``Alerts.next_id`` is max(id) + 1: a reused id would thread a new alert's messages
    onto the old one's."""
    await _alert(db, alice_account, 1, AlertStatus.RESOLVED, OLD)
    await _alert(db, alice_account, 2, AlertStatus.RESOLVED, OLD)
    assert await Retention(db).prune_alerts(CUTOFF) == 1
    assert await _ids(db, "alerts") == [2]


async def test_ended_silences_go_and_a_live_one_stays(db: Database, alice: User) -> None:
    """A silence that ended before the cutoff goes; one still running never does."""
    alerts = Alerts(db)
    ended = await alerts.add_silence(alice.id, {}, starts_at=OLD, ends_at=OLD + 3600)
    live = await alerts.add_silence(alice.id, {}, starts_at=OLD, ends_at=NOW + DAY)
    recent = await alerts.add_silence(alice.id, {}, starts_at=NOW - DAY, ends_at=NOW - 3600)
    assert await Retention(db).prune_silences(CUTOFF) == 1
    assert await _ids(db, "silences") == sorted([live.id, recent.id])
    assert ended.id not in await _ids(db, "silences")


async def test_expired_connect_codes_go(db: Database, alice: User, bob: User) -> None:
    """A /connect code that expired before the cutoff goes; a newer one stays."""
    users = Users(db)
    await users.issue_code(alice.id, "OLDCODE", expires_at=OLD)
    await users.issue_code(bob.id, "NEWCODE", expires_at=NOW + 600)
    assert await Retention(db).prune_connect_codes(CUTOFF) == 1
    rows = await db.fetchall("SELECT expires_at FROM connect_codes")
    assert [float(r[0]) for r in rows] == [NOW + 600]


async def test_a_big_prune_lets_other_writers_in_between_batches(db: Database) -> None:
    """300 rows due, 10 per transaction: a write queued mid-prune runs before the prune ends
    (one DELETE of everything would hold the lock until all were gone)."""
    async with db.transaction() as tx:
        await Outbox(tx.db).enqueue([message(key=f"m{i}") for i in range(301)], now=OLD, tx=tx)
        await tx.execute("UPDATE outbox SET status = 'sent'")

    async def sent() -> int:
        row = await db.fetchone("SELECT count(*) FROM outbox WHERE status = 'sent'")
        return int(row[0]) if row else 0

    pruning = asyncio.create_task(Retention(db, batch=10).prune_outbox(CUTOFF))
    async with asyncio.timeout(10):  # the first batch is gone
        while await sent() == 301:
            await asyncio.sleep(0)
    async with db.transaction() as tx:  # queued behind at most the batch in progress
        row = await tx.fetchone("SELECT count(*) FROM outbox")
    assert row is not None and 1 < int(row[0]) < 301
    assert await pruning == 300


async def test_nothing_due_takes_no_write_lock(db: Database, alice_account: LinkedAccount) -> None:
    """With nothing to prune, a run only reads: it completes while this task holds the write
    transaction (any write would be a nested transaction, refused). With something due it
    must write, and is refused: the check can fail."""
    for key in ("recent", "newest"):
        await _row(db, key, at=NOW)
    for alert_id in (1, 2):
        await _alert(db, alice_account, alert_id, AlertStatus.RESOLVED, NOW)
    retention = Retention(db)
    async with db.transaction():
        pruned = await retention.prune(_cutoffs())
        assert pruned.total == 0
        with pytest.raises(RuntimeError, match="nested transaction"):
            await retention.prune(_cutoffs(NOW + 2 * DAY))
