"""How the option alert kinds read in a notice, the /alert help, the outbox payload, a silence
and a backtest rules file (issue 19 part 4)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from bot.backtest.run import load_rules
from bot.chat.commands.alerts import RULE_HELP
from bot.errors import UserError
from bot.render.notices import render
from engine.alerts.events import (
    VENUE_PM,
    AlertStatus,
    Reason,
    from_payload,
    to_payload,
)
from engine.alerts.phrases import parse_matchers
from engine.alerts.policy import Silence
from engine.alerts.rules import Kind, Op, Severity
from tests.fakes.notices import alert_notice, item


def _line(**overrides: object) -> str:
    """The one item line of a notice holding ``item(**overrides)``."""
    return render(alert_notice(item(**overrides))).splitlines()[1].strip()


def test_net_delta_reads_signed_in_usd_under_its_underlying() -> None:
    """A net short: −61,200 USD below −50,000, the underlying as the subject, worst signed."""
    line = _line(
        kind=Kind.DELTA, op=Op.BELOW, threshold=-50_000.0, symbol="BTC", side=None,
        value=-61_200.0, worst=-64_000.0,
    )  # fmt: skip
    assert line == (
        "CRITICAL #12 BTC — net delta -61,200 USD (< -50,000 USD), worst -64,000 USD, firing 4m"
    )


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        (Kind.GAMMA, "net gamma per 1% move +1,440.00 USD (> 1,000 USD)"),
        (Kind.VEGA, "net vega per vol point +1,440.00 USD (> 1,000 USD)"),
    ],
)
def test_gamma_and_vega_say_their_units(kind: Kind, words: str) -> None:
    """Gamma is USD of delta per 1 % move, vega USD per vol point: the line says which."""
    line = _line(kind=kind, op=Op.ABOVE, threshold=1_000.0, symbol="ETH", side=None, value=1_440.0)
    assert f"#12 ETH — {words}" in line


def test_an_expiry_line_names_the_option_its_size_and_the_time_left() -> None:
    """Symbol, side, size in coins of the underlying, then the time left (no "worst": it is
    always the latest)."""
    line = _line(
        kind=Kind.EXPIRY, op=Op.BELOW, threshold=24.0, symbol="BTC/USD:BTC-240628-64000-P",
        side="short", size=3.0, base="BTC", value=5.5, worst=5.5,
    )  # fmt: skip
    assert line == (
        "CRITICAL #12 BTC/USD:BTC-240628-64000-P short 3 BTC — expires in 5h 30m (< 24h), firing 4m"
    )


def test_a_resolved_expiry_says_how_long_it_fired() -> None:
    """Resolved (the option expired or was closed): the resolved header and the duration."""
    text = render(
        alert_notice(
            item(
                kind=Kind.EXPIRY, op=Op.BELOW, threshold=24.0, symbol="BTC/USD:BTC-240628-64000-C",
                side="long", size=2.0, base="BTC", value=0.2, status=AlertStatus.RESOLVED,
                reason=Reason.RESOLVED, duration_s=20 * 3600.0,
            )
        )
    )  # fmt: skip
    assert text.splitlines()[0].startswith("✅ RESOLVED")
    assert "long 2 BTC — expires in 12m (< 24h), lasted 20h" in text


def test_the_venues_portfolio_margin_ratio_is_named_as_such() -> None:
    """A margin item on the venue's ratio says so; the engine's own does not."""
    common = dict(kind=Kind.MARGIN, op=Op.ABOVE, threshold=80.0, symbol=None, side=None)
    venue = _line(**common, value=85.0, basis=VENUE_PM)
    assert "account — margin ratio (the venue's portfolio-margin ratio) 85.0% (> 80%)" in venue
    assert "portfolio-margin" not in _line(**common, value=85.0)


def test_the_new_fields_survive_the_outbox_and_old_rows_still_read() -> None:
    """size, base and basis round-trip through the payload; a row stored before them reads
    with their defaults."""
    notice = alert_notice(item(kind=Kind.EXPIRY, size=2.0, base="BTC", basis=""))
    assert from_payload(to_payload(notice)) == notice
    old = to_payload(alert_notice())
    for key in ("size", "base", "basis"):
        del old["items"][0][key]
    assert from_payload(old) == alert_notice()
    assert asdict(alert_notice())["items"][0]["basis"] == ""


def test_the_alert_help_names_every_kind() -> None:
    """/alert's help lists every kind the grammar takes."""
    assert all(kind.value in RULE_HELP for kind in Kind)


def test_a_silence_matches_an_underlyings_alert_by_kind_and_symbol() -> None:
    """kind=delta symbol=BTC mutes BTC's delta alert (its labels: symbol BTC)."""
    silence = Silence(1, 1, parse_matchers("kind=delta symbol=btc"), 0.0, 1e12)
    labels = {"kind": "delta", "severity": "warning", "account": "main", "rule": "3",
              "symbol": "BTC", "base": "BTC"}  # fmt: skip
    assert silence.matches(labels)
    assert not silence.matches({**labels, "kind": "vega"})


def test_a_backtest_rules_file_with_option_kinds_is_refused_in_one_sentence(
    tmp_path: Path,
) -> None:
    """`liqwatch backtest --rules FILE`: the file's delta and expiry rules are named, and why."""
    rules = tmp_path / "rules.txt"
    rules.write_text("liq<5% critical\ndelta>50k BTC\nexpiry<24h  # options\n", encoding="utf-8")
    with pytest.raises(UserError) as caught:
        load_rules(str(rules))
    message = str(caught.value)
    assert message.startswith("rules.txt: a backtest replays the marks of perpetuals")
    assert "cannot model delta, expiry rules" in message and message.count(". ") == 0
    rules.write_text("liq<5% critical\n", encoding="utf-8")
    assert [(r.kind, r.severity) for r in load_rules(str(rules))] == [(Kind.LIQ, Severity.CRITICAL)]
