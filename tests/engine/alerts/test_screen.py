"""The screen of streamed marks (``engine.alerts.screen``): an account it skips is one whose
full evaluation would not have been material — over random accounts of every venue, random
rules of every kind a mark moves, random ticks and the passing of time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.alerts.evaluate import Evaluation, evaluate, material
from engine.alerts.observe import observe
from engine.alerts.policy import Policy, Silence
from engine.alerts.rules import Kind, Op, Rule, RuleSpec, Severity
from engine.alerts.screen import Screen, Watch, watch
from engine.alerts.state import Alert
from engine.analysis import Analysis, analyze
from engine.book import Book
from tests.engine.alerts.helpers import ACCOUNT, DM, liq, rule
from tests.engine.book_cases import accounts, ticks

T0 = 1_700_000_000.0
SIGMA = {"BTC": 0.6, "ETH": 0.7, "SOL": 0.9}
POLICY = Policy()
IDS = np.array([ACCOUNT.id])

# (kind, op, thresholds): each kind a mark moves, around the values the cases produce.
_KINDS = (
    (Kind.LIQ, Op.BELOW, (2.0, 5.0, 10.0, 30.0)),
    (Kind.PROB, Op.ABOVE, (1.0, 20.0, 60.0)),
    (Kind.PNL, Op.BELOW, (-500.0, -50.0, 0.0)),
    (Kind.PNL, Op.ABOVE, (10.0, 300.0)),
    (Kind.ROE, Op.BELOW, (-20.0, -2.0)),
    (Kind.EXPOSURE, Op.ABOVE, (1_000.0, 50_000.0)),
    (Kind.PRICE, Op.BELOW, (2_950.0, 59_000.0, 148.0)),
    (Kind.PRICE, Op.ABOVE, (3_050.0, 61_000.0)),
    (Kind.MARGIN, Op.ABOVE, (5.0, 30.0, 80.0)),
    (Kind.LEVERAGE, Op.ABOVE, (1.0, 5.0, 20.0)),
    (Kind.EXPOSURE_ACCOUNT, Op.ABOVE, (2_000.0, 100_000.0)),
)


@st.composite
def _rules(draw: Any) -> list[Rule]:
    out = []
    for n in range(draw(st.integers(1, 5))):
        kind, op, levels = draw(st.sampled_from(_KINDS))
        spec = RuleSpec(
            kind,
            op,
            draw(st.sampled_from(levels)),
            draw(st.sampled_from(list(Severity))),
            symbols=draw(st.sampled_from([(), ("BTC",), ("ETH/USDT:USDT",)])),
            for_s=draw(st.sampled_from([0.0, 0.0, 60.0])),
        )
        out.append(rule(n + 10, spec))
    return [liq(1, 10.0, Severity.WARNING), liq(2, 5.0), *out]


class _Account:
    """One account as the pipeline keeps it: live episodes and the screen's watch."""

    def __init__(self, rules: list[Rule], silences: Sequence[Silence]) -> None:
        self.rules, self.silences = rules, list(silences)
        self.live: dict[int, Alert] = {}
        self.next_id = 1
        self.screen = Screen()

    def evaluate(self, analysis: Analysis, at: float, *, poll: bool) -> Evaluation:
        seen = observe(analysis, ACCOUNT, at=at, poll=poll)
        before = list(self.live.values())
        result = evaluate(
            seen, rules=self.rules, alerts=before, silences=self.silences, chats=[DM],
            next_id=self.next_id, policy=POLICY,
        )  # fmt: skip
        if poll or material(result, before):
            for alert in result.alerts:
                self.live[alert.id] = alert
                self.next_id = max(self.next_id, alert.id + 1)
            for gone in result.dropped:
                self.live.pop(gone, None)
            self.live = {i: a for i, a in self.live.items() if a.live}
        rows = np.flatnonzero(analysis.snapshot.positions.valid).tolist()
        found = watch(seen, rows, self.rules, list(self.live.values()), self.silences,
                      policy=POLICY)  # fmt: skip
        self.screen.put(ACCOUNT.id, found, 1)
        return result


@settings(max_examples=400, deadline=None)
@given(
    snapshot=accounts(),
    rules=_rules(),
    marks=st.lists(ticks(), min_size=1, max_size=4),
    waits=st.lists(st.sampled_from([0.5, 0.5, 30.0, 61.0, 400.0, 4000.0]), min_size=4,
                   max_size=4),
    silenced=st.booleans(),
)  # fmt: skip
def test_an_account_the_screen_skips_would_not_have_been_material(
    snapshot: Any,
    rules: list[Rule],
    marks: list[dict[str, float]],
    waits: list[float],
    silenced: bool,
) -> None:
    silences = [Silence(1, ACCOUNT.owner_id, {"severity": "warning"}, T0, T0 + 100.0)]
    account = _Account(rules, silences if silenced else [])
    book = Book.build([snapshot], volatility=SIGMA)
    account.evaluate(analyze(snapshot, volatility=SIGMA), T0, poll=True)
    at = T0
    for tick, wait in zip(marks, waits, strict=False):
        at += wait
        repriced = book.reprice(tick, whole=True)
        due = account.screen.due(IDS, np.array([1]), repriced, at=at)
        before = list(account.live.values())
        result = account.evaluate(repriced.analysis(0), at, poll=False)
        if not due[0]:
            assert not material(result, before), (result, before)


def test_a_watch_holds_thresholds_clear_levels_escalations_and_the_next_repeat() -> None:
    """A firing critical at 3 % (notified at 3 %): its threshold 5, its clear level, the
    warning's 10 and its clear level, and the escalation points 1.5 / -1.5 around 0 %; the
    next repeat (critical: 5 min) is its deadline."""
    from tests.engine.alerts.helpers import position, seen

    rules = [liq(1, 10.0, Severity.WARNING), liq(2, 5.0)]
    obs = seen(T0, position("BTC/USDT:USDT", liq=3.0))
    critical = Alert(
        7, 2, ACCOUNT.id, "BTC/USDT:USDT:long", _firing(), T0 - 60, 3, 3.0, 3.0,
        fired_at=T0 - 60, notified_value=3.0, last_notified_at=T0 - 60,
    )  # fmt: skip
    found: Watch = watch(obs, [0], rules, [critical], [], policy=POLICY)
    boundaries = sorted(found.boundary.tolist())
    assert boundaries == sorted(
        [10.0, rules[0].spec.clear_level, 5.0, rules[1].spec.clear_level, -1.5, 1.5]
    )
    assert found.row.tolist() == [0] * 6 and set(found.side.tolist()) == {-1, 1}
    assert found.deadline == T0 - 60 + POLICY.repeat_s[Severity.CRITICAL]
    acked = replace(critical, acked_at=T0)
    assert watch(obs, [0], rules, [acked], [], policy=POLICY).deadline == found.deadline


def _firing() -> Any:
    from engine.alerts.events import AlertStatus

    return AlertStatus.FIRING
