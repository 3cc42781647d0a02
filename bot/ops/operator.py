"""Operator commands: genkey, rotate-key and `accounts add|list|remove` on the server."""

from __future__ import annotations

import getpass
import os
import sys
import time
from collections.abc import Callable

from bot.accounts.service import AccountService
from bot.errors import UserError
from bot.exchanges import Credentials, ExchangeHub
from bot.render import cadence as cadence_text
from bot.render import format as fmt
from bot.render import venues as venue_text
from bot.security.vault import Vault, generate_key
from bot.settings import Secret, Settings
from engine.domain import Platform
from storage import Database
from storage.accounts import Accounts
from storage.lock import ProcessLock
from storage.outbox import Outbox, OutboxStatus
from storage.postgres import PgDatabase
from storage.users import Users
from storage.venues import VenueReport, VenueReports

#: The owner of accounts linked by an operator on the server (team accounts).
OPERATOR = ("operator", "operator")


def genkey() -> str:
    """A fresh master key, printed for the operator to store as LIQWATCH_MASTER_KEY."""
    return generate_key()


async def rotate_key(settings: Settings, new_key: str | None) -> str:
    """Re-encrypt every credential from LIQWATCH_MASTER_KEY to LIQWATCH_NEW_MASTER_KEY."""
    if not new_key:
        raise UserError(
            "LIQWATCH_NEW_MASTER_KEY is not set: create it with `liqwatch genkey`, export it, "
            "and run rotate-key again"
        )
    old, new = Vault(settings.require_master_key()), Vault(Secret(new_key))
    # A running liqwatch holds the old key: rotating under it would leave it unable to decrypt.
    if settings.db_url is not None:  # PostgreSQL: the server's advisory lock (in _rotate)
        return await _rotate(settings, old, new)
    with ProcessLock(settings.db_path, purpose="rotate-key"):
        return await _rotate(settings, old, new)


async def _rotate(settings: Settings, old: Vault, new: Vault) -> str:
    async with Database.open(settings.database) as db:
        if isinstance(db, PgDatabase):
            await db.hold("rotate-key")
        accounts = Accounts(db)
        rows = await accounts.all_credentials()
        # Every row comes out bound to its account, whether or not it was before.
        changes = [
            (row, old.reseal(row, into=new))
            for row in rows
            if row.key_id != new.key_id or not row.bound
        ]
        await accounts.replace_credentials(changes)
    return (
        f"re-encrypted {len(changes)} credentials with key {new.key_id}: now set "
        "LIQWATCH_MASTER_KEY to the new key and restart liqwatch"
    )


def _secret(env_name: str, prompt: str, *, required: bool) -> str | None:
    """From the environment, else a hidden prompt; never from argv (shell history, ps)."""
    value = os.environ.get(env_name, "").strip()
    if value:
        return value
    if sys.stdin.isatty():
        value = getpass.getpass(prompt).strip()
    if required and not value:
        raise UserError(f"{env_name} is not set (or type it at the prompt): the API {prompt}")
    return value or None


async def accounts_add(
    settings: Settings, venue: str, label: str | None, address: str | None, poll_s: float | None
) -> str:
    """Link a team account owned by the operator user, validated like a chat /link."""
    vault = Vault(settings.require_master_key())
    async with (
        Database.open(settings.database) as db,
        ExchangeHub(settings.exchange_url_prefix) as hub,
    ):
        owner = await Users(db).ensure(Platform.CONSOLE, *OPERATOR, None, now=time.time())
        service = AccountService(db, hub, vault)
        if address:
            linked = await service.watch(owner.id, venue, address, label=label)
        else:
            creds = Credentials(
                api_key=_secret("LIQWATCH_API_KEY", "key: ", required=True) or "",
                secret=_secret("LIQWATCH_API_SECRET", "secret: ", required=True) or "",
                passphrase=_secret(
                    "LIQWATCH_API_PASSPHRASE", "passphrase (Enter if none): ", required=False
                ),
            )
            linked = await service.link(owner.id, venue, creds, label=label, poll_s=poll_s)
    lines = [f'linked {linked.account.venue} account {linked.account.id} "{linked.account.label}"']
    lines += [f"warning: {w}" for w in linked.warnings]
    return "\n".join(lines)


async def accounts_list(settings: Settings, clock: Callable[[], float] = time.time) -> str:
    """Every account on the server, with owner, status and last poll; then each venue as the
    running service last reported it (marks streaming, last tick, REST budget, polls)."""
    async with Database.open(settings.database) as db:
        rows = await Accounts(db).all_accounts()
        reports = await VenueReports(db).all()
        outbox = Outbox(db)
        delivery = _outbox_line(await outbox.counts(), await outbox.redeliveries())
    if not rows:
        return f"no accounts linked\n\n{delivery}"
    out = [f"{'ID':>4}  {'OWNER':>5}  {'VENUE':<13} {'LABEL':<20} {'STATUS':<11} LAST POLL"]
    for a in rows:
        age = (
            "never" if a.last_polled_at is None else f"{fmt.money(clock() - a.last_polled_at)}s ago"
        )
        out.append(
            f"{a.id:>4}  {a.owner_id:>5}  {a.venue:<13} {a.label:<20} {a.status:<11} {age}"
            + (f"  ({a.last_error})" if a.last_error else "")
        )
        polled = cadence_text.line(a)
        if polled is not None:
            out.append(f"{'':>6}{polled}")
    return "\n".join([*out, "", *_venues(reports, clock()), "", delivery])


def _outbox_line(counts: dict[OutboxStatus, int], redeliveries: dict[str, int]) -> str:
    """The outbox as rows per status, and the messages possibly sent twice (a claim that took
    a row over from a worker that died or lost the database before recording its send)."""
    line = "OUTBOX: " + ", ".join(f"{n} {status}" for status, n in counts.items())
    if redeliveries:
        each = ", ".join(f"{n} {platform}" for platform, n in redeliveries.items())
        line += f"; re-sent after a lapsed lease (possible duplicates): {each}"
    return line


def _venues(reports: list[VenueReport], now: float) -> list[str]:
    if not reports:
        return ["VENUES: no report yet (`liqwatch run` writes one every few seconds)"]
    warning = venue_text.staleness(reports, now)
    return [
        f"VENUES (as of {venue_text.age(now - max(r.reported_at for r in reports))} ago)",
        *venue_text.lines(reports, now, accounts=True),
        *([warning] if warning else []),
    ]


async def accounts_remove(settings: Settings, account_id: int) -> str:
    """Remove any account by id (operator power: not limited to the operator's own)."""
    async with Database.open(settings.database) as db:
        accounts = Accounts(db)
        account = await accounts.system_get(account_id)
        if account is None or not await accounts.remove(account.owner_id, account_id):
            raise UserError(f"no account with id {account_id}: see `liqwatch accounts list`")
    return f'removed account {account_id} "{account.label}" ({account.venue})'


async def accounts_pause(settings: Settings, account_id: int, *, paused: bool) -> str:
    """Stop polling any account by id, or poll a paused one again (a running liqwatch sees it
    within 30 s and closes, or opens, its client)."""
    async with Database.open(settings.database) as db:
        accounts = Accounts(db)
        account = await accounts.system_get(account_id)
        if account is None:
            raise UserError(f"no account with id {account_id}: see `liqwatch accounts list`")
        change = accounts.pause if paused else accounts.resume
        if not await change(account.owner_id, account_id):
            raise UserError(
                f"account {account_id} is {account.status}: only a paused account can be resumed"
                " (an auth_failed one needs a new key: link it again)"
            )
    return f'{"paused" if paused else "resumed"} account {account_id} "{account.label}"'
