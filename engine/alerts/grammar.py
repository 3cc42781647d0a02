"""The one rule grammar every chat platform shares: ``liq<5% BTC critical`` ⇄ ``RuleSpec``."""

from __future__ import annotations

import math
import re
import zoneinfo
from dataclasses import dataclass, field, replace
from difflib import get_close_matches
from typing import NoReturn

from engine.alerts.quiet import QuietHours
from engine.alerts.rules import KINDS, Kind, Op, RuleSpec, Severity, state_spec
from engine.errors import GrammarError

#: A correct example per kind: the usage line of every error names the kind the user meant.
EXAMPLES: dict[Kind, str] = {
    Kind.LIQ: "liq<5% BTC critical",
    Kind.PROB: "prob>20% BTC",
    Kind.MARGIN: "margin>80%",
    Kind.LEVERAGE: "leverage>10",
    Kind.PNL: "pnl<-500 ETH",
    Kind.ROE: "roe<-50%",
    Kind.EXPOSURE: "exposure>100000 ETH",
    Kind.EXPOSURE_ACCOUNT: "account_exposure>1m",
    Kind.PRICE: "price<60000 BTC/USDT:USDT",
    Kind.FUNDING: "funding>0.05%",
    Kind.BLIND: "blind on main",
    Kind.AUTH: "auth critical",
}
RULE_USAGE = f"/alert add {EXAMPLES[Kind.LIQ]}"
DURATION_USAGE = "/snooze 12 1h30m"
QUIET_USAGE = "/quiet 22:00-07:00 Europe/Paris"
SILENCE_USAGE = "/silence kind=liq symbol=BTC 2h"
#: Durations (snooze, silence, ``for``) are capped so a typo cannot mute an account for years.
MAX_DURATION_S = 30 * 86_400.0
MAX_FOR_POLLS = 1_000

_KIND_WORDS = {**{k.value: k for k in Kind}, "auth_failed": Kind.AUTH}
_OPS = {"<": Op.BELOW, "<=": Op.BELOW, "≤": Op.BELOW, ">": Op.ABOVE, ">=": Op.ABOVE, "≥": Op.ABOVE}
_SEVERITIES = frozenset(s.value for s in Severity)
_KEYWORDS = ("for", "clear", "on", *sorted(_SEVERITIES))
_CONDITION = re.compile(
    r"\s*(?P<kind>[^\s<>=≤≥]*)\s*(?:(?P<op><=|>=|<|>|≤|≥|=+)\s*(?P<value>\S+)?)?(?P<rest>.*)",
    re.DOTALL,
)
_NUMBER = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_VALUE = re.compile(rf"(?P<num>{_NUMBER})(?P<suffix>%|[kKmMxX])?")
_POLLS = re.compile(r"(?P<n>[0-9]{1,9})(?:polls?)?", re.IGNORECASE)
_DURATION_PART = re.compile(r"(?P<num>[0-9]+(?:\.[0-9]+)?)(?P<unit>[smhdw])")
_UNIT_S = {"s": 1.0, "m": 60.0, "h": 3_600.0, "d": 86_400.0, "w": 604_800.0}
_BASE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_MARKET = re.compile(r"[A-Za-z0-9._-]{1,32}/[A-Za-z0-9._-]{1,32}(?::[A-Za-z0-9._-]{1,32})?")
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_CLOCK = re.compile(r"(?P<h>[0-9]{1,2})(?::(?P<m>[0-9]{2}))?")
_ZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+){0,2}")
_SCALE = {"k": 1e3, "m": 1e6}
_NON_NEGATIVE = frozenset(
    {Kind.LIQ, Kind.PROB, Kind.MARGIN, Kind.LEVERAGE, Kind.EXPOSURE, Kind.EXPOSURE_ACCOUNT}
)


def _q(text: str) -> str:
    """User text quoted in an error, cut short: a pasted paragraph must not flood the chat."""
    return f"'{text}'" if len(text) <= 32 else f"'{text[:31]}…'"


