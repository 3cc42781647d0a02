"""A synthetic Binance USDⓈ-M account of n positions, as engine columns and as plain lists."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.model import (
    OPTION_COLUMNS,
    Account,
    ContractType,
    Labels,
    Leg,
    MarginMode,
    Positions,
    Tiers,
)
from engine.normalise import Snapshot
from engine.tiers import build_tiers, tier_at

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
        greeks_source=Labels(("",), np.zeros(n, dtype=np.int64)),
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
        **{name: nan.copy() for name in OPTION_COLUMNS},
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


#: The book's venues: (exchange id, share of accounts, contract type, settle, symbols).
BOOK_VENUES = (
    ("binanceusdm", 0.7, ContractType.LINEAR, "USDT", 100),
    ("binancecoinm", 0.2, ContractType.INVERSE, "", 10),
    ("hyperliquid", 0.1, ContractType.LINEAR, "USDC", 100),
)


def book_symbols(venue: str, count: int) -> list[tuple[str, str, float]]:
    """(symbol, base, price) of a venue's universe: BTC, ETH, then coins priced 1 to 500."""
    out = [("BTC", 60_000.0), ("ETH", 3_000.0)]
    out += [(f"C{k:03d}", float(1 + (k * 37) % 500)) for k in range(count - 2)]
    settle_of = dict((v, s) for v, _share, _kind, s, _n in BOOK_VENUES)
    settle = settle_of[venue]
    return [
        (f"{base}/USD:{base}" if not settle else f"{base}/{settle}:{settle}", base, price)
        for base, price in out
    ]


def _table(scale: float) -> list[dict[str, Any]]:
    """Binance-shaped brackets (the BTCUSDT floors scaled): cum derived by the engine."""
    return [{"minNotional": f * scale, "maintenanceMarginRate": m} for f, m, _c in BRACKETS]


def book_tiers(venue: str, symbols: list[tuple[str, str, float]]) -> dict[str, Any]:
    """Binance venues' tables: BTC's, ETH's (a fifth of BTC's floors), one shared by the rest;
    COIN-M brackets by coin notional. Hyperliquid has a flat rate from max leverage."""
    if venue == "hyperliquid":
        return {}
    coin = 1 / 60_000 if venue == "binancecoinm" else 1.0
    tables = {"BTC": _table(coin), "ETH": _table(0.2 * coin)}
    return {s: tables.get(base, _table(0.02 * coin)) for s, base, _p in symbols}


def _popularity(count: int) -> np.ndarray:
    """Zipf-like: BTC and ETH in most accounts, the tail in about 1 % of them each."""
    weights = 1.0 / np.arange(1, count + 1) ** 0.8
    return weights / weights.sum()


