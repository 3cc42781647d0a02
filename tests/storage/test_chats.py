"""The chats repository: quiet hours and blocked chats, with defaults for unknown chats."""

from __future__ import annotations

from engine.alerts.quiet import ChatSettings, QuietHours
from engine.domain import Platform
from storage.chats import Chats
from storage.db import Database

NOW = 1_700_000_000.0
TG = Platform.TELEGRAM


async def test_an_unknown_chat_has_the_defaults(db: Database) -> None:
    """No row: no quiet hours, not blocked."""
    assert await Chats(db).get(TG, "100") == ChatSettings(TG, "100")


async def test_quiet_hours_round_trip(db: Database) -> None:
    """Quiet hours are stored with their zone and whether critical still passes."""
    chats = Chats(db)
    quiet = QuietHours("23:00", "07:30", tz="Europe/Berlin", allow_critical=False)
    await chats.set_quiet(TG, "100", quiet)
    assert (await chats.get(TG, "100")).quiet == quiet


async def test_quiet_hours_can_be_cleared(db: Database) -> None:
    """Setting None removes the window."""
    chats = Chats(db)
    await chats.set_quiet(TG, "100", QuietHours("23:00", "07:00"))
    await chats.set_quiet(TG, "100", None)
    assert (await chats.get(TG, "100")).quiet is None


async def test_block_records_when_and_why_and_keeps_quiet_hours(db: Database) -> None:
    """Blocking a chat keeps its other settings."""
    chats = Chats(db)
    await chats.set_quiet(TG, "100", QuietHours("23:00", "07:00"))
    await chats.block(TG, "100", "Forbidden: bot was blocked by the user", NOW)
    settings = await chats.get(TG, "100")
    assert (settings.blocked_at, settings.blocked_reason) == (
        NOW,
        "Forbidden: bot was blocked by the user",
    )
    assert settings.quiet == QuietHours("23:00", "07:00")


async def test_block_can_join_the_callers_transaction(db: Database) -> None:
    """The notifier blocks a chat in the same transaction that dead-letters its rows."""
    chats = Chats(db)
    try:
        async with db.transaction() as tx:
            await chats.block(TG, "100", "chat not found", NOW, tx=tx)
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    assert (await chats.get(TG, "100")).blocked_at is None


async def test_unblock_targets_the_chat_again(db: Database) -> None:
    """Unblocking clears the block; a second unblock reports there was nothing to do."""
    chats = Chats(db)
    await chats.block(TG, "100", "gone", NOW)
    assert await chats.unblock(TG, "100") is True
    assert await chats.unblock(TG, "100") is False
    assert (await chats.get(TG, "100")).blocked_at is None


async def test_blocked_answers_for_a_list_of_chats(db: Database) -> None:
    """One query says which of many chats are blocked, with each reason."""
    chats = Chats(db)
    await chats.block(TG, "1", "gone", NOW)
    await chats.block(Platform.DISCORD, "2", "missing access", NOW)
    await chats.set_quiet(TG, "3", QuietHours("22:00", "06:00"))
    found = await chats.blocked([(TG, "1"), (TG, "2"), (TG, "3"), (Platform.DISCORD, "2")])
    assert found == {(TG, "1"): "gone", (Platform.DISCORD, "2"): "missing access"}
