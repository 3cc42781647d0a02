"""Cross-margin pools: multi-asset modes merge every stablecoin pool into one USD pool."""

from __future__ import annotations

from typing import Any

from engine.normalise import normalise


def _position(symbol: str, asset: str) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "contracts": 1.0,
        "contractSize": 1.0,
        "side": "long",
        "entryPrice": 100.0,
        "markPrice": 100.0,
        "info": {
            "positionSide": "BOTH",
            "positionAmt": "1",
            "isolatedMargin": "0",
            "marginAsset": asset,
            "notional": "100",
        },
    }


POSITIONS = [_position("BTC/USDT:USDT", "USDT"), _position("BTC/USDC:USDC", "USDC")]


def test_multi_assets_mode_puts_usdt_and_usdc_in_one_pool() -> None:
    """Binance Multi-Assets: only USD totals are reported, so both legs share the "USD" pool."""
    balance = {
        "info": {
            "multiAssetsMargin": True,
            "totalCrossWalletBalance": "1000",
            "totalMarginBalance": "1000",
            "totalMaintMargin": "5",
        }
    }
    snap = normalise("binanceusdm", POSITIONS, balance)
    assert list(snap.positions.pool) == ["USD", "USD"]


def test_single_asset_mode_keeps_one_pool_per_margin_asset() -> None:
    """Single-asset mode: USDT and USDC wallets are separate, so are the pools."""
    balance = {
        "info": {
            "assets": [
                {"asset": "USDT", "crossWalletBalance": "500", "marginBalance": "500"},
                {"asset": "USDC", "crossWalletBalance": "500", "marginBalance": "500"},
            ]
        }
    }
    snap = normalise("binanceusdm", POSITIONS, balance)
    assert list(snap.positions.pool) == ["USDT", "USDC"]
