"""What each command does: one handler per parsed form (a record of ``bot.chat.commands``),
found by the record's type. The conversation has checked who may run it where before a
handler runs; every account a handler shows comes through the one visibility rule."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from bot.accounts.portfolio import PortfolioService
from bot.accounts.service import AccountService
from bot.accounts.visibility import pick, visible
from bot.alerting.service import AlertService
from bot.chat import replies
from bot.chat import stress as stress_replies
from bot.chat.commands import parse as cmd
from bot.chat.connect import ConnectCommands
from bot.chat.context import ChatContext, Reply
from bot.chat.digest import DigestCommands
from bot.errors import UserError
from bot.exchanges import Credentials
from engine.domain import LinkedAccount
from storage import Database
from storage.chats import Chats
from storage.shares import Shares
from storage.venues import VenueReports


class Services(Protocol):
    """What handlers answer with (the conversation holds them)."""

    db: Database
    commands: cmd.Registry
    accounts: AccountService
    alerts: AlertService
    portfolio: PortfolioService
    chats: Chats
    shares: Shares
    digests: DigestCommands
    connect: ConnectCommands
    clock: Callable[[], float]


@dataclass(frozen=True)
class Ask:
    """One command being answered: where, for which user, with which services."""

    ctx: ChatContext
    owner: int
    services: Services

    async def readable(self, ref: str | None = None) -> list[LinkedAccount]:
        """What an answer here may show (``bot.accounts.visibility``), narrowed to ``ref``;
        a sentence instead when there is nothing, or no such account, to show."""
        found = await visible(self.services.db, self.ctx.audience(self.owner))
        private = self.ctx.private
        if not found and not private:
            raise UserError(
                "Nothing is shared with this chat yet: a member sends /share <account> here."
            )
        if ref is not None:
            account = pick(found, ref)
            if account is None and private:
                raise UserError(f'no account "{ref.strip()}" among yours: see /accounts')
            if account is None:
                raise UserError(f'No account "{ref}" is shared with this chat: see /accounts.')
            return [account]
        if not found:
            raise UserError("You have no linked accounts yet: /link or /watch one.")
        return found


C = TypeVar("C", bound=cmd.Command)
Handler = Callable[[Ask, C], Awaitable[Reply]]


class Handlers:
    """Handlers by the record type they answer."""

    def __init__(self, by_form: dict[type[cmd.Command], Handler[Any]] | None = None) -> None:
        self._by_form = dict(by_form or {})

    def on(self, form: type[C]) -> Callable[[Handler[C]], Handler[C]]:
        """Register the decorated function as what ``form`` does."""

        def register(handler: Handler[C]) -> Handler[C]:
            if form in self._by_form:
                raise ValueError(f"{form.__name__} has two handlers")
            self._by_form[form] = handler
            return handler

        return register

    def copy(self) -> Handlers:
        return Handlers(self._by_form)

    def forms(self) -> set[type[cmd.Command]]:
        return set(self._by_form)

    async def answer(self, ask: Ask, command: cmd.Command) -> Reply:
        handler = self._by_form.get(type(command))
        if handler is None:
            name = ask.services.commands.form(command)[0].name
            raise UserError(f"/{name} is not available here; try /help.")
        return await handler(ask, command)


#: What every command of ``bot.chat.commands.parse.COMMANDS`` does.
HANDLERS = Handlers()
on = HANDLERS.on


# --- accounts --------------------------------------------------------------------------------
@on(cmd.Start)
async def start(ask: Ask, command: cmd.Start) -> Reply:
    if not ask.ctx.private:
        return Reply(replies.group_tour())
    await ask.services.chats.unblock(ask.ctx.platform, ask.ctx.chat_id)
    return Reply(replies.tour())


@on(cmd.Help)
async def help_(ask: Ask, command: cmd.Help) -> Reply:
    return Reply(ask.services.commands.help_text(command.command))


@on(cmd.Link)
async def link(ask: Ask, command: cmd.Link) -> Reply:
    credentials = Credentials(
        api_key=command.api_key, secret=command.secret, passphrase=command.passphrase
    )
    linked = await ask.services.accounts.link(ask.owner, command.venue, credentials)
    return Reply(replies.linked(linked))


@on(cmd.Watch)
async def watch(ask: Ask, command: cmd.Watch) -> Reply:
    linked = await ask.services.accounts.watch(ask.owner, command.venue, command.address)
    return Reply(replies.linked(linked))


@on(cmd.Unlink)
async def unlink(ask: Ask, command: cmd.Unlink) -> Reply:
    gone = await ask.services.accounts.unlink(ask.owner, command.account)
    return Reply(f"Unlinked {gone.label}: its keys and history are deleted.")


@on(cmd.ListAccounts)
async def accounts(ask: Ask, command: cmd.ListAccounts) -> Reply:
    if ask.ctx.private:  # an empty list is an answer here: how to link one
        return Reply(replies.accounts(await visible(ask.services.db, ask.ctx.audience(ask.owner))))
    return Reply(replies.shared(await ask.readable()))


@on(cmd.ShowPositions)
async def positions(ask: Ask, command: cmd.ShowPositions) -> Reply:
    views = ask.services.portfolio.views_of(await ask.readable(command.account))
    return Reply(replies.positions(views), table=True)


@on(cmd.ShowRisk)
async def risk(ask: Ask, command: cmd.ShowRisk) -> Reply:
    views = ask.services.portfolio.views_of(await ask.readable(command.account))
    return Reply(replies.risk(views), table=True)


@on(cmd.StressTest)
async def stress(ask: Ask, command: cmd.StressTest) -> Reply:
    portfolio = ask.services.portfolio
    found = portfolio.stress_of(await ask.readable(), command.asset, command.shock_pct, command.vol)
    return Reply(stress_replies.shocks(found), table=True)


@on(cmd.ShowStressGrid)
async def stress_grid(ask: Ask, command: cmd.ShowStressGrid) -> Reply:
    found = ask.services.portfolio.grid_of(await ask.readable(), command.asset)
    return Reply(stress_replies.grids(found), table=True)


@on(cmd.ShowStressChart)
async def stress_chart(ask: Ask, command: cmd.ShowStressChart) -> Reply:
    return await stress_replies.chart(
        ask.services.portfolio.grid_of(await ask.readable(), command.asset)
    )


# --- alerts ----------------------------------------------------------------------------------
@on(cmd.ShowAlerts)
async def alerts(ask: Ask, command: cmd.ShowAlerts) -> Reply:
    service = ask.services.alerts
    if not ask.ctx.private:  # rules are each member's own: a group reads the live alerts
        return Reply(replies.group_alerts(await service.live_on(await ask.readable())), table=True)
    rules = await service.list_rules(ask.owner)
    return Reply(replies.alerts(rules, await service.live(ask.owner)), table=True)


@on(cmd.AddRule)
async def add_rule(ask: Ask, command: cmd.AddRule) -> Reply:
    view = await ask.services.alerts.add_rule(ask.owner, command.spec)
    return Reply(f"Added rule {view.rule.id}: {view.text}")


@on(cmd.ChangeRule)
async def change_rule(ask: Ask, command: cmd.ChangeRule) -> Reply:
    view = await ask.services.alerts.change_rule(ask.owner, command.action, command.rule_id)
    return Reply(f"Rule {command.rule_id} {command.action.value}: {view.text}")


@on(cmd.Ack)
async def ack(ask: Ask, command: cmd.Ack) -> Reply:
    return Reply(replies.acked(await ask.services.alerts.acknowledge(ask.owner, command.alert_id)))


@on(cmd.Snooze)
async def snooze(ask: Ask, command: cmd.Snooze) -> Reply:
    ids = await ask.services.alerts.snooze(ask.owner, command.alert_id, command.duration_s)
    return Reply(replies.snoozed(ids, command.duration_s))


@on(cmd.ExplainAlert)
async def why(ask: Ask, command: cmd.ExplainAlert) -> Reply:
    answer = await ask.services.alerts.why(ask.owner, command.alert_id)
    return Reply(replies.why(answer), table=True)


@on(cmd.AddSilence)
async def silence(ask: Ask, command: cmd.AddSilence) -> Reply:
    found = await ask.services.alerts.silence(ask.owner, command.matchers, command.duration_s)
    return Reply(replies.silences([found]))


@on(cmd.ListSilences)
async def silences(ask: Ask, command: cmd.ListSilences) -> Reply:
    return Reply(replies.silences(await ask.services.alerts.silences(ask.owner)))


@on(cmd.RemoveSilence)
async def unsilence(ask: Ask, command: cmd.RemoveSilence) -> Reply:
    await ask.services.alerts.unsilence(ask.owner, command.silence_id)
    return Reply(f"Silence {command.silence_id} lifted.")


@on(cmd.SetQuiet)
async def quiet(ask: Ask, command: cmd.SetQuiet) -> Reply:
    await ask.services.alerts.quiet(ask.ctx.platform, ask.ctx.target, command.hours)
    return Reply(replies.quiet(command.hours))


# --- the chat itself -------------------------------------------------------------------------
@on(cmd.Share)
async def share(ask: Ask, command: cmd.Share) -> Reply:
    account = await ask.services.accounts.find(ask.owner, command.account)
    ctx = ask.ctx
    await ask.services.shares.add(
        ctx.platform, ctx.chat_id, account.id, ask.owner,
        thread_id=ctx.thread_id, now=ask.services.clock(),
    )  # fmt: skip
    return Reply(
        f"{account.label} ({account.venue}) is now shared with this chat: members can "
        "read its positions and risk, and its alerts come here too."
    )


@on(cmd.Unshare)
async def unshare(ask: Ask, command: cmd.Unshare) -> Reply:
    account = await ask.services.accounts.find(ask.owner, command.account)
    if not await ask.services.shares.remove(ask.ctx.platform, ask.ctx.chat_id, account.id):
        raise UserError(f"{account.label} is not shared with this chat.")
    return Reply(f"{account.label} is no longer shared with this chat.")


@on(cmd.DigestCommand)
async def digest(ask: Ask, command: cmd.DigestCommand) -> Reply:
    return await ask.services.digests.command(ask.ctx, ask.owner, command)


@on(cmd.ShowChart)
async def chart(ask: Ask, command: cmd.ShowChart) -> Reply:
    return await ask.services.digests.chart(ask.ctx, ask.owner, command)


@on(cmd.ShowStatus)
async def status(ask: Ask, command: cmd.ShowStatus) -> Reply:
    venues = sorted({account.venue for account in await ask.readable()})
    reports = await VenueReports(ask.services.db).all()
    return Reply(replies.status(reports, venues, ask.services.clock()))


async def connect(
    ask: Ask, command: cmd.Connect | cmd.ListConnections | cmd.RemoveConnection
) -> Reply:
    return Reply(await ask.services.connect.command(ask.ctx, ask.owner, command))


on(cmd.Connect)(connect)
on(cmd.ListConnections)(connect)
on(cmd.RemoveConnection)(connect)
