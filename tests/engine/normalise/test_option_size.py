"""An OKX option's contract size (issue 19 follow-up): ccxt's position contractSize is ctVal (1)
without the multiplier ctMult (0.01 BTC), so the OKX reader sizes the option from
notionalUsd / idxPx = 475,000 / 95,000 / 500 contracts = 0.01 BTC. That it differs from ccxt's
is a note only where the option's market does not confirm it (ctVal 1 × ctMult 0.01 = 0.01):
the monitor's snapshot carries the market, and the note on every OKX option was noise there.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.normalise import normalise
from tests.engine.normalise.payloads import options as o


def _size_notes(markets: dict[str, Any] | None) -> tuple[float, list[str]]:
    """The put's size in BTC and its contract-size notes, normalised with ``markets``."""
    snapshot = normalise("okx", [o.okx_option()], markets=markets)
    positions = snapshot.positions
    notes = [d for d in positions.diagnostics[0] if "contract size" in d]
    return float(positions.qty[0]), notes


def _market(multiplier: str) -> dict[str, Any]:
    market = dict(o.MARKETS["okx"][o.PUT])
    return {o.PUT: {**market, "info": {"ctMult": multiplier}}}


def test_the_market_confirming_the_size_leaves_no_note() -> None:
    """ccxt's position says 1, the market 1 × 0.01: the 0.01 from notionalUsd / idxPx stands,
    confirmed, without a note."""
    assert o.okx_option()["contractSize"] == 1  # ccxt's, without ctMult
    qty, notes = _size_notes(_market("0.01"))
    assert qty == pytest.approx(5.0)
    assert notes == []


def test_no_market_keeps_the_note() -> None:
    """A snapshot without the option's market (an old file): nothing confirms 0.01."""
    qty, notes = _size_notes(None)
    assert qty == pytest.approx(5.0)
    assert notes == [
        "contract size 0.01 from the position's figures (ccxt: 1): no market lists the option"
    ]


def test_a_market_disagreeing_keeps_the_note_with_its_size() -> None:
    """The market says 1 × 0.1 = 0.1 BTC a contract where notionalUsd / idxPx gives 0.01: the
    position's figures are kept (they are what OKX values the position at), and both named."""
    qty, notes = _size_notes(_market("0.1"))
    assert qty == pytest.approx(5.0)
    assert notes == [
        "contract size 0.01 from the position's figures (ccxt: 1): its market lists 0.1 "
        "(contractSize × ctMult)"
    ]


def test_a_size_ccxt_already_gives_is_never_noted() -> None:
    """Bybit's and Deribit's options: ccxt's contractSize is the size the readers keep, with or
    without the market."""
    for markets in (None, o.MARKETS["bybit"]):
        snapshot = normalise("bybit", [o.bybit_option()], markets=markets)
        assert not [d for d in snapshot.positions.diagnostics[0] if "contract size" in d]
    snapshot = normalise("deribit", o.deribit_book(), markets=o.MARKETS["deribit"])
    for notes in snapshot.positions.diagnostics:
        assert not [d for d in notes if "contract size" in d]
