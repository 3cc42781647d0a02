"""Hyperliquid reader: szi, max-leverage MMR, isolated marginUsed without uPnL, cross account."""

from __future__ import annotations

import math

import numpy as np

from engine.model import MarginMode
from tests.engine.normalise.helpers import account, read
from tests.engine.normalise.payloads import hyperliquid as h


def test_szi_sign_and_size() -> None:
    """A negative szi is a short of |szi| coins, priced at positionValue / |szi|."""
    p = read("hyperliquid", *h.positions())
    assert (p.side[1], p.qty[1], p.mark[1]) == (-1.0, 5.0, 3100.0)


def test_mmr_is_half_the_initial_rate_at_max_leverage() -> None:
    """maxLeverage 40 gives MMR = 1/80 and a maintenance of positionValue / 80."""
    p = read("hyperliquid", *h.positions())
    assert p.max_leverage[0] == 40.0 and p.mmr[0] == 1 / 80
    assert math.isclose(p.venue_maint_margin[0], 31000 / 80)


def test_isolated_wallet_excludes_unrealised_pnl() -> None:
    """Isolated marginUsed 1,000 with uPnL −500 is a wallet of 1,500."""
    p = read("hyperliquid", *h.positions())
    assert p.margin_mode[2] == MarginMode.ISOLATED and p.isolated_wallet[2] == 1500.0


def test_settles_in_usdc() -> None:
    """Every position settles in and draws on the USDC pool."""
    p = read("hyperliquid", *h.positions())
    assert set(p.pool) == {"USDC"} and set(p.settle_usd) == {1.0}


def test_missing_max_leverage_is_noted() -> None:
    """Without maxLeverage the MMR is unknown and the position says so."""
    state = h.clearinghouse_state()
    del state["assetPositions"][0]["position"]["maxLeverage"]
    p = read("hyperliquid", *h.positions(state))
    assert math.isnan(p.mmr[0]) and any("maxLeverage" in d for d in p.diagnostics[0])


def test_null_liquidation_px_is_none() -> None:
    """liquidationPx null is NaN."""
    state = h.clearinghouse_state()
    state["assetPositions"][0]["position"]["liquidationPx"] = None
    p = read("hyperliquid", *h.positions(state))
    assert math.isnan(p.venue_liq[0]) and p.valid[0]


def test_cross_leverage_derived_when_missing() -> None:
    """A cross position without leverage.value gets positionValue / marginUsed."""
    state = h.clearinghouse_state()
    del state["assetPositions"][0]["position"]["leverage"]["value"]
    p = read("hyperliquid", *h.positions(state))
    assert math.isclose(p.leverage[0], 10.0)


def test_account_is_the_cross_summary() -> None:
    """Account value and maintenance are the cross ones; the wallet excludes cross uPnL."""
    a = account("hyperliquid", h.balance())
    assert a.margin_balance["USDC"] == 8000.0 and a.maintenance_margin["USDC"] == 697.5
    assert a.wallet_balance["USDC"] == 7500.0


def test_account_without_summary_says_so() -> None:
    """A clearinghouseState without its summaries leaves the figures unknown, with notes."""
    a = account("hyperliquid", {"info": {"assetPositions": []}})
    assert not a.margin_balance and len(a.diagnostics) == 2


def test_liquidation_px_far_from_the_mark_is_kept() -> None:
    """The ETH short's liquidationPx 1,000,000 at a mark of 3,100 (an over-collateralised
    cross account) is the venue's price, not a sentinel."""
    state = h.clearinghouse_state()
    state["assetPositions"][1]["position"]["liquidationPx"] = "1000000.0"
    p = read("hyperliquid", *h.positions(state))
    np.testing.assert_allclose(p.venue_liq[1], 1_000_000.0)
