"""The outbox repository: enqueue in the caller's transaction, claim with leases, outcomes."""

from __future__ import annotations

from engine.alerts.events import AlertStatus, Reason
from engine.alerts.rules import Severity
from engine.domain import Platform, User
from storage.db import Database
from storage.outbox import NewMessage, Outbox, OutboxStatus
from tests.fakes.notices import alert_notice, item, message

NOW = 1_700_000_000.0


async def enqueue(db: Database, *messages: NewMessage, now: float = NOW) -> int:
    async with db.transaction() as tx:
        return await Outbox(tx.db).enqueue(messages, now=now, tx=tx)


async def test_enqueue_twice_with_the_same_key_keeps_one_row(db: Database) -> None:
    """At-least-once upstream, once in the outbox: a repeated dedup key inserts nothing."""
    first = await enqueue(db, message(key="alert-1:chat-100"))
    again = await enqueue(db, message(key="alert-1:chat-100"), message(key="alert-2"))
    assert (first, again) == (1, 1)
    assert (await Outbox(db).counts())[OutboxStatus.PENDING] == 2


async def test_enqueue_rolls_back_with_the_callers_transaction(db: Database) -> None:
    """Rows are written inside the caller's transaction: its rollback removes them too."""
    try:
        async with db.transaction() as tx:
            await Outbox(tx.db).enqueue([message()], now=NOW, tx=tx)
            raise RuntimeError("the alert stage failed after queueing")
    except RuntimeError:
        pass
    assert (await Outbox(db).counts())[OutboxStatus.PENDING] == 0


async def test_claim_round_trips_the_notice(db: Database) -> None:
    """A claimed row carries the same notice that was queued, parsed back from JSON."""
    notice = alert_notice()
    await enqueue(db, message("42", Severity.CRITICAL, key="k", notice=notice))
    [claimed] = await Outbox(db).claim(NOW, 10, 60.0)
    assert (claimed.dedup_key, claimed.chat_id, claimed.platform) == ("k", "42", Platform.TELEGRAM)
    assert claimed.notice == notice
    assert claimed.attempts == 0


async def test_claim_orders_critical_then_warning_then_info_then_oldest(db: Database) -> None:
    """A backlog is claimed most severe first, and within a severity oldest first."""
    await enqueue(db, message(key="info", severity=Severity.INFO), now=NOW - 30)
    await enqueue(db, message(key="warn-old", severity=Severity.WARNING), now=NOW - 20)
    await enqueue(db, message(key="warn-new", severity=Severity.WARNING), now=NOW - 10)
    await enqueue(db, message(key="crit", severity=Severity.CRITICAL), now=NOW - 5)
    claimed = await Outbox(db).claim(NOW, 10, 60.0)
    assert [c.dedup_key for c in claimed] == ["crit", "warn-old", "warn-new", "info"]


async def test_claim_limit_takes_the_most_urgent(db: Database) -> None:
    """With a limit, the rows left behind are the least urgent ones."""
    await enqueue(db, message(key="info", severity=Severity.INFO), now=NOW - 30)
    await enqueue(db, message(key="crit", severity=Severity.CRITICAL), now=NOW)
    [claimed] = await Outbox(db).claim(NOW, 1, 60.0)
    assert claimed.dedup_key == "crit"


async def test_a_leased_row_is_not_claimed_twice(db: Database) -> None:
    """Two notifiers never hold the same row: a live lease hides it from the next claim."""
    await enqueue(db, message())
    outbox = Outbox(db)
    assert len(await outbox.claim(NOW, 10, 60.0)) == 1
    assert await outbox.claim(NOW + 59.0, 10, 60.0) == []


async def test_an_expired_lease_makes_the_row_due_again(db: Database) -> None:
    """A process killed mid-send leaves its lease; once it expires the row is claimed again."""
    await enqueue(db, message(key="k"))
    outbox = Outbox(db)
    await outbox.claim(NOW, 10, 60.0)
    [again] = await outbox.claim(NOW + 60.0, 10, 60.0)
    assert again.dedup_key == "k"


async def test_a_row_is_not_claimed_before_its_next_attempt(db: Database) -> None:
    """A retried row waits for next_attempt_at."""
    await enqueue(db, message())
    outbox = Outbox(db)
    [claimed] = await outbox.claim(NOW, 10, 60.0)
    await outbox.retry(claimed.id, NOW + 30.0, "timeout")
    assert await outbox.claim(NOW + 29.0, 10, 60.0) == []
    [again] = await outbox.claim(NOW + 30.0, 10, 60.0)
    assert again.attempts == 1


async def test_claim_only_takes_the_platforms_asked_for(db: Database) -> None:
    """Rows for a platform without a channel stay pending for a notifier that has one."""
    await enqueue(db, message(key="d", platform=Platform.DISCORD), message(key="t"))
    claimed = await Outbox(db).claim(NOW, 10, 60.0, platforms=[Platform.TELEGRAM])
    assert [c.dedup_key for c in claimed] == ["t"]
    assert (await Outbox(db).by_key("d")).status is OutboxStatus.PENDING  # type: ignore[union-attr]


