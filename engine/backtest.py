"""Replaying price history through the real alert pipeline, with a virtual clock.

Candles say where the price went within each bar, not when. The replay assumes the
**adverse-last path** (docs/backtest.md#intrabar): within a bar of length T the price goes
from the open at t, to the bar's favourable extreme at t + T/3, to its adverse extreme (a
long's low, a short's high) at t + 2T/3, then on to the next bar's open, in straight lines.
Putting the dangerous extreme last and the move to it fast is the case that leaves a warning
the least time, so lead times measured on it are conservative. Poll instants read this path;
``stream`` evaluates at every vertex (each open and both extremes). A missing candle (a gap) is
never bridged: no evaluation falls inside it.

Everything here is pure: the caller brings candles, a snapshot, rules and an account, and gets
back every notice the pipeline would have sent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.alerts.evaluate import evaluate, live_after
from engine.alerts.events import AlertNotice, AlertStatus
from engine.alerts.observe import Observation, observe
from engine.alerts.policy import Policy
from engine.alerts.quiet import ChatSettings
from engine.alerts.rules import KINDS, Rule, RuleSpec, Severity, default_specs
from engine.alerts.state import Alert
from engine.analysis import Analysis, analyze
from engine.candles import Candles
from engine.domain import AccountStatus, LinkedAccount, Platform
from engine.normalise import Snapshot
from engine.reprice import with_marks
from engine.sweep import Points, Unsupported
from engine.types import BoolArray, FloatArray


@dataclass(frozen=True, eq=False)
class PricePath:
    """The adverse-last path's vertices: times (POSIX seconds) and prices.

    ``joined[k]`` says the segment from vertex k-1 to k is continuous; False across a gap
    (and at k = 0), where nothing is interpolated.
    """

    t_s: FloatArray
    price: FloatArray
    joined: BoolArray

    def at(self, t_s: FloatArray) -> tuple[FloatArray, BoolArray]:
        """The path's price at each instant, and whether the instant is covered (not in a gap,
        not outside the candles)."""
        x = np.interp(t_s, self.t_s, self.price)
        k = np.searchsorted(self.t_s, t_s, side="right")  # vertex k-1 <= t < vertex k
        on_vertex = np.zeros(len(t_s), dtype=bool)
        inside = (k > 0) & (k <= len(self.t_s))
        on_vertex[inside] = self.t_s[k[inside] - 1] == t_s[inside]
        nxt = np.minimum(k, len(self.t_s) - 1)
        covered = inside & (on_vertex | ((k < len(self.t_s)) & self.joined[nxt]))
        return x, covered


def adverse_path(candles: Candles, side: float) -> PricePath:
    """The adverse-last path of ``candles`` for a long (``side`` > 0) or a short (< 0)."""
    n = len(candles)
    t0 = candles.ts_ms.astype(np.float64) / 1000.0
    third = candles.timeframe_ms / 3000.0
    favourable, adverse = (candles.high, candles.low) if side > 0 else (candles.low, candles.high)
    t = np.empty(3 * n)
    t[0::3], t[1::3], t[2::3] = t0, t0 + third, t0 + 2 * third
    x = np.empty(3 * n)
    x[0::3], x[1::3], x[2::3] = candles.open, favourable, adverse
    joined = np.ones(3 * n, dtype=bool)
    joined[0] = False
    # A bar's open joins the previous bar's adverse extreme only when no candle is missing.
    joined[3::3] = np.diff(candles.ts_ms) == candles.timeframe_ms
    return PricePath(t, x, joined)


def stream_points(path: PricePath, from_s: float, to_s: float) -> tuple[FloatArray, FloatArray]:
    """``stream``: every vertex in ``[from_s, to_s)``."""
    keep = (path.t_s >= from_s) & (path.t_s < to_s)
    return path.t_s[keep], path.price[keep]


def poll_points(
    path: PricePath, from_s: float, to_s: float, every_s: float
) -> tuple[FloatArray, FloatArray]:
    """Polls every ``every_s`` from ``from_s``: the path's price at each, gaps skipped."""
    count = max(math.ceil((to_s - from_s) / every_s), 0)
    t = (from_s + every_s * np.arange(count)).astype(np.float64)
    x, covered = path.at(t)
    return t[covered], x[covered]


def touch_time(path: PricePath, liquidation: float, side: float, from_s: float) -> float | None:
    """When the path first reaches ``liquidation`` at or after ``from_s`` (None: never).

    On a continuous segment the crossing is interpolated; across a gap, or at the first vertex,
    the touch is dated at the vertex itself.
    """
    if not math.isfinite(liquidation):
        return None
    start = int(np.searchsorted(path.t_s, from_s, side="left"))
    beyond = side * (path.price[start:] - liquidation) <= 0
    hits = np.flatnonzero(beyond)
    if not len(hits):
        return None
    k = start + int(hits[0])
    if k == start or not path.joined[k]:
        return float(path.t_s[k])
    x0, x1, t0, t1 = path.price[k - 1], path.price[k], path.t_s[k - 1], path.t_s[k]
    return float(t0 + (x0 - liquidation) / (x0 - x1) * (t1 - t0))


