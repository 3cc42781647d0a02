"""Messages sent on behalf of a chat (anonymous admins, channels), through the running app:
each acts as its own chat, never as the one GroupAnonymousBot "user" every group shares."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.bot.telegram.conftest import App
from tests.engine.normalise.payloads.hyperliquid import ADDRESS
from tests.fakes.telegram.server import CHANNEL_BOT, GROUP_ANONYMOUS_BOT

pytestmark = pytest.mark.slow

ANN, BOB = 1001, 1002
DESK_ONE, DESK_TWO, NEWS = -1001111111111, -1002222222222, -1003333333333
BOBS_ADDRESS = "0x2222222222222222222222222222222222222222"
#: What needs a person: their accounts, rules, silences and alerts, /link's cousins.
NEEDS_A_PERSON = (
    f"/watch hyperliquid {ADDRESS}",
    "/share hl-2222",
    "/unshare hl-2222",
    "/unlink hl-2222",
    "/alert add liq<8%",
    "/alert rm 1",
    "/silence kind=liq 2h",
    "/silence",
    "/ack all",
    "/snooze all 1h",
    "/why 1",
    "/connect",
)


async def _watch(app: App, user: int, name: str, address: str) -> None:
    app.exchange.add_wallet(address)
    chat = app.telegram.private_chat(user, name)
    await app.reply(chat, f"/watch hyperliquid {address}", "Linked hyperliquid", first_name=name)


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(sql).fetchall()
    conn.close()
    return rows


async def test_anonymous_admins_of_two_groups_are_never_one_person(
    app: App, tmp_path: Path
) -> None:
    """Bob shares his wallet in desk two. Desk one's anonymous admin is refused everything
    that needs a person (with how to act as yourself), reads only what desk one sees and sets
    only desk one's quiet hours; desk two's anonymous admin reads desk two's share, intact.
    Afterwards nothing in the database belongs to GroupAnonymousBot, and the chats' own
    identities own nothing but their own chat's settings."""
    tg = app.telegram
    await _watch(app, BOB, "Bob", BOBS_ADDRESS)
    desk_one, desk_two = tg.group(DESK_ONE, "Desk one"), tg.group(DESK_TWO, "Desk two")
    tg.set_member(DESK_TWO, BOB, "administrator")
    await app.reply(desk_two, "/share hl-2222", "is now shared", user_id=BOB, first_name="Bob")

    for text in NEEDS_A_PERSON:
        refusal = await app.reply(
            desk_one, text, "You are posting as the group (anonymous admin)", sender_chat=desk_one
        )
        assert "Remain anonymous" in refusal.plain and "private chat" in refusal.plain
    await app.reply(desk_one, "/positions", "Nothing is shared", sender_chat=desk_one)
    await app.reply(desk_one, "/quiet 22:00-07:00", "Quiet hours 22:00-07:00", sender_chat=desk_one)
    listed = await app.reply(desk_two, "/accounts", "Shared with this chat", sender_chat=desk_two)
    assert listed.plain.splitlines()[1:] == ["#1 hl-2222 (hyperliquid) — active"]
    await app.reply(desk_two, "/unshare hl-2222", "anonymous admin", sender_chat=desk_two)

    db = tmp_path / "liqwatch.db"
    bots = (str(GROUP_ANONYMOUS_BOT), str(CHANNEL_BOT))
    assert not [i for i in _rows(db, "SELECT external_id FROM chat_identities") if i[0] in bots]
    chat_users = _rows(db, "SELECT user_id FROM chat_identities WHERE external_id LIKE 'chat:%'")
    assert len(chat_users) == 2  # one per group, not one for both
    owned = ", ".join(str(u[0]) for u in chat_users)
    for table, column in (("accounts", "owner_id"), ("alert_rules", "owner_id"),
                          ("silences", "owner_id"), ("shares", "shared_by")):  # fmt: skip
        assert not _rows(db, f"SELECT 1 FROM {table} WHERE {column} IN ({owned})"), table
    assert _rows(db, "SELECT chat_id FROM shares") == [(str(DESK_TWO),)]
    quiet = _rows(db, "SELECT chat_id FROM chats WHERE quiet_from IS NOT NULL")
    assert quiet == [(str(DESK_ONE),)]


async def test_a_channel_posting_in_a_group_is_neither_a_person_nor_an_admin(app: App) -> None:
    """A linked channel posting in a group: refused what needs a person, and no admin."""
    tg = app.telegram
    desk, news = tg.group(DESK_ONE, "Desk one"), tg.channel(NEWS, "News")
    refusal = await app.reply(desk, "/alert add liq<8%", "posting as a channel", sender_chat=news)
    assert "post as yourself" in refusal.plain
    await app.reply(desk, "/quiet 22:00-07:00", "Only this chat's admins", sender_chat=news)
    assert not tg.calls_to("getChatMember")  # Channel_Bot's membership means nothing
