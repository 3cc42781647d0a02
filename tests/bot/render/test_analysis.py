"""The `liqwatch analyze` table, rendered from hand-built views (stress: test_stress_render)."""

from __future__ import annotations

from bot.render.analysis import analysis_text
from bot.render.positions import advice
from tests.bot.render.builders import ADVICE, BTC, account, position


def test_the_table_advises_with_the_same_sentence_as_the_chat() -> None:
    """The advice line is the position, its distance, then the one advice sentence."""
    text = analysis_text(account())
    advice_lines = text.split("Advice:\n")[1].splitlines()
    assert advice_lines[0] == ("SOL/USDT:USDT long: 5.99% from liquidation — " + advice(ADVICE))


def test_a_computed_price_is_starred_and_explained() -> None:
    """The star in the LIQ column gets a footnote; without one there is no footnote."""
    starred = analysis_text(account(position(exchange_liquidation_price=None), BTC))
    assert "133.500*" in starred
    assert "* computed by liqwatch (the venue reported none)" in starred
    assert "computed by liqwatch" not in analysis_text(account())


def test_the_header_reads_margin_ratio_as_a_percentage() -> None:
    """0.0618 of the margin balance is maintenance: 6.18 %, liquidation at 100 %."""
    header = analysis_text(account()).splitlines()[:2]
    assert header == [
        "binanceusdm — equity 12,542 USD · gross 59,400 · net +59,400",
        "effective leverage 4.7x · margin ratio 6.18% (maintenance / margin balance; "
        "liquidation at 100%)",
    ]
