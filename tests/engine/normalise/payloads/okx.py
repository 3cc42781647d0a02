"""OKX v5 account/positions and account/balance payloads, parsed by ccxt.okx."""

from __future__ import annotations

from typing import Any

from tests.engine.normalise.payloads import Raw, exchange

OKX_MARKETS = (
    ("BTC-USDT-SWAP", "BTC/USDT:USDT", 0.01, "swap"),
    ("ETH-USDT-SWAP", "ETH/USDT:USDT", 0.1, "swap"),
    ("BTC-USD-SWAP", "BTC/USD:BTC", 100.0, "swap"),
)


def okx_raw(inst_id: str = "BTC-USDT-SWAP", **fields: Any) -> Raw:
    """One account/positions entry (cross, net mode, 50 contracts × 0.01 BTC long by default)."""
    raw: Raw = {
        "adl": "3",
        "availPos": "50",
        "avgPx": "60000",
        "cTime": "1717000000000",
        "ccy": "USDT",
        "imr": "3100",
        "instId": inst_id,
        "instType": "SWAP",
        "interest": "",
        "last": "62010",
        "lever": "10",
        "liab": "",
        "liabCcy": "",
        "liqPx": "47215.3",
        "markPx": "62000",
        "margin": "",
        "mgnMode": "cross",
        "mgnRatio": "64.5161290322580645",
        "mmr": "124",
        "notionalUsd": "31000",
        "optVal": "",
        "pos": "50",
        "posCcy": "",
        "posId": "1752810569801498626",
        "posSide": "net",
        "tradeId": "98617799",
        "uTime": "1717100000000",
        "upl": "1000",
        "uplRatio": "0.3333333333333333",
    }
    raw.update(fields)
    return raw


def okx_isolated_short(**fields: Any) -> Raw:
    """ETH-USDT-SWAP isolated short leg (hedge mode), 20 × 0.1 ETH, margin 600 USDT."""
    raw = okx_raw(
        "ETH-USDT-SWAP",
        posSide="short",
        pos="20",
        availPos="20",
        avgPx="3000",
        markPx="3100",
        mgnMode="isolated",
        margin="600",
        imr="",
        mmr="24.8",
        lever="10",
        liqPx="3283.1",
        notionalUsd="6200",
        upl="-200",
        uplRatio="-0.3333333333333333",
        mgnRatio="16.1290322580645161",
    )
    raw.update(fields)
    return raw


def okx_inverse_long(**fields: Any) -> Raw:
    """BTC-USD-SWAP cross long 100 contracts × 100 USD, amounts in BTC, no liquidation price."""
    raw = okx_raw(
        "BTC-USD-SWAP",
        ccy="BTC",
        pos="100",
        avgPx="60000",
        markPx="62000",
        imr="0.03225806",
        mmr="0.00064516",
        lever="5",
        liqPx="",
        notionalUsd="10000",
        upl="0.00537634",
        uplRatio="0.1666666",
    )
    raw.update(fields)
    return raw


def okx_position(raw: Raw) -> Raw:
    """ccxt's unified position for an OKX raw entry."""
    result: Raw = exchange("okx", OKX_MARKETS).parse_position(raw)
    return result


def okx_balance(summary: Raw | None = None, **fields: Any) -> Raw:
    """ccxt's unified balance from account/balance (single-currency margin by default)."""
    data: Raw = {
        "adjEq": "",
        "details": [
            _okx_detail("USDT", eq="12200", cash="11400", iso_eq="400", iso_upl="-200", upl="800"),
            _okx_detail(
                "BTC", eq="0.50537634", cash="0.5", iso_eq="", iso_upl="", upl="0.00537634"
            ),
        ],
        "imr": "",
        "isoEq": "400",
        "mgnRatio": "",
        "mmr": "",
        "notionalUsd": "",
        "ordFroz": "",
        "totalEq": "43533.33",
        "uTime": "1717100000000",
    }
    data["details"][0]["mmr"] = "124"
    data["details"][1]["mmr"] = "0.00064516"
    data.update(summary or {})
    data.update(fields)
    result: Raw = exchange("okx", OKX_MARKETS).parse_trading_balance(
        {"code": "0", "data": [data], "msg": ""}
    )
    return result


def _okx_detail(ccy: str, *, eq: str, cash: str, iso_eq: str, iso_upl: str, upl: str) -> Raw:
    usd = {"USDT": 1.0, "BTC": 62000.0}[ccy] * float(eq)
    return {
        "availBal": "",
        "availEq": eq,
        "cashBal": cash,
        "ccy": ccy,
        "crossLiab": "",
        "disEq": f"{usd:.2f}",
        "eq": eq,
        "eqUsd": f"{usd:.2f}",
        "frozenBal": "0",
        "interest": "",
        "isoEq": iso_eq,
        "isoLiab": "",
        "isoUpl": iso_upl,
        "liab": "",
        "maxLoan": "",
        "mgnRatio": "",
        "notionalLever": "",
        "ordFrozen": "0",
        "twap": "0",
        "uTime": "1717100000000",
        "upl": upl,
        "uplLiab": "",
    }
