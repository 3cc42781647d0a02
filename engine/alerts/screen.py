"""Which re-priced accounts a streamed mark could change the alerts of — for many at once.

A full evaluation (``evaluate``) costs its account a few database reads; a venue's marks
re-price thousands of accounts four times a second. So each evaluation leaves a ``Watch``:
every value at which the account's alerts could change with the marks alone — each in-scope
rule's threshold and clear level on each subject it covers, and each notified firing alert's
escalation points — with the side of each the values were on, and the earliest time something
could change without the values moving (a pending ``for`` ripening, a repeat, a snooze or a
silence ending). ``Screen.due`` then answers, in one vectorised pass over a re-priced book, the
accounts where a value changed side or the time has come: the only ones whose evaluation can
be material (``evaluate.material``). The rest need nothing written, and are skipped.

What a watch does not see — a rule added or changed since the account's last evaluation —
counts from its next evaluation (its next poll at the latest), as the rules cache always did.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine.alerts.evaluate import in_scope, subjects_of
from engine.alerts.events import AlertStatus, Reason
from engine.alerts.observe import Observation, Subject, account_values, position_values
from engine.alerts.policy import Policy, Silence
from engine.alerts.rules import KINDS, Kind, Rule
from engine.alerts.state import Alert
from engine.book import Repriced
from engine.types import BoolArray, FloatArray, IntArray

#: The kinds a mark moves, per position and per account, in the order of ``values``' rows.
POSITION_KINDS = (Kind.LIQ, Kind.PROB, Kind.PNL, Kind.ROE, Kind.EXPOSURE, Kind.PRICE)
ACCOUNT_KINDS = (Kind.MARGIN, Kind.LEVERAGE, Kind.EXPOSURE_ACCOUNT)
_POSITION = {kind: i for i, kind in enumerate(POSITION_KINDS)}
_ACCOUNT = {kind: i for i, kind in enumerate(ACCOUNT_KINDS)}
#: A firing alert held by quiet hours is looked at again this often: the hour that lets it
#: through is not a value a mark moves.
UNHEARD_LOOK_S = 5.0
#: Why a firing alert may be unheard and still change with the clock alone. An inhibited
#: one changes when its inhibitor resolves (a value the inhibitor's own wires watch, or a
#: poll); one with no chat, when a chat is linked (the next poll sees it, as it sees rules).
_CLOCK_HELD = frozenset({None, Reason.QUIET})
#: The side of a boundary a value is on: below, on it, above; or not a number.
NAN_SIDE = 2


@dataclass(frozen=True)
class Watch:
    """One account's tripwires (row -1: an account-level kind, else its position's row in
    the snapshot) and its deadline."""

    kind: IntArray
    row: IntArray
    boundary: FloatArray
    side: IntArray
    deadline: float


def sides(values: FloatArray, boundaries: FloatArray) -> IntArray:
    """-1, 0 or 1 as each value is below, on or above its (finite) boundary; ``NAN_SIDE``
    for NaN, which no rule breaches. An infinite value is on its side, as rules see it."""
    unknown = np.isnan(values)
    with np.errstate(invalid="ignore"):
        side = np.sign(np.where(unknown, 0.0, values) - boundaries).astype(np.int64)
    side[unknown] = NAN_SIDE
    return side


def watch(
    observation: Observation,
    rows: Sequence[int],
    rules: Iterable[Rule],
    alerts: Iterable[Alert],
    silences: Iterable[Silence],
    *,
    policy: Policy,
) -> Watch:
    """What ``observation``'s evaluation leaves to watch. ``rows[j]`` is the snapshot row of
    its j-th position subject; ``alerts`` are the account's episodes after the evaluation."""
    row_of = {s.key: rows[j] for j, s in enumerate(observation.positions)}
    by_id = {rule.id: rule for rule in rules if in_scope(rule, observation)}
    wires: list[tuple[Kind, int, float, float]] = []
    for rule in by_id.values():
        levels = {rule.spec.threshold, rule.spec.clear_level}
        for subject in subjects_of(rule, observation):
            row = _row(rule.kind, subject, row_of)
            if row is not None:
                wires += [(rule.kind, row, level, subject.value(rule.kind)) for level in levels]
    at, deadline = observation.at, math.inf
    subject_of = {s.key: s for s in observation.subjects}
    for alert in alerts:
        owner = by_id.get(alert.rule_id)
        if owner is None or not alert.live:
            continue
        deadline = min(deadline, _due_at(owner, alert, at, policy))
        seen = subject_of.get(alert.key)
        row = None if seen is None else _row(owner.kind, seen, row_of)
        if seen is not None and row is not None:
            value = seen.value(owner.kind)
            wires += [(owner.kind, row, b, value) for b in _escalation(owner, alert)]
    edges = [e for s in silences for e in (s.starts_at, s.ends_at) if e > at]
    return _build(wires, min([deadline, *edges]))


