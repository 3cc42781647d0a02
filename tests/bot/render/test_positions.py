"""The text of accounts and positions: the advice sentence, the starred liquidation price and
the /positions and /risk blocks."""

from __future__ import annotations

from dataclasses import replace

from bot.render.positions import advice, liquidation, position_lines, positions_block, risk_block
from tests.bot.render.builders import ADVICE, BTC, account, position


def test_the_advice_sentence_names_both_ways_back_to_the_target() -> None:
    """Margin to add in its currency, or contracts to cut with their share of the position."""
    assert advice(ADVICE) == (
        "add 2,534.40 USDT margin or cut 112.605 contracts (56.3%) to reach 15.0%"
    )


def test_advice_with_unknown_figures_shows_dashes() -> None:
    """An amount the engine could not solve reads as a dash, never as 0 or 'nan'."""
    unknown = replace(ADVICE, margin_to_add=None, reduce_contracts=None, reduce_fraction=None)
    assert advice(unknown) == "add — USDT margin or cut — contracts (—) to reach 15.0%"


def test_a_liquidation_price_the_venue_did_not_report_is_starred() -> None:
    """The engine's own price carries a star; the venue's does not."""
    assert liquidation(position()) == "133.500"
    assert liquidation(position(exchange_liquidation_price=None)) == "133.500*"


def test_a_position_reads_as_two_short_lines() -> None:
    """Size, entry and leverage; then mark, liquidation, distance, chance in the horizon, uPnL."""
    assert position_lines(position(), 24) == [
        "SOL/USDT:USDT long 200 @ 150.000 · 10.0x",
        "  mark 142.000 liq 133.500 (5.99% away, P 22.1% in 24h) uPnL -1,600.00",
    ]


def test_without_volatility_the_chance_is_left_out() -> None:
    """No probability (no σ given): the distance stands alone."""
    second = position_lines(position(probability=None), 24)[1]
    assert second == "  mark 142.000 liq 133.500 (5.99% away) uPnL -1,600.00"


def test_positions_lists_every_position_under_the_header() -> None:
    """Two header lines, then two lines per position in the account's order."""
    lines = positions_block(account())
    assert lines[:2] == [
        "binanceusdm · equity 12,542 USD",
        "gross 59,400 · net +59,400 · lev 4.7x · margin 6.18%",
    ]
    assert [line.split()[0] for line in lines[2::2]] == ["SOL/USDT:USDT", "BTC/USDT:USDT"]


def test_an_account_without_positions_says_so() -> None:
    """The header, then one line instead of an empty table."""
    assert positions_block(account(exposure=(), positions=()))[2:] == ["no open positions"]


def test_risk_ranks_exposure_and_advises_the_nearest() -> None:
    """Exposure largest first; only the closest N positions, each with its advice."""
    lines = risk_block(account(BTC, position()), closest=1)
    assert lines[2:] == [
        "exposure (gross / net USD):",
        "  BTC        31,000 / +31,000",
        "  SOL        28,400 / +28,400",
        "closest to liquidation:",
        "  SOL/USDT:USDT long 200 @ 150.000 · 10.0x",
        "    mark 142.000 liq 133.500 (5.99% away, P 22.1% in 24h) uPnL -1,600.00",
        "    add 2,534.40 USDT margin or cut 112.605 contracts (56.3%) to reach 15.0%",
    ]
