"""Users repository: idempotent ensure, lookup by identity, several platforms per user."""

from __future__ import annotations

from engine.domain import ChatIdentity, Platform, User
from storage.users import Users
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
