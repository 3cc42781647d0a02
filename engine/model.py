"""Columnar position, account and tier data: the one internal shape every engine stage reads.

Conventions (named once, used everywhere):

- ``side`` is +1.0 for long and -1.0 for short (float, so it multiplies directly).
- ``qty`` is Q in docs/risk.md#notation: |size| in base units for linear contracts and options,
  in quote currency (USD) for inverse contracts (contracts × contractSize).
- Money amounts on a position (``isolated_wallet``, ``maint_amount``, ``venue_upnl`` …) are in the
  position's settle currency: quote for linear, the coin for inverse. ``settle_usd`` converts them.
- Every "none" liquidation price spelling is NaN; NaN in any float column means "not reported".
- The margin ratio convention is ``maintenance / margin balance`` (ccxt's): 0 is safe, 1 is
  liquidation. Venue ratios in the opposite convention are inverted on the way in.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from enum import IntEnum, StrEnum

import numpy as np

from engine.types import BoolArray, FloatArray, IntArray


class ContractType(IntEnum):
    """How a contract's PnL is denominated."""

    LINEAR = 0
    INVERSE = 1
    OPTION = 2


class MarginMode(IntEnum):
    """Whether a position shares the account's collateral (cross) or has its own (isolated)."""

    CROSS = 0
    ISOLATED = 1


class Leg(IntEnum):
    """Binance's positionSide: one-way mode (BOTH) or one leg of a hedge-mode pair."""

    BOTH = 0
    LONG = 1
    SHORT = 2


class Formula(StrEnum):
    """Which formula produced a computed liquidation price (reported with every result)."""

    NONE = ""
    BINANCE_USDM_CROSS = "binance-usdm-cross"
    BINANCE_USDM_ISOLATED = "binance-usdm-isolated"
    BINANCE_COINM_CROSS = "binance-coinm-cross"
    BINANCE_COINM_ISOLATED = "binance-coinm-isolated"
    BYBIT_LINEAR_ISOLATED = "bybit-linear-isolated"
    BYBIT_INVERSE_ISOLATED = "bybit-inverse-isolated"
    HYPERLIQUID_CROSS = "hyperliquid-cross"
    HYPERLIQUID_ISOLATED = "hyperliquid-isolated"
    OKX_ESTIMATE = "okx-estimate"
    DERIBIT = "deribit"
    BITMEX = "bitmex"
    GENERIC = "generic-isolated"
    GENERIC_CROSS = "generic-cross"


#: Positions per chunk in the passes that split a large book. A million-position pass over
#: whole columns keeps dozens of 8 MB temporaries alive and streams each from main memory;
#: 64k positions make 512 KB arrays that stay in a core's cache and are reused chunk after
#: chunk instead of faulting in fresh pages (measured: ~100× slower on a loaded VM at 1M).
CHUNK = 65_536


def chunks(n: int, size: int = CHUNK) -> Iterator[slice]:
    """Consecutive slices of at most ``size`` positions covering ``range(n)`` (a loop over
    chunks, never over positions)."""
    return (slice(start, min(start + size, n)) for start in range(0, n, size))


#: Position order of ``Formula`` members; a formula code array indexes this tuple.
FORMULAS: tuple[Formula, ...] = tuple(Formula)


def formula_code(formula: Formula) -> int:
    """The integer code stored in formula arrays for ``formula``."""
    return FORMULAS.index(formula)


@dataclass(frozen=True, eq=False)
class Labels:
    """A string column stored as codes into its unique values (a vectorised group key).

    Behaves like a tuple of strings (``labels[i]``, iteration, ``len``) for readers, while
    grouping maths uses ``code`` directly without touching a string.
    """

    #: Sorted unique values (``lookup`` relies on the order).
    names: tuple[str, ...]
    code: IntArray

    @classmethod
    def of(cls, values: Sequence[str]) -> Labels:
        """Labels from one string per position."""
        if not len(values):
            return cls((), np.zeros(0, dtype=np.int64))
        uniq, inverse = np.unique(np.asarray(values, dtype=str), return_inverse=True)
        return cls(tuple(str(u) for u in uniq), inverse.astype(np.int64))

    def __len__(self) -> int:
        return len(self.code)

    def __getitem__(self, i: int) -> str:
        return self.names[int(self.code[i])]

    def __iter__(self) -> Iterator[str]:
        return (self.names[c] for c in self.code.tolist())

    def equals(self, name: str) -> BoolArray:
        """Per position, whether its label is ``name``."""
        if name not in self.names:
            return np.zeros(len(self.code), dtype=np.bool_)
        return np.asarray(self.code == self.names.index(name))


