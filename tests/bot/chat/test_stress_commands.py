"""/stress with a vol shock, /stress grid and /chart stress: their records and refusals."""

from __future__ import annotations

import pytest

from bot.chat.commands.parse import (
    ShowChart,
    ShowStressChart,
    ShowStressGrid,
    StressTest,
    parse,
)
from bot.errors import UserError
from engine.stress_options import VolShock


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("/stress BTC -10% vol +20%", StressTest("BTC", -10.0, VolShock(20.0))),
        ("/stress BTC -10% VOL -20 %", StressTest("BTC", -10.0, VolShock(-20.0))),
        ("/stress -5% vol +5pt", StressTest(None, -5.0, VolShock(5.0, points=True))),
        ("/stress eth 3 vol -2.5 pts", StressTest("ETH", 3.0, VolShock(-2.5, points=True))),
        ("/stress BTC -10% vol -100%", StressTest("BTC", -10.0, VolShock(-100.0))),
        # Discord's options arrive without the keyword, and its subcommand names the verb.
        ("/stress shock -10% BTC +20%", StressTest("BTC", -10.0, VolShock(20.0))),
        ("/stress shock -10% +20pt", StressTest(None, -10.0, VolShock(20.0, points=True))),
        ("/stress shock -10% BTC", StressTest("BTC", -10.0)),
        ("/stress shock -10%", StressTest(None, -10.0)),
        ("/stress grid", ShowStressGrid()),
        ("/stress Grid btc", ShowStressGrid("BTC")),
        ("/chart stress", ShowStressChart()),
        ("/chart stress eth", ShowStressChart("ETH")),
        ("/chart ladder main", ShowChart("ladder", "main")),
    ],
)
def test_stress_forms(text: str, command: object) -> None:
    """A relative vol shock ends in %, one in vol points in pt; the asset is upper-cased."""
    assert parse(text) == command


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("/stress BTC -10% vol -120%", "Vol shock -120% would make volatility negative."),
        ("/stress BTC -10% vol +20", "'+20' needs a unit: +20% (relative) or +20pt (vol points)."),
        ("/stress BTC -10% vol", "Give one vol shock after 'vol', like vol +20% or vol +20pt."),
        ("/stress BTC -10% vol up", "'up' is not a vol shock like +20% or +20pt."),
        ("/stress BTC -10% vol +2000%", "The vol shock must be within ±1000."),
        ("/stress -10% +20", "'+20' needs a unit: +20% (relative) or +20pt (vol points)."),
        ("/stress -10 BTC", "'BTC' is not a price move like -10%."),
        ("/stress grid BTC ETH", "/stress got more than it takes."),
        ("/stress grid B/C", "'B/C' is not an asset like BTC."),
        ("/chart stress 12", "'12' is not an asset like BTC."),
        ("/chart heat", "'heat' is not a chart: exposure, ladder, equity or stress."),
    ],
)
def test_malformed_stress_is_one_sentence_and_the_usage(text: str, problem: str) -> None:
    """The first line names the problem; the second is the command's usage."""
    with pytest.raises(UserError) as refused:
        parse(text)
    first, usage = str(refused.value).split("\n")
    assert first == problem
    assert usage.startswith(("Usage: /stress [asset] <±pct> [vol", "Usage: /chart "))
