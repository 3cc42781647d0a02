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


def digest(notice: DigestNotice) -> list[Embed]:
    """The digest text in the first embed (its images follow, one per chart), ≤ 10 embeds
    and 6000 characters: text that would not fit is cut with a note."""
    room = MESSAGE_MAX - sum(len(c.title) for c in notice.charts) - len(notice.title) - 64
    text = notice.text if len(notice.text) <= room else notice.text[: room - 20] + "\n… (cut)"
    first = embeds(text, table=True, title=f"📊 {notice.title}", colour=NEUTRAL_COLOUR)[0]
    out = [first]
    for chart in notice.charts[: EMBEDS_PER_MESSAGE - 1]:
        image = {"url": f"attachment://{chart.name}"}
        if len(out) == 1 and "image" not in first:
            first["image"] = image
            continue
        out.append({"title": chart.title[:TITLE_MAX], "image": image, "color": NEUTRAL_COLOUR})
    return out