async def test_a_corrupt_payload_is_dead_lettered_not_raised(db: Database) -> None:
    """A row whose payload cannot be parsed is dead-lettered with a clear error; others go."""
    await enqueue(db, message(key="bad"), message(key="good"))
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE outbox SET payload_json = '{\"kind\": \"nope\"}' WHERE dedup_key = 'bad'"
        )
    outbox = Outbox(db)
    claimed = await outbox.claim(NOW, 10, 60.0)
    assert [c.dedup_key for c in claimed] == ["good"]
    bad = await outbox.by_key("bad")
    assert bad is not None and bad.status is OutboxStatus.DEAD
    assert bad.last_error is not None and bad.last_error.startswith("corrupt payload")


async def test_mark_sent_records_time_and_message_ref(db: Database) -> None:
    """A sent row keeps when it went and the platform's message id; it is never claimed again."""
    await enqueue(db, message(key="k"))
    outbox = Outbox(db)
    [claimed] = await outbox.claim(NOW, 10, 60.0)
    await outbox.mark_sent(claimed.id, NOW + 1.0, "msg-9")
    row = await outbox.get(claimed.id)
    assert row is not None
    assert (row.status, row.sent_at, row.message_ref, row.attempts, row.lease_until) == (
        OutboxStatus.SENT,
        NOW + 1.0,
        "msg-9",
        1,
        None,
    )
    assert await outbox.claim(NOW + 1000.0, 10, 60.0) == []


async def test_dead_keeps_the_row_with_its_error(db: Database) -> None:
    """A dead-lettered row stays as the log of what was not delivered, and why."""
    await enqueue(db, message(key="k"))
    outbox = Outbox(db)
    [claimed] = await outbox.claim(NOW, 10, 60.0)
    await outbox.dead(claimed.id, "Forbidden: bot was blocked by the user")
    row = await outbox.get(claimed.id)
    assert row is not None and row.status is OutboxStatus.DEAD
    assert row.last_error == "Forbidden: bot was blocked by the user"
    assert await outbox.counts() == {
        OutboxStatus.PENDING: 0,
        OutboxStatus.SENT: 0,
        OutboxStatus.DEAD: 1,
    }


async def test_dead_chat_dead_letters_only_that_chats_pending_rows(db: Database) -> None:
    """Blocking a chat gives up its pending rows, not other chats' nor its sent ones."""
    await enqueue(db, message("a", key="a1"), message("a", key="a2"), message("b", key="b1"))
    outbox = Outbox(db)
    n = await outbox.dead_chat(Platform.TELEGRAM, "a", "chat blocked: gone")
    assert n == 2
    counts = await outbox.counts()
    assert (counts[OutboxStatus.DEAD], counts[OutboxStatus.PENDING]) == (2, 1)


async def test_renew_extends_a_live_lease(db: Database) -> None:
    """A row held in memory past its first lease is not claimed by another notifier."""
    await enqueue(db, message())
    outbox = Outbox(db)
    [claimed] = await outbox.claim(NOW, 10, 60.0)
    await outbox.renew([claimed.id], NOW + 120.0)
    assert await outbox.claim(NOW + 90.0, 10, 60.0) == []


async def test_release_makes_held_rows_due_at_once(db: Database) -> None:
    """A clean shutdown hands its unsent rows back without waiting for the lease."""
    await enqueue(db, message())
    outbox = Outbox(db)
    [claimed] = await outbox.claim(NOW, 10, 60.0)
    await outbox.release([claimed.id])
    assert len(await outbox.claim(NOW + 1.0, 10, 60.0)) == 1


async def test_next_due_is_the_earliest_retry_or_lease_end(db: Database) -> None:
    """The notifier sleeps until the earliest time a row becomes claimable."""
    await enqueue(db, message(key="a"), message(key="b"))
    outbox = Outbox(db)
    a, _b = await outbox.claim(NOW, 10, 60.0)
    await outbox.retry(a.id, NOW + 30.0, "timeout")
    assert await outbox.next_due() == NOW + 30.0
    await outbox.mark_sent(a.id, NOW, None)
    assert await outbox.next_due() == NOW + 60.0  # b's lease


async def test_related_refs_finds_earlier_messages_about_the_same_alerts(
    db: Database, alice: User
) -> None:
    """A resolved notice learns the message ids of the alert's earlier messages in that chat."""
    outbox = Outbox(db)
    fired = alert_notice(item(12), item(13, symbol="ETH/USDT:USDT"))
    other = alert_notice(item(99))
    elsewhere = message("other-chat", key="x", owner_id=alice.id, notice=fired)
    await enqueue(db, message(key="f", owner_id=alice.id, notice=fired), elsewhere)
    await enqueue(db, message(key="o", owner_id=alice.id, notice=other))
    for n, claimed in enumerate(await outbox.claim(NOW, 10, 60.0)):
        await outbox.mark_sent(claimed.id, NOW + n, f"ref-{claimed.dedup_key}")
    resolved = item(13, status=AlertStatus.RESOLVED, reason=Reason.RESOLVED, duration_s=420.0)
    await enqueue(db, message(key="r", owner_id=alice.id, notice=alert_notice(resolved)))
    [claimed] = await outbox.claim(NOW + 10, 10, 60.0)
    assert claimed.related_refs == ("ref-f",)
    assert await outbox.related_refs(Platform.TELEGRAM, "100", [12, 99]) == ("ref-f", "ref-o")
