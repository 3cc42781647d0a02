"""Rule specs: which positions a rule watches."""

from __future__ import annotations

from engine.alerts.rules import Kind, RuleSpec


def test_a_rule_covers_a_position_by_full_symbol_or_base_and_all_without_symbols() -> None:
    """``BTC`` matches BTC/USDT:USDT and BTC/USD:BTC, in any case; a rule without symbols
    watches every position; ETH is not BTC."""
    btc = RuleSpec(Kind.LIQ, symbols=("btc",))
    assert btc.covers("BTC/USDT:USDT", "BTC") and btc.covers("BTC/USD:BTC", "btc")
    assert not btc.covers("ETH/USDT:USDT", "ETH")
    assert RuleSpec(Kind.LIQ, symbols=("ETH/USDT:USDT",)).covers("eth/usdt:usdt", None)
    assert RuleSpec(Kind.LIQ).covers(None, None)