def _fail(problem: str, kind: Kind | None = None) -> NoReturn:
    raise GrammarError(problem, usage=f"/alert add {EXAMPLES[kind or Kind.LIQ]}")


def _kind(word: str) -> Kind:
    """The kind a word names, or an error that lists them all (and the nearest one)."""
    word = word.lower()
    if word in _KIND_WORDS:
        return _KIND_WORDS[word]
    names = [k.value for k in Kind]
    if not word:
        _fail(f"Start the rule with what to watch: one of {', '.join(names)}.")
    near = get_close_matches(word, names, n=1)
    hint = f" (did you mean {near[0]}?)" if near else ""
    _fail(f"{_q(word)} is not an alert kind{hint}: use one of {', '.join(names)}.")


def _value(text: str, kind: Kind, what: str) -> float:
    """A number in the kind's unit: ``%`` for percent kinds, ``k``/``m`` for USD, ``x``."""
    match = _VALUE.fullmatch(text)
    if match is None:
        _fail(f"The {what} of a {kind} rule must be a number, not {_q(text)}.", kind)
    suffix = (match["suffix"] or "").lower()
    unit = KINDS[kind].unit
    allowed = {
        "%": unit == "%",
        "x": unit == "x",
        "k": unit in ("USD", ""),
        "m": unit in ("USD", ""),
    }
    if suffix and not allowed[suffix]:
        _fail(f"A {kind} {what} takes no '{suffix}' suffix.", kind)
    number = float(match["num"]) * _SCALE.get(suffix, 1.0)
    if not math.isfinite(number):
        _fail(f"The {what} of a {kind} rule must be a finite number.", kind)
    return number


def _check_threshold(kind: Kind, value: float, what: str) -> None:
    """Values the kind cannot take (a negative leverage) are typos, so they are refused."""
    # A distance to liquidation can pass 100 % (a short's), so only the threshold is capped.
    if kind in (Kind.LIQ, Kind.PROB) and what == "threshold" and not 0.0 < value <= 100.0:
        _fail(f"A {kind} threshold is a percentage above 0 and at most 100.", kind)
    if kind is Kind.PRICE and value <= 0.0:
        _fail(f"A price {what} must be above 0.", kind)
    if kind in _NON_NEGATIVE and value < 0:
        _fail(f"A {kind} {what} cannot be negative.", kind)


@dataclass
class _Draft:
    """Options gathered while reading the words after the condition."""

    kind: Kind
    severity: Severity | None = None
    symbols: list[str] = field(default_factory=list)
    account: str | None = None
    clear: float | None = None
    for_polls: int | None = None
    for_s: float | None = None


def _next(tokens: list[str], i: int, draft: _Draft) -> str:
    """The word after option ``tokens[i]``; the option is useless without it."""
    if i + 1 >= len(tokens):
        _fail(f"'{tokens[i]}' needs a value after it.", draft.kind)
    return tokens[i + 1]


def _opt_for(tokens: list[str], i: int, draft: _Draft) -> int:
    word = _next(tokens, i, draft)
    polls = _POLLS.fullmatch(word)
    if polls is None:
        if draft.for_s is not None:
            _fail("Give 'for' a duration only once.", draft.kind)
        draft.for_s = parse_duration(word, usage=f"/alert add {EXAMPLES[draft.kind]} for 5m")
        return i + 2
    if draft.for_polls is not None:
        _fail("Give 'for' a number of polls only once.", draft.kind)
    draft.for_polls = int(polls["n"])
    if not 1 <= draft.for_polls <= MAX_FOR_POLLS:
        _fail(f"'for' takes 1 to {MAX_FOR_POLLS} polls.", draft.kind)
    # "for 3 polls": the unit may come as its own word.
    return i + 3 if i + 2 < len(tokens) and tokens[i + 2].lower() in ("poll", "polls") else i + 2


