"""How often an account is polled: the closer to trouble, the more often.

Marks stream between polls (docs/streaming.md), so what a poll adds is the *positions*: size,
margin, a position opened or closed. An account with a position near its warning level, or
with an alert live, must have those fresh within seconds; one far from every threshold can wait
minutes — which is what lets one box watch thousands of accounts inside each venue's REST budget
(docs/polling.md). Pure: the bands and the account's figures in, the interval and its reason out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np

from engine.alerts.rules import KINDS, Kind, Op, Rule
from engine.alerts.state import Alert
from engine.types import FloatArray

#: With no liquidation rule in scope, "near" is measured against the default warning (10 %).
DEFAULT_WARN_PCT = 10.0


class Band(StrEnum):
    NEAR = "near"
    MIDDLE = "middle"
    FAR = "far"


@dataclass(frozen=True)
class Bands:
    """The poll interval of each band, and where the bands start, as multiples of the account's
    warning distance (near: within ``near_factor`` × it; far: every position beyond
    ``far_factor`` × it, and no alert live)."""

    near_s: float = 5.0
    middle_s: float = 30.0
    far_s: float = 300.0
    near_factor: float = 2.0
    far_factor: float = 4.0

    def every_s(self, band: Band, fixed_s: float | None = None) -> float:
        """A band's interval; an account's own interval (``accounts add --poll-seconds``)
        replaces the middle band's and bounds the others (never slower when near, never
        faster when far)."""
        middle = self.middle_s if fixed_s is None else fixed_s
        if band is Band.NEAR:
            return min(self.near_s, middle)
        if band is Band.FAR:
            return max(self.far_s, middle)
        return middle


@dataclass(frozen=True)
class Cadence:
    band: Band
    every_s: float
    reason: str


@dataclass(frozen=True)
class AlertHint:
    """What the alert stage's last evaluation of an account says about its cadence: its
    warning distance (the largest ``liq <`` rule in scope and enabled; None: none) and whether
    an alert on its money (not its health: blind, auth) is pending or firing."""

    warn_pct: float | None
    alerting: bool


def warning_distance(rules: Iterable[Rule]) -> float | None:
    """The distance (%) at which the account's earliest liquidation warning fires."""
    levels = [
        r.spec.threshold
        for r in rules
        if r.enabled and r.kind is Kind.LIQ and r.spec.op is Op.BELOW and r.spec.threshold > 0
    ]
    return max(levels) if levels else None


def alerting(rules: Iterable[Rule], live: Iterable[Alert]) -> bool:
    """An alert on the account's money is pending or firing (health states do not count: a
    blind account polled faster only spends budget on a venue that is failing)."""
    money = {r.id for r in rules if not KINDS[r.kind].state}
    return any(a.live and a.rule_id in money for a in live)


@dataclass(frozen=True)
class Risk:
    """What the band is chosen from: the position closest to liquidation (its symbol and
    distance in %, NaN when no position has a liquidation price), the account's warning
    distance (its largest ``liq <`` rule in scope; None: the default), whether an alert is live."""

    closest_symbol: str | None
    closest_pct: float
    warn_pct: float | None
    alerting: bool


def cadence(risk: Risk, bands: Bands, fixed_s: float | None = None) -> Cadence:
    """The band ``risk`` falls in, its interval and a one-line reason an operator can read."""
    warn = DEFAULT_WARN_PCT if risk.warn_pct is None else risk.warn_pct
    near, far = bands.near_factor * warn, bands.far_factor * warn
    closest = risk.closest_pct
    where = f"{risk.closest_symbol} {closest:.1f}% from liquidation"

    def band(b: Band, reason: str) -> Cadence:
        return Cadence(b, bands.every_s(b, fixed_s), reason)

    if risk.alerting:
        return band(Band.NEAR, "an alert is live")
    if math.isfinite(closest) and closest < near:
        return band(Band.NEAR, f"{where}, within {near:g}% ({bands.near_factor:g}× the warning)")
    if not math.isfinite(closest):
        return band(Band.FAR, "no position with a liquidation price")
    if closest > far:
        return band(Band.FAR, f"closest: {where}, beyond {far:g}%")
    return band(Band.MIDDLE, f"closest: {where}")


