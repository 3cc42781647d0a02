"""/digest and /chart: what a chat is subscribed to, and the digest or one chart of what it may see.

Split from the conversation because it is its own concept (subscriptions, scheduling, charts);
the conversation dispatches to it and asks it which accounts an answer in a chat may show.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.accounts.portfolio import PortfolioService
from bot.accounts.service import AccountService
from bot.chat.commands import parse as cmd
from bot.chat.context import ChatContext, Reply
from bot.digest import build as digest
from bot.digest import text as digest_text
from bot.digest.jobs import DigestJobs
from bot.errors import UserError
from engine.domain import LinkedAccount, split_target
from storage import Database
from storage.digests import Digests
from storage.shares import Shares


class DigestCommands:
    """Answers /digest and /chart; ``jobs`` is None where nothing is scheduled (the console)."""

    def __init__(
        self,
        db: Database,
        accounts: AccountService,
        portfolio: PortfolioService,
        jobs: DigestJobs | None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db, self.accounts, self.portfolio, self.jobs = db, accounts, portfolio, jobs
        self.subscriptions, self.shares, self.clock = Digests(db), Shares(db), clock

    async def command(self, ctx: ChatContext, owner: int, command: cmd.Digest) -> Reply:
        """show / now for anyone who can read the chat; subscribe / unsubscribe for its admins."""
        digests = self.subscriptions
        if command.action in ("subscribe", "unsubscribe"):
            if not ctx.private and not await ctx.is_admin():
                raise UserError(f"Only this chat's admins can {command.action} it to the digest.")
            if command.action == "unsubscribe":
                if not await digests.unsubscribe(ctx.platform, ctx.target):
                    raise UserError(
                        await _elsewhere(digests, ctx) or "This chat has no digest subscription."
                    )
                await self.changed()
                return Reply("Digest unsubscribed.")
            visible = await self.visible(ctx, owner)
            ids = tuple(_pick(visible, label).id for label in command.accounts)
            assert command.at is not None  # the grammar requires "at HH:MM" for subscribe
            await digests.subscribe(
                owner, ctx.platform, ctx.target, ids, command.at, command.tz, now=self.clock()
            )
            await self.changed()
            which = ", ".join(command.accounts) or "every account visible here"
            return Reply(
                f"Daily digest at {command.at} {command.tz} for {which}. /digest now for one now."
            )
        if command.action == "now":
            accounts = await self.visible(ctx, owner)
            if self.jobs is None:
                found = await digest.build(
                    self.db, accounts, self.portfolio.latest, now=self.clock()
                )
                return Reply(digest_text.text(found), table=not found.empty)
            await self.jobs.queue(
                owner, ctx.platform, ctx.target, accounts, title="Digest",
                key=f"digest-now:{ctx.platform}:{ctx.target}:{self.clock():.3f}",
            )  # fmt: skip
            return Reply("Building the digest: it arrives here in a moment.")
        sub = await digests.for_chat(ctx.platform, ctx.target)
        if sub is None:
            return Reply(
                await _elsewhere(digests, ctx)
                or "No daily digest here. " + cmd.usage_line("digest")
            )
        which = f"{len(sub.account_ids)} account(s)" if sub.account_ids else "every account here"
        return Reply(f"Daily digest at {sub.local_time} {sub.timezone} for {which}.")

    async def chart(self, ctx: ChatContext, owner: int, command: cmd.ChartRequest) -> Reply:
        """One chart of what this chat may see, cached per snapshot (the accounts' last poll)."""
        accounts = await self.readable(ctx, owner)
        if command.account is not None:
            accounts = [_pick(accounts, command.account)]
        if not accounts or self.jobs is None:
            return Reply(digest_text.NOTHING)
        built = await digest.build(self.db, accounts, self.portfolio.latest, now=self.clock())
        version = max((a.last_polled_at or 0.0) for a in accounts)
        chart = await self.jobs.chart(built, command.kind, version=version)
        return Reply(chart.title, images=(chart,))

    async def visible(self, ctx: ChatContext, owner: int) -> list[LinkedAccount]:
        if ctx.private:
            return await self.accounts.list(owner)
        return await self.shares.accounts_in(ctx.platform, ctx.chat_id)

    async def readable(self, ctx: ChatContext, owner: int) -> list[LinkedAccount]:
        """What an answer here may show: the chat's accounts, plus the sender's own where only
        the sender sees the answer (Discord's ephemeral replies in a guild), each once."""
        found = await self.visible(ctx, owner)
        if ctx.private or not ctx.sees_own:
            return found
        mine = await self.accounts.list(owner)
        ids = {a.id for a in mine}
        return mine + [a for a in found if a.id not in ids]

    async def changed(self) -> None:
        """Re-sync the scheduled digests with the database (after any change to them)."""
        if self.jobs is not None:
            await self.jobs.sync()


def _pick(accounts: list[LinkedAccount], label: str) -> LinkedAccount:
    for account in accounts:
        if account.label.lower() == label.lower() or str(account.id) == label:
            return account
    raise UserError(f'No account "{label}" here: see /accounts.')


async def _elsewhere(digests: Digests, ctx: ChatContext) -> str:
    """Where else in this group a digest is subscribed ("" if nowhere), for a chat or topic
    with none: a topic's subscription is invisible from the others, and "none" would mislead."""
    where = " and ".join(
        f"one in {_place(s.chat_id)} at {s.local_time} {s.timezone}"
        for s in await digests.for_group(ctx.platform, ctx.chat_id)
        if s.chat_id != ctx.target
    )
    here = "this topic" if ctx.thread_id else "the general chat"
    sentence = f"No daily digest in {here}. This group has {where};"
    return where and f"{sentence} run /digest unsubscribe there to stop it."


def _place(chat_id: str) -> str:
    _, thread = split_target(chat_id)
    return f"topic {thread}" if thread else "the general chat"
