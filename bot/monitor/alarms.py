"""What the monitor tells the operator: a proxy refusing us, and accounts changing state."""

from __future__ import annotations

import logging

from bot.delivery.ops import OpsAlerts
from bot.exchanges import ExchangeFailure
from engine.alerts.events import NoticeKind, OpsNotice
from engine.alerts.rules import Severity
from engine.cadence import Fit
from engine.domain import AccountStatus, LinkedAccount
from storage.accounts import Accounts

log = logging.getLogger(__name__)

#: Operator messages about one venue's proxy repeat at most this often.
OPS_REPEAT_S = 3600.0


class ProxyAlarm:
    """A proxy in front of a venue refused us (407/511): the operator's problem, not the
    owner's. Told once an hour per venue, and again within the hour if it leaves accounts
    blind."""

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts
        #: Dedup keys told this hour (the outbox dedups too, but this spares it a write on
        #: every poll while a proxy keeps refusing us).
        self._told: set[str] = set()

    async def tell(
        self,
        ops: OpsAlerts | None,
        account: LinkedAccount,
        failure: ExchangeFailure,
        at: float,
        status: AccountStatus,
    ) -> None:
        if ops is None:
            return
        severity = Severity.CRITICAL if status == AccountStatus.BLIND else Severity.WARNING
        hour = f"{int(at // OPS_REPEAT_S)}"
        key = f"ops:proxy:{account.venue}:{severity.value}:{hour}"
        if key in self._told:
            return
        self._told = {k for k in self._told if k.endswith(f":{hour}")} | {key}
        venue = account.venue
        watched = sum(1 for a in await self.accounts.all_pollable() if a.venue == venue)
        detail = (
            f"a proxy in front of {venue} refused liqwatch (HTTP {failure.status}): check its "
            f"credentials and allow-list; the {venue} accounts cannot be watched until it lets "
            "liqwatch through"
        )
        notice = OpsNotice(
            NoticeKind.OPERATOR, at, severity, accounts=watched, subject=venue, detail=detail
        )
        await ops.tell(notice, key)


async def budget_alarm(ops: OpsAlerts | None, venue: str, found: Fit, at: float) -> None:
    """The operator hears, once per venue, state and hour, when a venue's REST budget cannot
    poll every account at its band's interval (and when it can again), with how many accounts
    it allows in each band alone."""
    if ops is None:
        return
    allows = ", ".join(f"{n:,} {band}" for band, n in found.allows.items())
    if found.stretched:
        bands = found.bands
        near = (
            f"near ones every {bands.near_s:,.0f}s, not {found.near_from:,.0f}s: they alone "
            "pass the budget"
            if found.near_stretched
            else "near ones unchanged"
        )
        detail = (
            f"polls would need {found.demand_per_min:,.4g} of the {venue} REST budget's "
            f"{found.budget_per_min:,.4g} a minute: far accounts are polled every "
            f"{bands.far_s:,.0f}s and middle ones every {bands.middle_s:,.0f}s ({near}). "
            f"Alone, the budget allows {allows} accounts"
        )
    else:
        detail = f"the {venue} REST budget polls every account at its band's interval again"
    severity = Severity.WARNING if found.stretched else Severity.INFO
    key = f"ops:budget:{venue}:{found.stretched}:{int(at // OPS_REPEAT_S)}"
    notice = OpsNotice(NoticeKind.OPERATOR, at, severity, 0, subject=venue, detail=detail)
    await ops.tell(notice, key)


def state_changed(account: LinkedAccount, status: AccountStatus) -> None:
    """An account's state change is what an operator reads the INFO log for (one line each,
    not one per poll)."""
    if status != account.status:
        log.info(
            "account %s (%s, %s) is now %s (was %s)",
            account.id, account.label, account.venue, status, account.status,
        )  # fmt: skip
