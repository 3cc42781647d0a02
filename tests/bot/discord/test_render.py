"""Discord embeds (pure): every limit respected, nothing lost, user text kept in code blocks."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.chat.context import Reply
from bot.discord import render
from engine.alerts.events import AlertStatus, Chart, ConnectNotice, DigestNotice
from engine.alerts.rules import Severity
from tests.fakes.notices import alert_notice, item


def _inside(description: str) -> str:
    return description.removeprefix("```\n").removesuffix("\n```")


def test_a_long_table_fills_messages_within_every_limit() -> None:
    text = "\n".join(f"BTC/USDT:USDT long {i:>6} @ 60,000.0" for i in range(3000))
    messages = render.reply(Reply(text, table=True))
    assert len(messages) > 1
    for embeds in messages:
        assert len(embeds) <= render.EMBEDS_PER_MESSAGE
        assert sum(len(e["description"]) for e in embeds) <= render.MESSAGE_MAX
        assert all(len(e["description"]) <= render.DESCRIPTION_MAX for e in embeds)
    lines = [_inside(e["description"]) for embeds in messages for e in embeds]
    assert "\n".join(lines) == text


@given(st.text(max_size=12000))
def test_any_text_fits(text: str) -> None:
    for table in (True, False):
        for embeds in render.reply(Reply(text, table=table)):
            assert all(len(e["description"]) <= render.DESCRIPTION_MAX for e in embeds)
            assert sum(len(e["description"]) for e in embeds) <= render.MESSAGE_MAX


def test_backticks_typed_by_a_user_cannot_close_the_code_block() -> None:
    (embeds,) = render.reply(Reply("label ```@everyone``` end", table=True))
    assert embeds[0]["description"].count("```") == 2


def test_notice_colour_follows_severity_and_resolution() -> None:
    assert render.notice(alert_notice())["color"] == render.COLOURS[Severity.CRITICAL]
    warning = alert_notice(item(severity=Severity.WARNING))
    assert render.notice(warning)["color"] == render.COLOURS[Severity.WARNING]
    resolved = alert_notice(item(status=AlertStatus.RESOLVED))
    assert render.notice(resolved)["color"] == render.RESOLVED_COLOUR
    stated = render.notice(alert_notice(), "Acknowledged by ann")
    assert stated["footer"]["text"] == "Acknowledged by ann"
    assert len(stated["title"]) <= render.TITLE_MAX


def test_a_connect_notice_keeps_the_joining_name_in_a_code_block() -> None:
    """The join notice is a warning (orange), and the display name a user chose cannot be
    read as markdown."""
    embed = render.notice(ConnectNotice(1.0, "telegram", "9001", "**Ann** @everyone"))
    assert embed["title"] == "🔗 Telegram chat connected to your liqwatch user"
    assert embed["color"] == render.COLOURS[Severity.WARNING]
    assert embed["description"].startswith("```\n**Ann** @everyone (telegram id 9001)")


def _digest(text: str) -> DigestNotice:
    charts = tuple(Chart(f"{n}.png", f"Chart {n}", "") for n in ("exposure", "ladder", "equity"))
    return DigestNotice(1, 0.0, "Daily digest · 2 accounts · Mon 07 Dec 08:00 CET", text, charts)


def test_a_digest_is_its_text_then_its_charts_in_one_message_when_it_fits() -> None:
    """The header as the first embed's title, the body in a code block, then one embed per
    chart showing its attachment, all in one message."""
    (message,) = render.digest(_digest("Equity 20,542 USD"))
    assert message[0]["title"].endswith("Daily digest · 2 accounts · Mon 07 Dec 08:00 CET")
    assert _inside(message[0]["description"]) == "Equity 20,542 USD"
    assert [e["image"]["url"] for e in message[1:]] == [
        "attachment://exposure.png", "attachment://ladder.png", "attachment://equity.png",
    ]  # fmt: skip


def test_a_long_digest_sends_its_whole_text_first_and_the_charts_last() -> None:
    """A text past one message's 6000 characters is not cut: it goes first, every limit
    kept, and the charts (whose message carries the files) close the last message."""
    line = "binanceusdm  12,542  8.0x  +0  6.2%  SOL-PERP L 6.0%"
    text = "\n".join(f"desk-{n:03} {line}" for n in range(200))
    messages = render.digest(_digest(text))
    assert len(messages) >= 3
    for embeds in messages:
        assert len(embeds) <= render.EMBEDS_PER_MESSAGE
        assert sum(len(e.get("title", "")) + len(e.get("description", "")) for e in embeds) <= 6000
    shown = [_inside(e["description"]) for m in messages for e in m if "description" in e]
    assert "\n".join(shown) == text
    assert [("image" in e) for e in messages[-1][-3:]] == [True, True, True]
    assert not any("image" in e for m in messages[:-1] for e in m)
