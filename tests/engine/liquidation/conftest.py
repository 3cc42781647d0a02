"""Builders of Binance-shaped ccxt payloads and of snapshots for venues read elsewhere."""

from __future__ import annotations

from typing import Any

from engine.model import Account, ContractType, MarginMode
from engine.normalise import Snapshot
from engine.normalise.row import Row, build
from engine.tiers import build_tiers

LINEAR, INVERSE, OPTION = ContractType.LINEAR, ContractType.INVERSE, ContractType.OPTION
CROSS, ISOLATED = MarginMode.CROSS, MarginMode.ISOLATED

#: Binance's historical BTCUSDT brackets: cum_n = floor_n·(MMR_n − MMR_{n−1}) + cum_{n−1}.
BTCUSDT_TIERS = [
    {"minNotional": 0, "maxNotional": 50_000, "maintenanceMarginRate": 0.004, "info": {"cum": "0"}},
    {"minNotional": 50_000, "maxNotional": 250_000, "maintenanceMarginRate": 0.005},  # cum 50
    {"minNotional": 250_000, "maxNotional": 1_000_000, "maintenanceMarginRate": 0.01},  # 1,300
]


def binance_position(
    symbol: str = "BTC/USDT:USDT",
    *,
    side: str = "long",
    contracts: float = 1.0,
    entry: float = 20_000.0,
    mark: float = 20_000.0,
    leg: str = "BOTH",
    isolated_wallet: float | None = None,
    contract_size: float = 1.0,
) -> dict[str, Any]:
    """A ccxt unified position with the positionRisk ``info`` Binance's reader uses."""
    info: dict[str, Any] = {
        "positionSide": leg,
        "positionAmt": str(contracts if side == "long" else -contracts),
        "isolatedMargin": "0" if isolated_wallet is None else str(isolated_wallet),
        "marginAsset": symbol.split(":")[1],
    }
    if isolated_wallet is not None:
        info["isolatedWallet"] = str(isolated_wallet)
    return {
        "symbol": symbol,
        "contracts": contracts,
        "contractSize": contract_size,
        "side": side,
        "entryPrice": entry,
        "markPrice": mark,
        "marginMode": "cross" if isolated_wallet is None else "isolated",
        "info": info,
    }


def binance_balance(
    wallets: dict[str, float], *, multi_assets: float | None = None
) -> dict[str, Any]:
    """fapi/dapi ``account`` payload with a cross wallet per asset (and a USD total)."""
    info: dict[str, Any] = {
        "assets": [{"asset": a, "crossWalletBalance": str(w)} for a, w in wallets.items()]
    }
    if multi_assets is not None:
        info["multiAssetsMargin"] = True
        info["totalCrossWalletBalance"] = str(multi_assets)
    return {"info": info}


def make_snapshot(
    venue: str,
    rows: list[dict[str, Any]],
    *,
    account: Account | None = None,
    tiers: dict[str, list[dict[str, Any]]] | None = None,
) -> Snapshot:
    """A snapshot built straight from ``Row`` fields (pool defaults to the settle currency)."""
    built = []
    for fields in rows:
        values = {"contracts": fields.get("qty"), "mark": fields.get("entry"), **fields}
        symbol = str(values.setdefault("symbol", "BTC/USDT:USDT"))
        settle = symbol.split(":")[1].split("-")[0]
        values.setdefault("settle", settle)
        values.setdefault("pool", values["settle"])
        values.setdefault("underlying", symbol.split("/")[0])
        values["kind"], values["margin_mode"] = (
            int(values.get("kind", LINEAR)),
            int(values.get("margin_mode", CROSS)),
        )
        built.append(Row(**values))
    positions = build(venue, built)
    return Snapshot(positions, account or Account(venue=venue), build_tiers(positions, tiers))
