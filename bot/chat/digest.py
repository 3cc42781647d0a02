"""/digest and /chart: what a chat is subscribed to, and the digest or one chart of what it may see.

Split from the conversation because it is its own concept (subscriptions, scheduling, charts);
which accounts a digest or a chart may show is the one visibility rule's.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.accounts.portfolio import PortfolioService
from bot.accounts.visibility import pick, visible
from bot.chat.commands import parse as cmd
from bot.chat.context import ChatContext, Reply
from bot.digest import build as digest
from bot.digest import text as digest_text
from bot.digest.jobs import DigestJobs
from bot.errors import UserError
from engine.domain import LinkedAccount, split_target
from storage import Database
from storage.digests import Digests


class DigestCommands:
    """Answers /digest and /chart; ``jobs`` is None where nothing is scheduled (the console)."""

    def __init__(
        self,
        db: Database,
        portfolio: PortfolioService,
        jobs: DigestJobs | None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db, self.portfolio, self.jobs = db, portfolio, jobs
        self.subscriptions, self.clock = Digests(db), clock

    async def command(self, ctx: ChatContext, owner: int, command: cmd.DigestCommand) -> Reply:
        """show / now for anyone who can read the chat; subscribe / unsubscribe for its admins."""
        if command.action in ("subscribe", "unsubscribe"):
            if not ctx.private and not await ctx.is_admin():
                raise UserError(f"Only this chat's admins can {command.action} it to the digest.")
            if command.action == "unsubscribe":
                return await self._unsubscribe(ctx)
            return await self._subscribe(ctx, owner, command)
        if command.action == "now":
            return await self._now(ctx, owner)
        sub = await self.subscriptions.for_chat(ctx.platform, ctx.target)
        if sub is None:
            return Reply(
                await _elsewhere(self.subscriptions, ctx)
                or "No daily digest here. " + cmd.usage_line("digest")
            )
        which = f"{len(sub.account_ids)} account(s)" if sub.account_ids else "every account here"
        return Reply(f"Daily digest at {sub.local_time} {sub.timezone} for {which}.")

    async def _subscribe(self, ctx: ChatContext, owner: int, command: cmd.DigestCommand) -> Reply:
        # The digest is posted to the chat: what all of it may see, never the sender's own.
        seen = await visible(self.db, ctx.audience(owner).whole_chat())
        ids = tuple(_pick(seen, label).id for label in command.accounts)
        assert command.at is not None  # the grammar requires "at HH:MM" for subscribe
        await self.subscriptions.subscribe(
            owner, ctx.platform, ctx.target, ids, command.at, command.tz, now=self.clock()
        )
        await self.changed()
        which = ", ".join(command.accounts) or "every account visible here"
        return Reply(
            f"Daily digest at {command.at} {command.tz} for {which}. /digest now for one now."
        )

    async def _unsubscribe(self, ctx: ChatContext) -> Reply:
        if not await self.subscriptions.unsubscribe(ctx.platform, ctx.target):
            raise UserError(
                await _elsewhere(self.subscriptions, ctx) or "This chat has no digest subscription."
            )
        await self.changed()
        return Reply("Digest unsubscribed.")

    async def _now(self, ctx: ChatContext, owner: int) -> Reply:
        """One digest now: built here where nothing is scheduled (the console), else queued
        to the chat like a scheduled one."""
        accounts = await visible(self.db, ctx.audience(owner).whole_chat())
        if self.jobs is None:
            found = await digest.build(self.db, accounts, self.portfolio.latest, now=self.clock())
            return Reply(digest_text.text(found), table=not found.empty)
        await self.jobs.queue(
            owner, ctx.platform, ctx.target, accounts, title="Digest",
            key=f"digest-now:{ctx.platform}:{ctx.target}:{self.clock():.3f}",
        )  # fmt: skip
        return Reply("Building the digest: it arrives here in a moment.")

    async def chart(self, ctx: ChatContext, owner: int, command: cmd.ShowChart) -> Reply:
        """One chart of what this chat may see, cached per snapshot (the accounts' last poll)."""
        accounts = await visible(self.db, ctx.audience(owner))  # shown in the reply only
        if command.account is not None:
            accounts = [_pick(accounts, command.account)]
        if not accounts or self.jobs is None:
            return Reply(digest_text.NOTHING)
        built = await digest.build(self.db, accounts, self.portfolio.latest, now=self.clock())
        version = max((a.last_polled_at or 0.0) for a in accounts)
        chart = await self.jobs.chart(built, command.kind, version=version)
        return Reply(chart.title, images=(chart,))

    async def changed(self) -> None:
        """Re-sync the scheduled digests with the database (after any change to them)."""
        if self.jobs is not None:
            await self.jobs.sync()


def _pick(accounts: list[LinkedAccount], label: str) -> LinkedAccount:
    found = pick(accounts, label)
    if found is None:
        raise UserError(f'No account "{label}" here: see /accounts.')
    return found


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
