"""/connect: one person's chats on several platforms as one user, and the means to undo it.

A code is 80 random bits, kept only as a hash for ten minutes; each chat identity may send a
few wrong codes an hour; a join is told to the user's other chats through the outbox, and
/connect list and /connect remove show and undo joins.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable

from bot.chat.commands import parse as cmd
from bot.chat.context import ChatContext
from bot.chat.replies import clock
from bot.errors import UserError
from engine.alerts.events import ConnectNotice
from engine.domain import ChatIdentity
from storage import Database
from storage.users import AttemptLimit, Outcome, Users

#: How long a /connect code stays valid.
CODE_S = 600.0
#: Wrong codes one chat identity may send per hour before it must wait.
LIMIT = AttemptLimit(failures=5, window_s=3600.0)


def new_code() -> str:
    """16 characters of Crockford base32 (80 bits), normalised as the parser reads them."""
    return "".join(secrets.choice(cmd.CODE_ALPHABET) for _ in range(cmd.CODE_LENGTH))


def grouped(code: str) -> str:
    """``ABCDEFGHJKMNPQRS`` → ``ABCD-EFGH-JKMN-PQRS``: easier to read out and type."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


class ConnectCommands:
    """Answers /connect in a private chat; ``wake`` tells the notifier a notice is queued,
    ``changed`` re-syncs what depends on a user's chats (the digest jobs)."""

    def __init__(
        self,
        db: Database,
        *,
        wake: Callable[[], None],
        changed: Callable[[], Awaitable[None]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.users, self.wake, self.changed, self.clock = Users(db), wake, changed, clock

    async def command(
        self,
        ctx: ChatContext,
        owner: int,
        command: cmd.Connect | cmd.ListConnections | cmd.RemoveConnection,
    ) -> str:
        """The answer to one /connect command (``UserError`` for a sentence of refusal)."""
        if isinstance(command, cmd.ListConnections):
            return await self.list(ctx, owner)
        if isinstance(command, cmd.RemoveConnection):
            return await self.remove(ctx, owner, command.identity)
        if command.code is None:
            return await self.issue(owner)
        return await self.redeem(ctx, command.code)

    async def issue(self, owner: int) -> str:
        code = new_code()
        await self.users.issue_code(owner, code, expires_at=self.clock() + CODE_S)
        return (
            f"Send /connect {grouped(code)} to me on the other platform (Telegram or Discord) "
            "within 10 minutes: both chats will then share your accounts, rules and alerts. "
            "/connect list shows the chats connected to you."
        )

    async def redeem(self, ctx: ChatContext, code: str) -> str:
        """Join this chat identity to the code's user; the user's other chats are told."""
        now = self.clock()
        notice = ConnectNotice(now, str(ctx.platform), ctx.user_id, ctx.user_name)
        done = await self.users.redeem(
            code, ctx.platform, ctx.user_id, now=now, limit=LIMIT, notice=notice
        )
        match done.outcome:
            case Outcome.JOINED:
                self.wake()
                return (
                    "Connected: this chat now shows the same accounts and gets the same alerts "
                    "as your other chat, which I told about it. /accounts lists them."
                )
            case Outcome.ALREADY:
                return "This chat is already connected to that user: /connect list shows it."
            case Outcome.OWNS_ACCOUNTS:
                raise UserError(
                    "You already have accounts here: /connect from this chat instead and use "
                    "the code on the other platform (or /unlink these first: the code stays "
                    "valid until it expires)."
                )
            case Outcome.LIMITED:
                wait = max(60.0, (done.retry_at or now) - now)
                raise UserError(
                    "Too many wrong codes from this chat: try again after "
                    f"{clock(now + wait)} (in {round(wait / 60)} min)."
                )
        left = "" if done.tries_left is None else f" ({done.tries_left} more tries this hour)"
        raise UserError(
            f"That code is unknown or expired: send /connect again for a new one{left}."
        )

    async def list(self, ctx: ChatContext, owner: int) -> str:
        lines = ["Chats connected to your liqwatch user:"]
        lines += [f"  {_line(ctx, i)}" for i in await self.users.identities(owner)]
        lines.append("/connect remove <platform or id> disconnects one (not this one).")
        return "\n".join(lines)

    async def remove(self, ctx: ChatContext, owner: int, ref: str) -> str:
        """Detach one of the user's other identities, named by platform, id or platform:id."""
        identities = await self.users.identities(owner)
        wanted = ref.lower()
        matching = [
            i for i in identities
            if wanted in (str(i.platform), i.external_id.lower(), _name(i).lower())
        ]  # fmt: skip
        others = [i for i in matching if not _is_this(ctx, i)]
        if not matching:
            raise UserError(f"None of your chats is {_quote(ref)}: see /connect list.")
        if not others:
            raise UserError(
                "That is the chat you are using: send /connect remove from one of your other "
                "chats to disconnect this one."
            )
        if len(others) > 1:
            raise UserError(
                f"Several of your chats match {_quote(ref)}: name one by its id (/connect list)."
            )
        gone = others[0]
        await self.users.remove_identity(owner, gone.platform, gone.external_id)
        await self.changed()
        return f"Disconnected {_name(gone)}: it no longer sees your accounts or gets your alerts."


def _name(identity: ChatIdentity) -> str:
    return f"{identity.platform}:{identity.external_id}"


def _is_this(ctx: ChatContext, identity: ChatIdentity) -> bool:
    return identity.platform is ctx.platform and identity.external_id == ctx.user_id


def _line(ctx: ChatContext, identity: ChatIdentity) -> str:
    where = " — this chat" if _is_this(ctx, identity) else ""
    if identity.chat_id is None:
        where += " (no private chat with me yet)"
    return f"{_name(identity)}{where}"


def _quote(text: str) -> str:
    return f"'{text if len(text) <= 32 else text[:31] + '…'}'"
