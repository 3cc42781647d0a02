"""The one button codec: what every adapter writes under an alert is what a press decodes to,
and a payload nobody wrote (a client can send any callback data) decodes to nothing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.chat.buttons import MAX_BYTES, Press, decode, encode, outbox_id
from bot.chat.context import Action


@pytest.mark.parametrize("action", list(Action))
@given(outbox=st.integers(0, 10**18 - 1), account=st.integers(0, 10**18 - 1))
def test_every_button_decodes_to_what_it_encodes(action: Action, outbox: int, account: int) -> None:
    """Ack and snooze carry the outbox row, show-positions the account, within Telegram's
    64 bytes of callback data."""
    payload = encode(action, outbox_id=outbox, account_id=account)
    expected = account if action is Action.POSITIONS else outbox
    assert decode(payload) == Press(action, expected)
    assert len(payload.encode()) <= MAX_BYTES


@pytest.mark.parametrize(
    "payload",
    [
        "", ":", "ack", "ack:", ":12", "ack:12:3", "ack 12", " ack:12", "ack:12 ", "ACK:12",
        "ack:-1", "ack:+1", "ack:1e3", "ack:1_000", "ack:0x1f", "ack:012", "ack:١٢",
        "ack:" + "9" * 19, "rm -rf:x", "del:12", "pos:12\n", "ack:12\x00", "a" * 65,
        "snz:" + "1" * 100,
    ],
)  # fmt: skip
def test_a_payload_nobody_wrote_is_not_a_button(payload: str) -> None:
    """Unknown actions, signs, exponents, other digits, padding, extra parts and ids past
    what a database row holds (18 digits) are all refused, never read as something close."""
    assert decode(payload) is None


@pytest.mark.parametrize("data", [None, 12, b"ack:12", ["ack:12"]])
def test_a_payload_that_is_not_text_is_not_a_button(data: object) -> None:
    """Platforms may hand over whatever a client sent: only text decodes."""
    assert decode(data) is None


def test_the_outbox_row_is_read_back_from_an_alert_messages_own_buttons() -> None:
    """Show-positions names an account, not the row: the ack or snooze button says the row;
    a message left with neither (or with garbage) names none."""
    row = [encode(a, outbox_id=41, account_id=7) for a in (Action.POSITIONS, Action.SNOOZE)]
    assert outbox_id(row) == 41
    assert outbox_id([encode(Action.POSITIONS, outbox_id=41, account_id=7), "ack:x", None]) == 0