@dataclass(frozen=True, eq=False)
class Positions:
    """One account's positions as columns; index i across every array is one position.

    Built by ``engine.normalise``; never mutated. ``valid[i]`` is False when position i lacks
    a field every metric needs (its reasons are in ``diagnostics[i]``); its values stay NaN so
    vectorised maths skips it without hiding the others.
    """

    venue: str
    symbol: Labels
    underlying: Labels
    settle: Labels
    #: Cross-margin pool a position draws on: its settle currency, or "USD" in a venue's
    #: multi-asset mode where every asset's haircut value backs every position.
    pool: Labels
    side: FloatArray
    contracts: FloatArray
    contract_size: FloatArray
    qty: FloatArray
    kind: IntArray
    margin_mode: IntArray
    leg: IntArray
    entry: FloatArray
    mark: FloatArray
    venue_liq: FloatArray
    #: Isolated positions: the margin assigned to the position, excluding unrealised PnL.
    isolated_wallet: FloatArray
    leverage: FloatArray
    #: Maintenance margin rate and amount (Binance ``cum``, Bybit deduction) at the current size.
    mmr: FloatArray
    maint_amount: FloatArray
    max_leverage: FloatArray
    venue_upnl: FloatArray
    venue_maint_margin: FloatArray
    venue_initial_margin: FloatArray
    taker_fee: FloatArray
    settle_usd: FloatArray
    #: Options (NaN elsewhere): USD per coin of the underlying (the venue's index, else the
    #: forward ccxt's greeks give, else a future's mark), strike, expiry in POSIX seconds,
    #: 1.0 call / 0.0 put, mark implied volatility (a fraction per year) and the delta of one
    #: long unit, which makes the option's exposure ``s·Q·delta·underlying_price``.
    underlying_price: FloatArray
    strike: FloatArray
    expiry: FloatArray
    call: FloatArray
    mark_iv: FloatArray
    delta: FloatArray
    #: Options (NaN elsewhere), per ONE LONG UNIT (one coin of the underlying) like ``delta``
    #: (docs/risk.md#greeks): gamma in delta per USD of the underlying (1/USD), vega in USD per
    #: vol point (σ + 0.01), theta in USD per day.
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray
    #: Where an option's delta/gamma/vega/theta came from: "venue" (the position's own
    #: figures), "ccxt" (fetch_greeks), "engine" (Black-76 from the mark IV); "" otherwise.
    greeks_source: Labels
    valid: BoolArray
    diagnostics: tuple[tuple[str, ...], ...]

    def __len__(self) -> int:
        return len(self.symbol)

    @property
    def priceable(self) -> BoolArray:
        """Valid, or isolated and lacking only the mark: an isolated position's own liquidation
        price depends on entry, margin and maintenance, not on the mark, so it is still
        computed (its distance, which needs the mark, stays NaN)."""
        isolated = self.margin_mode == MarginMode.ISOLATED
        with np.errstate(invalid="ignore"):
            sized = np.isfinite(self.qty) & (self.qty > 0) & np.isfinite(self.side)
            no_mark = ~(self.mark > 0)
        return np.asarray(self.valid | (isolated & sized & no_mark))

    def rows(self, part: slice) -> Positions:
        """The positions in ``part`` (views of every column), for chunked per-position maths."""
        changes: dict[str, object] = {}
        for column in fields(self):
            value = getattr(self, column.name)
            if isinstance(value, Labels):
                changes[column.name] = Labels(value.names, value.code[part])
            elif isinstance(value, np.ndarray | tuple):
                changes[column.name] = value[part]
        return replace(self, **changes)  # type: ignore[arg-type]


#: The ``Positions`` columns only options fill (NaN for every other position).
OPTION_COLUMNS = (
    "underlying_price",
    "strike",
    "expiry",
    "call",
    "mark_iv",
    "delta",
    "gamma",
    "vega",
    "theta",
)

#: ``Positions.greeks_source`` names (docs/risk.md#greeks), best first.
GREEKS_SOURCES = ("venue", "ccxt", "engine")


