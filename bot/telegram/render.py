"""Telegram HTML (pure): replies and notices as ``<pre>`` tables and escaped prose, ≤ 4096 chars.

Everything that reaches Telegram goes through ``html.escape`` here: labels, user names, venue
errors, rule text. Markup is only what this module writes.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bot.chat.buttons import encode
from bot.chat.context import CAPTIONS, Action, Reply
from bot.render import notices as notice_text
from engine.alerts.events import ConnectNotice, DigestNotice, Notice

#: Telegram's limit on one message's text (after entity parsing; we count the HTML we send,
#: which is never shorter, so a chunk under it is always accepted).
MAX_CHARS = 4096
_PRE = ("<pre>", "</pre>")


@dataclass(frozen=True)
class Button:
    """One inline button: caption and callback data (``action:argument``, ≤ 64 bytes)."""

    text: str
    data: str


def escape(text: str) -> str:
    """Text safe inside Telegram HTML (``<``, ``>``, ``&`` and quotes)."""
    return html.escape(text, quote=True)


def _lines_within(text: str, limit: int) -> Iterator[str]:
    """Lines of ``text``, each cut to ``limit`` characters after escaping."""
    for line in text.split("\n"):
        while len(escape(line)) > limit:
            cut = limit
            while len(escape(line[:cut])) > limit:
                cut -= 1
            yield line[:cut]
            line = line[cut:]
        yield line


def chunks(text: str, *, table: bool, limit: int = MAX_CHARS) -> list[str]:
    """The HTML messages for one reply: split between lines, each ≤ ``limit`` characters.

    A table is wrapped in ``<pre>`` chunk by chunk, so every message is valid HTML on its own.
    """
    wrap = len(_PRE[0]) + len(_PRE[1]) if table else 0
    room = limit - wrap
    out: list[str] = []
    current: list[str] = []
    size = 0
    for line in _lines_within(text, room):
        piece = escape(line)
        extra = len(piece) + (1 if current else 0)
        if current and size + extra > room:
            out.append("\n".join(current))
            current, size = [], 0
            extra = len(piece)
        current.append(piece)
        size += extra
    if current or not out:
        out.append("\n".join(current))
    return [f"{_PRE[0]}{c}{_PRE[1]}" if table else c for c in out]


def reply(answer: Reply) -> list[str]:
    """A ``Conversation`` reply as one or more HTML messages."""
    return chunks(answer.text, table=answer.table)


def notice(message: Notice, state: str | None = None) -> str:
    """An alert or ops notice: a bold headline, the alert lines in ``<pre>``, then its state.

    Alert notices hold at most a handful of items (one message per account), so the text stays
    far below the limit; a pathological one is cut rather than refused by Telegram.
    """
    head, _, body = notice_text.render(message).partition("\n")
    parts = [f"<b>{escape(head)}</b>"]
    if body and isinstance(message, ConnectNotice):  # prose, not a table
        parts.append(escape(body))
    elif body:
        parts.append(f"{_PRE[0]}{escape(body)}{_PRE[1]}")
    if state:
        parts.append(f"<i>{escape(state)}</i>")
    text = "\n".join(parts)
    if len(text) <= MAX_CHARS:
        return text
    return chunks(notice_text.render(message), table=True)[0]


def buttons(actions: Sequence[Action], *, outbox_id: int, account_id: int) -> list[Button]:
    """The buttons of an alert message, their payloads written by ``bot.chat.buttons``."""
    return [
        Button(CAPTIONS[action], encode(action, outbox_id=outbox_id, account_id=account_id))
        for action in actions
    ]


def digest(notice: DigestNotice) -> list[str]:
    """A digest's text messages: its header in bold, then its body in ``<pre>`` (columns line
    up), split under the limit with room for the header on the first part (a header alone
    would cost the chat a paced message of its own)."""
    head = f"<b>{escape(notice.title)}</b>"
    if not notice.text:
        return [head]
    parts = chunks(notice.text, table=True, limit=MAX_CHARS - len(head) - 1)
    return [f"{head}\n{parts[0]}", *parts[1:]]
