"""The vectorised sweep: a position opened at every start time, all walked at once.

For a fixed leverage, margin mode and notional the engine's liquidation price is a fixed
ratio of the entry (isolated margin: the bracket, and so the formula's terms, only depend on
the notional), so every threshold of a ``liq`` rule is a fixed multiple of the entry too. A
rule's first breach after a start is then the first point whose price crosses a per-start
level: one "first index at or after i below level" query per start, answered for all starts at
once by binary lifting over a sparse table of running minima (and maxima, for clear levels).

What it models of the alert pipeline (docs/backtest.md#sweep), exactly as ``evaluate`` does for
one position: each ``liq`` rule's threshold, its ``for`` (polls and seconds, every evaluation
counting as a poll), its hysteresis (the clear level) and so every episode's fire and resolve
times. Notices follow from those: the first firing of any rule is the first notice (a warning
that fires while a critical fires is inhibited, but the critical was told already). Anything
else — other kinds, repeats' exact times, escalations — it does not model; ``liq_levels``
refuses rules it cannot answer for.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.alerts.rules import KINDS, Kind, Rule, Severity
from engine.types import BoolArray, FloatArray, IntArray


class Unsupported(ValueError):
    """A rule the vectorised sweep cannot model (the message says which and why)."""


@dataclass(frozen=True)
class Level:
    """One ``liq`` rule in price terms: breach below ``breach·entry``, clear at or above
    ``clear·entry``, on the side-signed price (``side·x``)."""

    rule_id: int
    severity: Severity
    breach: float
    clear: float
    for_polls: int
    for_s: float


def liq_levels(rules: Sequence[Rule], *, liq_ratio: float, side: float) -> list[Level]:
    """The rules as levels on ``side·price / entry``; raises ``Unsupported`` for any rule that
    is not a ``liq`` threshold or a health state (health never changes in a replay)."""
    out: list[Level] = []
    for rule in rules:
        if not rule.enabled or KINDS[rule.kind].state:
            continue
        if not KINDS[rule.kind].replayable:
            raise Unsupported(
                f"{rule.kind.value} rules need option greeks or expiries, which no backtest "
                "re-prices along a price path"
            )
        if rule.kind is not Kind.LIQ or rule.spec.op.value != "<":
            raise Unsupported(
                f"the sweep models liq< rules only; {rule.kind.value}{rule.spec.op.value}"
                f"{rule.spec.threshold:g} needs the per-start replay (drop --sweep)"
            )
        breach = _level(rule.spec.threshold, liq_ratio, side)
        clear = _level(rule.spec.clear_level, liq_ratio, side)
        out.append(
            Level(rule.id, rule.severity, breach, clear, rule.spec.for_polls, rule.spec.for_s)
        )
    return out


def _level(distance_pct: float, liq_ratio: float, side: float) -> float:
    """``side·x`` below which the distance |x − L|/x is under ``distance_pct`` (x on the safe
    side of L): x < L/(1 − d) for a long, x > L/(1 + d) for a short."""
    denominator = 1.0 - side * distance_pct / 100.0
    if denominator <= 0:
        return math.inf  # a long is always that close
    return side * liq_ratio / denominator


class Lifting:
    """First index at or after ``i`` whose value is below (or at/above) a level, for many
    (i, level) pairs at once, within ``span`` points of ``i``."""

    def __init__(self, y: FloatArray, span: int) -> None:
        self.n = len(y)
        self.mins, self.maxs = [y], [y]
        step = 1
        while step * 2 <= max(span, 1) and step < self.n:
            lo, hi = self.mins[-1], self.maxs[-1]
            self.mins.append(np.minimum(lo[:-step], lo[step:]))
            self.maxs.append(np.maximum(hi[:-step], hi[step:]))
            step *= 2

    def first_below(self, start: IntArray, level: FloatArray) -> IntArray:
        return self._walk(start, level, self.mins, below=True)

    def first_at_or_above(self, start: IntArray, level: FloatArray) -> IntArray:
        return self._walk(start, level, self.maxs, below=False)

    def _walk(
        self, start: IntArray, level: FloatArray, table: list[FloatArray], *, below: bool
    ) -> IntArray:
        """Skip whole blocks that hold no hit, largest first; the limit of one walk is the
        sum of the block sizes (≥ span), past which it returns at least ``start + span``."""
        cur = np.minimum(start, self.n).astype(np.int64)
        for k in range(len(table) - 1, -1, -1):
            size = 1 << k
            row = table[k]
            room = cur + size <= self.n
            at = np.minimum(cur, len(row) - 1)
            block = row[at]
            clean = block >= level if below else block < level
            cur = np.where(room & clean, cur + size, cur)
        return cur


@dataclass(frozen=True, eq=False)
class Sweep:
    """Per start: its time, entry, when the liquidation price was touched (NaN: not within
    the hold), the first notice of warning and of critical severity (NaN: none before the
    touch or the hold's end), critical episodes that resolved, and how long it was held."""

    start_s: FloatArray
    entry: FloatArray
    touch_s: FloatArray
    first_warning_s: FloatArray
    first_critical_s: FloatArray
    false_criticals: IntArray
    held_s: FloatArray

    @property
    def liquidated(self) -> BoolArray:
        return np.isfinite(self.touch_s)


def first_touch(
    vt: FloatArray,
    vy: FloatArray,
    joined: BoolArray,
    begin: IntArray,
    level: FloatArray,
    *,
    span: int,
) -> FloatArray:
    """Per start, when the side-signed vertex path first reaches ``level`` (≤) at or after
    vertex ``begin``: interpolated on a continuous segment, else at the vertex (NaN: never)."""
    lift = Lifting(vy, span)
    k = lift.first_below(begin, np.nextafter(level, np.inf))
    out = np.full(len(begin), np.nan)
    hit = (k < len(vy)) & (k < begin + span)
    kk = k[hit]
    at_vertex = (kk == begin[hit]) | ~joined[np.minimum(kk, len(vy) - 1)]
    prev = np.maximum(kk - 1, 0)
    y0, y1, t0, t1 = vy[prev], vy[kk], vt[prev], vt[kk]
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = t0 + (y0 - level[hit]) / (y0 - y1) * (t1 - t0)
    out[hit] = np.where(at_vertex, vt[kk], cross)
    return out


def walk_rule(
    lift: Lifting,
    t: FloatArray,
    level: Level,
    *,
    entry_y: FloatArray,
    begin: IntArray,
    end: IntArray,
) -> tuple[IntArray, IntArray]:
    """One rule over every start: the index of its first firing (``end`` when none) and how
    many of its episodes resolved, each start walked from ``begin`` to ``end`` (exclusive)."""
    breach, clear = level.breach * entry_y, level.clear * entry_y
    timed = level.for_polls > 1 or level.for_s > 0
    first = end.copy()
    resolved = np.zeros(len(begin), dtype=np.int64)
    pos = begin.copy()
    active = np.flatnonzero(pos < end)
    while len(active):
        stop = end[active]
        fire = lift.first_below(pos[active], breach[active])
        after_miss = stop  # where a start that did not fire goes next
        if timed:
            # Pending: fires once it has held for_polls evaluations and for_s seconds; a
            # first evaluation that no longer breaches drops it, and the walk goes on there.
            j = fire
            lapse = lift.first_at_or_above(j, breach[active])
            due = np.searchsorted(t, t[np.minimum(j, len(t) - 1)] + level.for_s, side="left")
            fire = np.maximum(j + level.for_polls - 1, due)
            dropped = fire >= lapse
            fire = np.where(dropped, stop, fire)
            after_miss = np.where(dropped & (lapse < stop), lapse, stop)
        fired = fire < stop
        at = active[fired]
        first[at] = np.minimum(first[at], fire[fired])
        back = lift.first_at_or_above(fire[fired] + 1, clear[at])
        closed = back < end[at]
        resolved[at[closed]] += 1
        pos[at] = np.where(closed, back + 1, end[at])
        pos[active[~fired]] = after_miss[~fired] if timed else stop[~fired]
        active = active[pos[active] < end[active]]
    return first, resolved


@dataclass(frozen=True)
class Points:
    """Where the alerts are evaluated (times, prices) and the vertex path liquidation is
    decided on (``engine.backtest.PricePath``), as arrays the sweep indexes."""

    t: FloatArray
    x: FloatArray
    vt: FloatArray
    vx: FloatArray
    joined: BoolArray


def sweep(
    points: Points,
    starts_s: FloatArray,
    *,
    hold_s: float,
    side: float,
    liq_ratio: float,
    levels: Sequence[Level],
) -> Sweep:
    """Every start at once: a position opened at the first evaluation at or after each start
    (its entry is that price), held ``hold_s`` or until the vertex path touches
    ``liq_ratio·entry``; what each rule did and when."""
    t, y = points.t, side * points.x
    begin = np.searchsorted(t, starts_s, side="left").astype(np.int64)
    usable = begin < len(t)
    begin, starts_s = begin[usable], starts_s[usable]
    entry = points.x[begin]
    limit = np.searchsorted(t, starts_s + hold_s, side="left").astype(np.int64)
    vbegin = np.searchsorted(points.vt, t[begin], side="left").astype(np.int64)
    per_vertex = max(float(np.median(np.diff(points.vt))) if len(points.vt) > 1 else 1.0, 1e-9)
    touch = first_touch(
        points.vt,
        side * points.vx,
        points.joined,
        vbegin,
        side * liq_ratio * entry,
        span=int(hold_s / per_vertex) + 4,
    )
    touch[touch >= starts_s + hold_s] = np.nan
    stop = np.where(np.isfinite(touch), np.searchsorted(t, touch, side="left"), limit)
    end = np.minimum(limit, stop).astype(np.int64)
    span = int(np.max(end - begin)) + 2 if len(begin) else 1
    lift = Lifting(y, span)
    warn = np.full(len(begin), np.inf)
    crit = np.full(len(begin), np.inf)
    false_crit = np.zeros(len(begin), dtype=np.int64)
    entry_y = side * entry
    for level in levels:
        first, resolved = walk_rule(lift, t, level, entry_y=entry_y, begin=begin, end=end)
        when = np.where(first < end, t[np.minimum(first, len(t) - 1)], np.inf)
        if level.severity.rank >= Severity.WARNING.rank:
            warn = np.minimum(warn, when)
        if level.severity is Severity.CRITICAL:
            crit = np.minimum(crit, when)
            false_crit += resolved
    data_end = float(points.vt[-1]) if len(points.vt) else 0.0
    held = np.minimum(np.where(np.isfinite(touch), touch, starts_s + hold_s), data_end) - starts_s
    return Sweep(
        start_s=starts_s,
        entry=entry,
        touch_s=touch,
        first_warning_s=np.where(np.isfinite(warn), warn, np.nan),
        first_critical_s=np.where(np.isfinite(crit), crit, np.nan),
        false_criticals=false_crit,
        held_s=np.maximum(held, 0.0),
    )


@dataclass(frozen=True)
class Summary:
    """The headline numbers of one sweep (leads in seconds; shares of the liquidated)."""

    starts: int
    liquidated: int
    warned_share: float
    critical_share: float
    median_warning_lead_s: float
    median_critical_lead_s: float
    false_criticals_per_month: float


MONTH_S = 30.4375 * 86400.0


def summarise(result: Sweep, *, lead_s: float) -> Summary:
    """Aggregate: of the liquidated starts, the share whose first warning (critical) came at
    least ``lead_s`` before the touch, median leads, and false criticals per position-month."""
    liq = result.liquidated
    warn_lead = result.touch_s[liq] - result.first_warning_s[liq]
    crit_lead = result.touch_s[liq] - result.first_critical_s[liq]
    months = float(np.sum(result.held_s)) / MONTH_S
    count = int(np.sum(liq))
    return Summary(
        starts=len(result.start_s),
        liquidated=count,
        warned_share=float(np.mean(np.nan_to_num(warn_lead, nan=-1.0) >= lead_s))
        if count
        else math.nan,
        critical_share=float(np.mean(np.nan_to_num(crit_lead, nan=-1.0) >= lead_s))
        if count
        else math.nan,
        median_warning_lead_s=_median(warn_lead),
        median_critical_lead_s=_median(crit_lead),
        false_criticals_per_month=float(np.sum(result.false_criticals)) / months
        if months
        else math.nan,
    )


def _median(values: FloatArray) -> float:
    """Median lead of the liquidated, a missing warning counting as zero lead."""
    return float(np.median(np.nan_to_num(values, nan=0.0))) if len(values) else math.nan
