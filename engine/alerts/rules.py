"""Alert rules: what to watch (kind, comparison, threshold, scope) and how loudly (severity).

A rule is data. The grammar (``engine.alerts.grammar``) turns ``liq<5% BTC critical`` into a
``RuleSpec``; storage gives it an id and an owner (``Rule``); the evaluator applies it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """What a rule measures. Values are the words of the grammar (``/alert add liq<5%``)."""

    #: Distance from mark to liquidation price, percent of mark (per position).
    LIQ = "liq"
    #: Probability of touching the liquidation price within the horizon, percent (per position).
    PROB = "prob"
    #: Account maintenance / equity, percent (100 = liquidation).
    MARGIN = "margin"
    #: Account effective leverage (gross exposure / equity), times.
    LEVERAGE = "leverage"
    #: Unrealised PnL in USD (per position).
    PNL = "pnl"
    #: Return on the position's margin, percent (per position).
    ROE = "roe"
    #: Position notional in USD (with symbols) — see ``EXPOSURE_ACCOUNT`` for the total.
    EXPOSURE = "exposure"
    #: The account's gross exposure in USD.
    EXPOSURE_ACCOUNT = "account_exposure"
    #: Mark price crossing a level (per position's symbol).
    PRICE = "price"
    #: Funding rate of the position's market, percent per funding interval.
    FUNDING = "funding"
    #: Monitoring cannot see the account: N consecutive polls failed.
    BLIND = "blind"
    #: The venue rejected the account's credentials.
    AUTH = "auth"
    #: Net delta of an underlying in USD, every position on it (options, perpetuals, futures;
    #: docs/risk.md#greeks). Signed: a net short is below zero, so both sides are watched.
    DELTA = "delta"
    #: Net gamma of an underlying: the change of its USD delta for a +1 % move, USD.
    GAMMA = "gamma"
    #: Net vega of an underlying: USD per +1 vol point.
    VEGA = "vega"
    #: Hours until an option position expires (per held option, measured at the poll's time).
    EXPIRY = "expiry"


class Op(StrEnum):
    """Which side of the threshold is bad."""

    BELOW = "<"
    ABOVE = ">"


class Severity(StrEnum):
    """How loud. Ordered: compare with ``rank``."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


@dataclass(frozen=True)
class KindInfo:
    """Facts the grammar, the evaluator and the renderers share about one kind."""

    unit: str
    #: True: one value per account (key ""), else one per position (key "SYMBOL:side").
    account_level: bool
    #: The value at which things are as bad as they get (escalation measures the gap to it).
    limit: float | None
    #: Default hysteresis: the clear level sits this far back from the threshold (in the
    #: kind's unit), or this fraction of the threshold when ``relative``.
    clear_gap: float
    relative: bool
    #: A health state, not a measured value (blind/auth): no threshold, no hysteresis.
    state: bool = False
    #: One value per underlying (key: its name, "BTC"): the book's greeks summed over it.
    underlying_level: bool = False
    #: False: measured from option greeks or expiries, which a backtest does not re-price
    #: along a price path (it moves the marks of perpetuals and futures), so it refuses it.
    replayable: bool = True


