"""The one rule grammar every chat platform shares: ``liq<5% BTC critical`` ⇄ ``RuleSpec``."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from difflib import get_close_matches
from typing import NoReturn

from engine.alerts.phrases import parse_duration
from engine.alerts.rules import KINDS, Kind, Op, RuleSpec, Severity, state_spec
from engine.alerts.words import BASE, KIND_WORDS, LABEL, MARKET, SEVERITIES, quoted
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
    Kind.DELTA: "delta>50k BTC",
    Kind.GAMMA: "gamma>1000 ETH",
    Kind.VEGA: "vega>2000",
    Kind.EXPIRY: "expiry<24h",
}
#: Durations (snooze, silence, ``for``) are capped so a typo cannot mute an account for years.
MAX_FOR_POLLS = 1_000

_OPS = {"<": Op.BELOW, "<=": Op.BELOW, "≤": Op.BELOW, ">": Op.ABOVE, ">=": Op.ABOVE, "≥": Op.ABOVE}
_KEYWORDS = ("for", "clear", "on", *sorted(SEVERITIES))
_CONDITION = re.compile(
    r"\s*(?P<kind>[^\s<>=≤≥]*)\s*(?:(?P<op><=|>=|<|>|≤|≥|=+)\s*(?P<value>\S+)?)?(?P<rest>.*)",
    re.DOTALL,
)
_NUMBER = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_VALUE = re.compile(rf"(?P<num>{_NUMBER})(?P<suffix>%|[kKmMxX])?")
_POLLS = re.compile(r"(?P<n>[0-9]{1,9})(?:polls?)?", re.IGNORECASE)
_SCALE = {"k": 1e3, "m": 1e6}
#: A time to expiry: ``24h``, ``90m``, ``2d``, ``1d12h``, or a bare number of hours.
_HOURS_PART = re.compile(rf"(?P<num>{_NUMBER.removeprefix('[-+]?')})(?P<unit>[mhdw]?)")
_HOURS = {"m": 1.0 / 60.0, "h": 1.0, "": 1.0, "d": 24.0, "w": 168.0}
_NON_NEGATIVE = frozenset(
    {Kind.LIQ, Kind.PROB, Kind.MARGIN, Kind.LEVERAGE, Kind.EXPOSURE, Kind.EXPOSURE_ACCOUNT}
)


def _a(kind: Kind, start: bool = False) -> str:
    """ "a delta", "an expiry" (``start``: capitalised, to begin a sentence)."""
    article = "an" if kind.value[0] in "aeiou" else "a"
    return f"{article.capitalize() if start else article} {kind}"


def _fail(problem: str, kind: Kind | None = None) -> NoReturn:
    raise GrammarError(problem, usage=f"/alert add {EXAMPLES[kind or Kind.LIQ]}")


def _kind(word: str) -> Kind:
    """The kind a word names, or an error that lists them all (and the nearest one)."""
    word = word.lower()
    if word in KIND_WORDS:
        return KIND_WORDS[word]
    names = [k.value for k in Kind]
    if not word:
        _fail(f"Start the rule with what to watch: one of {', '.join(names)}.")
    near = get_close_matches(word, names, n=1)
    hint = f" (did you mean {near[0]}?)" if near else ""
    _fail(f"{quoted(word)} is not an alert kind{hint}: use one of {', '.join(names)}.")


def _hours(text: str, kind: Kind, what: str) -> float:
    """A time to expiry in hours: ``24h``, ``90m``, ``1d12h``; a bare number is hours."""
    parts = list(_HOURS_PART.finditer(text.lower()))
    if (
        not parts
        or "".join(p[0] for p in parts) != text.lower()
        or (len(parts) > 1 and not all(p["unit"] for p in parts))
    ):
        _fail(
            f"The {what} of {_a(kind)} rule is a time like 24h, 90m or 2d, not {quoted(text)}.",
            kind,
        )
    hours = sum(float(p["num"]) * _HOURS[p["unit"]] for p in parts)
    if not math.isfinite(hours):
        _fail(f"The {what} of {_a(kind)} rule must be a finite time.", kind)
    return hours


def _value(text: str, kind: Kind, what: str) -> float:
    """A number in the kind's unit: ``%`` for percent kinds, ``k``/``m`` for USD, ``x``, hours
    (``24h``, ``2d``) for expiry."""
    if KINDS[kind].unit == "h":
        return _hours(text, kind, what)
    match = _VALUE.fullmatch(text)
    if match is None:
        _fail(f"The {what} of {_a(kind)} rule must be a number, not {quoted(text)}.", kind)
    suffix = (match["suffix"] or "").lower()
    unit = KINDS[kind].unit
    allowed = {
        "%": unit == "%",
        "x": unit == "x",
        "k": unit in ("USD", ""),
        "m": unit in ("USD", ""),
    }
    if suffix and not allowed[suffix]:
        _fail(f"{_a(kind, True)} {what} takes no '{suffix}' suffix.", kind)
    number = float(match["num"]) * _SCALE.get(suffix, 1.0)
    if not math.isfinite(number):
        _fail(f"The {what} of {_a(kind)} rule must be a finite number.", kind)
    return number


def _check_threshold(kind: Kind, value: float, what: str) -> None:
    """Values the kind cannot take (a negative leverage) are typos, so they are refused."""
    # A distance to liquidation can pass 100 % (a short's), so only the threshold is capped.
    if kind in (Kind.LIQ, Kind.PROB) and what == "threshold" and not 0.0 < value <= 100.0:
        _fail(f"{_a(kind, True)} threshold is a percentage above 0 and at most 100.", kind)
    if kind is Kind.PRICE and value <= 0.0:
        _fail(f"A price {what} must be above 0.", kind)
    if kind is Kind.EXPIRY and value <= 0.0:
        _fail(f"An expiry {what} is a time to expiry above 0, like 24h.", kind)
    if kind in _NON_NEGATIVE and value < 0:
        _fail(f"{_a(kind, True)} {what} cannot be negative.", kind)


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
    if LABEL.fullmatch(label) is None:
        _fail(f"{quoted(label)} is not an account label (letters, digits, _ . -).", draft.kind)
    draft.account = label
    return i + 2


def _symbol(word: str, draft: _Draft) -> str:
    """A base (``BTC``, upper-cased) or a ccxt symbol (kept as typed: venues mix case)."""
    if MARKET.fullmatch(word):
        return word
    if BASE.fullmatch(word) is None or not any(c.isalpha() for c in word):
        _fail(f"{quoted(word)} is not a symbol, a severity or an option.", draft.kind)
    near = get_close_matches(word.lower(), _KEYWORDS, n=1, cutoff=0.8) if len(word) >= 5 else []
    if near:
        problem = f"{quoted(word)} is not a word the grammar knows (did you mean {near[0]}?)."
        _fail(problem, draft.kind)
    return word.upper()


def _opt_word(tokens: list[str], i: int, draft: _Draft) -> int:
    word = tokens[i]
    if word.lower() in SEVERITIES:
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
            _fail(
                f"{_a(kind, True)} rule takes no comparison: it fires while the account is {kind}.",
                kind,
            )
        return kind, None, None, rest
    if not op_text or op_text.startswith("="):
        _fail(f"{_a(kind, True)} rule needs a comparison: < or > and a threshold.", kind)
    if value_text is None:
        _fail(f"{_a(kind, True)} rule needs a threshold after '{op_text}'.", kind)
    threshold = _value(value_text, kind, "threshold")
    _check_threshold(kind, threshold, "threshold")
    if kind is Kind.EXPIRY and _OPS[op_text] is not Op.BELOW:
        _fail("An expiry rule fires within N hours of an option's expiry: use expiry<N.", kind)
    return kind, _OPS[op_text], threshold, rest


def _check_scope(draft: _Draft, op: Op | None, threshold: float | None) -> None:
    kind, info = draft.kind, KINDS[draft.kind]
    if kind is Kind.PRICE and not draft.symbols:
        _fail("A price rule needs the symbol whose mark it watches.", kind)
    if info.account_level and draft.symbols:
        _fail(f"{_a(kind, True)} rule is about the whole account, so it takes no symbols.", kind)
    market = next((s for s in draft.symbols if "/" in s), None)
    if info.underlying_level and market is not None:
        problem = f"{_a(kind, True)} rule sums a whole underlying: give its name like BTC"
        _fail(f"{problem}, not {quoted(market)}.", kind)
    if kind is Kind.EXPIRY and draft.clear is not None:
        _fail("An expiry rule resolves when the option is closed or expires: no clear level.", kind)
    if draft.clear is None or op is None or threshold is None:
        if draft.clear is not None:
            _fail(
                f"{_a(kind, True)} rule has no clear level: it resolves when the state ends.", kind
            )
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
    unit = info.unit if info.unit in ("%", "h") else ""
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
