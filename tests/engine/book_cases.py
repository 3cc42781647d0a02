"""Random accounts across venues for the book's property tests (hypothesis strategies)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from engine.model import Account, ContractType, Leg, MarginMode
from engine.normalise import Snapshot
from engine.normalise.row import Row, build
from engine.tiers import build_tiers

LIN, INV, OPT = ContractType.LINEAR, ContractType.INVERSE, ContractType.OPTION
CROSS, ISO = MarginMode.CROSS, MarginMode.ISOLATED
NAN = float("nan")

#: Symbol → (base price, contract type). Hyperliquid's book is USDC, Deribit's inverse.
SYMBOLS: dict[str, tuple[float, ContractType]] = {
    "BTC/USDT:USDT": (60_000.0, LIN),
    "ETH/USDT:USDT": (3_000.0, LIN),
    "SOL/USDT:USDT": (150.0, LIN),
    "BTC/USDC:USDC": (60_000.0, LIN),
    "ETH/USDC:USDC": (3_000.0, LIN),
    "BTC/USD:BTC": (60_000.0, INV),
    "ETH/USD:ETH": (3_000.0, INV),
    "BTC/USD:BTC-250627-60000-C": (0.05, OPT),
}
VENUES: dict[str, tuple[str, ...]] = {
    "binanceusdm": ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"),
    "binancecoinm": ("BTC/USD:BTC", "ETH/USD:ETH"),
    "okx": ("BTC/USDT:USDT", "ETH/USDT:USDT", "BTC/USD:BTC"),
    "hyperliquid": ("BTC/USDC:USDC", "ETH/USDC:USDC"),
    "deribit": ("BTC/USD:BTC", "ETH/USD:ETH", "BTC/USD:BTC-250627-60000-C"),
    "bybit": ("BTC/USDT:USDT", "ETH/USDT:USDT", "BTC/USD:BTC"),
    "bitmex": ("BTC/USD:BTC", "ETH/USDT:USDT"),
    "kraken": ("BTC/USDT:USDT", "BTC/USD:BTC"),
}
#: Binance's BTCUSDT brackets (cum derived by the engine), in quote or coin notional.
TIERS = [
    {"minNotional": 0, "maintenanceMarginRate": 0.004},
    {"minNotional": 50_000, "maintenanceMarginRate": 0.005},
    {"minNotional": 250_000, "maintenanceMarginRate": 0.01},
    {"minNotional": 1_000_000, "maintenanceMarginRate": 0.025},
]
COIN_TIERS = [
    {"minNotional": 0, "maintenanceMarginRate": 0.005},
    {"minNotional": 5, "maintenanceMarginRate": 0.01},
    {"minNotional": 50, "maintenanceMarginRate": 0.02},
]

_moves = st.sampled_from([0.0, 0.0, -0.2, -0.05, -0.01, 0.003, 0.02, 0.1, 0.3])
_maybe_nan = st.sampled_from([False, False, False, True])


@st.composite
def positions(draw: Any, venue: str, symbols: tuple[str, ...]) -> Row:
    """One position of ``venue`` on one of its symbols."""
    symbol = draw(st.sampled_from(symbols))
    price, kind = SYMBOLS[symbol]
    base, rest = symbol.split("/")
    settle = rest.split(":")[1].split("-")[0]
    side = draw(st.sampled_from([1.0, -1.0]))
    entry = price * (1 + draw(_moves))
    mark = price * (1 + draw(_moves))
    qty = draw(st.sampled_from([0.01, 0.3, 2.0, 15.0])) * (price if kind == INV else 1.0)
    isolated = venue != "deribit" and draw(st.booleans()) and kind != OPT
    notional = qty / mark if kind == INV else qty * mark
    leverage = draw(st.sampled_from([1.0, 3.0, 10.0, 50.0]))
    upnl = side * qty * ((1 / entry - 1 / mark) if kind == INV else (mark - entry))
    row = Row(
        symbol=symbol,
        underlying=base,
        settle=settle,
        pool=settle,
        side=side,
        contracts=qty,
        qty=qty,
        kind=int(kind),
        margin_mode=int(ISO if isolated else CROSS),
        leg=int(draw(st.sampled_from([Leg.BOTH, Leg.BOTH, Leg.LONG, Leg.SHORT]))),
        entry=NAN if draw(_maybe_nan) and kind != OPT else entry,
        mark=mark,
        venue_liq=NAN if draw(st.booleans()) else mark * (1 - side * 0.3),
        isolated_wallet=notional / leverage if isolated else NAN,
        leverage=leverage,
        mmr=draw(st.sampled_from([0.004, 0.01, 0.02])),
        maint_amount=0.0,
        max_leverage=NAN if draw(_maybe_nan) else 50.0,
        venue_upnl=NAN if draw(_maybe_nan) else upnl,
        venue_maint_margin=notional * 0.01 if kind == OPT else NAN,
        taker_fee=NAN if draw(st.booleans()) else 0.0004,
        settle_usd=1.0 if settle.startswith("USD") else price * (1 + draw(_moves)),
    )
    if venue == "hyperliquid" or (venue == "bybit" and not isolated and kind == LIN):
        row.pool = "USD" if venue == "bybit" else row.pool
    if draw(st.sampled_from([False, False, False, True])):
        row.qty = NAN  # unreadable: invalid, never moved
    return row


@st.composite
def accounts(draw: Any) -> Snapshot:
    """An account of a random venue with up to five positions and its balance."""
    venue = draw(st.sampled_from(sorted(VENUES)))
    rows = draw(st.lists(positions(venue, VENUES[venue]), max_size=5))
    built = build(venue, rows)
    pools = sorted({r.pool for r in rows} | {"USDT"})
    scale = {p: (1.0 if p.startswith("USD") else 0.02) for p in pools}
    wallet = {p: draw(st.sampled_from([500.0, 20_000.0])) * scale[p] for p in pools}
    margin = {p: w * draw(st.sampled_from([0.9, 1.1])) for p, w in wallet.items()}
    maint = {p: w * 0.01 for p, w in wallet.items()}
    account = Account(
        venue,
        wallet_balance=wallet,
        margin_balance={} if draw(_maybe_nan) else margin,
        maintenance_margin={} if draw(st.booleans()) else maint,
        usd_rate={"BTC": 60_100.0} if draw(st.booleans()) else {},
    )
    tiers = {"BTC/USDT:USDT": TIERS, "BTC/USD:BTC": COIN_TIERS} if draw(st.booleans()) else {}
    return Snapshot(built, account, build_tiers(built, tiers))


@st.composite
def ticks(draw: Any) -> dict[str, float]:
    """New marks for a random subset of the symbols (some unchanged, some not usable)."""
    out: dict[str, float] = {}
    for symbol, (price, _kind) in SYMBOLS.items():
        if draw(st.booleans()):
            out[symbol] = price * (1 + draw(_moves)) if draw(_maybe_nan) is False else NAN
    return out


def own_marks(snapshot: Snapshot) -> dict[str, float]:
    p = snapshot.positions
    return {s: float(m) for s, m, ok in zip(p.symbol, p.mark, p.valid, strict=True) if ok}


def finite(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)
