"""Digest subscriptions over a real database: one per target, and a group's view of its topics."""

from __future__ import annotations

import pytest

from engine.domain import Platform, User, target
from storage.db import Database
from storage.digests import Digests
from tests.storage.conftest import NOW

GROUP = "-100777"


@pytest.fixture
def digests(db: Database) -> Digests:
    return Digests(db)


async def test_for_group_finds_the_chat_and_its_topics_only(digests: Digests, alice: User) -> None:
    """The general chat and each forum topic of the group, in subscription order; not a chat
    whose id merely starts with the group's, nor the same id on another platform."""
    for chat, thread in ((GROUP, "42"), ("-1007770", None), (GROUP, None), (GROUP, "7")):
        await digests.subscribe(
            alice.id, Platform.TELEGRAM, target(chat, thread), (), "08:00", "UTC", now=NOW
        )
    await digests.subscribe(alice.id, Platform.DISCORD, GROUP, (), "09:00", "UTC", now=NOW)
    await digests.subscribe(alice.id, Platform.TELEGRAM, "-1007770#42", (), "10:00", "UTC", now=NOW)

    found = await digests.for_group(Platform.TELEGRAM, GROUP)

    assert [s.chat_id for s in found] == [f"{GROUP}#42", GROUP, f"{GROUP}#7"]
    assert await digests.for_group(Platform.TELEGRAM, "-1") == []


async def test_a_topic_keeps_its_own_subscription(digests: Digests, alice: User) -> None:
    """Subscribing one topic replaces that topic's subscription, not its neighbours'."""
    await digests.subscribe(alice.id, Platform.TELEGRAM, f"{GROUP}#42", (), "08:00", "UTC", now=NOW)
    await digests.subscribe(alice.id, Platform.TELEGRAM, f"{GROUP}#7", (), "08:00", "UTC", now=NOW)
    await digests.subscribe(alice.id, Platform.TELEGRAM, f"{GROUP}#42", (), "09:30", "UTC", now=NOW)

    found = await digests.for_group(Platform.TELEGRAM, GROUP)

    assert sorted((s.chat_id, s.local_time) for s in found) == [
        (f"{GROUP}#42", "09:30"), (f"{GROUP}#7", "08:00"),
    ]  # fmt: skip
