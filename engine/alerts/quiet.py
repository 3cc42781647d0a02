"""Per-chat delivery settings: quiet hours (local wall-clock window) and blocked chats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from engine.alerts.rules import Severity
from engine.domain import Platform


def minutes(hhmm: str) -> int:
    """ "07:30" → 450. The grammar validated the shape already."""
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


@dataclass(frozen=True)
class QuietHours:
    """A local window ``start``–``end`` ("HH:MM", may wrap midnight) in IANA zone ``tz``."""

    start: str
    end: str
    tz: str = "UTC"
    #: Critical alerts still go through (the default: quiet hours must not sleep through a
    #: liquidation unless the user says so).
    allow_critical: bool = True

    def active(self, now: float) -> bool:
        """Is ``now`` (POSIX seconds) inside the window, in the chat's own time zone?"""
        local = datetime.fromtimestamp(now, UTC).astimezone(ZoneInfo(self.tz))
        at = local.hour * 60 + local.minute
        start, end = minutes(self.start), minutes(self.end)
        if start == end:
            return False
        if start < end:
            return start <= at < end
        return at >= start or at < end

    def holds(self, severity: Severity, now: float) -> bool:
        """True when a message of this severity must wait for the window to end."""
        if not self.active(now):
            return False
        return not (severity is Severity.CRITICAL and self.allow_critical)


@dataclass(frozen=True)
class ChatSettings:
    """What the pipeline knows about one chat."""

    platform: Platform
    chat_id: str
    quiet: QuietHours | None = None
    #: The platform said the bot is blocked or the chat is gone: stop targeting it.
    blocked_at: float | None = None
    blocked_reason: str | None = None
