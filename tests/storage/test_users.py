"""Users repository: idempotent ensure, lookup by identity, several platforms per user, and
/connect codes (hashed, rate-limited, told to the other chats, undone)."""

from __future__ import annotations

import json
from pathlib import Path

from engine.alerts.events import ConnectNotice, from_payload
from engine.domain import ChatIdentity, LinkedAccount, Platform, User
from storage.db import Database
from storage.digests import Digests
from storage.migrate import load_migrations
from storage.users import AttemptLimit, Outcome, Redeemed, Users, code_hash
from tests.storage.conftest import NOW


async def test_ensure_creates_a_user_on_first_contact(users: Users) -> None:
    """An unknown identity becomes a new user with that identity and private chat."""
    user = await users.ensure(Platform.TELEGRAM, "42", "carol", "42", now=NOW)
    assert user == User(id=user.id, name="carol", created_at=NOW)
    assert await users.identities(user.id) == [ChatIdentity(user.id, Platform.TELEGRAM, "42", "42")]


async def test_ensure_is_idempotent(users: Users) -> None:
    """Ensuring the same identity again returns the same user and adds no row."""
    first = await users.ensure(Platform.TELEGRAM, "42", "carol", "42", now=NOW)
    again = await users.ensure(Platform.TELEGRAM, "42", "carol", None, now=NOW + 60)
    assert again == first
    assert len(await users.identities(first.id)) == 1


async def test_ensure_refreshes_name_and_chat(users: Users) -> None:
    """A known identity seen under a new display name and chat keeps its user, updated."""
    first = await users.ensure(Platform.DISCORD, "7", "dave", "dm-1", now=NOW)
    again = await users.ensure(Platform.DISCORD, "7", "dave2", "dm-2", now=NOW + 1)
    assert (again.id, again.name) == (first.id, "dave2")
    assert (await users.identities(first.id))[0].chat_id == "dm-2"


async def test_same_external_id_on_two_platforms_is_two_users(users: Users) -> None:
    """Identities are keyed by (platform, external id): id 5 on Telegram is not id 5 on Discord."""
    on_telegram = await users.ensure(Platform.TELEGRAM, "5", "t", "5", now=NOW)
    on_discord = await users.ensure(Platform.DISCORD, "5", "d", "5", now=NOW)
    assert on_telegram.id != on_discord.id


async def test_by_identity_finds_the_user_or_none(users: Users, alice: User) -> None:
    """by_identity returns the user behind an identity, None for one never seen."""
    assert await users.by_identity(Platform.TELEGRAM, "1001") == alice
    assert await users.by_identity(Platform.TELEGRAM, "9999") is None


async def test_link_identity_reaches_one_user_from_two_platforms(users: Users, alice: User) -> None:
    """A second platform identity linked to a user finds that same user."""
    assert await users.link_identity(alice.id, Platform.DISCORD, "d-1", "dm", now=NOW)
    assert await users.by_identity(Platform.DISCORD, "d-1") == alice


async def test_link_identity_does_not_steal_a_taken_identity(
    users: Users, alice: User, bob: User
) -> None:
    """Linking an identity that already belongs to someone changes nothing and says so."""
    assert not await users.link_identity(alice.id, Platform.DISCORD, "2002", "dm", now=NOW)
    assert await users.by_identity(Platform.DISCORD, "2002") == bob


# --- /connect codes ---------------------------------------------------------------------------

CODE = "ABCDEFGHJKMNPQRS"
LIMIT = AttemptLimit(failures=5, window_s=3600.0)


def _file_bytes(db_path: Path) -> bytes:
    """The database as it is on disk, write-ahead log included."""
    return b"".join(p.read_bytes() for p in db_path.parent.glob(f"{db_path.name}*"))


async def test_a_code_is_stored_only_as_its_hash(users: Users, alice: User, db_path: Path) -> None:
    """Neither the table nor the database file holds the code in plaintext."""
    await users.issue_code(alice.id, CODE, expires_at=NOW + 600)
    rows = await users._db.fetchall("SELECT * FROM connect_codes")
    assert [dict(r) for r in rows] == [
        {"code_hash": code_hash(CODE), "user_id": alice.id, "expires_at": NOW + 600}
    ]
    assert CODE.encode() not in _file_bytes(db_path)


async def test_a_right_code_joins_the_identity_and_is_spent(users: Users, alice: User) -> None:
    """The identity moves to the code's user; the same code again is wrong."""
    await users.ensure(Platform.DISCORD, "d-9", "al", "dm-9", now=NOW)
    await users.issue_code(alice.id, CODE, expires_at=NOW + 600)
    done = await users.redeem(CODE, Platform.DISCORD, "d-9", now=NOW + 1, limit=LIMIT)
    assert done == Redeemed(Outcome.JOINED, user_id=alice.id)
    assert await users.by_identity(Platform.DISCORD, "d-9") == alice
    again = await users.redeem(CODE, Platform.DISCORD, "d-8", now=NOW + 2, limit=LIMIT)
    assert again.outcome is Outcome.WRONG


