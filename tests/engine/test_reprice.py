"""with_marks: what a streamed mark moves (hand-computed per contract type and margin mode)."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.analysis import analyze
from engine.liquidation import compute
from engine.model import Account, ContractType, MarginMode
from engine.normalise import Snapshot
from engine.reprice import with_marks
from tests.engine.builders import positions, snapshot

LIN, INV, OPT = int(ContractType.LINEAR), int(ContractType.INVERSE), int(ContractType.OPTION)
CROSS, ISO = int(MarginMode.CROSS), int(MarginMode.ISOLATED)
NAN = float("nan")


def _usdm(venue: str = "binanceusdm") -> Snapshot:
    """BTC long 0.5 and ETH short 10 in the USDT cross pool, an isolated SOL long of 100."""
    pos = positions(
        venue,
        symbol=["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"],
        underlying=["BTC", "ETH", "SOL"],
        settle=["USDT"] * 3,
        pool=["USDT"] * 3,
        side=[1.0, -1.0, 1.0],
        qty=[0.5, 10.0, 100.0],
        contracts=[0.5, 10.0, 100.0],
        entry=[60_000.0, 3_000.0, 150.0],
        mark=[60_000.0, 3_000.0, 150.0],
        mmr=[0.004, 0.005, 0.01],
        maint_amount=[0.0, 0.0, 0.0],
        margin_mode=[CROSS, CROSS, ISO],
        isolated_wallet=[NAN, NAN, 1_500.0],
        venue_upnl=[0.0, 0.0, 0.0],
        venue_liq=[45_000.0, 3_500.0, 136.0],
    )
    account = Account(
        venue,
        wallet_balance={"USDT": 10_000.0},
        margin_balance={"USDT": 11_500.0},
        maintenance_margin={"USDT": 300.0},
        usd_rate={"USDT": 1.0},
    )
    return snapshot(pos, account)


MOVE = {"BTC/USDT:USDT": 61_000.0, "SOL/USDT:USDT": 140.0}


def test_linear_marks_and_upnl_move_from_entry() -> None:
    """BTC 1·0.5·(61,000 − 60,000) = 500; SOL 1·100·(140 − 150) = −1,000; ETH not moved."""
    p = with_marks(_usdm(), MOVE).positions
    np.testing.assert_allclose(p.mark, [61_000.0, 3_000.0, 140.0])
    np.testing.assert_allclose(p.venue_upnl, [500.0, 0.0, -1_000.0])


def test_binance_balance_counts_cross_and_isolated_pnl() -> None:
    """marginBalance 11,500 + 500 − 1,000 = 11,000; maintMargin 300 + 0.5·1,000·0.004
    − 100·10·0.01 = 300 + 2 − 10 = 292 (Binance's asset figures count isolated positions)."""
    account = with_marks(_usdm(), MOVE).account
    np.testing.assert_allclose(account.margin_balance["USDT"], 11_000.0)
    np.testing.assert_allclose(account.maintenance_margin["USDT"], 292.0)
    assert account.wallet_balance == {"USDT": 10_000.0}


def test_cross_equity_venues_count_only_the_cross_pnl() -> None:
    """OKX's cross equity moves by the cross BTC's 500 alone: 12,000; its maintenance by the
    OKX formula's rate, MMR plus the 0.05 % base taker fee: 300 + 0.5·1,000·0.0045 = 302.25."""
    account = with_marks(_usdm("okx"), MOVE).account
    np.testing.assert_allclose(account.margin_balance["USDT"], 12_000.0)
    np.testing.assert_allclose(account.maintenance_margin["USDT"], 302.25)


def test_cross_venue_prices_are_dropped_and_isolated_ones_kept() -> None:
    """BTC moved: BTC's and ETH's cross prices (one pool) are dropped; SOL's isolated 136 is
    kept although SOL moved (it depends on entry, margin and maintenance only)."""
    p = with_marks(_usdm(), {"BTC/USDT:USDT": 61_000.0}).positions
    np.testing.assert_array_equal(p.venue_liq, [NAN, NAN, 136.0])
    p = with_marks(_usdm(), {"SOL/USDT:USDT": 140.0}).positions
    np.testing.assert_array_equal(p.venue_liq, [45_000.0, 3_500.0, 136.0])


def test_a_cross_pool_without_a_moved_position_keeps_its_prices() -> None:
    """A BTC-settled pool is not moved by a USDT-pool tick."""
    base = _usdm()
    pos = base.positions
    pool = ["USDT", "BTC", "USDT"]
    moved = snapshot(
        positions(
            "binanceusdm",
            symbol=list(pos.symbol),
            underlying=list(pos.underlying),
            pool=pool,
            side=pos.side,
            qty=pos.qty,
            entry=pos.entry,
            mark=pos.mark,
            mmr=pos.mmr,
            margin_mode=pos.margin_mode,
            isolated_wallet=pos.isolated_wallet,
            venue_liq=pos.venue_liq,
        ),
        base.account,
    )
    p = with_marks(moved, {"BTC/USDT:USDT": 61_000.0}).positions
    np.testing.assert_array_equal(p.venue_liq, [NAN, 3_500.0, 136.0])


def _coinm() -> Snapshot:
    """A COIN-M BTC long of 10 contracts × 100 USD at 50,000, cross, MMR 0.5 %."""
    pos = positions(
        "binancecoinm",
        symbol=["BTC/USD:BTC"],
        underlying=["BTC"],
        settle=["BTC"],
        pool=["BTC"],
        kind=[INV],
        side=[1.0],
        contracts=[10.0],
        contract_size=[100.0],
        qty=[1_000.0],
        entry=[50_000.0],
        mark=[50_000.0],
        mmr=[0.005],
        maint_amount=[0.0],
        venue_upnl=[0.0],
        venue_liq=[25_000.0],
        settle_usd=[50_000.0],
    )
    account = Account(
        "binancecoinm",
        wallet_balance={"BTC": 1.0},
        margin_balance={"BTC": 1.0},
        maintenance_margin={"BTC": 0.0001},
        usd_rate={"BTC": 50_010.0},
    )
    return snapshot(pos, account)


def test_inverse_upnl_balance_and_coin_value_move() -> None:
    """1,000·(1/50,000 − 1/40,000) = −0.005 BTC; balance 1 − 0.005 = 0.995 BTC; maintenance
    1,000/40,000·0.005 = 0.000125 (was 0.0001); the coin is worth its new mark, 40,000 USD."""
    moved = with_marks(_coinm(), {"BTC/USD:BTC": 40_000.0})
    np.testing.assert_allclose(moved.positions.venue_upnl, [-0.005])
    np.testing.assert_allclose(moved.account.margin_balance["BTC"], 0.995)
    np.testing.assert_allclose(moved.account.maintenance_margin["BTC"], 0.000125)
    np.testing.assert_allclose(moved.positions.settle_usd, [40_000.0])
    assert moved.account.usd_rate == {"BTC": 40_000.0}
    np.testing.assert_array_equal(moved.positions.venue_liq, [NAN])


def _deribit() -> Snapshot:
    """A BTC perpetual (inverse, 10,000 USD long at 60,000) and a BTC call (2 coins long,
    entry 0.05 BTC, mark 0.06 BTC, uPnL 2·0.01 = 0.02 BTC), settle at the index 60,000."""
    pos = positions(
        "deribit",
        symbol=["BTC/USD:BTC", "BTC/USD:BTC-250627-60000-C"],
        underlying=["BTC", "BTC"],
        settle=["BTC", "BTC"],
        pool=["BTC", "BTC"],
        kind=[INV, OPT],
        side=[1.0, 1.0],
        qty=[10_000.0, 2.0],
        contracts=[10_000.0, 2.0],
        entry=[60_000.0, 0.05],
        mark=[60_000.0, 0.06],
        mmr=[0.01, NAN],
        venue_upnl=[0.0, 0.02],
        venue_maint_margin=[NAN, 0.01],
        settle_usd=[60_000.0, 60_000.0],
    )
    account = Account("deribit", margin_balance={"BTC": 1.0}, maintenance_margin={"BTC": 0.01})
    return snapshot(pos, account)


def test_an_option_whose_symbol_did_not_move_is_untouched() -> None:
    """The perpetual moves to 66,000: the call keeps its mark 0.06 and uPnL 0.02; only its
    settle coin's value (66,000) moves, for both."""
    p = with_marks(_deribit(), {"BTC/USD:BTC": 66_000.0}).positions
    np.testing.assert_allclose(p.mark, [66_000.0, 0.06])
    np.testing.assert_allclose(p.venue_upnl[1], 0.02)
    np.testing.assert_allclose(p.settle_usd, [66_000.0, 66_000.0])


def test_an_option_whose_symbol_moved_shifts_by_its_premium() -> None:
    """Call to 0.07: uPnL 0.02 + 2·0.01 = 0.04 BTC, the balance 1 + 0.02 = 1.02 BTC; an option's
    premium prices no coin, so the settle value stays 60,000."""
    moved = with_marks(_deribit(), {"BTC/USD:BTC-250627-60000-C": 0.07})
    np.testing.assert_allclose(moved.positions.venue_upnl, [0.0, 0.04])
    np.testing.assert_allclose(moved.account.margin_balance["BTC"], 1.02)
    np.testing.assert_allclose(moved.positions.settle_usd, [60_000.0, 60_000.0])


def _entryless(kind: int, side: float) -> Snapshot:
    qty, mark, upnl = (2.0, 1_000.0, 100.0) if kind == LIN else (1_000.0, 50_000.0, 0.001)
    pos = positions(
        "kraken", kind=[kind], side=[side], qty=[qty], mark=[mark], venue_upnl=[upnl], mmr=[0.01]
    )
    return snapshot(pos)


def test_without_an_entry_the_venue_upnl_shifts_by_the_move() -> None:
    """Linear long 2 from 1,000 to 1,010: 100 + 2·10 = 120; short: 100 − 20 = 80. Inverse long
    1,000 USD from 50,000 to 40,000: 0.001 + 1,000·(1/50,000 − 1/40,000) = −0.004 BTC."""
    move = {"BTC/USDT:USDT": 1_010.0}
    np.testing.assert_allclose(with_marks(_entryless(LIN, 1.0), move).positions.venue_upnl, [120])
    np.testing.assert_allclose(with_marks(_entryless(LIN, -1.0), move).positions.venue_upnl, [80])
    inverse = with_marks(_entryless(INV, 1.0), {"BTC/USDT:USDT": 40_000.0})
    np.testing.assert_allclose(inverse.positions.venue_upnl, [-0.004])


def _hyperliquid() -> Snapshot:
    """ETH long 2 at 3,000 and BTC short 0.1 at 60,000, cross, max leverage 50 (MMR 1 %)."""
    pos = positions(
        "hyperliquid",
        symbol=["ETH/USDC:USDC", "BTC/USDC:USDC"],
        underlying=["ETH", "BTC"],
        settle=["USDC", "USDC"],
        pool=["USDC", "USDC"],
        side=[1.0, -1.0],
        qty=[2.0, 0.1],
        entry=[3_000.0, 60_000.0],
        mark=[3_000.0, 60_000.0],
        mmr=[0.01, 0.01],
        max_leverage=[50.0, 50.0],
        venue_upnl=[0.0, 0.0],
    )
    account = Account(
        "hyperliquid", margin_balance={"USDC": 5_000.0}, maintenance_margin={"USDC": 100.0}
    )
    return snapshot(pos, account)


def test_hyperliquid_maintenance_moves_at_its_flat_rate() -> None:
    """ETH to 3,300: uPnL 2·300 = 600 → account value 5,600; maintenance 2·300·1 % = 6 → 106."""
    account = with_marks(_hyperliquid(), {"ETH/USDC:USDC": 3_300.0}).account
    np.testing.assert_allclose(account.margin_balance["USDC"], 5_600.0)
    np.testing.assert_allclose(account.maintenance_margin["USDC"], 106.0)


def test_cross_reprices_equal_the_stress_path() -> None:
    """The engine re-solves a moved snapshot exactly as it prices shocked marks: each cross
    formula's outside terms are what the poll gave (Hyperliquid, Binance, OKX, COIN-M)."""
    cases: list[tuple[Snapshot, dict[str, float], bool]] = [
        (_hyperliquid(), {"ETH/USDC:USDC": 3_300.0}, True),
        (_usdm(), MOVE, True),
        (_usdm("okx"), MOVE, True),
        # A lone cross position's price does not depend on its own mark.
        (_coinm(), {"BTC/USD:BTC": 40_000.0}, False),
    ]
    for snap, marks, shared in cases:
        moved = with_marks(snap, marks)
        want = compute(snap, mark=moved.positions.mark).price
        np.testing.assert_allclose(compute(moved).price, want, rtol=1e-12)
        assert np.array_equal(want, compute(snap).price, equal_nan=True) != shared


def test_no_marks_or_the_polls_own_marks_change_nothing() -> None:
    """``with_marks(s, {})`` and ``with_marks(s, own marks)`` are ``s``; so is a mark that is
    not positive and finite, or one for a symbol the account does not hold."""
    for snap in (_usdm(), _coinm(), _deribit(), _hyperliquid()):
        own = dict(zip(snap.positions.symbol, snap.positions.mark.tolist(), strict=True))
        assert with_marks(snap, {}) is snap
        assert with_marks(snap, own) is snap
        junk = {s: v for s, v in zip(own, (0.0, -1.0, NAN, float("inf")), strict=False)}
        assert with_marks(snap, {**junk, "DOGE/USDT:USDT": 0.1}) is snap


def _same(a: Any, b: Any) -> None:
    for name in ("liquidation_price", "upnl", "distance_pct", "probability", "margin_ratio"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.portfolio.equity_usd == b.portfolio.equity_usd or np.isnan(a.portfolio.equity_usd)


def test_analysis_of_the_unmoved_snapshot_is_the_polls() -> None:
    """``analyze(with_marks(s, {}))`` and with the poll's own marks equal ``analyze(s)``."""
    snap = _usdm()
    own = dict(zip(snap.positions.symbol, snap.positions.mark.tolist(), strict=True))
    vol = {"BTC": 0.6, "ETH": 0.7, "SOL": 0.9}
    base = analyze(snap, volatility=vol)
    _same(analyze(with_marks(snap, {}), volatility=vol), base)
    _same(analyze(with_marks(snap, own), volatility=vol), base)


def test_the_moved_analysis_reads_the_new_marks() -> None:
    """After the tick, analyze's uPnL and distance use 61,000: BTC uPnL 500, and the engine's
    own cross price replaces the dropped venue price."""
    moved = analyze(with_marks(_usdm(), MOVE))
    np.testing.assert_allclose(moved.upnl, [500.0, 0.0, -1_000.0])
    np.testing.assert_allclose(moved.liquidation_price[:2], moved.computed.price[:2])
    np.testing.assert_allclose(moved.liquidation_price[2], 136.0)
