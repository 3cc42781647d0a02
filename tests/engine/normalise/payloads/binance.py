"""Binance USDⓈ-M (fapi v3) and COIN-M (dapi v1) payloads, parsed by ccxt.binanceusdm/coinm.

The USDⓈ-M account is internally consistent: each ``liquidationPrice`` is what Binance's
formula (FAQ "How to Calculate Liquidation Price of USDⓈ-M Futures", docs/risk.md#binance-usdm)
gives for the wallets and brackets below, solved over the brackets at the liquidation notional.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from tests.engine.normalise.payloads import Raw, exchange

USDM_MARKETS = (
    ("BTCUSDT", "BTC/USDT:USDT", 1.0, "swap"),
    ("ETHUSDT", "ETH/USDT:USDT", 1.0, "swap"),
    ("SOLUSDT", "SOL/USDT:USDT", 1.0, "swap"),
    ("XRPUSDT", "XRP/USDT:USDT", 1.0, "swap"),
)
COINM_MARKETS = (("BTCUSD_PERP", "BTC/USD:BTC", 100.0, "swap"),)

#: fapi/v1/leverageBracket: (notionalFloor, notionalCap, maintMarginRatio, cum, leverage).
BRACKETS = {
    "BTCUSDT": [(0, 50000, 0.004, 0.0, 125), (50000, 600000, 0.005, 50.0, 100),
                (600000, 3000000, 0.01, 3050.0, 75)],
    "ETHUSDT": [(0, 50000, 0.005, 0.0, 100), (50000, 600000, 0.0065, 75.0, 75),
                (600000, 3000000, 0.01, 2175.0, 50)],
    "SOLUSDT": [(0, 5000, 0.005, 0.0, 75), (5000, 50000, 0.01, 25.0, 50),
                (50000, 600000, 0.025, 775.0, 20)],
    "XRPUSDT": [(0, 10000, 0.01, 0.0, 75), (10000, 50000, 0.015, 50.0, 50),
                (50000, 600000, 0.025, 550.0, 20)],
}  # fmt: skip

CROSS_WALLET = 9000.0
UPDATE_MS = 1717100000000


@dataclass(frozen=True)
class Leg:
    """One positionRisk row's inputs: symbol, positionSide, signed amount, entry, mark, leverage."""

    symbol: str
    side: str
    amount: float
    entry: float
    mark: float
    leverage: float
    isolated_wallet: float = 0.0

    @property
    def notional(self) -> float:
        return self.amount * self.mark

    @property
    def upnl(self) -> float:
        return self.amount * (self.mark - self.entry)


#: A cross BTC long ~10x, a cross ETH short, an isolated SOL long ~6 % from liquidation and a
#: cross XRP hedge-mode pair.
LEGS = (
    Leg("BTCUSDT", "BOTH", 0.5, 60000.0, 62000.0, 10),
    Leg("ETHUSDT", "BOTH", -5.0, 3000.0, 3100.0, 20),
    Leg("SOLUSDT", "BOTH", 200.0, 150.0, 142.0, 10, isolated_wallet=3542.0),
    Leg("XRPUSDT", "LONG", 40000.0, 0.50, 0.52, 10),
    Leg("XRPUSDT", "SHORT", -10000.0, 0.55, 0.52, 10),
)


def bracket(symbol: str, notional: float) -> tuple[float, float]:
    """(MMR, cum) of the bracket containing ``notional``."""
    rows = BRACKETS[symbol]
    found = rows[0]
    for row in rows:
        if abs(notional) >= row[0]:
            found = row
    return found[2], found[3]


def maint(leg: Leg) -> float:
    """Binance's maintMargin at the mark: notional·MMR − cum."""
    mmr, cum = bracket(leg.symbol, leg.notional)
    return abs(leg.notional) * mmr - cum


def liquidation_price(legs: tuple[Leg, ...], symbol: str) -> float:
    """Binance's LP of ``symbol`` (every leg of it), brackets re-solved at the LP notional."""
    mine = [leg for leg in legs if leg.symbol == symbol]
    isolated = mine[0].isolated_wallet > 0
    others = [leg for leg in legs if leg.symbol != symbol and leg.isolated_wallet == 0]
    wallet = mine[0].isolated_wallet if isolated else CROSS_WALLET
    if not isolated:
        wallet += sum(leg.upnl - maint(leg) for leg in others)
    price = mine[0].mark
    for _ in range(20):
        rates = [bracket(symbol, leg.amount * price) for leg in mine]
        top = wallet + sum(cum for _, cum in rates) - sum(leg.amount * leg.entry for leg in mine)
        bottom = sum(
            abs(leg.amount) * mmr - leg.amount for leg, (mmr, _) in zip(mine, rates, strict=True)
        )
        price = top / bottom
    return max(price, 0.0)


def position_risk(leg: Leg, liquidation: float) -> Raw:
    """One fapi/v3/positionRisk row."""
    initial = abs(leg.notional) / leg.leverage
    isolated_margin = leg.isolated_wallet + leg.upnl if leg.isolated_wallet else 0.0
    return {
        "symbol": leg.symbol,
        "positionSide": leg.side,
        "positionAmt": f"{leg.amount:g}",
        "entryPrice": f"{leg.entry:g}",
        "breakEvenPrice": f"{leg.entry * (1 + 0.0004 * (1 if leg.amount > 0 else -1)):.8g}",
        "markPrice": f"{leg.mark:.8f}",
        "unRealizedProfit": f"{leg.upnl:.8f}",
        "liquidationPrice": f"{liquidation:.8f}",
        "isolatedMargin": f"{isolated_margin:.8f}",
        "notional": f"{leg.notional:.8f}",
        "marginAsset": "USDT",
        "isolatedWallet": f"{leg.isolated_wallet:.8f}",
        "initialMargin": f"{initial:.8f}",
        "maintMargin": f"{maint(leg):.8f}",
        "positionInitialMargin": f"{initial:.8f}",
        "openOrderInitialMargin": "0",
        "adl": 2,
        "bidNotional": "0",
        "askNotional": "0",
        "updateTime": UPDATE_MS,
    }