def _account(
    venue: str, kind: ContractType, settle: str, rows: dict[str, np.ndarray], tiers: Any
) -> Snapshot:
    """One synthetic account of ``venue`` from its rows' columns (every position solvent)."""
    n = len(rows["side"])
    inverse = kind == ContractType.INVERSE
    names = rows["symbol"].tolist()
    bases = rows["base"].tolist()
    settles = bases if inverse else [settle] * n
    notional = np.where(inverse, rows["qty"] / rows["mark"], rows["qty"] * rows["mark"])
    upnl = (
        rows["side"]
        * rows["qty"]
        * np.where(inverse, 1 / rows["entry"] - 1 / rows["mark"], rows["mark"] - rows["entry"])
    )
    iso = rows["isolated"]
    nan = np.full(n, np.nan)
    positions = Positions(
        venue=venue,
        symbol=Labels.of(names),
        underlying=Labels.of(bases),
        settle=Labels.of(settles),
        pool=Labels.of(settles),
        greeks_source=Labels.of([""] * n),
        side=rows["side"],
        contracts=rows["qty"],
        contract_size=np.ones(n),
        qty=rows["qty"],
        kind=np.full(n, int(kind)),
        margin_mode=np.where(iso, int(MarginMode.ISOLATED), int(MarginMode.CROSS)),
        leg=np.full(n, int(Leg.BOTH)),
        entry=rows["entry"],
        mark=rows["mark"],
        venue_liq=nan.copy(),
        isolated_wallet=np.where(iso, notional / rows["lev"], np.nan),
        leverage=rows["lev"],
        mmr=np.full(n, 0.004 if venue != "hyperliquid" else 0.01),
        maint_amount=np.zeros(n),
        max_leverage=np.full(n, 50.0),
        venue_upnl=upnl,
        venue_maint_margin=nan.copy(),
        venue_initial_margin=nan.copy(),
        taker_fee=nan.copy(),
        settle_usd=rows["mark"] if inverse else np.ones(n),
        valid=np.ones(n, dtype=np.bool_),
        diagnostics=((),) * n,
        **{name: nan.copy() for name in OPTION_COLUMNS},
    )
    pools: dict[str, float] = {}
    for pool, value, cross in zip(settles, notional.tolist(), (~iso).tolist(), strict=True):
        pools[pool] = pools.get(pool, 0.0) + (value / 4.0 if cross else 0.0) + 1e-3 * value
    cross_upnl = {p: float(upnl[(~iso) & (np.array(settles) == p)].sum()) for p in pools}
    account = Account(
        venue=venue,
        wallet_balance=pools,
        margin_balance={p: w + cross_upnl[p] for p, w in pools.items()},
        maintenance_margin={p: 0.005 * w for p, w in pools.items()},
        usd_rate={settle: 1.0} if settle else {},
    )
    mine = {s: tiers[s] for s in set(names) if s in tiers}
    return Snapshot(positions, account, build_tiers(positions, mine))


def synthetic_book(
    accounts: int, per_account: int = 5, *, seed: int
) -> tuple[list[Snapshot], dict[str, float]]:
    """``accounts`` accounts of ``per_account`` positions each across ``BOOK_VENUES``, half
    cross, half isolated, and σ per underlying (every base coin at ``SIGMA``)."""
    rng = np.random.default_rng(seed)
    venue_of = rng.choice(len(BOOK_VENUES), accounts, p=[v[1] for v in BOOK_VENUES])
    out: list[Snapshot | None] = [None] * accounts
    for v, (venue, _share, kind, settle, count) in enumerate(BOOK_VENUES):
        members = np.flatnonzero(venue_of == v)
        symbols = book_symbols(venue, count)
        tiers = book_tiers(venue, symbols)
        keys = np.log(_popularity(count)) + rng.gumbel(size=(len(members), count))
        # Gumbel top-k: each account holds per_account distinct symbols, popular ones often.
        held = np.argpartition(-keys, per_account, axis=1)[:, :per_account].ravel()
        price = np.array([p for _s, _b, p in symbols])[held]
        rows = {
            "symbol": np.array([s for s, _b, _p in symbols])[held],
            "base": np.array([b for _s, b, _p in symbols])[held],
            "side": rng.choice([-1.0, 1.0], len(held)),
            "entry": price * (1 + 0.05 * rng.standard_normal(len(held))),
            "qty": np.exp(rng.normal(np.log(2_000.0), 1.2, len(held))) / price,
            "isolated": rng.random(len(held)) < 0.5,
            "lev": rng.integers(3, 20, len(held)).astype(np.float64),
        }
        if kind == ContractType.INVERSE:
            rows["qty"] = np.ceil(rows["qty"] * price / 10.0) * 10.0  # USD contracts of 10
        rows["mark"] = rows["entry"] * (1 + 0.02 * rng.standard_normal(len(held)))
        for k, account in enumerate(members.tolist()):
            part = slice(k * per_account, (k + 1) * per_account)
            mine = {c: a[part] for c, a in rows.items()}
            out[account] = _account(venue, kind, settle, mine, tiers)
    sigma = {base: SIGMA for v in BOOK_VENUES for _s, base, _p in book_symbols(v[0], v[4])}
    return [s for s in out if s is not None], sigma
