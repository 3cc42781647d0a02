"""The one visibility rule over a real database, as a table: who reads where, and which
accounts they may see; then the audience of a chat the bot posts to unasked (a digest)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.accounts.visibility import Audience, audience_of, pick, visible
from engine.domain import Platform
from storage import Database
from storage.accounts import Accounts
from storage.shares import Shares
from storage.users import Users

TG, DC = Platform.TELEGRAM, Platform.DISCORD
DESK, OTHER, GUILD_CHANNEL = "-100777", "-100888", "7101"


@dataclass
class World:
    db: Database
    #: name → liqwatch user id: ann and bob (Telegram), dee (Discord, DM channel 900), cy (no
    #: accounts), and desk (the DESK group's own identity: its anonymous admins).
    users: dict[str, int]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """Ann owns main and hedge, Bob bobs and bob-private, Dee dees. In the DESK group Ann
    shared main (from forum topic 42), Bob shared bobs, and Ann shared hedge then unshared it.
    In the guild channel Dee shared dees and Ann main."""
    async with Database.open(str(tmp_path / "db.sqlite")) as db:
        people = Users(db)
        users = {
            "ann": (await people.ensure(TG, "1", "Ann", "1", now=0.0)).id,
            "bob": (await people.ensure(TG, "9", "Bob", "9", now=0.0)).id,
            "cy": (await people.ensure(TG, "3", "Cy", "3", now=0.0)).id,
            "dee": (await people.ensure(DC, "55", "Dee", "900", now=0.0)).id,
            "desk": (await people.ensure(TG, f"chat:{DESK}", "Desk", None, now=0.0)).id,
        }
        accounts, shares = Accounts(db), Shares(db)
        made = {}
        for owner, label in (
            ("ann", "main"), ("ann", "hedge"), ("bob", "bobs"), ("bob", "bob-private"),
            ("dee", "dees"),
        ):  # fmt: skip
            made[label] = await accounts.add(
                users[owner], "bybit", label, wallet_address=label, now=0.0
            )
        for at, (platform, chat, label, owner, thread) in enumerate(
            (
                (TG, DESK, "main", "ann", "42"),
                (TG, DESK, "bobs", "bob", None),
                (TG, DESK, "hedge", "ann", None),
                (DC, GUILD_CHANNEL, "dees", "dee", None),
                (DC, GUILD_CHANNEL, "main", "ann", None),
            )
        ):
            await shares.add(
                platform, chat, made[label].id, users[owner], thread_id=thread, now=float(at)
            )
        await shares.remove(TG, DESK, made["hedge"].id)
        yield World(db, users)


PRIVATE, GROUP, ASKER_ONLY = "private", "group", "asker only"


def case(why: str, who: str, platform: Platform, chat: str, how: str, labels: list[str]) -> object:
    """One row: ``who`` reads in ``chat`` (their private chat, a group, or a reply only they
    see inside a group) and may see the accounts ``labels``, in that order."""
    return pytest.param(who, platform, chat, how, labels, id=why)


TABLE = [
    case("private: own accounts", "ann", TG, "1", PRIVATE, ["hedge", "main"]),
    case("private: never another's", "bob", TG, "9", PRIVATE, ["bob-private", "bobs"]),
    case("private: nothing linked, nothing seen", "cy", TG, "3", PRIVATE, []),
    case("group: only what was shared", "ann", TG, DESK, GROUP, ["main", "bobs"]),
    case("group: unshared since stays out", "bob", TG, DESK, GROUP, ["main", "bobs"]),
    case("group: any member reads the same", "cy", TG, DESK, GROUP, ["main", "bobs"]),
    case("group: another group's shares never", "ann", TG, OTHER, GROUP, []),
    case("group: the same id on another platform", "ann", DC, DESK, GROUP, []),
    case(
        "ephemeral in a guild: own first, then shared, each once",
        "ann", DC, GUILD_CHANNEL, ASKER_ONLY, ["hedge", "main", "dees"],
    ),
    case(
        "ephemeral in a guild: another's unshared accounts never",
        "dee", DC, GUILD_CHANNEL, ASKER_ONLY, ["dees", "main"],
    ),
    case(
        "asker only where nothing is shared: own accounts only",
        "bob", TG, OTHER, ASKER_ONLY, ["bob-private", "bobs"],
    ),
    case("anonymous admin: the group's view", "desk", TG, DESK, GROUP, ["main", "bobs"]),
    case(
        "anonymous admin: its identity owns nothing to add",
        "desk", TG, DESK, ASKER_ONLY, ["main", "bobs"],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("who", "platform", "chat", "how", "labels"), TABLE)
async def test_who_sees_which_accounts_where(
    world: World, who: str, platform: Platform, chat: str, how: str, labels: list[str]
) -> None:
    """The security rule: private → own; group → shared with it; asker only → own plus shared."""
    audience = Audience(platform, chat, world.users[who], how == PRIVATE, how == ASKER_ONLY)
    assert [a.label for a in await visible(world.db, audience)] == labels


async def test_the_whole_chat_never_reads_the_askers_own_accounts(world: World) -> None:
    """A digest posted in the guild channel is read by everyone: the asker's own accounts,
    fine in their ephemeral reply, stay out of it."""
    asked = Audience(DC, GUILD_CHANNEL, world.users["ann"], False, asker_only=True)
    posted = [a.label for a in await visible(world.db, asked.whole_chat())]
    assert posted == ["dees", "main"]


#: (who, platform, target) → whether it is their private chat, and the chat it reads as.
POSTED = [
    pytest.param("ann", TG, "1", True, "1", id="the owner's private chat"),
    pytest.param("ann", TG, f"{DESK}#42", False, DESK, id="a forum topic reads as its group"),
    pytest.param("dee", DC, "900", True, "900", id="a Discord DM channel is private"),
    pytest.param("dee", DC, "55", False, "55", id="a user id is not their DM channel"),
    pytest.param("ann", DC, "1", False, "1", id="a private chat on another platform is not"),
    pytest.param("desk", TG, DESK, False, DESK, id="a chat identity has no private chat"),
]


@pytest.mark.parametrize(("who", "platform", "target", "private", "chat"), POSTED)
async def test_the_audience_of_a_chat_posted_to(
    world: World, who: str, platform: Platform, target: str, private: bool, chat: str
) -> None:
    """A subscription's chat reads as the owner's private chat only if it is one of theirs."""
    audience = await audience_of(world.db, world.users[who], platform, target)
    assert audience == Audience(platform, chat, world.users[who], private)


async def test_a_topic_subscription_sees_the_groups_shares(world: World) -> None:
    """A digest subscribed in topic 7 of DESK covers what the whole group shares (main was
    shared from topic 42): shares route alerts per topic, reading is per group."""
    audience = await audience_of(world.db, world.users["cy"], TG, f"{DESK}#7")
    assert [a.label for a in await visible(world.db, audience)] == ["main", "bobs"]


async def test_pick_prefers_an_id_then_a_label_in_any_case(world: World) -> None:
    """`/positions 3` is account #3 even if another is labelled "3"; labels ignore case."""
    found = await visible(world.db, Audience(TG, "1", world.users["ann"], True))
    main = next(a for a in found if a.label == "main")
    assert pick(found, str(main.id)) == main
    assert pick(found, " MAIN ") == main
    assert pick(found, "bobs") is None