def raw_positions(legs: tuple[Leg, ...] = LEGS) -> list[Raw]:
    """fapi/v3/positionRisk for ``legs`` with consistent liquidation prices."""
    prices = {leg.symbol: liquidation_price(legs, leg.symbol) for leg in legs}
    return [position_risk(leg, prices[leg.symbol]) for leg in legs]


def raw_brackets() -> list[Raw]:
    """fapi/v1/leverageBracket."""
    return [
        {
            "symbol": symbol,
            "notionalCoef": 1.0,
            "brackets": [
                {
                    "bracket": n + 1,
                    "initialLeverage": lev,
                    "notionalCap": cap,
                    "notionalFloor": floor,
                    "maintMarginRatio": mmr,
                    "cum": cum,
                }
                for n, (floor, cap, mmr, cum, lev) in enumerate(rows)
            ],
        }
        for symbol, rows in BRACKETS.items()
    ]


def raw_account(legs: tuple[Leg, ...] = LEGS) -> Raw:
    """fapi/v3/account: USDT totals consistent with ``legs`` (single-asset mode)."""
    isolated = sum(leg.isolated_wallet for leg in legs)
    upnl = sum(leg.upnl for leg in legs)
    cross_upnl = sum(leg.upnl for leg in legs if not leg.isolated_wallet)
    initial = sum(abs(leg.notional) / leg.leverage for leg in legs)
    mm = sum(maint(leg) for leg in legs)
    wallet = CROSS_WALLET + isolated
    usdt = {
        "asset": "USDT",
        "walletBalance": f"{wallet:.8f}",
        "unrealizedProfit": f"{upnl:.8f}",
        "marginBalance": f"{wallet + upnl:.8f}",
        "maintMargin": f"{mm:.8f}",
        "initialMargin": f"{initial:.8f}",
        "positionInitialMargin": f"{initial:.8f}",
        "openOrderInitialMargin": "0.00000000",
        "crossWalletBalance": f"{CROSS_WALLET:.8f}",
        "crossUnPnl": f"{cross_upnl:.8f}",
        "availableBalance": f"{CROSS_WALLET + cross_upnl - initial + 3542.0 / 10:.8f}",
        "maxWithdrawAmount": f"{CROSS_WALLET - initial:.8f}",
        "updateTime": UPDATE_MS,
    }
    usdc = {key: "0.00000000" for key in usdt} | {"asset": "USDC", "updateTime": 0}
    totals = {
        "totalInitialMargin": usdt["initialMargin"],
        "totalMaintMargin": usdt["maintMargin"],
        "totalWalletBalance": usdt["walletBalance"],
        "totalUnrealizedProfit": usdt["unrealizedProfit"],
        "totalMarginBalance": usdt["marginBalance"],
        "totalPositionInitialMargin": usdt["positionInitialMargin"],
        "totalOpenOrderInitialMargin": "0.00000000",
        "totalCrossWalletBalance": usdt["crossWalletBalance"],
        "totalCrossUnPnl": usdt["crossUnPnl"],
        "availableBalance": usdt["availableBalance"],
        "maxWithdrawAmount": usdt["maxWithdrawAmount"],
    }
    return {**totals, "assets": [usdt, usdc], "positions": []}


@functools.cache
def _usdm() -> Any:
    ex = exchange("binanceusdm", USDM_MARKETS)
    ex.fapiPrivateGetLeverageBracket = lambda params=None: raw_brackets()
    ex.load_leverage_brackets()
    return ex


def usdm_positions(raws: list[Raw] | None = None) -> list[Raw]:
    """ccxt.binanceusdm's parse_position_risk of each raw row (brackets loaded as ccxt does)."""
    ex = _usdm()
    return [ex.parse_position_risk(raw) for raw in (raws if raws is not None else raw_positions())]


def usdm_balance(raw: Raw | None = None) -> Raw:
    """ccxt.binanceusdm's balance parse of fapi/v3/account."""
    result: Raw = _usdm().parse_balance_custom(raw or raw_account(), "future")
    return result


def usdm_tiers() -> dict[str, list[Raw]]:
    """ccxt.binanceusdm's leverage tiers from fapi/v1/leverageBracket, keyed by symbol."""
    result: dict[str, list[Raw]] = _usdm().parse_leverage_tiers(raw_brackets(), None, "symbol")
    return result


def coinm_raw(**fields: Any) -> Raw:
    """dapi/v1/positionRisk: BTCUSD_PERP isolated long 100 contracts × 100 USD (in BTC)."""
    raw: Raw = {
        "symbol": "BTCUSD_PERP",
        "positionAmt": "100",
        "entryPrice": "60000",
        "breakEvenPrice": "60024",
        "markPrice": "62000.00000000",
        "unRealizedProfit": "0.00537634",
        "liquidationPrice": "50251.25628141",
        "leverage": "5",
        "maxQty": "50",
        "marginType": "isolated",
        "isolatedMargin": "0.03870967",
        "isAutoAddMargin": "false",
        "positionSide": "BOTH",
        "notionalValue": "0.16129032",
        "isolatedWallet": "0.03333333",
        "updateTime": UPDATE_MS,
    }
    raw.update(fields)
    return raw


def coinm_position(raw: Raw) -> Raw:
    """ccxt.binancecoinm's parse_position_risk of a dapi positionRisk row."""
    result: Raw = exchange("binancecoinm", COINM_MARKETS).parse_position_risk(raw)
    return result