async def test_wrong_codes_are_limited_per_identity(users: Users, alice: User) -> None:
    """Five wrong codes in an hour: the sixth try is refused even with the right code, until
    the first wrong one is an hour old; another identity is not held back meanwhile."""
    await users.issue_code(alice.id, CODE, expires_at=NOW + 7200)
    for n in range(5):
        wrong = await users.redeem(f"WRONG{n}", Platform.DISCORD, "d-9", now=NOW + n, limit=LIMIT)
        assert wrong == Redeemed(Outcome.WRONG, tries_left=4 - n)
    held = await users.redeem(CODE, Platform.DISCORD, "d-9", now=NOW + 60, limit=LIMIT)
    assert held == Redeemed(Outcome.LIMITED, retry_at=NOW + 3600)
    other = await users.redeem("WRONG", Platform.DISCORD, "d-7", now=NOW + 60, limit=LIMIT)
    assert other.outcome is Outcome.WRONG
    later = await users.redeem(CODE, Platform.DISCORD, "d-9", now=NOW + 3600, limit=LIMIT)
    assert later.outcome is Outcome.JOINED


async def test_a_join_is_queued_to_the_users_other_chats(
    users: Users, alice: User, db: Database
) -> None:
    """The notice goes to every private chat of the user but the one that joined, in the
    join's transaction."""
    await users.link_identity(alice.id, Platform.CONSOLE, "op", None, now=NOW)  # no chat
    await users.ensure(Platform.DISCORD, "d-9", "al", "dm-9", now=NOW)
    await users.issue_code(alice.id, CODE, expires_at=NOW + 600)
    notice = ConnectNotice(NOW, "discord", "d-9", "al")
    await users.redeem(CODE, Platform.DISCORD, "d-9", now=NOW, limit=LIMIT, notice=notice)
    rows = await db.fetchall("SELECT owner_id, platform, chat_id, payload_json FROM outbox")
    assert [(r["owner_id"], r["platform"], r["chat_id"]) for r in rows] == [
        (alice.id, "telegram", "1001")
    ]
    assert from_payload(json.loads(rows[0]["payload_json"])) == notice


async def test_a_code_that_would_orphan_accounts_is_kept(
    users: Users, alice: User, bob: User, bob_account: LinkedAccount
) -> None:
    """Bob still owns an account: he is told so, and the code stays for after his /unlink."""
    await users.issue_code(alice.id, CODE, expires_at=NOW + 600)
    refused = await users.redeem(CODE, Platform.DISCORD, "2002", now=NOW, limit=LIMIT)
    assert refused.outcome is Outcome.OWNS_ACCOUNTS
    assert await users.by_identity(Platform.DISCORD, "2002") == bob
    assert await users._db.fetchone("SELECT 1 FROM connect_codes") is not None


async def test_removing_an_identity_takes_its_private_digests(
    users: Users, alice: User, db: Database
) -> None:
    """The identity leaves the user, with the digest subscribed in its private chat; the
    user's other identity and its digest stay."""
    await users.link_identity(alice.id, Platform.DISCORD, "d-9", "dm-9", now=NOW)
    digests = Digests(db)
    await digests.subscribe(alice.id, Platform.DISCORD, "dm-9", (), "08:00", "UTC", now=NOW)
    await digests.subscribe(alice.id, Platform.TELEGRAM, "1001", (), "08:00", "UTC", now=NOW)
    assert await users.remove_identity(alice.id, Platform.DISCORD, "d-9")
    assert not await users.remove_identity(alice.id, Platform.DISCORD, "d-9")
    assert [i.external_id for i in await users.identities(alice.id)] == ["1001"]
    assert [s.chat_id for s in await digests.all()] == ["1001"]


async def test_migration_7_drops_plaintext_codes(db_path: Path) -> None:
    """A database made before 0007, holding a plaintext code, keeps no trace of it after."""
    async with Database.open(db_path, migrations=load_migrations()[:6]) as old:
        user = await Users(old).ensure(Platform.TELEGRAM, "1", "a", "1", now=NOW)
        async with old.transaction() as tx:
            await tx.execute(
                "INSERT INTO connect_codes (code, user_id, expires_at) VALUES (?, ?, ?)",
                ("DEADBEEF", user.id, NOW + 600),
            )
    assert b"DEADBEEF" in _file_bytes(db_path)  # the old schema kept it in plaintext
    async with Database.open(db_path) as new:
        columns = await new.fetchall("SELECT name FROM pragma_table_info('connect_codes')")
        assert [c["name"] for c in columns] == ["code_hash", "user_id", "expires_at"]
        assert await new.fetchone("SELECT 1 FROM connect_codes") is None
    assert b"DEADBEEF" not in _file_bytes(db_path)  # not even in a freed page