#: The one chat a replay tells: no quiet hours, never blocked, so every notice is counted.
REPLAY_CHAT = ChatSettings(Platform.CONSOLE, "backtest")


@dataclass
class Replay:
    """The alert state of one account across a replay: ``evaluate`` in, notices out."""

    account: LinkedAccount
    rules: Sequence[Rule]
    policy: Policy = field(default_factory=Policy)
    alerts: list[Alert] = field(default_factory=list)
    next_id: int = 1
    notices: list[AlertNotice] = field(default_factory=list)
    #: Critical episodes that fired and then resolved (the value recovered past its clear).
    false_criticals: list[Alert] = field(default_factory=list)

    def step(self, observation: Observation) -> list[AlertNotice]:
        result = evaluate(
            observation,
            rules=self.rules,
            alerts=self.alerts,
            chats=(REPLAY_CHAT,),
            next_id=self.next_id,
            policy=self.policy,
        )
        self.next_id = max([self.next_id, *(alert.id + 1 for alert in result.alerts)])
        severity = {rule.id: rule.severity for rule in self.rules}
        self.false_criticals.extend(
            a
            for a in result.alerts
            if a.status is AlertStatus.RESOLVED
            and a.resolved_at == observation.at
            and severity.get(a.rule_id) is Severity.CRITICAL
            and a.fired_at is not None
        )
        self.alerts = live_after(self.alerts, result)
        sent = [m.notice for m in result.messages if isinstance(m.notice, AlertNotice)]
        self.notices.extend(sent)
        return sent


@dataclass(frozen=True)
class Priced:
    """A snapshot and how to price it: what every step of a replay re-analyses."""

    snapshot: Snapshot
    symbol: str
    volatility: dict[str, float] = field(default_factory=dict)
    horizon_hours: float = 24.0

    def at(self, mark: float) -> Analysis:
        """The engine's analysis with ``symbol`` at ``mark`` (``liqwatch analyze``'s maths)."""
        return self.at_marks({self.symbol: mark})

    def at_marks(self, marks: Mapping[str, float]) -> Analysis:
        """The analysis with each symbol at its mark: a cross account re-solved as a whole."""
        moved = with_marks(self.snapshot, marks)
        with np.errstate(all="ignore"):
            return analyze(moved, volatility=self.volatility, horizon_hours=self.horizon_hours)


@dataclass(frozen=True)
class Outcome:
    """What a replay found. Lead times are seconds before the touch (None: no such notice
    before it, or no touch)."""

    notices: tuple[AlertNotice, ...]
    liquidation_price: float
    liquidated_at: float | None
    false_criticals: int
    steps: int
    #: An account replay: the position (``SYMBOL:side``) whose touch ended it, and each
    #: position's (symbol, side, liquidation price at the start).
    liquidated: str | None = None
    positions: tuple[tuple[str, str, float], ...] = ()

    def first(self, severity: Severity) -> AlertNotice | None:
        """The first notice at least this severe that warns (a resolution does not)."""
        for notice in self.notices:
            if notice.severity.rank >= severity.rank and not notice.resolved_only:
                return notice
        return None

    def lead_s(self, severity: Severity) -> float | None:
        notice = self.first(severity)
        if notice is None or self.liquidated_at is None or notice.at > self.liquidated_at:
            return None
        return self.liquidated_at - notice.at


def replay(
    priced: Priced,
    replay_state: Replay,
    times: FloatArray,
    marks: FloatArray,
    *,
    liquidated_at: float | None,
) -> Outcome:
    """Evaluate at each (time, mark) before ``liquidated_at`` (the position is gone after)."""
    entry = priced.at(float(marks[0])) if len(marks) else priced.at(math.nan)
    liq = float(entry.liquidation_price[0]) if len(entry.liquidation_price) else math.nan
    steps = 0
    for at, mark in zip(times.tolist(), marks.tolist(), strict=True):
        if liquidated_at is not None and at >= liquidated_at:
            break
        replay_state.step(observe(priced.at(mark), replay_state.account, at=at))
        steps += 1
    return Outcome(
        tuple(replay_state.notices),
        liq,
        liquidated_at,
        len(replay_state.false_criticals),
        steps,
    )


def check_replayable(specs: Sequence[RuleSpec]) -> None:
    """Raise ``Unsupported`` naming the rules a replay cannot model: it moves the marks of
    perpetuals and futures and re-prices no option, so an underlying's greeks and an option's
    expiry are not on its path (``KindInfo.replayable``)."""
    kinds = sorted({s.kind.value for s in specs if not KINDS[s.kind].replayable})
    if kinds:
        raise Unsupported(
            f"a backtest replays the marks of perpetuals and futures and re-prices no option, "
            f"so it cannot model {', '.join(kinds)} rules; leave them out of the rules file"
        )


