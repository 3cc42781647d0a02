"""The monitor's alert stage: observe → evaluate → alert state and outbox rows, one transaction.

Called by ``Monitor`` inside each poll's transaction, so a crash anywhere leaves either the
old alert state and no new messages, or the new state and all of its messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.monitor.poller import PollEvent
from engine.alerts.evaluate import Evaluation, breaches, evaluate, material
from engine.alerts.observe import Observation, observe, observe_failure
from engine.alerts.policy import Policy
from engine.alerts.rules import Rule
from storage import Transaction
from storage.alerts import Alerts
from storage.outbox import Outbox
from storage.rules import Rules

log = logging.getLogger(__name__)


def observation(event: PollEvent) -> Observation:
    """What the rules see of one poll."""
    if event.analysis is None:
        return observe_failure(event.account, at=event.at, status=event.status)
    return observe(
        event.analysis, event.account, at=event.at, funding=event.funding, poll=event.poll
    )


class AlertPipeline:
    """Implements ``bot.monitor.poller.AlertStage``; ``wake`` tells the notifier there is mail."""

    def __init__(
        self, *, policy: Policy | None = None, wake: Callable[[], None] = lambda: None
    ) -> None:
        self.policy = policy or Policy()
        self.wake = wake
        #: Messages queued (the demo's summary reads it).
        self.queued = 0
        #: Per account, the rules in scope and whether it has live alerts, as of its last
        #: evaluation: what lets a streamed mark skip accounts nowhere near a threshold.
        self._rules: dict[int, list[Rule]] = {}
        self._live: dict[int, bool] = {}

    def worth_a_look(self, event: PollEvent) -> bool:
        """Whether a re-pricing at streamed marks needs the full evaluation: the account was
        never evaluated, has live alerts (they may resolve, repeat or escalate), or breaches
        a rule. Rules changed since its last poll are seen from its next one."""
        account_id = event.account.id
        rules = self._rules.get(account_id)
        if rules is None or self._live.get(account_id, True):
            return True
        return breaches(observation(event), rules)

    async def __call__(self, tx: Transaction, event: PollEvent) -> None:
        await self.stage(tx, event)

    async def stage(self, tx: Transaction, event: PollEvent) -> bool:
        """Evaluate one event and write what it decided; whether it wrote anything. A poll
        always writes (values, the decision log); a re-pricing at streamed marks writes only
        what changes what anyone is told (``engine.alerts.evaluate.material``)."""
        owner, alerts = event.account.owner_id, Alerts(tx.db)
        live = await alerts.live(event.account.id, tx=tx)
        rules = await Rules(tx.db).in_scope(owner, event.account.id, tx=tx)
        self._rules[event.account.id] = rules
        result = evaluate(
            observation(event),
            rules=rules,
            alerts=live,
            silences=await alerts.silences(owner, event.at, tx=tx),
            chats=await alerts.recipients(owner, event.account.id, tx=tx),
            next_id=await alerts.next_id(tx=tx),
            policy=self.policy,
        )
        if not event.poll and not material(result, live):
            self._live[event.account.id] = bool(live)
            return False
        await self.write(tx, result, at=event.at)
        self._live[event.account.id] = any(a.live for a in result.alerts)
        return True

    async def write(self, tx: Transaction, result: Evaluation, *, at: float) -> None:
        """Alert rows, decision log and outbox rows, inside the caller's transaction."""
        await Alerts(tx.db).apply(result, tx=tx)
        queued = await Outbox(tx.db).enqueue(result.messages, now=at, tx=tx)
        self.queued += queued
        if queued:
            # The notifier claims through the writer lock, so it cannot see these rows before
            # this transaction commits: waking it now is safe.
            self.wake()
