"""Chat commands and alert buttons for every adapter: who asks, where, and what they may do.

Adapters turn a platform update into a ``ChatContext`` and a text (or a button press), call
``Conversation``, and render the ``Reply`` it returns. Everything a person may see or change
is decided here, once: each command form's spec says who may run it where (private chats,
groups, their admins, a chat posting as itself), the visibility rule which accounts an answer
may show, and ``bot.chat.handlers`` what the command then does.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from bot.accounts.portfolio import PortfolioService
from bot.accounts.service import AccountService
from bot.accounts.visibility import pick, visible
from bot.alerting.service import AlertService
from bot.chat import buttons, replies
from bot.chat.commands import parse as cmd
from bot.chat.commands.accounts import LINK_PRIVATELY
from bot.chat.connect import ConnectCommands
from bot.chat.context import Action, ChatContext, Pressed, Reply, chat_identity
from bot.chat.digest import DigestCommands
from bot.chat.handlers import HANDLERS, Ask, Handlers
from bot.digest.jobs import DigestJobs
from bot.errors import UserError
from engine.alerts.events import AlertNotice, AlertStatus
from engine.domain import LinkedAccount
from storage import Database
from storage.chats import Chats
from storage.outbox import Claimed, Outbox
from storage.shares import Shares
from storage.users import Users

log = logging.getLogger(__name__)

#: What the "Snooze" button under an alert snoozes it for.
BUTTON_SNOOZE_S = 3600.0


class Conversation:
    """The one command handler: parse with the shared grammar, check who may, call a service."""

    def __init__(
        self,
        db: Database,
        accounts: AccountService,
        alerts: AlertService,
        portfolio: PortfolioService,
        *,
        clock: Callable[[], float] = time.time,
        digest_jobs: DigestJobs | None = None,
        wake: Callable[[], None] | None = None,
        commands: cmd.Registry = cmd.COMMANDS,
        handlers: Handlers = HANDLERS,
    ) -> None:
        """``wake`` tells the notifier that a message was queued (a /connect join is told to
        the user's other chats); without it, the digest jobs' wake (the same notifier's in
        ``liqwatch run``), else the notifier's next look at the outbox. ``commands`` and
        ``handlers`` are what it understands and does (every command, unless a test adds one)."""
        self.accounts, self.alerts, self.portfolio = accounts, alerts, portfolio
        self.commands, self.handlers = commands, handlers
        self.digests = DigestCommands(db, portfolio, digest_jobs, clock=clock)
        self.connect = ConnectCommands(
            db, wake=self._wake, changed=self.digests.changed, clock=clock
        )
        self.users, self.chats, self.shares = Users(db), Chats(db), Shares(db)
        self.outbox, self.clock, self.db, self.wake = Outbox(db), clock, db, wake

    def _wake(self) -> None:
        if self.wake is not None:
            self.wake()
        elif self.digests.jobs is not None:
            self.digests.jobs.wake()

    async def user(self, ctx: ChatContext) -> int:
        """The sender's user id, registered on first contact; a private chat is remembered
        as where their alerts go. A chat posting as itself is its own identity, never the
        user behind ``ctx.user_id`` (Telegram's one GroupAnonymousBot for every group)."""
        external = chat_identity(ctx.sender_chat) if ctx.sender_chat else ctx.user_id
        user = await self.users.ensure(
            ctx.platform,
            external,
            ctx.user_name,
            ctx.chat_id if ctx.private and not ctx.sender_chat else None,
            now=self.clock(),
        )
        return user.id

    async def handle(self, ctx: ChatContext, text: str) -> Reply:
        """Answer one command; a ``UserError`` becomes its sentence, anything else a reference.

        A /link in a group is refused before it is parsed: even a malformed one carried a key.
        """
        if not ctx.private and self.commands.carries_secret(text):
            return Reply(link_in_group(ctx.deleted))
        try:
            answer = await self.command(ctx, self.commands.parse(text))
        except UserError as exc:
            answer = Reply(str(exc))
        except Exception:
            answer = Reply(unexpected("command"))
        if ctx.deleted is False:
            answer = Reply(f"{answer.text}\n{UNDELETED}", answer.table, answer.images)
        return answer

    async def command(self, ctx: ChatContext, command: cmd.Command) -> Reply:
        """Check who may run this form here (its spec's access), then answer it (``UserError``
        propagates)."""
        spec, access = self.commands.form(command)
        if ctx.sender_chat is not None and not access.as_chat:
            raise UserError(as_chat_refusal(ctx, spec.name))
        owner = await self.user(ctx)
        if not access.runs_in(private=ctx.private):
            raise UserError(access.elsewhere.format(name=spec.name))
        if access.admins_in_groups and not ctx.private and not await ctx.is_admin():
            raise UserError(f"Only this chat's admins can use /{spec.name} here.")
        return await self.handlers.answer(Ask(ctx, owner, self), command)

    # --- buttons under alert messages --------------------------------------------------------
    async def press(self, ctx: ChatContext, data: str) -> Pressed:
        """A button under a message we sent (its payload, ``bot.chat.buttons``); its authority
        comes from that message's chat."""
        pressed = buttons.decode(data)
        if pressed is None:
            return Pressed(toast="That button is not one of mine.")
        try:
            return await self._press(ctx, pressed.action, pressed.id)
        except UserError as exc:
            return Pressed(toast=str(exc))
        except Exception:
            return Pressed(toast=unexpected("button"))

    async def _press(self, ctx: ChatContext, action: Action, arg: int) -> Pressed:
        user = await self.user(ctx)
        if action is Action.POSITIONS:
            account = await self._visible(ctx, user, arg)
            views = self.portfolio.views_of([account])
            return Pressed("Positions below.", reply=Reply(replies.positions(views), table=True))
        row = await self.outbox.sent_notice(arg)
        if row is None or not self._same_chat(ctx, row) or not isinstance(row.notice, AlertNotice):
            raise UserError("That alert message is not from this chat.")
        owner = row.owner_id
        if owner is None or (owner != user and not (not ctx.private and await ctx.is_admin())):
            raise UserError("Only the account's owner or this chat's admins can do that.")
        live = [i.alert_id for i in row.notice.items if i.status is not AlertStatus.RESOLVED]
        when = replies.clock(self.clock())
        if action is Action.ACK:
            done = await self.alerts.acknowledge_ids(owner, live)
            state = f"✅ Acknowledged by {ctx.user_name} at {when}"
            kept: tuple[Action, ...] = (Action.POSITIONS,)
        else:
            done = await self.alerts.snooze_ids(owner, live, BUTTON_SNOOZE_S)
            state = f"💤 Snoozed 1h by {ctx.user_name} at {when}"
            kept = (Action.ACK, Action.POSITIONS)
        if not done:
            resolved = "This alert is already resolved."
            return Pressed(resolved, row.notice, resolved, (Action.POSITIONS,))
        toast = "Acknowledged." if action is Action.ACK else "Snoozed for 1 hour."
        return Pressed(toast, row.notice, state, kept)

    @staticmethod
    def _same_chat(ctx: ChatContext, row: Claimed) -> bool:
        return row.platform is ctx.platform and row.chat_id in (ctx.chat_id, ctx.target)

    async def _visible(self, ctx: ChatContext, user: int, account_id: int) -> LinkedAccount:
        """An account the answer here may show (the visibility rule), by its id."""
        found = pick(await visible(self.db, ctx.audience(user)), str(account_id))
        if found is None and ctx.private:
            raise UserError(f'no account "{account_id}" among yours: see /accounts')
        if found is None:
            raise UserError("That account is not shared with this chat.")
        return found


def as_chat_refusal(ctx: ChatContext, name: str) -> str:
    """Why a command that needs a person is refused to a chat posting as itself, and how to
    send it as yourself."""
    if ctx.sender_chat == ctx.chat_id:
        return (
            "You are posting as the group (anonymous admin), so I can't tell who you are: "
            "turn off 'Remain anonymous' in your admin rights, or send "
            f"/{name} to me in a private chat."
        )
    return (
        "You are posting as a channel, so I can't tell who you are: post as yourself, "
        f"or send /{name} to me in a private chat."
    )


#: Said under any answer to a message carrying a secret that could not be deleted.
UNDELETED = "I could not delete your message: delete it yourself and revoke that key."


def link_in_group(deleted: bool | None) -> str:
    """The refusal of /link in a group, saying only what was done about the message."""
    if deleted is None:  # nothing of it was posted for others (a Discord slash command)
        return LINK_PRIVATELY
    if deleted:
        return (
            "Never post API keys in a group: I deleted that message. "
            "Send /link to me in a private chat, and revoke the key if others saw it."
        )
    return (
        "Never post API keys in a group. I could not delete that message: delete it yourself "
        "now and revoke that key, then send /link to me in a private chat."
    )


def unexpected(what: str, error: BaseException | None = None) -> str:
    """The answer to an unexpected error: a reference to find the traceback in the log.

    Call it inside ``except`` (the exception being handled is logged) or pass ``error``.
    """
    ref = uuid.uuid4().hex[:8]
    log.error("%s failed (ref %s)", what, ref, exc_info=error or True)
    return f"Something went wrong (ref {ref})."
