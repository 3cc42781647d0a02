"""The payload of a button under an alert message (``ack:12``, ``snz:12``, ``pos:3``): the
one codec every adapter encodes buttons with and decodes presses with.

Ack and snooze name the outbox row the alert message came from (its alerts); "show positions"
names the account. A press is untrusted input (a client can send any callback data), so
anything ``encode`` would not have written decodes to None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.chat.context import Action

#: Telegram's limit on callback data; every payload here is far below it.
MAX_BYTES = 64
_PAYLOAD = re.compile(r"(?P<action>[a-z]{1,8}):(?P<id>0|[1-9][0-9]{0,17})")


@dataclass(frozen=True)
class Press:
    """A decoded button: what it does, and the outbox row or account id it names."""

    action: Action
    id: int


def encode(action: Action, *, outbox_id: int, account_id: int) -> str:
    """The payload of ``action``'s button under the alert message from outbox row
    ``outbox_id`` about account ``account_id``."""
    return f"{action.value}:{account_id if action is Action.POSITIONS else outbox_id}"


def decode(data: object) -> Press | None:
    """The button a payload names; None for anything ``encode`` does not write."""
    if not isinstance(data, str) or len(data.encode()) > MAX_BYTES:
        return None
    match = _PAYLOAD.fullmatch(data)
    if match is None or match["action"] not in {a.value for a in Action}:
        return None
    return Press(Action(match["action"]), int(match["id"]))


def outbox_id(payloads: Iterable[object]) -> int:
    """The outbox row behind an alert message, read back from its own buttons' payloads
    (its ack or snooze button); 0 when it has neither."""
    for data in payloads:
        press = decode(data)
        if press is not None and press.action in (Action.ACK, Action.SNOOZE):
            return press.id
    return 0