@dataclass(frozen=True)
class Account:
    """Account-level figures from the venue's balance, keyed by currency (or cross pool).

    ``wallet_balance``: balance excluding unrealised PnL available to cross positions of a pool
    (Binance ``crossWalletBalance``). ``margin_balance``: equity including unrealised PnL
    (Hyperliquid ``accountValue``, Deribit ``equity``, Bybit ``totalMarginBalance``).
    ``maintenance_margin``: the venue's total maintenance requirement for that pool.
    ``in_total``: keys whose amounts another key already counts — Bybit's unified account
    reports its USD totals and each coin's row, two views of one wallet: a coin row backs its
    pool but is not added to the account's equity or maintenance again.
    ``diagnostics`` lists what could not be read from the balance.
    """

    venue: str
    wallet_balance: Mapping[str, float] = field(default_factory=dict)
    margin_balance: Mapping[str, float] = field(default_factory=dict)
    maintenance_margin: Mapping[str, float] = field(default_factory=dict)
    #: USD value of one unit of each currency (stablecoins 1; coins at their mark).
    usd_rate: Mapping[str, float] = field(default_factory=dict)
    in_total: frozenset[str] = frozenset()
    diagnostics: tuple[str, ...] = ()
    #: Pools (keys as in ``margin_balance``) on portfolio margin: Deribit ``margin_model``
    #: cross_pm/segregated_pm, Bybit UTA PORTFOLIO_MARGIN, OKX acctLv 4 (docs/risk.md#greeks).
    portfolio_margin: frozenset[str] = frozenset()
    #: Pool → the venue's own maintenance / equity ratio (a fraction, 1.0 = liquidation) where it
    #: reports one; ``Portfolio.pool_margin_ratio`` uses it for ``portfolio_margin`` pools.
    venue_margin_ratio: Mapping[str, float] = field(default_factory=dict)
    #: Currency → Deribit's portfolio figures as reported: "delta_total", "options_delta",
    #: "options_gamma", "options_vega", "options_theta", "estimated_liquidation_ratio".
    venue_greeks: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def summed(self, amounts: Mapping[str, float]) -> dict[str, float]:
        """The ``amounts`` that add up to an account total (every key not ``in_total``)."""
        return {k: v for k, v in amounts.items() if k not in self.in_total}


@dataclass(frozen=True, eq=False)
class Tiers:
    """Maintenance bracket tables, each distinct table stored once, and each position's table.

    ``floor``/``cap``/``mmr``/``cum`` have shape (m, k): m distinct tables padded with NaN to the
    longest, ``count[t]`` real tiers in table t; ``table[i]`` is position i's row. Every position
    of a symbol shares its venue table, so a million positions cost one (m, k) table and one
    integer each instead of 4·k floats each (320 MB at a million with Binance's ten brackets).
    Bounds are in the unit the venue brackets by: quote notional (Q·P) for linear contracts,
    coin notional (Q/P) for inverse ones. A position without venue tiers has a one-tier table:
    its own ``mmr``/``maint_amount`` from floor 0 to +inf.
    """

    floor: FloatArray
    cap: FloatArray
    mmr: FloatArray
    cum: FloatArray
    count: IntArray
    table: IntArray
    #: Positions of each multi-tier table, found once and reused by every bracket look-up of
    #: the same positions (a solve looks brackets up several times).
    _members: dict[int, IntArray] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def take(self, rows: IntArray | slice) -> Tiers:
        """The same tables for the positions at ``rows`` (repeats allowed)."""
        return Tiers(self.floor, self.cap, self.mmr, self.cum, self.count, self.table[rows])

    def members(self) -> dict[int, IntArray]:
        """Multi-tier table → the positions using it (only the tables some position uses)."""
        if not self._members:
            multi = np.flatnonzero(self.count > 1)
            if len(self.count) == 1 and len(multi):
                self._members[0] = np.arange(len(self.table), dtype=np.int64)
            for t in multi.tolist() if len(self.count) > 1 else []:
                rows = np.flatnonzero(self.table == t)
                if len(rows):
                    self._members[t] = rows
            if not self._members:
                self._members[-1] = np.zeros(0, dtype=np.int64)
        return {t: rows for t, rows in self._members.items() if t >= 0}


def codes(labels: Labels | Sequence[str]) -> tuple[tuple[str, ...], IntArray]:
    """Unique labels and, per position, its label's index (a vectorised group key)."""
    if not isinstance(labels, Labels):
        labels = Labels.of(labels)
    return labels.names, labels.code


def lookup(labels: Labels | Sequence[str], values: Mapping[str, float]) -> FloatArray:
    """Per position, ``values[label]`` (NaN where absent).

    Costs one binary search per key of ``values`` (label names are sorted), or one dict look-up
    per distinct label when there are fewer labels than keys, never one per position.
    """
    uniq, idx = codes(labels)
    table = np.full(len(uniq), np.nan)
    if len(values) > len(uniq):
        # A big mapping (σ of a whole venue) for a few labels: one dict look-up per label.
        for k, name in enumerate(uniq):
            if name in values:
                table[k] = float(values[name])
        return table[idx]
    for key, value in values.items():
        k = bisect.bisect_left(uniq, key)
        if k < len(uniq) and uniq[k] == key:
            table[k] = float(value)
    return table[idx]