KINDS: dict[Kind, KindInfo] = {
    Kind.LIQ: KindInfo("%", False, 0.0, 0.4, relative=True),
    Kind.PROB: KindInfo("%", False, 100.0, 0.2, relative=True),
    Kind.MARGIN: KindInfo("%", True, 100.0, 5.0, relative=False),
    Kind.LEVERAGE: KindInfo("x", True, None, 0.1, relative=True),
    Kind.PNL: KindInfo("USD", False, None, 0.1, relative=True),
    Kind.ROE: KindInfo("%", False, None, 0.1, relative=True),
    Kind.EXPOSURE: KindInfo("USD", False, None, 0.05, relative=True),
    Kind.EXPOSURE_ACCOUNT: KindInfo("USD", True, None, 0.05, relative=True),
    Kind.PRICE: KindInfo("", False, None, 0.002, relative=True),
    Kind.FUNDING: KindInfo("%", False, None, 0.2, relative=True),
    Kind.BLIND: KindInfo("", True, None, 0.0, relative=False, state=True),
    Kind.AUTH: KindInfo("", True, None, 0.0, relative=False, state=True),
    Kind.DELTA: KindInfo(
        "USD", False, None, 0.1, relative=True, underlying_level=True, replayable=False
    ),
    Kind.GAMMA: KindInfo(
        "USD", False, None, 0.1, relative=True, underlying_level=True, replayable=False
    ),
    Kind.VEGA: KindInfo(
        "USD", False, None, 0.1, relative=True, underlying_level=True, replayable=False
    ),
    # Expiry only comes nearer, so the clear level is the threshold itself (a closed or expired
    # option resolves the alert, docs: README "Alerts"); the limit is the expiry: each halving
    # of the time left since the last notice is an escalation.
    Kind.EXPIRY: KindInfo("h", False, 0.0, 0.0, relative=False, replayable=False),
}


@dataclass(frozen=True)
class RuleSpec:
    """A parsed rule before it is stored: the grammar's output.

    ``symbols`` empty means every position; an entry matches a position's full symbol
    (``BTC/USDT:USDT``) or its base (``BTC``). ``account`` is the label the user typed (None:
    all the owner's accounts); services resolve it to an id.
    """

    kind: Kind
    op: Op = Op.BELOW
    threshold: float = 0.0
    severity: Severity = Severity.WARNING
    symbols: tuple[str, ...] = ()
    account: str | None = None
    #: Hysteresis: a firing alert resolves only once the value is past this level.
    clear: float | None = None
    #: ``for``: the condition must hold this many consecutive polls AND this many seconds.
    for_polls: int = 1
    for_s: float = 0.0

    @property
    def clear_level(self) -> float:
        """The explicit clear level, else the kind's default gap back from the threshold."""
        if self.clear is not None:
            return self.clear
        info = KINDS[self.kind]
        gap = abs(self.threshold) * info.clear_gap if info.relative else info.clear_gap
        return self.threshold + gap if self.op is Op.BELOW else self.threshold - gap

    def covers(self, symbol: str | None, base: str | None) -> bool:
        """Whether a position (its full symbol and its base) is one this rule watches."""
        wanted = {s.upper() for s in self.symbols}
        return not wanted or (symbol or "").upper() in wanted or (base or "").upper() in wanted

    def breached(self, value: float) -> bool:
        """The firing condition (NaN never breaches)."""
        return value < self.threshold if self.op is Op.BELOW else value > self.threshold

    def cleared(self, value: float) -> bool:
        """Past the clear level (hysteresis): a firing alert may resolve."""
        level = self.clear_level
        return value >= level if self.op is Op.BELOW else value <= level


@dataclass(frozen=True)
class Rule:
    """A stored rule: a spec with an id, an owner and an account scope (None: all accounts)."""

    id: int
    owner_id: int
    account_id: int | None
    spec: RuleSpec
    enabled: bool = True
    created_at: float = 0.0
    #: Default rules are created for every new account and named as such in ``/alerts``.
    default: bool = field(default=False)

    @property
    def kind(self) -> Kind:
        return self.spec.kind

    @property
    def severity(self) -> Severity:
        return self.spec.severity


def default_specs() -> tuple[RuleSpec, ...]:
    """What protects a new account before its owner configures anything."""
    return (
        RuleSpec(Kind.LIQ, Op.BELOW, 10.0, Severity.WARNING, clear=12.0),
        RuleSpec(Kind.LIQ, Op.BELOW, 5.0, Severity.CRITICAL, clear=7.0),
        state_spec(Kind.BLIND, Severity.WARNING),
        state_spec(Kind.AUTH, Severity.CRITICAL),
    )


def state_spec(kind: Kind, severity: Severity, account: str | None = None) -> RuleSpec:
    """A health-state rule: the evaluator feeds 1.0 while in the state, 0.0 otherwise."""
    return RuleSpec(kind, Op.ABOVE, 0.5, severity, account=account, clear=0.5)