def _row(kind: Kind, subject: Subject, row_of: Mapping[str, int]) -> int | None:
    """Where a kind's value of ``subject`` sits: -1 for the account, the position's snapshot
    row, or None when no mark moves it (the position is gone, the kind is not one a re-priced
    book carries — greeks, expiry, checked at each poll — or the value is the venue's own, as
    a portfolio-margin ratio is)."""
    if kind in subject.basis:
        return None
    if kind in _ACCOUNT:
        return -1
    if kind in _POSITION:
        return row_of.get(subject.key)
    return None


def _due_at(rule: Rule, alert: Alert, at: float, policy: Policy) -> float:
    """The earliest time ``alert`` may change with its value unchanged."""
    due = math.inf
    if alert.status is AlertStatus.PENDING:
        due = alert.since + rule.spec.for_s
    elif alert.last_notified_at is None:
        due = at + UNHEARD_LOOK_S if alert.reason in _CLOCK_HELD else math.inf
    else:
        due = alert.last_notified_at + policy.repeat_s[rule.severity]
    if alert.snoozed_until is not None and alert.snoozed_until > at:
        due = min(due, alert.snoozed_until)
    return due


def _escalation(rule: Rule, alert: Alert) -> tuple[float, ...]:
    """The values past which ``state.escalated`` turns true (both sides: a boundary too many
    costs one evaluation, one too few a missed escalation)."""
    last = alert.notified_value
    if alert.status is not AlertStatus.FIRING or last is None or not math.isfinite(last):
        return ()
    limit = KINDS[rule.kind].limit
    if limit is not None:
        gap = abs(limit - last) / 2.0
        return (limit - gap, limit + gap)
    threshold = rule.spec.threshold
    reach = 2.0 * max(abs(last - threshold), 0.1 * abs(threshold))
    return (threshold - reach, threshold + reach)


def _build(wires: list[tuple[Kind, int, float, float]], deadline: float) -> Watch:
    kind = np.array(
        [_ACCOUNT[k] if row < 0 else _POSITION[k] for k, row, _b, _v in wires], dtype=np.int64
    )
    row = np.array([r for _k, r, _b, _v in wires], dtype=np.int64)
    boundary = np.array([b for _k, _r, b, _v in wires], dtype=np.float64)
    value = np.array([v for _k, _r, _b, v in wires], dtype=np.float64)
    return Watch(kind, row, boundary, sides(value, boundary), deadline)


@dataclass(frozen=True)
class _Columns:
    """A ``Repriced``'s columns under the names ``observe.position_values`` reads."""

    distance_pct: FloatArray
    probability: FloatArray
    upnl: FloatArray
    roe: FloatArray
    upnl_usd: FloatArray
    notional_usd: FloatArray


