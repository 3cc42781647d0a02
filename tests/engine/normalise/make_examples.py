"""Regenerates examples/binanceusdm.json, hyperliquid.json and deribit_options.json from raw venue
payloads.

Run ``.venv/bin/python -m tests.engine.normalise.make_examples``: every position, balance and
tier in the files is what the real ccxt parser makes of the raw responses in ``payloads``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.engine.normalise.payloads import binance, deribit_options, hyperliquid

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

#: Annualised volatility per symbol (typical realised levels; the analysis horizon is 24 h).
USDM_VOLATILITY = {
    "BTC/USDT:USDT": 0.55,
    "ETH/USDT:USDT": 0.7,
    "SOL/USDT:USDT": 0.95,
    "XRP/USDT:USDT": 0.9,
}
HL_VOLATILITY = {"BTC/USDC:USDC": 0.55, "ETH/USDC:USDC": 0.7, "SOL/USDC:USDC": 0.95}


def binanceusdm_snapshot() -> dict[str, Any]:
    """The USDⓈ-M account: cross BTC long, cross ETH short, isolated SOL long, XRP hedge pair."""
    return {
        "exchange": "binanceusdm",
        "positions": binance.usdm_positions(),
        "balance": binance.usdm_balance(),
        "leverage_tiers": binance.usdm_tiers(),
        "volatility": USDM_VOLATILITY,
        "horizon_hours": 24,
    }


def hyperliquid_snapshot() -> dict[str, Any]:
    """The wallet: cross BTC long, cross ETH short, isolated SOL long (settled in USDC)."""
    return {
        "exchange": "hyperliquid",
        "positions": hyperliquid.positions(),
        "balance": hyperliquid.balance(),
        "leverage_tiers": {},
        "volatility": HL_VOLATILITY,
        "horizon_hours": 24,
    }


def deribit_options_snapshot() -> dict[str, Any]:
    """A BTC-margined Deribit book: a short straddle hedged by the inverse perpetual, with the
    poll's time, the options' markets and ccxt's greeks (payloads.deribit_options)."""
    return deribit_options.snapshot()


def render(snapshot: dict[str, Any]) -> str:
    """The file text: stable key order and a trailing newline, so regeneration diffs cleanly."""
    return json.dumps(snapshot, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    """Write both example files."""
    EXAMPLES.mkdir(exist_ok=True)
    for name, snapshot in (
        ("binanceusdm.json", binanceusdm_snapshot()),
        ("hyperliquid.json", hyperliquid_snapshot()),
        ("deribit_options.json", deribit_options_snapshot()),
    ):
        (EXAMPLES / name).write_text(render(snapshot), encoding="utf-8")
        print(f"wrote {EXAMPLES / name}")


if __name__ == "__main__":
    main()
