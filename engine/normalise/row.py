"""One position's fields while it is being read, and the columnar build of many of them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

from engine.model import ContractType, Labels, Leg, MarginMode, Positions
from engine.types import FloatArray

NAN = math.nan

#: Fields a position needs before any metric can be computed.
REQUIRED = ("side", "qty", "mark")

#: An isolated position without a mark is still priced (``Positions.priceable``), nothing else.
NO_MARK_ISOLATED = (
    "mark price not reported: liquidation price computed from entry, margin and maintenance; "
    "distance, PnL and probability unknown"
)


@dataclass(slots=True)
class Row:
    """Scratch record filled by the generic reader, then refined by a venue reader."""

    symbol: str = ""
    underlying: str = ""
    settle: str = ""
    pool: str = ""
    side: float = NAN
    contracts: float = NAN
    contract_size: float = 1.0
    qty: float = NAN
    kind: int = int(ContractType.LINEAR)
    margin_mode: int = int(MarginMode.CROSS)
    leg: int = int(Leg.BOTH)
    entry: float = NAN
    mark: float = NAN
    venue_liq: float = NAN
    isolated_wallet: float = NAN
    leverage: float = NAN
    mmr: float = NAN
    maint_amount: float = 0.0
    max_leverage: float = NAN
    venue_upnl: float = NAN
    venue_maint_margin: float = NAN
    venue_initial_margin: float = NAN
    taker_fee: float = NAN
    settle_usd: float = NAN
    underlying_price: float = NAN
    strike: float = NAN
    expiry: float = NAN
    call: float = NAN
    mark_iv: float = NAN
    delta: float = NAN
    gamma: float = NAN
    vega: float = NAN
    theta: float = NAN
    greeks_source: str = ""
    diagnostics: list[str] = field(default_factory=list)

    def note(self, message: str) -> None:
        """Record a per-position problem in a sentence the user can act on."""
        self.diagnostics.append(message)

    def missing(self) -> list[str]:
        """Names of required fields that are absent or meaningless."""
        out = [name for name in REQUIRED if getattr(self, name) != getattr(self, name)]
        if self.qty == self.qty and self.qty <= 0:
            out.append("qty")
        if self.mark == self.mark and self.mark <= 0:
            out.append("mark")
        return sorted(set(out))


_STR_COLUMNS = ("symbol", "underlying", "settle", "pool", "greeks_source")
_INT_COLUMNS = ("kind", "margin_mode", "leg")


def build(venue: str, rows: list[Row]) -> Positions:
    """Columns from rows; a row missing a required field is kept but marked invalid."""
    valid = np.ones(len(rows), dtype=np.bool_)
    for i, row in enumerate(rows):
        gaps = row.missing()
        if gaps == ["mark"] and row.margin_mode == MarginMode.ISOLATED:
            valid[i] = False
            row.note(NO_MARK_ISOLATED)
        elif gaps:
            valid[i] = False
            row.note(f"position skipped by the metrics: missing or invalid {', '.join(gaps)}")
    columns: dict[str, object] = {}
    for f in fields(Row):
        name = f.name
        if name == "diagnostics":
            continue
        values = [getattr(r, name) for r in rows]
        if name in _STR_COLUMNS:
            columns[name] = Labels.of(values)
        elif name in _INT_COLUMNS:
            columns[name] = np.asarray(values, dtype=np.int64)
        else:
            columns[name] = _floats(values)
    return Positions(
        venue=venue,
        valid=valid,
        diagnostics=tuple(tuple(r.diagnostics) for r in rows),
        **columns,  # type: ignore[arg-type]
    )


def _floats(values: list[float]) -> FloatArray:
    return np.asarray(values, dtype=np.float64).reshape(len(values))
