"""The other phrases of alert commands: durations, quiet hours, silence matchers, schedules.

The rule grammar itself (``liq<5% BTC critical``) is ``engine.alerts.grammar``.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import replace

from engine.alerts.quiet import QuietHours
from engine.alerts.words import BASE, KIND_WORDS, LABEL, MARKET, SEVERITIES, quoted
from engine.errors import GrammarError

DURATION_USAGE = "/snooze 12 1h30m"
QUIET_USAGE = "/quiet 22:00-07:00 Europe/Paris"
SILENCE_USAGE = "/silence kind=liq symbol=BTC 2h"
MAX_DURATION_S = 30 * 86_400.0

_DURATION_PART = re.compile(r"(?P<num>[0-9]+(?:\.[0-9]+)?)(?P<unit>[smhdw])")
_UNIT_S = {"s": 1.0, "m": 60.0, "h": 3_600.0, "d": 86_400.0, "w": 604_800.0}
_CLOCK = re.compile(r"(?P<h>[0-9]{1,2})(?::(?P<m>[0-9]{2}))?")
_ZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+){0,2}")


def parse_duration(text: str, *, usage: str = DURATION_USAGE) -> float:
    """``90s``, ``5m``, ``1h30m``, ``2d``, ``1w`` → seconds (positive, at most 30 days)."""
    compact = text.strip().lower()
    parts = list(_DURATION_PART.finditer(compact))
    if not parts or "".join(p[0] for p in parts) != compact:
        raise GrammarError(
            f"{quoted(text.strip())} is not a duration like 90s, 5m, 1h30m or 2d.", usage=usage
        )
    seconds = sum(float(p["num"]) * _UNIT_S[p["unit"]] for p in parts)
    # Below a second a duration is shorter than any poll: surely a typo.
    if not 1.0 <= seconds <= MAX_DURATION_S:
        raise GrammarError("A duration must be at least 1 second and at most 30 days.", usage=usage)
    return seconds


def _clock(text: str) -> str:
    """``7`` or ``7:00`` → ``07:00``."""
    match = _CLOCK.fullmatch(text)
    if match is None or int(match["h"]) > 23 or int(match["m"] or 0) > 59:
        raise GrammarError(f"{quoted(text)} is not a time of day like 22:00.", usage=QUIET_USAGE)
    return f"{int(match['h']):02d}:{match['m'] or '00'}"


def _zone(name: str) -> str:
    """An IANA zone name, matched without regard to case (phones capitalise at random)."""
    if _ZONE.fullmatch(name) and ".." not in name:
        try:
            zoneinfo.ZoneInfo(name)
            return name
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a tzdata folder
            pass
        known = {zone.lower(): zone for zone in zoneinfo.available_timezones()}
        if name.lower() in known:
            return known[name.lower()]
    raise GrammarError(
        f"{quoted(name)} is not a time zone like Europe/Paris or UTC.", usage=QUIET_USAGE
    )


def parse_quiet(text: str) -> QuietHours:
    """``22:00-07:00 [Europe/Paris] [critical|all]``; ``all`` holds critical alerts too."""
    window, _, rest = re.sub(r"\s*-\s*", "-", text.strip(), count=1).partition(" ")
    start, dash, end = window.partition("-")
    if not dash:
        raise GrammarError(
            "Give quiet hours as a window from-to, like 22:00-07:00.", usage=QUIET_USAGE
        )
    hours = QuietHours(_clock(start), _clock(end))
    if hours.start == hours.end:
        raise GrammarError("Quiet hours must start and end at different times.", usage=QUIET_USAGE)
    tz: str | None = None
    scope: str | None = None
    for word in rest.split():
        if word.lower() in ("critical", "all") and scope is None:
            scope = word.lower()
        elif tz is None and word.lower() not in ("critical", "all"):
            tz = _zone(word)
        else:
            raise GrammarError(f"{quoted(word)} is one word too many here.", usage=QUIET_USAGE)
    return replace(hours, tz=tz or "UTC", allow_critical=scope != "all")


def _matcher_kind(value: str) -> str:
    kind = KIND_WORDS.get(value.lower())
    if kind is None:
        raise GrammarError(f"{quoted(value)} is not an alert kind.", usage=SILENCE_USAGE)
    return kind.value


def _matcher_severity(value: str) -> str:
    if value.lower() not in SEVERITIES:
        raise GrammarError("Severity is one of info, warning or critical.", usage=SILENCE_USAGE)
    return value.lower()


def _matcher_rule(value: str) -> str:
    if re.fullmatch(r"#?[0-9]{1,12}", value) is None:
        raise GrammarError(f"{quoted(value)} is not a rule id like 12.", usage=SILENCE_USAGE)
    return str(int(value.lstrip("#")))


def _matcher_symbol(value: str) -> str:
    """The same spelling a rule's symbols get: bases upper-cased, ccxt symbols as typed."""
    if MARKET.fullmatch(value):
        return value
    if BASE.fullmatch(value) is None:
        raise GrammarError(f"{quoted(value)} is not a symbol like BTC.", usage=SILENCE_USAGE)
    return value.upper()


def _matcher_account(value: str) -> str:
    if LABEL.fullmatch(value) is None:
        raise GrammarError(f"{quoted(value)} is not an account label.", usage=SILENCE_USAGE)
    return value


_MATCHERS = {
    "kind": _matcher_kind,
    "symbol": _matcher_symbol,
    "account": _matcher_account,
    "severity": _matcher_severity,
    "rule": _matcher_rule,
}
MATCHER_KEYS = tuple(_MATCHERS)


def parse_matchers(text: str) -> dict[str, str]:
    """``kind=liq symbol=BTC account=main severity=warning rule=12`` for a silence."""
    matchers: dict[str, str] = {}
    for word in re.sub(r"\s*=\s*", "=", text.strip()).split():
        key, eq, value = word.partition("=")
        key = key.lower()
        if key not in MATCHER_KEYS or not eq or not value:
            known = ", ".join(f"{k}=…" for k in MATCHER_KEYS)
            problem = f"{quoted(word)} is not a matcher: use {known}."
            raise GrammarError(problem, usage=SILENCE_USAGE)
        if key in matchers:
            raise GrammarError(f"Give {key}= once.", usage=SILENCE_USAGE)
        matchers[key] = _MATCHERS[key](value)
    if not matchers:
        raise GrammarError("A silence needs at least one matcher.", usage=SILENCE_USAGE)
    return matchers


DIGEST_USAGE = (
    "/digest subscribe [accounts…] at HH:MM [time zone], e.g. /digest subscribe at 08:00 "
    "Europe/Paris"
)


def parse_digest_schedule(words: list[str]) -> tuple[tuple[str, ...], str, str]:
    """``[accounts…] at HH:MM [zone]`` → (account labels, "HH:MM", zone); labels may be none."""
    lowered = [w.lower() for w in words]
    if "at" not in lowered:
        raise GrammarError("Say when, like: at 08:00 Europe/Paris.", usage=DIGEST_USAGE)
    cut = lowered.index("at")
    rest = words[cut + 1 :]
    if not rest or len(rest) > 2:
        raise GrammarError("After 'at' give a time and optionally a zone.", usage=DIGEST_USAGE)
    try:
        at = _clock(rest[0])
        tz = _zone(rest[1]) if len(rest) == 2 else "UTC"
    except GrammarError as exc:
        raise GrammarError(str(exc), usage=DIGEST_USAGE) from None
    return tuple(words[:cut]), at, tz