def replay_account(venue: str, label: str = "backtest") -> LinkedAccount:
    """The account a replay evaluates: owner 1, account 1 (rules are scoped to them)."""
    return LinkedAccount(
        id=1,
        owner_id=1,
        venue=venue,
        label=label,
        status=AccountStatus.ACTIVE,
        poll_s=None,
        wallet_address=None,
        has_credentials=False,
        consecutive_failures=0,
        last_error=None,
        last_polled_at=None,
        created_at=0.0,
    )


def as_rules(specs: Sequence[RuleSpec], *, default: bool = False) -> list[Rule]:
    """Specs as the stored rules of the replay's owner (ids from 1, as a new account's)."""
    return [Rule(n, 1, None, spec, default=default) for n, spec in enumerate(specs, start=1)]


def default_rules() -> list[Rule]:
    """What the product installs for a new account (``engine.alerts.rules.default_specs``)."""
    return as_rules(default_specs(), default=True)


def sweep_points(path: PricePath, from_s: float, to_s: float, poll_s: float | None) -> Points:
    """The sweep's arrays: evaluation points (polls, or every vertex for ``stream``) and the
    vertex path liquidation is decided on."""
    if poll_s is None:
        t, x = stream_points(path, from_s, to_s)
    else:
        t, x = poll_points(path, from_s, to_s, poll_s)
    return Points(t, x, path.t_s, path.price, path.joined)


def account_points(
    paths: Mapping[str, PricePath], from_s: float, to_s: float, poll_s: float | None
) -> tuple[FloatArray, FloatArray]:
    """Evaluation instants of an account holding several symbols, and each symbol's price
    there (columns in ``paths``' order): ``stream`` takes every symbol's vertices, polls every
    ``poll_s``. An instant any symbol's candles do not cover (a gap) is skipped."""
    if poll_s is None:
        every = [p.t_s[(p.t_s >= from_s) & (p.t_s < to_s)] for p in paths.values()]
        t = np.unique(np.concatenate(every)) if every else np.empty(0)
    else:
        count = max(math.ceil((to_s - from_s) / poll_s), 0)
        t = (from_s + poll_s * np.arange(count)).astype(np.float64)
    columns, keep = [], np.ones(len(t), dtype=bool)
    for path in paths.values():
        x, covered = path.at(t)
        columns.append(x)
        keep &= covered
    marks = np.column_stack(columns) if columns else np.empty((len(t), 0))
    return t[keep], marks[keep]


def _key(analysis: Analysis, k: int) -> str:
    pos = analysis.snapshot.positions
    return f"{pos.symbol[k]}:{'long' if pos.side[k] > 0 else 'short'}"


def _touched(analysis: Analysis) -> tuple[str, float] | None:
    """The first readable position at or beyond its liquidation price (``SYMBOL:side`` and
    that price), or None."""
    pos = analysis.snapshot.positions
    with np.errstate(invalid="ignore"):
        beyond = pos.valid & (pos.side * (pos.mark - analysis.liquidation_price) <= 0)
    hits = np.flatnonzero(beyond)
    if not len(hits):
        return None
    k = int(hits[0])
    return _key(analysis, k), float(analysis.liquidation_price[k])


def replay_whole_account(
    priced: Priced,
    replay_state: Replay,
    times: FloatArray,
    marks: FloatArray,
    symbols: Sequence[str],
) -> Outcome:
    """A whole account evaluated at each instant with every symbol at its own mark (the
    engine re-solves cross margin from all of them). The first instant a position is at or
    beyond its liquidation price (the engine's, at those marks) ends the replay: what follows
    a liquidation depends on the venue's liquidation engine, which the backtest does not model.
    """
    positions: tuple[tuple[str, str, float], ...] = ()
    if len(times):
        start = priced.at_marks(dict(zip(symbols, marks[0].tolist(), strict=True)))
        pos = start.snapshot.positions
        rows = np.flatnonzero(pos.valid).tolist()
        positions = tuple(
            (
                str(pos.symbol[k]),
                _key(start, k).rsplit(":", 1)[1],
                float(start.liquidation_price[k]),
            )
            for k in rows
        )
    steps, touch, at_touch = 0, None, None
    for at, row in zip(times.tolist(), marks.tolist(), strict=True):
        analysis = priced.at_marks(dict(zip(symbols, row, strict=True)))
        touch = _touched(analysis)
        if touch is not None:
            at_touch = at
            break
        replay_state.step(observe(analysis, replay_state.account, at=at))
        steps += 1
    return Outcome(
        tuple(replay_state.notices),
        math.nan if touch is None else touch[1],
        at_touch,
        len(replay_state.false_criticals),
        steps,
        None if touch is None else touch[0],
        positions,
    )
