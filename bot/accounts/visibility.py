"""Which accounts a chat may see: the one security rule every answer, button and digest obeys.

A private chat sees its person's own accounts; a group (or guild channel) sees only what its
members shared with it, in every one of its forum topics; an answer only its asker reads
(Discord's ephemeral replies in a guild) may add the asker's own accounts. Nothing else: not
another person's unshared account, not an account unshared since, not a share made on
another platform or in another chat. A chat posting as itself (an anonymous admin, a channel)
asks as that chat's own identity, which owns no account, so it reads what the chat reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from engine.domain import LinkedAccount, Platform, split_target
from storage import Database
from storage.accounts import Accounts
from storage.shares import Shares
from storage.users import Users


@dataclass(frozen=True)
class Audience:
    """Who reads an answer: a chat on a platform, and the person it answers (or is posted for)."""

    platform: Platform
    #: The chat itself, never a forum topic: a group reads the same in all its topics.
    chat_id: str
    #: The liqwatch user asking (a subscription's owner for a digest).
    user_id: int
    #: The user's own private chat with the bot.
    private: bool
    #: Only ``user_id`` reads the answer, inside a group (Discord's ephemeral replies).
    asker_only: bool = False

    def whole_chat(self) -> Audience:
        """The same chat read by everyone in it (a digest posted there, not an ephemeral reply)."""
        return replace(self, asker_only=False)


async def visible(db: Database, audience: Audience) -> list[LinkedAccount]:
    """The accounts ``audience`` may see: the user's own in private, else what is shared with
    the chat (the user's own first when only they read it), each account once."""
    if audience.private:
        return await Accounts(db).list_for(audience.user_id)
    shared = await Shares(db).accounts_in(audience.platform, audience.chat_id)
    if not audience.asker_only:
        return shared
    own = await Accounts(db).list_for(audience.user_id)
    ids = {account.id for account in own}
    return own + [account for account in shared if account.id not in ids]


async def audience_of(db: Database, user_id: int, platform: Platform, target: str) -> Audience:
    """The audience of a chat the bot posts to unasked (a scheduled digest): the user's
    private chat if it is one of theirs, else the group (or one of its topics) it names."""
    chat, _ = split_target(target)
    identities = await Users(db).identities(user_id)
    private = any(i.platform is platform and i.chat_id == chat for i in identities)
    return Audience(platform, chat, user_id, private)


def pick(accounts: Sequence[LinkedAccount], ref: str) -> LinkedAccount | None:
    """The account ``ref`` names among ``accounts``: by id first, then by label in any case."""
    ref = ref.strip()
    by_id = next((a for a in accounts if str(a.id) == ref), None)
    return by_id or next((a for a in accounts if a.label.lower() == ref.lower()), None)