def _opt_clear(tokens: list[str], i: int, draft: _Draft) -> int:
    if draft.clear is not None:
        _fail("Give one clear level.", draft.kind)
    draft.clear = _value(_next(tokens, i, draft), draft.kind, "clear level")
    return i + 2


def _opt_on(tokens: list[str], i: int, draft: _Draft) -> int:
    label = _next(tokens, i, draft)
    if draft.account is not None:
        _fail("A rule watches all accounts or one: give 'on' once.", draft.kind)
    if _LABEL.fullmatch(label) is None:
        _fail(f"{_q(label)} is not an account label (letters, digits, _ . -).", draft.kind)
    draft.account = label
    return i + 2


def _symbol(word: str, draft: _Draft) -> str:
    """A base (``BTC``, upper-cased) or a ccxt symbol (kept as typed: venues mix case)."""
    if _MARKET.fullmatch(word):
        return word
    if _BASE.fullmatch(word) is None or not any(c.isalpha() for c in word):
        _fail(f"{_q(word)} is not a symbol, a severity or an option.", draft.kind)
    near = get_close_matches(word.lower(), _KEYWORDS, n=1, cutoff=0.8) if len(word) >= 5 else []
    if near:
        _fail(f"{_q(word)} is not a word the grammar knows (did you mean {near[0]}?).", draft.kind)
    return word.upper()


def _opt_word(tokens: list[str], i: int, draft: _Draft) -> int:
    word = tokens[i]
    if word.lower() in _SEVERITIES:
        if draft.severity is not None:
            _fail("Give one severity: info, warning or critical.", draft.kind)
        draft.severity = Severity(word.lower())
        return i + 1
    symbol = _symbol(word, draft)
    if symbol not in draft.symbols:
        draft.symbols.append(symbol)
    return i + 1


_OPTIONS = {"for": _opt_for, "clear": _opt_clear, "on": _opt_on}


def _read_options(text: str, draft: _Draft) -> None:
    tokens = text.split()
    i = 0
    while i < len(tokens):
        i = _OPTIONS.get(tokens[i].lower(), _opt_word)(tokens, i, draft)


def _condition(text: str) -> tuple[Kind, Op | None, float | None, str]:
    """The leading ``kind op value`` and the text after it."""
    match = _CONDITION.fullmatch(text)
    assert match is not None  # every part of the pattern is optional
    kind = _kind(match["kind"])
    op_text, value_text, rest = match["op"], match["value"], match["rest"]
    if KINDS[kind].state:
        if op_text:
            _fail(f"A {kind} rule takes no comparison: it fires while the account is {kind}.", kind)
        return kind, None, None, rest
    if not op_text or op_text.startswith("="):
        _fail(f"A {kind} rule needs a comparison: < or > and a threshold.", kind)
    if value_text is None:
        _fail(f"A {kind} rule needs a threshold after '{op_text}'.", kind)
    threshold = _value(value_text, kind, "threshold")
    _check_threshold(kind, threshold, "threshold")
    return kind, _OPS[op_text], threshold, rest


def _check_scope(draft: _Draft, op: Op | None, threshold: float | None) -> None:
    kind, info = draft.kind, KINDS[draft.kind]
    if kind is Kind.PRICE and not draft.symbols:
        _fail("A price rule needs the symbol whose mark it watches.", kind)
    if info.account_level and draft.symbols:
        _fail(f"A {kind} rule is about the whole account, so it takes no symbols.", kind)
    if draft.clear is None or op is None or threshold is None:
        if draft.clear is not None:
            _fail(f"A {kind} rule has no clear level: it resolves when the state ends.", kind)
        return
    _check_threshold(kind, draft.clear, "clear level")
    if (op is Op.BELOW and draft.clear < threshold) or (op is Op.ABOVE and draft.clear > threshold):
        side = "at or above" if op is Op.BELOW else "at or below"
        _fail(f"The clear level must be {side} the threshold, on the safe side of it.", kind)


