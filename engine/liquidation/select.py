"""Which formula prices each position: by venue, contract type and margin mode."""

from __future__ import annotations

import numpy as np

from engine.liquidation.notes import Notes
from engine.model import ContractType, Formula, MarginMode, Positions, formula_code
from engine.types import IntArray

_LIN, _INV = ContractType.LINEAR, ContractType.INVERSE
_CROSS, _ISO = MarginMode.CROSS, MarginMode.ISOLATED

Table = dict[tuple[ContractType, MarginMode], Formula]

_BINANCE: Table = {
    (_LIN, _CROSS): Formula.BINANCE_USDM_CROSS,
    (_LIN, _ISO): Formula.BINANCE_USDM_ISOLATED,
    (_INV, _CROSS): Formula.BINANCE_COINM_CROSS,
    (_INV, _ISO): Formula.BINANCE_COINM_ISOLATED,
}
_BYBIT: Table = {
    (_LIN, _ISO): Formula.BYBIT_LINEAR_ISOLATED,
    (_INV, _ISO): Formula.BYBIT_INVERSE_ISOLATED,
}
_HYPERLIQUID: Table = {
    (_LIN, _CROSS): Formula.HYPERLIQUID_CROSS,
    (_LIN, _ISO): Formula.HYPERLIQUID_ISOLATED,
}
_OKX: Table = {
    (kind, mode): Formula.OKX_ESTIMATE for kind in (_LIN, _INV) for mode in (_CROSS, _ISO)
}
_GENERIC: Table = {
    (_LIN, _ISO): Formula.GENERIC,
    (_INV, _ISO): Formula.GENERIC,
    (_LIN, _CROSS): Formula.GENERIC_CROSS,
    (_INV, _CROSS): Formula.GENERIC_CROSS,
}
# Deribit margins inverse positions account-wide; its USDC (linear) books use the generic cross.
_DERIBIT: Table = {**_GENERIC, (_INV, _CROSS): Formula.DERIBIT}
# BitMEX's closed form needs the isolated leverage; cross positions draw on the whole wallet.
_BITMEX: Table = {**_GENERIC, (_LIN, _ISO): Formula.BITMEX, (_INV, _ISO): Formula.BITMEX}

#: ccxt exchange id → formula table; ids not listed use the generic formulas.
TABLES: dict[str, Table] = {
    "binanceusdm": _BINANCE,
    "binancecoinm": _BINANCE,
    "binance": _BINANCE,
    "bybit": _BYBIT,
    "hyperliquid": _HYPERLIQUID,
    "okx": _OKX,
    "deribit": _DERIBIT,
    "bitmex": _BITMEX,
}

BYBIT_CROSS = (
    "Bybit cross margin liquidates on the account's maintenance ratio, not a per-position price"
)
OPTION = "options have no liquidation price of their own: the account's margin decides"


def select(positions: Positions, notes: Notes) -> IntArray:
    """Per position, the code (index into ``engine.model.FORMULAS``) of its formula."""
    p = positions
    table = TABLES.get(p.venue, _GENERIC)
    priceable = p.priceable
    out = np.full(len(p), formula_code(Formula.NONE), dtype=np.int64)
    for (kind, mode), formula in table.items():
        out[priceable & (p.kind == kind) & (p.margin_mode == mode)] = formula_code(formula)
    unpriced = priceable & (out == formula_code(Formula.NONE))
    option = unpriced & (p.kind == ContractType.OPTION)
    notes.add(option, OPTION)
    if p.venue == "bybit":
        notes.add(unpriced & ~option & (p.margin_mode == _CROSS), BYBIT_CROSS)
    else:
        notes.add(unpriced & ~option, f"no liquidation formula for this contract on {p.venue}")
    notes.add(~priceable, "position not readable: no liquidation price (see its diagnostics)")
    return out
