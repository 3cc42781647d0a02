"""A synthetic Binance USDⓈ-M account of n positions, as engine columns and as plain lists."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.model import Account, ContractType, Labels, Leg, MarginMode, Positions, Tiers
from engine.normalise import Snapshot
from engine.tiers import tier_at

SIGMA = 0.6
HORIZON_H = 24.0

#: Binance BTCUSDT brackets (floor, MMR); cum_n = floor_n·(MMR_n − MMR_{n−1}) + cum_{n−1}.
_FLOORS_MMR = (
    (0, 0.004),
    (50_000, 0.005),
    (500_000, 0.01),
    (8_000_000, 0.025),
    (50_000_000, 0.05),
    (80_000_000, 0.10),
    (100_000_000, 0.125),
    (200_000_000, 0.15),
    (300_000_000, 0.25),
    (500_000_000, 0.5),
)


def _brackets() -> tuple[tuple[float, float, float], ...]:
    out, cum, prev = [], 0.0, _FLOORS_MMR[0][1]
    for floor, mmr in _FLOORS_MMR:
        cum += floor * (mmr - prev)
        prev = mmr
        out.append((float(floor), mmr, cum))
    return tuple(out)


#: (floor, MMR, cum) per bracket.
BRACKETS = _brackets()


def _tiers(n: int) -> Tiers:
    floors = np.array([b[0] for b in BRACKETS])
    caps = np.append(floors[1:], np.inf)
    row = lambda v: np.asarray([v], dtype=np.float64)  # noqa: E731
    return Tiers(
        floor=row(floors),
        cap=row(caps),
        mmr=row([b[1] for b in BRACKETS]),
        cum=row([b[2] for b in BRACKETS]),
        count=np.array([len(BRACKETS)], dtype=np.int64),
        table=np.zeros(n, dtype=np.int64),
    )


def synthetic(n: int, *, seed: int) -> tuple[Snapshot, dict[str, Any]]:
    """Half cross, half isolated; sizes spanning several brackets; every position solvent."""
    rng = np.random.default_rng(seed)
    side = rng.choice([-1.0, 1.0], n)
    entry = 60_000.0 * (1 + 0.05 * rng.standard_normal(n))
    mark = entry * (1 + 0.03 * rng.standard_normal(n))
    qty = np.exp(rng.normal(np.log(0.5), 1.5, n))
    isolated = rng.random(n) < 0.5
    lev_setting = rng.integers(3, 30, n).astype(np.float64)
    wallet = np.where(isolated, qty * entry / lev_setting, np.nan)
    tiers = _tiers(n)
    mmr, cum = tier_at(tiers, qty * mark)
    nan = np.full(n, np.nan)
    positions = Positions(
        venue="binanceusdm",
        symbol=Labels(tuple(f"S{i:07d}/USDT:USDT" for i in range(n)), np.arange(n)),
        underlying=Labels(("BTC",), np.zeros(n, dtype=np.int64)),
        settle=Labels(("USDT",), np.zeros(n, dtype=np.int64)),
        pool=Labels(("USDT",), np.zeros(n, dtype=np.int64)),
        side=side,
        contracts=qty,
        contract_size=np.ones(n),
        qty=qty,
        kind=np.full(n, int(ContractType.LINEAR)),
        margin_mode=np.where(isolated, int(MarginMode.ISOLATED), int(MarginMode.CROSS)),
        leg=np.full(n, int(Leg.BOTH)),
        entry=entry,
        mark=mark,
        venue_liq=nan.copy(),
        isolated_wallet=wallet,
        leverage=np.where(isolated, np.nan, lev_setting),
        mmr=mmr,
        maint_amount=cum,
        max_leverage=nan.copy(),
        venue_upnl=nan.copy(),
        venue_maint_margin=nan.copy(),
        venue_initial_margin=nan.copy(),
        taker_fee=nan.copy(),
        settle_usd=np.ones(n),
        valid=np.ones(n, dtype=np.bool_),
        diagnostics=((),) * n,
    )
    cross_wallet = float(np.sum(np.where(isolated, 0.0, qty * entry)) / 5.0)
    account = Account(venue="binanceusdm", wallet_balance={"USDT": cross_wallet})
    columns = {
        "side": side.tolist(),
        "qty": qty.tolist(),
        "entry": entry.tolist(),
        "mark": mark.tolist(),
        "isolated": isolated.tolist(),
        "wallet": wallet.tolist(),
        "leverage": np.where(isolated, np.nan, lev_setting).tolist(),
        "cross_wallet": cross_wallet,
    }
    return Snapshot(positions, account, tiers), columns
