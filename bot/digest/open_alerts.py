"""The alerts still open on a digest's accounts: which ones, how loud, since when."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.alerts.rules import Kind, Severity
from engine.domain import LinkedAccount
from storage import Database
from storage.alerts import Alerts
from storage.rules import Rules


@dataclass(frozen=True)
class OpenAlert:
    account: str
    #: The position's ccxt symbol and side; both empty for an account-level alert.
    symbol: str
    side: str
    kind: Kind
    severity: Severity
    #: When it fired (the episode's start while it is still pending).
    since: float


def _subject(key: str) -> tuple[str, str]:
    """An alert key's symbol and side ("" for the account): keys are "SYMBOL:side", with a
    margin mode or leg number after the side where one market has several legs."""
    for side in ("long", "short"):
        marker = f":{side}"
        if marker in key:
            return key[: key.rindex(marker)], side
    return "", ""


async def open_alerts(db: Database, accounts: Sequence[LinkedAccount]) -> tuple[OpenAlert, ...]:
    """Firing alerts of these accounts, critical first, then the oldest; one per subject and
    kind (its loudest)."""
    live = await Alerts(db).live_many([a.id for a in accounts])
    rules = {}
    for owner in dict.fromkeys(a.owner_id for a in accounts):
        rules.update({r.id: r for r in await Rules(db).list_for(owner)})
    found = []
    for account in accounts:
        for alert in live.get(account.id, []):
            rule = rules.get(alert.rule_id)
            if rule is None or alert.fired_at is None:
                continue  # pending (not told to anyone yet), or its rule is gone
            symbol, side = _subject(alert.key)
            found.append(
                OpenAlert(account.label, symbol, side, rule.kind, rule.severity, alert.fired_at)
            )
    # A position past its critical level also breaches its warning: both episodes fire (the
    # warning inhibited), but a desk needs the one line at the loudest severity.
    seen: set[tuple[str, str, str, Kind]] = set()
    loudest = []
    for item in sorted(found, key=lambda a: (-a.severity.rank, a.since)):
        subject = (item.account, item.symbol, item.side, item.kind)
        if subject not in seen:
            seen.add(subject)
            loudest.append(item)
    return tuple(loudest)
