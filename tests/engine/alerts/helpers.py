"""Builders for alert-evaluation tests: an account, observations, rules, one-step runs."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.alerts.evaluate import Evaluation, evaluate
from engine.alerts.observe import Observation, Subject, observe_failure, position_key
from engine.alerts.policy import Policy, Silence
from engine.alerts.quiet import ChatSettings, QuietHours
from engine.alerts.rules import Kind, Op, Rule, RuleSpec, Severity, default_specs
from engine.alerts.state import Alert
from engine.domain import AccountStatus, LinkedAccount, Platform

ACCOUNT = LinkedAccount(
    id=7,
    owner_id=1,
    venue="binanceusdm",
    label="main",
    status=AccountStatus.ACTIVE,
    poll_s=None,
    wallet_address=None,
    has_credentials=True,
    consecutive_failures=0,
    last_error=None,
    last_polled_at=None,
    created_at=0.0,
)
DM = ChatSettings(Platform.TELEGRAM, "100")


def position(symbol: str, side: str = "long", **values: float) -> Subject:
    base = symbol.split("/")[0]
    return Subject(
        position_key(symbol, side), {Kind(k): v for k, v in values.items()}, symbol, base, side
    )


def seen(at: float, *positions: Subject, **totals: float) -> Observation:
    account = Subject(
        "", {Kind.BLIND: 0.0, Kind.AUTH: 0.0, **{Kind(k): v for k, v in totals.items()}}
    )
    return Observation(ACCOUNT, at, AccountStatus.ACTIVE, True, (account, *positions))


def failed(at: float, status: AccountStatus = AccountStatus.BLIND) -> Observation:
    return observe_failure(ACCOUNT, at=at, status=status)


def rule(rule_id: int, spec: RuleSpec) -> Rule:
    return Rule(rule_id, ACCOUNT.owner_id, None, spec)


def defaults() -> list[Rule]:
    return [rule(i + 1, spec) for i, spec in enumerate(default_specs())]


def liq(
    rule_id: int, threshold: float, severity: Severity = Severity.CRITICAL, **kw: object
) -> Rule:
    return rule(rule_id, RuleSpec(Kind.LIQ, Op.BELOW, threshold, severity, **kw))  # type: ignore[arg-type]


@dataclass
class Run:
    """Feeds observations through ``evaluate`` like the monitor does, keeping the live state."""

    rules: list[Rule]
    chats: list[ChatSettings] = field(default_factory=lambda: [DM])
    silences: list[Silence] = field(default_factory=list)
    policy: Policy = field(default_factory=Policy)
    alerts: dict[int, Alert] = field(default_factory=dict)
    next_id: int = 1
    history: list[Evaluation] = field(default_factory=list)

    def __call__(self, observation: Observation) -> Evaluation:
        out = evaluate(
            observation,
            rules=self.rules,
            alerts=[a for a in self.alerts.values() if a.live],
            silences=self.silences,
            chats=self.chats,
            next_id=self.next_id,
            policy=self.policy,
        )
        for alert in out.alerts:
            self.alerts[alert.id] = alert
            self.next_id = max(self.next_id, alert.id + 1)
        for dropped in out.dropped:
            self.alerts.pop(dropped, None)
        self.history.append(out)
        return out

    def edit(self, alert_id: int, **changes: object) -> None:
        from dataclasses import replace

        self.alerts[alert_id] = replace(self.alerts[alert_id], **changes)  # type: ignore[arg-type]


def quiet(start: str, end: str, *, allow_critical: bool = True) -> ChatSettings:
    return ChatSettings(Platform.TELEGRAM, "100", QuietHours(start, end, "UTC", allow_critical))


def items(out: Evaluation) -> list[tuple[int, str, str]]:
    """(alert id, status, reason) of every item in every message, in order."""
    return [
        (i.alert_id, i.status.value, i.reason.name) for m in out.messages for i in m.notice.items
    ]


def reasons(out: Evaluation) -> dict[int, str]:
    return {a.id: a.reason.name for a in out.alerts if a.reason is not None}
