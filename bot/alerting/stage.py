"""The monitor's alert stage: observe → evaluate → alert state and outbox rows, one transaction.

Called by ``Monitor`` inside each poll's transaction, so a crash anywhere leaves either the
old alert state and no new messages, or the new state and all of its messages.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from bot.monitor.events import PollEvent
from engine.alerts.evaluate import Evaluation, evaluate, live_after, material
from engine.alerts.events import AlertNotice
from engine.alerts.observe import Observation, observe, observe_failure
from engine.alerts.policy import Policy, Silence
from engine.alerts.rules import Rule
from engine.alerts.screen import Screen, watch
from engine.alerts.state import Alert
from engine.book import Repriced
from engine.cadence import AlertHint, alerting, warning_distance
from engine.types import BoolArray, IntArray
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
        #: Alert transitions told to someone, per (severity, reason): what the metrics count.
        self.transitions: Counter[tuple[str, str]] = Counter()
        #: What each account's last evaluation leaves to watch: which re-priced accounts a
        #: streamed mark could change the alerts of (``engine.alerts.screen``).
        self.screen = Screen()
        #: Per account, what its last evaluation says about how often to poll it
        #: (``engine.cadence``: its warning distance, whether an alert on its money is live).
        self.hints: dict[int, AlertHint] = {}

    def hint(self, account_id: int) -> AlertHint | None:
        return self.hints.get(account_id)

    def due(
        self, accounts: IntArray, generations: IntArray, repriced: Repriced, *, at: float
    ) -> BoolArray:
        """Per re-priced account: whether its evaluation at these marks may be material (never
        evaluated, a value crossed a threshold, clear level or escalation point, or a repeat,
        ``for``, snooze or silence is due). Rules changed since its last evaluation are seen
        from its next one."""
        return self.screen.due(accounts, generations, repriced, at=at)

    async def __call__(self, tx: Transaction, event: PollEvent) -> None:
        await self.stage(tx, event)

    async def stage(self, tx: Transaction, event: PollEvent) -> bool:
        """Evaluate one event and write what it decided; whether it wrote anything. A poll
        always writes (values, the decision log); a re-pricing at streamed marks writes only
        what changes what anyone is told (``engine.alerts.evaluate.material``)."""
        return await self.stage_many(tx, [event]) > 0

    async def stage_many(self, tx: Transaction, events: Sequence[PollEvent]) -> int:
        """``stage`` for each event in order, reading what they all need in one query per
        table (a tick batch evaluates dozens of accounts: one read each would cost most of
        the tick's time); how many wrote. An account met twice is read again for its second
        event, after the first one's writes."""
        written, batch = 0, list(events)
        while batch:
            seen: set[int] = set()
            run = []
            for event in batch:
                if event.account.id in seen:
                    break
                seen.add(event.account.id)
                run.append(event)
            batch = batch[len(run) :]
            written += await self._stage_run(tx, run)
        return written

    async def _stage_run(self, tx: Transaction, events: Sequence[PollEvent]) -> int:
        """``stage_many`` for events of distinct accounts."""
        alerts = Alerts(tx.db)
        pairs = [(e.account.owner_id, e.account.id) for e in events]
        live = await alerts.live_many([e.account.id for e in events], tx=tx)
        rules = await Rules(tx.db).in_scope_many(pairs, tx=tx)
        silenced = await alerts.silences_many(
            [owner for owner, _a in pairs], min(e.at for e in events), tx=tx
        )
        chats = await alerts.recipients_many(pairs, tx=tx)
        next_id, written = await alerts.next_id(tx=tx), 0
        for event, pair in zip(events, pairs, strict=True):
            mine = live[event.account.id]
            silences = [s for s in silenced[pair[0]] if s.ends_at > event.at]
            seen = observation(event)
            result = evaluate(
                seen,
                rules=rules[pair],
                alerts=mine,
                silences=silences,
                chats=chats[pair],
                next_id=next_id,
                policy=self.policy,
            )
            next_id = max([next_id, *(alert.id + 1 for alert in result.alerts)])
            wrote = event.poll or material(result, mine)
            after = live_after(mine, result) if wrote else mine
            self._watch(event, seen, rules[pair], after, silences)
            self.hints[event.account.id] = AlertHint(
                warning_distance(rules[pair]), alerting(rules[pair], after)
            )
            if wrote:
                await self.write(tx, result, at=event.at)
                written += 1
        return written

    def _watch(
        self,
        event: PollEvent,
        seen: Observation,
        rules: Sequence[Rule],
        alerts: Sequence[Alert],
        silences: Sequence[Silence],
    ) -> None:
        """Leave the screen what this evaluation says to watch (nothing for a failed poll:
        its account is not re-priced until polled again)."""
        account = event.account.id
        if event.analysis is None:
            self.screen.forget(account)
            return
        rows = np.flatnonzero(event.analysis.snapshot.positions.valid).tolist()
        found = watch(seen, rows, rules, alerts, silences, policy=self.policy)
        self.screen.put(account, found, event.generation)

    async def write(self, tx: Transaction, result: Evaluation, *, at: float) -> None:
        """Alert rows, decision log and outbox rows, inside the caller's transaction."""
        await Alerts(tx.db).apply(result, tx=tx)
        queued = await Outbox(tx.db).enqueue(result.messages, now=at, tx=tx)
        self.queued += queued
        told = {
            (item.alert_id, str(item.severity), item.reason.name.lower())
            for message in result.messages
            if isinstance(message.notice, AlertNotice)
            for item in message.notice.items
        }  # one per alert and transition, however many chats were told
        self.transitions.update((severity, reason) for _, severity, reason in told)
        if queued:
            # The notifier claims through the writer lock, so it cannot see these rows before
            # this transaction commits: waking it now is safe.
            self.wake()