def closest(distance_pct: FloatArray, symbols: list[str]) -> tuple[str | None, float]:
    """The position nearest liquidation: its symbol and distance (None, NaN: none has one)."""
    finite = np.isfinite(distance_pct)
    if not finite.any():
        return None, math.nan
    k = int(np.argmin(np.where(finite, distance_pct, np.inf)))
    return symbols[k], float(distance_pct[k])


#: The share of a venue's REST budget polls may plan for: the rest absorbs ledger reads,
#: candles, retries and the venue's own accounting (its minute is not ours).
PLAN_SHARE = 0.8
#: The most of the planned budget near accounts may take while other accounts wait. Near polls
#: are served first (``bot.exchanges.Priority``): left uncapped, a near band that alone
#: oversubscribes the budget starves every other account — at 5,000 accounts on one IP, 125
#: near wallets every 5 s asked 3,000 of Hyperliquid's 1,200 a minute and the middle and far
#: accounts were not read for the whole 20-minute run (docs/polling.md). The quarter left keeps
#: every account seen, slowly; the near band stretches only past this, after far and middle.
NEAR_SHARE = 0.75


@dataclass(frozen=True)
class Fit:
    """What a venue's budget does to the bands: the bands it can serve (far, then middle,
    stretched first; near last, only when it alone passes ``NEAR_SHARE`` of the budget), and
    how many accounts it allows in each band alone."""

    bands: Bands
    stretched: bool
    allows: dict[Band, int]
    demand_per_min: float
    budget_per_min: float
    #: The near band's interval before the fit (it stretched when ``bands.near_s`` is longer).
    near_from: float

    @property
    def near_stretched(self) -> bool:
        return self.bands.near_s > self.near_from


def fit(bands: Bands, counts: dict[Band, int], *, poll_cost: float, budget_per_min: float) -> Fit:
    """Stretch ``bands`` until polling ``counts`` accounts per band costs at most
    ``PLAN_SHARE`` of ``budget_per_min`` (each poll costing ``poll_cost`` in the venue's
    units): the far band first, then the middle; the near band last, and only as far as keeps
    it within ``NEAR_SHARE`` of the budget while other accounts wait (all of it when it is
    alone)."""
    budget = PLAN_SHARE * budget_per_min

    def rate(n: int, every_s: float) -> float:
        return poll_cost * 60.0 * n / every_s

    near, middle, far = (counts.get(b, 0) for b in (Band.NEAR, Band.MIDDLE, Band.FAR))
    demand = rate(near, bands.near_s) + rate(middle, bands.middle_s) + rate(far, bands.far_s)
    allows = {
        band: int(budget * every / (poll_cost * 60.0)) if poll_cost > 0 else 1 << 30
        for band, every in ((Band.NEAR, bands.near_s), (Band.MIDDLE, bands.middle_s),
                            (Band.FAR, bands.far_s))
    }  # fmt: skip
    if demand <= budget or poll_cost <= 0:
        return Fit(bands, False, allows, demand, budget_per_min, bands.near_s)
    near_cap = budget * (NEAR_SHARE if middle or far else 1.0)
    near_s = max(bands.near_s, rate(near, 1.0) / near_cap) if near else bands.near_s
    left = budget - rate(near, near_s) - rate(middle, bands.middle_s)
    if far and left > 0 and rate(far, bands.far_s) > left:
        stretched = _with(bands, near_s=near_s, far_s=poll_cost * 60.0 * far / left)
        return Fit(stretched, True, allows, demand, budget_per_min, bands.near_s)
    # The middle band must give way too: it gets what the near band leaves, shared with the
    # far band in proportion to today's ratio of their intervals.
    spare = max(budget - rate(near, near_s), 1e-9)
    ratio = bands.far_s / bands.middle_s
    middle_s = max(poll_cost * 60.0 * (middle + far / ratio) / spare, bands.middle_s)
    far_s = max(bands.far_s, middle_s * ratio)
    stretched = _with(bands, near_s=near_s, middle_s=middle_s, far_s=far_s)
    return Fit(stretched, True, allows, demand, budget_per_min, bands.near_s)


def _with(bands: Bands, **changes: float) -> Bands:
    return replace(bands, **changes)
