"""Alert use cases every adapter calls: rules, live alerts, ack, snooze, silences, quiet, why.

Services raise ``UserError`` with a sentence a user can act on; adapters only render the
records returned here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from bot.errors import UserError
from engine.alerts.evaluate import Decision
from engine.alerts.grammar import describe
from engine.alerts.policy import Silence
from engine.alerts.quiet import QuietHours
from engine.alerts.rules import Rule, RuleSpec
from engine.alerts.state import Alert
from engine.domain import LinkedAccount, Platform
from storage import Database
from storage.accounts import Accounts
from storage.alerts import Alerts
from storage.chats import Chats
from storage.rules import Rules


class RuleAction(StrEnum):
    """What can be done to a stored rule (``/alert rm|pause|resume <id>``)."""

    RM = "rm"
    PAUSE = "pause"
    RESUME = "resume"


@dataclass(frozen=True)
class RuleView:
    """A rule as a person reads it: its canonical text and the account it covers."""

    rule: Rule
    text: str
    account: str | None


@dataclass(frozen=True)
class AlertView:
    """A live or past alert with its rule and account, for /alerts, /why and buttons."""

    alert: Alert
    rule: RuleView
    account: LinkedAccount


@dataclass(frozen=True)
class Why:
    """The answer to /why: the alert and its latest decisions, oldest first."""

    view: AlertView
    decisions: tuple[Decision, ...]


class AlertService:
    """Rules and alert handling for one owner at a time (ids from chat are owner-checked)."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.accounts, self.rules, self.alerts = Accounts(db), Rules(db), Alerts(db)
        self.chats, self.clock = Chats(db), clock

    # --- rules -------------------------------------------------------------------------------
    async def add_rule(self, owner_id: int, spec: RuleSpec) -> RuleView:
        """Store a parsed rule; ``on <account>`` must name one of the owner's accounts."""
        account_id = None
        if spec.account is not None:
            account = await self.accounts.by_label(owner_id, spec.account)
            if account is None:
                raise UserError(f'You have no account labelled "{spec.account}" (see /accounts).')
            account_id = account.id
        rule = await self.rules.add(
            owner_id, account_id, replace(spec, account=None), now=self.clock()
        )
        return await self._rule_view(owner_id, rule)

    async def change_rule(self, owner_id: int, action: RuleAction, rule_id: int) -> RuleView:
        """rm / pause / resume one of the owner's rules."""
        found = [r for r in await self.rules.list_for(owner_id) if r.id == rule_id]
        if not found:
            raise UserError(f"You have no alert rule #{rule_id} (see /alerts).")
        if action is RuleAction.RM:
            await self.rules.remove(owner_id, rule_id)
        else:
            await self.rules.set_enabled(owner_id, rule_id, action is RuleAction.RESUME)
        enabled = action is RuleAction.RESUME or (action is RuleAction.RM and found[0].enabled)
        return await self._rule_view(owner_id, replace(found[0], enabled=enabled))

    async def list_rules(self, owner_id: int) -> list[RuleView]:
        labels = await self._labels(owner_id)
        return [_rule_view(r, labels) for r in await self.rules.list_for(owner_id)]

    async def _rule_view(self, owner_id: int, rule: Rule) -> RuleView:
        return _rule_view(rule, await self._labels(owner_id))

    async def _labels(self, owner_id: int) -> dict[int, str]:
        """Account id → label, read once per request instead of once per rule."""
        return {a.id: a.label for a in await self.accounts.list_for(owner_id)}

    # --- alerts ------------------------------------------------------------------------------
    async def live(self, owner_id: int) -> list[AlertView]:
        """Every pending or firing alert of the owner, oldest first."""
        return await self._views(owner_id, await self.alerts.live_for(owner_id))

    async def get(self, owner_id: int, alert_id: int) -> AlertView:
        alert = await self.alerts.get(owner_id, alert_id)
        if alert is None:
            raise UserError(f"You have no alert #{alert_id} (see /alerts).")
        return (await self._views(owner_id, [alert]))[0]

    async def _views(self, owner_id: int, alerts: Sequence[Alert]) -> list[AlertView]:
        """Rules and accounts read once for the whole list (alerts cascade with both)."""
        rules = {r.id: r for r in await self.rules.list_for(owner_id)}
        accounts = {a.id: a for a in await self.accounts.list_for(owner_id)}
        labels = {i: a.label for i, a in accounts.items()}
        return [
            AlertView(a, _rule_view(rules[a.rule_id], labels), accounts[a.account_id])
            for a in alerts
        ]

    async def _targets(self, owner_id: int, alert_id: int | None) -> list[int]:
        if alert_id is None:
            return [a.id for a in await self.alerts.live_for(owner_id)]
        view = await self.get(owner_id, alert_id)
        if not view.alert.live:
            raise UserError(f"Alert #{alert_id} is already resolved.")
        return [alert_id]

    async def acknowledge(self, owner_id: int, alert_id: int | None) -> list[int]:
        """Stop the repeats of one alert (or all): the resolved message still comes."""
        targets = await self._targets(owner_id, alert_id)
        if not targets:
            raise UserError("Nothing to acknowledge: no alert is firing.")
        return await self.alerts.acknowledge(owner_id, targets, self.clock())

    async def snooze(self, owner_id: int, alert_id: int | None, duration_s: float) -> list[int]:
        """Mute one alert (or every live one) for a while; ``all`` also mutes new ones."""
        now = self.clock()
        if alert_id is None:
            await self.alerts.add_silence(owner_id, {}, starts_at=now, ends_at=now + duration_s)
        targets = await self._targets(owner_id, alert_id)
        return await self.alerts.snooze(owner_id, targets, now + duration_s)

    async def acknowledge_ids(self, owner_id: int, alert_ids: Sequence[int]) -> list[int]:
        """Acknowledge these (the live ones among them): the alerts under a pressed button."""
        return await self.alerts.acknowledge(owner_id, alert_ids, self.clock())

    async def snooze_ids(
        self, owner_id: int, alert_ids: Sequence[int], duration_s: float
    ) -> list[int]:
        return await self.alerts.snooze(owner_id, alert_ids, self.clock() + duration_s)

    async def live_on(self, accounts: Sequence[LinkedAccount]) -> list[AlertView]:
        """Live alerts on these accounts, whoever owns them (a group's shared accounts)."""
        wanted = {a.id for a in accounts}
        out: list[AlertView] = []
        for owner in sorted({a.owner_id for a in accounts}):
            out += [v for v in await self.live(owner) if v.account.id in wanted]
        return sorted(out, key=lambda v: v.alert.id)

    async def why(self, owner_id: int, alert_id: int) -> Why:
        view = await self.get(owner_id, alert_id)
        return Why(view, tuple(await self.alerts.decisions(alert_id)))

    # --- silences and quiet hours ------------------------------------------------------------
    async def silence(
        self, owner_id: int, matchers: Sequence[tuple[str, str]], duration_s: float
    ) -> Silence:
        now = self.clock()
        return await self.alerts.add_silence(
            owner_id, dict(matchers), starts_at=now, ends_at=now + duration_s
        )

    async def silences(self, owner_id: int) -> list[Silence]:
        return await self.alerts.silences(owner_id, self.clock())

    async def unsilence(self, owner_id: int, silence_id: int) -> None:
        if not await self.alerts.expire_silence(owner_id, silence_id, self.clock()):
            raise UserError(f"You have no active silence #{silence_id} (see /silence).")

    async def quiet(self, platform: Platform, chat_id: str, hours: QuietHours | None) -> None:
        """Quiet hours belong to the chat they were set in."""
        await self.chats.set_quiet(platform, chat_id, hours)


def _rule_view(rule: Rule, labels: dict[int, str]) -> RuleView:
    label = labels.get(rule.account_id) if rule.account_id is not None else None
    return RuleView(rule, describe(replace(rule.spec, account=label)), label)