def values(repriced: Repriced) -> tuple[FloatArray, FloatArray]:
    """(``POSITION_KINDS`` × positions, ``ACCOUNT_KINDS`` × accounts) of a re-priced book, in
    the units the rules read."""
    columns = _Columns(
        repriced.distance_pct, repriced.probability, repriced.upnl, repriced.column("roe"),
        repriced.column("upnl_usd"), repriced.column("notional_usd"),
    )  # fmt: skip
    # As the observation reads them: a position's non-finite value is NaN (the account's
    # totals keep an infinite margin ratio: rules compare it).
    per_position = {
        kind: np.where(np.isfinite(v), v, np.nan)
        for kind, v in position_values(columns, repriced.mark).items()
    }
    per_account = account_values(
        repriced.margin_ratio, repriced.effective_leverage, repriced.gross_exposure_usd
    )
    return (
        np.vstack([per_position[k] for k in POSITION_KINDS]),
        np.vstack([np.asarray(per_account[k], dtype=np.float64) for k in ACCOUNT_KINDS]),
    )


@dataclass(frozen=True)
class _Flat:
    """Every watch as columns: accounts sorted, and each tripwire's account index."""

    ids: IntArray
    generation: IntArray
    deadline: FloatArray
    owner: IntArray
    kind: IntArray
    row: IntArray
    boundary: FloatArray
    side: IntArray


class Screen:
    """The watches of every evaluated account (by account id and book generation)."""

    def __init__(self) -> None:
        self._watches: dict[int, tuple[Watch, int]] = {}
        self._flat: _Flat | None = None

    def __len__(self) -> int:
        return len(self._watches)

    def put(self, account: int, found: Watch, generation: int) -> None:
        """The watch ``account``'s evaluation left, for its book entry ``generation`` (the
        positions it was evaluated on: a poll's new positions are another generation)."""
        self._watches[account] = (found, generation)
        self._flat = None

    def forget(self, account: int) -> None:
        if self._watches.pop(account, None) is not None:
            self._flat = None

    def due(
        self,
        accounts: IntArray,
        generations: IntArray,
        repriced: Repriced,
        *,
        at: float,
    ) -> BoolArray:
        """Per re-priced account (``accounts[k]`` is the account of ``repriced``'s k-th, its
        book entry ``generations[k]``): whether its evaluation may now be material."""
        flat = self._compiled()
        count = len(accounts)
        where = np.searchsorted(flat.ids, accounts)
        where = np.minimum(where, max(len(flat.ids) - 1, 0))
        known = np.zeros(count, dtype=np.bool_)
        if len(flat.ids):
            known = (flat.ids[where] == accounts) & (flat.generation[where] == generations)
            known &= flat.deadline[where] > at
        due = ~known
        k_of = np.full(len(flat.ids), -1, dtype=np.int64)
        k_of[where[known]] = np.flatnonzero(known)
        k = k_of[flat.owner]
        mine = k >= 0
        k, kind, row = k[mine], flat.kind[mine], flat.row[mine]
        per_position, per_account = values(repriced)
        at_account = row < 0
        start, rows = repriced.start[k], repriced.count[k]
        outside = ~at_account & (row >= rows)  # cannot happen for one generation; be safe
        now = np.empty(len(k), dtype=np.float64)
        pos = ~at_account & ~outside
        now[pos] = per_position[kind[pos], start[pos] + row[pos]]
        now[at_account] = per_account[kind[at_account], k[at_account]]
        now[outside] = np.nan
        moved = sides(now, flat.boundary[mine]) != flat.side[mine]
        due[k[moved | outside]] = True
        return due

    def _compiled(self) -> _Flat:
        if self._flat is None:
            self._flat = _compile(self._watches)
        return self._flat


def _compile(watches: Mapping[int, tuple[Watch, int]]) -> _Flat:
    ids = np.array(sorted(watches), dtype=np.int64)
    entries = [watches[a] for a in ids.tolist()]
    sizes = np.array([len(w.kind) for w, _g in entries], dtype=np.int64)

    def joined(name: str, dtype: type) -> np.ndarray:
        parts = [getattr(w, name) for w, _g in entries]
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    return _Flat(
        ids=ids,
        generation=np.array([g for _w, g in entries], dtype=np.int64),
        deadline=np.array([w.deadline for w, _g in entries], dtype=np.float64),
        owner=np.repeat(np.arange(len(ids), dtype=np.int64), sizes),
        kind=joined("kind", np.int64),
        row=joined("row", np.int64),
        boundary=joined("boundary", np.float64),
        side=joined("side", np.int64),
    )