def parse_rule(text: str) -> RuleSpec:
    """The argument text of ``/alert add`` as a ``RuleSpec``; ``GrammarError`` explains a typo."""
    # "liq < 5 %" and "clear 7 %": the percent sign belongs to the number before it.
    kind, op, threshold, rest = _condition(re.sub(r"\s+%", "%", text))
    draft = _Draft(kind)
    _read_options(rest, draft)
    _check_scope(draft, op, threshold)
    severity = draft.severity or Severity.WARNING
    spec = state_spec(kind, severity, draft.account)
    if op is not None and threshold is not None:
        symbols = tuple(draft.symbols)
        spec = RuleSpec(kind, op, threshold, severity, symbols, draft.account, draft.clear)
    return replace(spec, for_polls=draft.for_polls or 1, for_s=draft.for_s or 0.0)


def _number(value: float) -> str:
    """Shortest text that reads back as the same float (``repr``), without a trailing ``.0``."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def describe(spec: RuleSpec) -> str:
    """The canonical text of a rule: ``parse_rule(describe(spec)) == spec``."""
    info = KINDS[spec.kind]
    unit = "%" if info.unit == "%" else ""
    words = [spec.kind.value]
    if not info.state:
        words[0] += f"{spec.op.value}{_number(spec.threshold)}{unit}"
    words += [*spec.symbols, spec.severity.value]
    if spec.for_polls != 1:
        words.append(f"for {spec.for_polls}polls")
    if spec.for_s:
        words.append(f"for {_number(spec.for_s)}s")
    if spec.clear is not None and not info.state:
        words.append(f"clear {_number(spec.clear)}{unit}")
    if spec.account is not None:
        words.append(f"on {spec.account}")
    return " ".join(words)


def parse_duration(text: str, *, usage: str = DURATION_USAGE) -> float:
    """``90s``, ``5m``, ``1h30m``, ``2d``, ``1w`` → seconds (positive, at most 30 days)."""
    compact = text.strip().lower()
    parts = list(_DURATION_PART.finditer(compact))
    if not parts or "".join(p[0] for p in parts) != compact:
        raise GrammarError(
            f"{_q(text.strip())} is not a duration like 90s, 5m, 1h30m or 2d.", usage=usage
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
        raise GrammarError(f"{_q(text)} is not a time of day like 22:00.", usage=QUIET_USAGE)
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
        f"{_q(name)} is not a time zone like Europe/Paris or UTC.", usage=QUIET_USAGE
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
            raise GrammarError(f"{_q(word)} is one word too many here.", usage=QUIET_USAGE)
    return replace(hours, tz=tz or "UTC", allow_critical=scope != "all")


def _matcher_kind(value: str) -> str:
    kind = _KIND_WORDS.get(value.lower())
    if kind is None:
        raise GrammarError(f"{_q(value)} is not an alert kind.", usage=SILENCE_USAGE)
    return kind.value


def _matcher_severity(value: str) -> str:
    if value.lower() not in _SEVERITIES:
        raise GrammarError("Severity is one of info, warning or critical.", usage=SILENCE_USAGE)
    return value.lower()


def _matcher_rule(value: str) -> str:
    if re.fullmatch(r"#?[0-9]{1,12}", value) is None:
        raise GrammarError(f"{_q(value)} is not a rule id like 12.", usage=SILENCE_USAGE)
    return str(int(value.lstrip("#")))


def _matcher_symbol(value: str) -> str:
    """The same spelling a rule's symbols get: bases upper-cased, ccxt symbols as typed."""
    if _MARKET.fullmatch(value):
        return value
    if _BASE.fullmatch(value) is None:
        raise GrammarError(f"{_q(value)} is not a symbol like BTC.", usage=SILENCE_USAGE)
    return value.upper()


def _matcher_account(value: str) -> str:
    if _LABEL.fullmatch(value) is None:
        raise GrammarError(f"{_q(value)} is not an account label.", usage=SILENCE_USAGE)
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
            raise GrammarError(f"{_q(word)} is not a matcher: use {known}.", usage=SILENCE_USAGE)
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
