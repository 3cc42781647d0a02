"""Chat commands and alert buttons for every adapter: who asks, where, and what they may do.

Adapters turn a platform update into a ``ChatContext`` and a text (or a button press), call
``Conversation``, and render the ``Reply`` it returns. Everything a person may see or change
is decided here, once: private chats act on the sender's own accounts; a group sees only the
accounts its members shared with it, and only its admins change what it is subscribed to.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from bot.accounts.portfolio import PortfolioService
from bot.accounts.service import AccountService
from bot.alerting.service import AlertService
from bot.chat import replies
from bot.chat.commands import parse as cmd
from bot.chat.connect import ConnectCommands
from bot.chat.context import Action, ChatContext, Pressed, Reply, chat_identity
from bot.chat.digest import DigestCommands
from bot.digest.jobs import DigestJobs
from bot.errors import UserError
from bot.exchanges import Credentials
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

#: Commands that change what a group is subscribed to or how it is alerted: admins only.
_ADMIN_IN_GROUPS = (
    cmd.Watch, cmd.Unlink, cmd.AlertAdd, cmd.AlertChange, cmd.Snooze, cmd.Quiet, cmd.Silence,
    cmd.SilenceRm, cmd.Share, cmd.Unshare,
)  # fmt: skip

#: What a message sent on behalf of a chat (ChatContext.sender_chat) may do: read what the chat
#: can see, and, as the group's anonymous admin, set the chat's own quiet hours and digest.
#: Everything that acts for a person (their accounts, rules, silences, alerts) needs one.
_AS_CHAT = (
    cmd.Start, cmd.Help, cmd.Accounts, cmd.Positions, cmd.Risk, cmd.Stress, cmd.Alerts,
    cmd.ChartRequest, cmd.Digest, cmd.Quiet,
)  # fmt: skip

_CONNECT = (cmd.Connect, cmd.ConnectList, cmd.ConnectRemove)


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
    ) -> None:
        """``wake`` tells the notifier that a message was queued (a /connect join is told to
        the user's other chats); without it, the digest jobs' wake (the same notifier's in
        ``liqwatch run``), else the notifier's next look at the outbox."""
        self.accounts, self.alerts, self.portfolio = accounts, alerts, portfolio
        self.digests = DigestCommands(db, accounts, portfolio, digest_jobs, clock=clock)
        self.connect = ConnectCommands(
            db, wake=self._wake, changed=self.digests.changed, clock=clock
        )
        self.users, self.chats, self.shares = Users(db), Chats(db), Shares(db)
        self.outbox, self.clock, self.db, self.wake = Outbox(db), clock, db, wake

    def _wake(self) -> None:
        if self.wake is not None:
            self.wake()
        elif self.digest_jobs is not None:
            self.digest_jobs.wake()

    @property
    def digest_jobs(self) -> DigestJobs | None:
        return self.digests.jobs

    @digest_jobs.setter
    def digest_jobs(self, jobs: DigestJobs | None) -> None:
        self.digests.jobs = jobs

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
        if not ctx.private and cmd.command_word(text) == cmd.CommandName.LINK:
            return Reply(link_in_group(ctx.deleted))
        try:
            answer = await self.command(ctx, cmd.parse(text))
        except UserError as exc:
            answer = Reply(str(exc))
        except Exception:
            answer = Reply(unexpected("command"))
        if ctx.deleted is False:
            answer = Reply(f"{answer.text}\n{UNDELETED}", answer.table, answer.images)
        return answer

    async def command(self, ctx: ChatContext, command: cmd.Command) -> Reply:
        """Dispatch a parsed command (``UserError`` propagates)."""
        if ctx.sender_chat is not None and not isinstance(command, _AS_CHAT):
            raise UserError(as_chat_refusal(ctx, command.name))
        owner = await self.user(ctx)
        if isinstance(command, cmd.Digest):
            return await self.digests.command(ctx, owner, command)
        if isinstance(command, cmd.ChartRequest):
            return await self.digests.chart(ctx, owner, command)
        if isinstance(command, _CONNECT):
            if not ctx.private:
                raise UserError("Send /connect to me in a private chat.")
            return Reply(await self.connect.command(ctx, owner, command))
        if not ctx.private:
            if isinstance(command, cmd.Link):
                raise UserError(link_in_group(ctx.deleted))
            if isinstance(command, _ADMIN_IN_GROUPS) and not await ctx.is_admin():
                raise UserError(f"Only this chat's admins can use /{command.name} here.")
            return await self._group(ctx, owner, command)
        return await self._private(ctx, owner, command)

    # --- private chats: the sender's own accounts --------------------------------------------
    async def _private(self, ctx: ChatContext, owner: int, command: cmd.Command) -> Reply:
        match command:
            case cmd.Start():
                await self.chats.unblock(ctx.platform, ctx.chat_id)
                return Reply(replies.tour())
            case cmd.Link(venue=venue, api_key=key, secret=secret, passphrase=passphrase):
                credentials = Credentials(api_key=key, secret=secret, passphrase=passphrase)
                return Reply(replies.linked(await self.accounts.link(owner, venue, credentials)))
            case cmd.Accounts():
                return Reply(replies.accounts(await self.accounts.list(owner)))
            case cmd.Positions(account=ref):
                return Reply(replies.positions(await self.portfolio.views(owner, ref)), table=True)
            case cmd.Risk(account=ref):
                return Reply(replies.risk(await self.portfolio.views(owner, ref)), table=True)
            case cmd.Stress(asset=asset, shock_pct=pct):
                found = await self.portfolio.stress(owner, asset, pct)
                return Reply(replies.stress(found), table=True)
            case cmd.Alerts():
                rules = await self.alerts.list_rules(owner)
                return Reply(replies.alerts(rules, await self.alerts.live(owner)), table=True)
            case cmd.Share() | cmd.Unshare():
                raise UserError(
                    f"/{command.name} works in a group: send it there to show (or stop showing) "
                    "one of your accounts to its members."
                )
        return await self._anywhere(ctx, owner, command)

    # --- groups: what members shared with it -------------------------------------------------
    async def _group(self, ctx: ChatContext, owner: int, command: cmd.Command) -> Reply:
        match command:
            case cmd.Start():
                return Reply(replies.group_tour())
            case cmd.Share(account=ref) | cmd.Unshare(account=ref):
                return Reply(await self._share(ctx, owner, ref, isinstance(command, cmd.Share)))
            case cmd.Accounts():
                return Reply(replies.shared(await self._shared(ctx, owner)))
            case cmd.Positions(account=ref):
                views = self.portfolio.views_of(await self._shared(ctx, owner, ref))
                return Reply(replies.positions(views), table=True)
            case cmd.Risk(account=ref):
                views = self.portfolio.views_of(await self._shared(ctx, owner, ref))
                return Reply(replies.risk(views), table=True)
            case cmd.Stress(asset=asset, shock_pct=pct):
                found = self.portfolio.stress_of(await self._shared(ctx, owner), asset, pct)
                return Reply(replies.stress(found), table=True)
            case cmd.Alerts():
                live = await self.alerts.live_on(await self._shared(ctx, owner))
                return Reply(replies.group_alerts(live), table=True)
        return await self._anywhere(ctx, owner, command)

    async def _shared(
        self, ctx: ChatContext, owner: int, ref: str | None = None
    ) -> list[LinkedAccount]:
        found = await self.digests.readable(ctx, owner)
        if not found:
            raise UserError(
                "Nothing is shared with this chat yet: a member sends /share <account> here."
            )
        if ref is None:
            return found
        picked = [a for a in found if a.label.lower() == ref.lower() or str(a.id) == ref]
        if not picked:
            raise UserError(f'No account "{ref}" is shared with this chat: see /accounts.')
        return picked

    async def _share(self, ctx: ChatContext, owner: int, ref: str, share: bool) -> str:
        account = await self.accounts.find(owner, ref)
        if share:
            await self.shares.add(
                ctx.platform, ctx.chat_id, account.id, owner,
                thread_id=ctx.thread_id, now=self.clock(),
            )  # fmt: skip
            return (
                f"{account.label} ({account.venue}) is now shared with this chat: members can "
                "read its positions and risk, and its alerts come here too."
            )
        if not await self.shares.remove(ctx.platform, ctx.chat_id, account.id):
            raise UserError(f"{account.label} is not shared with this chat.")
        return f"{account.label} is no longer shared with this chat."

    # --- the same in both --------------------------------------------------------------------
    async def _anywhere(  # noqa: C901 - one arm per command
        self, ctx: ChatContext, owner: int, command: cmd.Command
    ) -> Reply:
        match command:
            case cmd.Watch(venue=venue, address=address):
                return Reply(replies.linked(await self.accounts.watch(owner, venue, address)))
            case cmd.Help(command=name):
                return Reply(cmd.help_text(name))
            case cmd.Unlink(account=ref):
                gone = await self.accounts.unlink(owner, ref)
                return Reply(f"Unlinked {gone.label}: its keys and history are deleted.")
            case cmd.AlertAdd(spec=spec):
                view = await self.alerts.add_rule(owner, spec)
                return Reply(f"Added rule {view.rule.id}: {view.text}")
            case cmd.AlertChange(action=action, rule_id=rule_id):
                view = await self.alerts.change_rule(owner, action.value, rule_id)
                return Reply(f"Rule {rule_id} {action.value}: {view.text}")
            case cmd.Ack(alert_id=alert_id):
                return Reply(replies.acked(await self.alerts.acknowledge(owner, alert_id)))
            case cmd.Snooze(alert_id=alert_id, duration_s=duration):
                ids = await self.alerts.snooze(owner, alert_id, duration)
                return Reply(replies.snoozed(ids, duration))
            case cmd.Why(alert_id=alert_id):
                return Reply(replies.why(await self.alerts.why(owner, alert_id)), table=True)
            case cmd.Silence(matchers=matchers, duration_s=duration):
                silence = await self.alerts.silence(owner, matchers, duration)
                return Reply(replies.silences([silence]))
            case cmd.SilenceList():
                return Reply(replies.silences(await self.alerts.silences(owner)))
            case cmd.SilenceRm(silence_id=silence_id):
                await self.alerts.unsilence(owner, silence_id)
                return Reply(f"Silence {silence_id} lifted.")
            case cmd.Quiet(hours=hours):
                await self.alerts.quiet(ctx.platform, ctx.target, hours)
                return Reply(replies.quiet(hours))
        raise UserError(f"/{command.name} is not available here; try /help.")

    # --- buttons under alert messages --------------------------------------------------------
    async def press(self, ctx: ChatContext, action: str, arg: str) -> Pressed:
        """A button under a message we sent; its authority comes from that message's chat."""
        try:
            return await self._press(ctx, Action(action), int(arg))
        except (ValueError, UserError) as exc:
            text = str(exc) if isinstance(exc, UserError) else "That button is not one of mine."
            return Pressed(toast=text)
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
        """An account the sender may see here: their own in private, a shared one in groups."""
        if ctx.private:
            return await self.accounts.find(user, str(account_id))
        for account in await self.shares.accounts_in(ctx.platform, ctx.chat_id):
            if account.id == account_id:
                return account
        raise UserError("That account is not shared with this chat.")


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
        return "Send /link to me in a private chat: I only take API keys there."
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
