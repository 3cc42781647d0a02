"""Discord embeds (pure): replies and notices as embed dicts within Discord's limits.

Limits: title 256, description 4096, 25 fields of ≤ 1024, 6000 characters per message over all
its embeds, 10 embeds per message. Tables go in code blocks (monospace on every client), which
also keeps user-typed text from being read as markdown.
"""

from __future__ import annotations

from typing import Any

from bot.chat.context import Reply
from bot.render import notices as notice_text
from engine.alerts.events import AlertNotice, DigestNotice, Notice
from engine.alerts.rules import Severity

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
MESSAGE_MAX = 6000
EMBEDS_PER_MESSAGE = 10
#: Severity colours (also readable for the common colour blindnesses: red, orange, blue, green).
COLOURS = {Severity.CRITICAL: 0xE74C3C, Severity.WARNING: 0xE67E22, Severity.INFO: 0x3498DB}
RESOLVED_COLOUR = 0x2ECC71
NEUTRAL_COLOUR = 0x5865F2
_FENCE = "```"

Embed = dict[str, Any]


def _fence(text: str) -> str:
    # A user can't close our code block early: their backticks are spaced out.
    return f"{_FENCE}\n{text.replace(_FENCE, '` ` `')}\n{_FENCE}"


def _pieces(text: str, room: int) -> list[str]:
    """Lines packed into pieces of at most ``room`` characters (long lines cut)."""
    out: list[str] = []
    current = ""
    for raw in text.replace(_FENCE, "` ` `").split("\n"):
        line = raw
        while len(line) > room:
            if current:
                out.append(current)
                current = ""
            out.append(line[:room])
            line = line[room:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > room and current:
            out.append(current)
            current = line
        else:
            current = candidate
    if current or not out:
        out.append(current)
    return out


def embeds(
    text: str, *, table: bool, title: str | None = None, colour: int = NEUTRAL_COLOUR
) -> list[Embed]:
    """One reply as embeds, each description within 4096 characters."""
    wrap = len(_FENCE) * 2 + 2 if table else 0
    parts = _pieces(text, DESCRIPTION_MAX - wrap)
    out = []
    for i, part in enumerate(parts):
        embed: Embed = {"description": _fence(part) if table else part, "color": colour}
        if title and i == 0:
            embed["title"] = title[:TITLE_MAX]
        out.append(embed)
    return out


def _size(embed: Embed) -> int:
    return (
        len(embed.get("title", ""))
        + len(embed.get("description", ""))
        + len(embed.get("footer", {}).get("text", ""))
    )


def messages(all_embeds: list[Embed]) -> list[list[Embed]]:
    """Embeds grouped into messages: ≤ 10 per message and ≤ 6000 characters in all."""
    out: list[list[Embed]] = []
    for embed in all_embeds:
        if (
            out
            and len(out[-1]) < EMBEDS_PER_MESSAGE
            and sum(map(_size, out[-1])) + _size(embed) <= MESSAGE_MAX
        ):
            out[-1].append(embed)
        else:
            out.append([embed])
    return out


def reply(answer: Reply) -> list[list[Embed]]:
    """A ``Conversation`` reply as one or more messages of embeds."""
    return messages(embeds(answer.text, table=answer.table))


def notice(message: Notice, state: str | None = None) -> Embed:
    """An alert or ops notice: the headline as title, the alert lines in a code block, the
    colour of its severity (green once resolved), its new state in the footer."""
    head, _, body = notice_text.render(message).partition("\n")
    resolved = isinstance(message, AlertNotice) and message.resolved_only
    embed: Embed = {
        "title": head[:TITLE_MAX],
        "color": RESOLVED_COLOUR if resolved else COLOURS[message.severity],
    }
    if body:
        embed["description"] = embeds(body, table=True)[0]["description"]
    if state:
        embed["footer"] = {"text": state[:2048]}
    return embed


def digest(notice: DigestNotice) -> list[list[Embed]]:
    """A digest as messages of embeds: the text first (the header as the first embed's
    title, the body in code blocks), then one embed per chart showing its attachment. The
    charts ride in the last message: it carries the files (at most 9 charts, beside a text
    embed). Text and charts share one message when they fit (≤ 10 embeds, ≤ 6000 characters);
    a longer text goes first in messages of its own, never cut."""
    text = embeds(notice.text or "—", table=True, title=f"📊 {notice.title}")
    pictures: list[Embed] = [
        {"title": c.title[:TITLE_MAX], "image": {"url": f"attachment://{c.name}"},
         "color": NEUTRAL_COLOUR}
        for c in notice.charts[: EMBEDS_PER_MESSAGE - 1]
    ]  # fmt: skip
    grouped = messages(text + pictures)
    # Grouping keeps the order, so the pictures are the tail: all in the last message (which
    # carries the files) unless they were split over two.
    if len(grouped[-1]) >= len(pictures):
        return grouped
    return [*messages(text), pictures]
