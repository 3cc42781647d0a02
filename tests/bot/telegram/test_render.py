"""Telegram HTML rendering (pure): escaping, splitting within 4096, buttons within 64 bytes."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from bot.chat.context import Action, Reply, actions_for
from bot.telegram import render
from engine.alerts.events import AlertStatus, ConnectNotice
from tests.fakes.notices import alert_notice, item


def _visible(chunk: str) -> str:
    return html.unescape(re.sub(r"</?pre>", "", chunk))


def test_a_long_table_splits_between_lines_into_valid_pre_blocks() -> None:
    text = "\n".join(f"BTC/USDT:USDT long {i:>6} @ 60,000.0 <&>" for i in range(2000))
    out = render.reply(Reply(text, table=True))
    assert len(out) > 1
    assert all(len(c) <= render.MAX_CHARS for c in out)
    assert all(c.startswith("<pre>") and c.endswith("</pre>") for c in out)
    assert "\n".join(_visible(c) for c in out) == text  # nothing lost, nothing reordered


@given(st.text(min_size=0, max_size=9000))
def test_any_text_fits_and_survives(text: str) -> None:
    """Whatever a reply holds, each message fits the limit and the text comes back whole
    (a line longer than a message is cut into pieces, so only line breaks may be added)."""
    for table in (False, True):
        out = render.chunks(text, table=table, limit=500)
        assert all(len(c) <= 500 for c in out)
        joined = "".join(_visible(c).replace("\n", "") for c in out)
        assert joined == text.replace("\n", "")


def test_a_notice_escapes_what_came_from_users() -> None:
    notice = alert_notice(account_label="<b>desk</b>", venue="a&b")
    out = render.notice(notice, state="Acknowledged by <i>Eve</i>")
    assert out.count("<b>") == 1 and out.count("<i>") == 1  # only the markup we wrote
    assert "&lt;b&gt;desk&lt;/b&gt;" in out and "a&amp;b" in out
    assert "&lt;i&gt;Eve&lt;/i&gt;" in out


def test_buttons_fit_telegrams_callback_data_limit() -> None:
    notice = alert_notice()
    actions = actions_for(notice)
    assert actions == (Action.ACK, Action.SNOOZE, Action.POSITIONS)
    buttons = render.buttons(actions, outbox_id=10**12, account_id=10**12)
    assert all(len(b.data.encode()) <= 64 for b in buttons)
    resolved = alert_notice(item(status=AlertStatus.RESOLVED))
    assert actions_for(resolved) == (Action.POSITIONS,)


def test_a_connect_notice_is_a_bold_headline_and_escaped_prose() -> None:
    """The join notice: no table, and the joining chat's display name escaped."""
    notice = ConnectNotice(1.0, "discord", "55", "<b>mallory</b> & co")
    out = render.notice(notice)
    assert out.startswith("<b>🔗 Discord chat connected to your liqwatch user</b>\n")
    assert "<pre>" not in out and out.count("<b>") == 1
    assert "&lt;b&gt;mallory&lt;/b&gt; &amp; co (discord id 55)" in out
