"""The rule grammar: every kind and option, the errors users see, and the round trip."""

from __future__ import annotations

from dataclasses import replace
from difflib import get_close_matches

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.alerts.grammar import EXAMPLES, describe, parse_rule
from engine.alerts.phrases import MAX_DURATION_S, parse_duration, parse_matchers, parse_quiet
from engine.alerts.quiet import QuietHours
from engine.alerts.rules import KINDS, Kind, Op, RuleSpec, Severity, state_spec
from engine.errors import GrammarError

BTC = "BTC/USDT:USDT"


def _problem(text: str) -> GrammarError:
    with pytest.raises(GrammarError) as caught:
        parse_rule(text)
    return caught.value


# --- kinds -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("liq<5% BTC critical", RuleSpec(Kind.LIQ, Op.BELOW, 5.0, Severity.CRITICAL, ("BTC",))),
        ("margin>80%", RuleSpec(Kind.MARGIN, Op.ABOVE, 80.0)),
        ("price<60000 BTC/USDT:USDT", RuleSpec(Kind.PRICE, Op.BELOW, 60_000.0, symbols=(BTC,))),
        ("prob>20%", RuleSpec(Kind.PROB, Op.ABOVE, 20.0)),
        ("leverage>10", RuleSpec(Kind.LEVERAGE, Op.ABOVE, 10.0)),
        ("pnl<-500", RuleSpec(Kind.PNL, Op.BELOW, -500.0)),
        ("roe<-50%", RuleSpec(Kind.ROE, Op.BELOW, -50.0)),
        ("exposure>100000 ETH", RuleSpec(Kind.EXPOSURE, Op.ABOVE, 100_000.0, symbols=("ETH",))),
        ("account_exposure>1m", RuleSpec(Kind.EXPOSURE_ACCOUNT, Op.ABOVE, 1_000_000.0)),
        ("funding>0.05%", RuleSpec(Kind.FUNDING, Op.ABOVE, 0.05)),
        ("delta>50000 BTC", RuleSpec(Kind.DELTA, Op.ABOVE, 50_000.0, symbols=("BTC",))),
        ("delta<-50000 BTC", RuleSpec(Kind.DELTA, Op.BELOW, -50_000.0, symbols=("BTC",))),
        ("delta>50k btc", RuleSpec(Kind.DELTA, Op.ABOVE, 50_000.0, symbols=("BTC",))),
        ("vega>2000", RuleSpec(Kind.VEGA, Op.ABOVE, 2_000.0)),
        ("gamma>1000 ETH", RuleSpec(Kind.GAMMA, Op.ABOVE, 1_000.0, symbols=("ETH",))),
        ("gamma<-1k ETH", RuleSpec(Kind.GAMMA, Op.BELOW, -1_000.0, symbols=("ETH",))),
        ("expiry<24h", RuleSpec(Kind.EXPIRY, Op.BELOW, 24.0)),
        ("expiry<24h BTC", RuleSpec(Kind.EXPIRY, Op.BELOW, 24.0, symbols=("BTC",))),
    ],
)
def test_each_measured_kind_parses_from_its_documented_example(text: str, spec: RuleSpec) -> None:
    """The README's example of every measured kind gives the rule it promises."""
    assert parse_rule(text) == spec


def test_blind_is_a_state_rule_without_a_comparison() -> None:
    """`blind` is the shared health-state spec at the default severity."""
    assert parse_rule("blind") == state_spec(Kind.BLIND, Severity.WARNING)


def test_auth_takes_a_severity_and_an_account() -> None:
    """`auth critical on main` scopes the health-state rule to one account."""
    assert parse_rule("auth critical on main") == state_spec(Kind.AUTH, Severity.CRITICAL, "main")


def test_auth_failed_is_accepted_as_the_state_name() -> None:
    """The account status is called auth_failed; the grammar takes that word for `auth`."""
    assert parse_rule("auth_failed").kind is Kind.AUTH


def test_every_kind_has_an_example_that_parses() -> None:
    """The usage line shown for a kind is itself a valid rule of that kind."""
    assert set(EXAMPLES) == set(Kind)
    for kind, example in EXAMPLES.items():
        assert parse_rule(example).kind is kind


# --- spelling ----------------------------------------------------------------------------------


def test_spaces_around_the_comparison_and_percent_sign_are_ignored() -> None:
    """`liq < 5 %` reads like `liq<5%`."""
    assert parse_rule("liq < 5 %") == parse_rule("liq<5%")


def test_the_percent_sign_is_optional_for_percent_kinds() -> None:
    """`liq<5` and `liq<5%` are the same rule."""
    assert parse_rule("liq<5") == parse_rule("liq<5%")


def test_kind_and_keywords_are_case_insensitive() -> None:
    """Phones capitalise the first word: `Liq<5 Critical` still parses."""
    assert parse_rule("Liq<5 Critical") == RuleSpec(
        Kind.LIQ, threshold=5.0, severity=Severity.CRITICAL
    )


@pytest.mark.parametrize(("text", "value"), [("pnl<-1.5k", -1_500.0), ("exposure>2M", 2e6)])
def test_usd_amounts_take_k_and_m_suffixes(text: str, value: float) -> None:
    """k is thousands and m millions on USD kinds."""
    assert parse_rule(text).threshold == value


def test_leverage_takes_an_x_suffix() -> None:
    """`leverage>10x` is ten times."""
    assert parse_rule("leverage>10x").threshold == 10.0


@pytest.mark.parametrize(
    ("text", "hours"),
    [("expiry<24h", 24.0), ("expiry<90m", 1.5), ("expiry<2d", 48.0), ("expiry<1d12h", 36.0),
     ("expiry<1w", 168.0), ("expiry<6", 6.0), ("expiry<0.5h", 0.5)],
)  # fmt: skip
def test_expiry_thresholds_are_hours(text: str, hours: float) -> None:
    """A time to expiry in m, h, d or w (combinable), stored in hours; a bare number is hours."""
    assert parse_rule(text).threshold == hours


def test_expiry_is_written_back_in_hours() -> None:
    """`expiry<90m` is listed as `expiry<1.5h`, which reads back as the same rule."""
    spec = parse_rule("expiry<90m BTC critical")
    assert describe(spec) == "expiry<1.5h BTC critical"
    assert parse_rule(describe(spec)) == spec


def test_less_or_equal_reads_as_below() -> None:
    """`<=` is accepted for `<`: on measured floats the difference never matters."""
    assert parse_rule("liq<=5").op is Op.BELOW


# --- options -----------------------------------------------------------------------------------


def test_bases_are_upper_cased_and_ccxt_symbols_kept_as_typed() -> None:
    """`btc kPEPE/USDC:USDC` → (BTC, kPEPE/USDC:USDC): venues spell some markets in mixed case."""
    assert parse_rule("liq<5 btc kPEPE/USDC:USDC").symbols == ("BTC", "kPEPE/USDC:USDC")


def test_a_repeated_symbol_counts_once() -> None:
    """`BTC btc` is one symbol."""
    assert parse_rule("liq<5 BTC btc").symbols == ("BTC",)


def test_options_may_come_in_any_order() -> None:
    """Severity, symbols, for, clear and on are read wherever they stand after the condition."""
    text = "liq<5% on main critical clear 7% ETH for 3"
    assert parse_rule(text) == RuleSpec(
        Kind.LIQ, Op.BELOW, 5.0, Severity.CRITICAL, ("ETH",), "main", 7.0, for_polls=3
    )


@pytest.mark.parametrize("text", ["liq<5 for 3", "liq<5 for 3polls", "liq<5 for 3 polls"])
def test_for_with_a_count_is_a_number_of_polls(text: str) -> None:
    """A bare count, `3polls` and `3 polls` all mean three consecutive polls."""
    assert parse_rule(text).for_polls == 3


@pytest.mark.parametrize(("text", "seconds"), [("liq<5 for 90s", 90.0), ("liq<5 for 5m", 300.0)])
def test_for_with_a_unit_is_a_duration(text: str, seconds: float) -> None:
    """`for 90s` / `for 5m` set for_s (5m is minutes here, never millions)."""
    spec = parse_rule(text)
    assert (spec.for_s, spec.for_polls) == (seconds, 1)


def test_for_may_give_both_polls_and_seconds() -> None:
    """The condition must hold N polls AND S seconds, so both may be set."""
    spec = parse_rule("liq<5 for 3 for 2m")
    assert (spec.for_polls, spec.for_s) == (3, 120.0)


def test_clear_sets_the_hysteresis_level() -> None:
    """`clear 7%` on liq<5 resolves only once the distance is back above 7 %."""
    assert parse_rule("liq<5% clear 7 %").clear == 7.0


def test_without_clear_the_kind_default_applies() -> None:
    """No clear word: the spec leaves clear None and RuleSpec computes the default gap."""
    assert parse_rule("liq<5").clear is None


# --- errors ------------------------------------------------------------------------------------


def test_an_unknown_kind_lists_the_kinds_and_suggests_the_nearest() -> None:
    """`lqi<5` names every kind, suggests liq, and shows a usage line."""
    message = str(_problem("lqi<5"))
    assert "did you mean liq?" in message
    assert all(kind.value in message for kind in Kind)
    assert message.endswith("Usage: /alert add liq<5% BTC critical")


def test_an_error_is_one_sentence_and_a_usage_line() -> None:
    """The message is exactly two lines: the problem, then `Usage: …` with a correct example."""
    problem, usage = str(_problem("price<60000")).split("\n")
    assert problem.endswith(".") and problem.count(". ") == 0
    assert usage == "Usage: /alert add price<60000 BTC/USDT:USDT"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Start the rule with what to watch"),
        ("liq", "needs a comparison"),
        ("liq=5", "needs a comparison"),
        ("liq<", "needs a threshold"),
        ("liq<five", "must be a number"),
        ("liq<1e999", "finite"),
        ("liq<0", "above 0 and at most 100"),
        ("prob>120%", "above 0 and at most 100"),
        ("pnl<5%", "takes no '%' suffix"),
        ("liq<5k", "takes no 'k' suffix"),
        ("leverage>-2", "cannot be negative"),
        ("price<60000", "needs the symbol"),
        ("price<0 BTC", "must be above 0"),
        ("margin>80 BTC", "takes no symbols"),
        ("blind<3", "takes no comparison"),
        ("blind clear 4", "has no clear level"),
        ("liq<5 clear 3", "at or above the threshold"),
        ("margin>80 clear 90", "at or below the threshold"),
        ("liq<5 warning critical", "one severity"),
        ("liq<5 critcal", "did you mean critical?"),
        ("liq<5 for 0", "1 to 1000 polls"),
        ("liq<5 for 31d", "at most 30 days"),
        ("liq<5 for", "needs a value"),
        ("liq<5 on ma!n", "not an account label"),
        ("liq<5 on a on b", "give 'on' once"),
        ("liq<5 BTC<3", "is not a symbol"),
        ("delta>abc BTC", "The threshold of a delta rule must be a number, not 'abc'."),
        ("vega>2%", "takes no '%' suffix"),
        ("delta>1 BTC/USDT:USDT", "give its name like BTC, not 'BTC/USDT:USDT'"),
        ("expiry<0h", "An expiry threshold is a time to expiry above 0, like 24h."),
        ("expiry<0", "above 0"),
        ("expiry<-5h", "is a time like 24h, 90m or 2d, not '-5h'"),
        ("expiry<soon", "is a time like 24h"),
        ("expiry<1d12", "is a time like 24h"),
        ("expiry>24h", "use expiry<N"),
        ("expiry<24h clear 30h", "no clear level"),
    ],
)
def test_bad_rules_name_the_problem(text: str, fragment: str) -> None:
    """Each mistake gets its own sentence, not a generic "invalid rule"."""
    assert fragment in _problem(text).problem


def test_a_long_pasted_word_is_cut_short_in_the_error() -> None:
    """Quoted user text is capped so a pasted paragraph does not flood the chat."""
    assert len(_problem("x" * 500).problem) < 250


def test_grammar_error_is_a_value_error() -> None:
    """Callers that only know ValueError still catch grammar mistakes."""
    assert issubclass(GrammarError, ValueError)


#: Words of the grammar, so the fuzzing reaches past the first error.
_PIECES = st.sampled_from(
    [
        "liq",
        "price",
        "blind",
        "<",
        ">",
        "=",
        "5",
        "-1e3",
        "%",
        "k",
        "for",
        "3",
        "90s",
        "clear",
        "on",
        "main",
        "BTC",
        "BTC/USDT:USDT",
        "critical",
        "warning",
        "x",
        "polls",
        "#",
        "1m",
        "delta",
        "vega",
        "expiry",
        "24h",
        "-50k",
        "\xa0",
    ]
)
_CHATTER = st.text(max_size=60) | st.lists(_PIECES, max_size=8).map(" ".join)


@settings(deadline=None)
@given(_CHATTER | st.lists(_PIECES, max_size=8).map("".join))
def test_any_text_parses_or_raises_grammar_error(text: str) -> None:
    """No input escapes as anything but a RuleSpec or a GrammarError."""
    try:
        spec = parse_rule(text)
    except GrammarError:
        return
    assert parse_rule(describe(spec)) == spec


# --- round trip --------------------------------------------------------------------------------

_KEYWORDS = ("for", "clear", "on", "info", "warning", "critical")
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ALNUM = _UPPER + "0123456789"


def _word(first: str, rest: str, max_size: int) -> st.SearchStrategy[str]:
    tail = st.text(alphabet=rest, max_size=max_size)
    return st.builds(str.__add__, st.sampled_from(first), tail)


_BASES = _word(_UPPER, _ALNUM, 9).filter(
    lambda b: not get_close_matches(b.lower(), _KEYWORDS, n=1, cutoff=0.8)
)
_MARKETS = st.builds(
    "{}/{}:{}".format,
    _word(_UPPER + _UPPER.lower(), _ALNUM + "kmb", 5),
    _word(_UPPER, _UPPER, 3),
    _word(_UPPER, _UPPER, 3),
)
_LABELS = _word(_ALNUM + "abc", _ALNUM + "xyz_.-", 31)


def _values(kind: Kind) -> st.SearchStrategy[float]:
    if kind in (Kind.LIQ, Kind.PROB):
        return st.floats(0.0, 100.0, exclude_min=True)
    if kind in (Kind.PRICE, Kind.EXPIRY):
        return st.floats(0.0, 1e9, exclude_min=True)
    low = 0.0 if kind in (Kind.MARGIN, Kind.LEVERAGE) or "exposure" in kind else -1e12
    return st.floats(low, 1e12)


@st.composite
def _specs(draw: st.DrawFn) -> RuleSpec:
    kind = draw(st.sampled_from(list(Kind)))
    info = KINDS[kind]
    severity = draw(st.sampled_from(list(Severity)))
    account = draw(st.none() | _LABELS)
    for_polls = draw(st.integers(1, 1000))
    for_s = draw(st.just(0.0) | st.floats(1.0, MAX_DURATION_S))
    if info.state:
        return replace(state_spec(kind, severity, account), for_polls=for_polls, for_s=for_s)
    op = Op.BELOW if kind is Kind.EXPIRY else draw(st.sampled_from(list(Op)))
    a, b = draw(_values(kind)), draw(_values(kind))
    threshold, clear = (min(a, b), max(a, b)) if op is Op.BELOW else (max(a, b), min(a, b))
    symbols: tuple[str, ...] = ()
    if not info.account_level:
        # An underlying's greeks are named by the underlying (BTC), never by a market.
        names = _BASES if info.underlying_level else _BASES | _MARKETS
        pool = st.lists(names, min_size=kind is Kind.PRICE, max_size=3, unique=True)
        symbols = tuple(draw(pool))
    # Expiry only comes nearer: it resolves with the option, so it takes no clear level.
    chosen = None if kind is Kind.EXPIRY else draw(st.none() | st.just(clear))
    return RuleSpec(kind, op, threshold, severity, symbols, account, chosen, for_polls, for_s)


@settings(deadline=None)
@given(_specs())
def test_describe_reads_back_as_the_same_rule(spec: RuleSpec) -> None:
    """parse_rule(describe(spec)) == spec for every valid rule."""
    assert parse_rule(describe(spec)) == spec


def test_describe_writes_the_canonical_text() -> None:
    """Symbols, severity, for, clear, then the account: the order /alerts lists them in."""
    spec = parse_rule("liq < 5 % on main for 90s clear 7 btc critical for 3")
    assert describe(spec) == "liq<5% BTC critical for 3polls for 90s clear 7% on main"


# --- durations, quiet hours, matchers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90.0), ("5m", 300.0), ("1h30m", 5_400.0), ("2d", 172_800.0), ("1.5h", 5_400.0)],
)
def test_durations_read_as_seconds(text: str, seconds: float) -> None:
    """s, m, h, d (and w) units, combinable, decimals allowed."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["5", "h", "1h 30m", "0s", "0.5s", "31d", "", "-5m"])
def test_durations_without_a_unit_or_out_of_bounds_are_refused(text: str) -> None:
    """A bare number, a gap, under a second or over 30 days is an error with a usage line."""
    with pytest.raises(GrammarError, match="Usage: /snooze"):
        parse_duration(text)


def test_a_duration_error_carries_the_callers_usage() -> None:
    """`/silence` passes its own usage line so the example matches the command typed."""
    with pytest.raises(GrammarError, match="Usage: /silence"):
        parse_duration("soon", usage="/silence kind=liq 2h")


def test_quiet_hours_default_to_utc_with_critical_passing() -> None:
    """`22:00-07:00` alone: UTC, critical alerts still delivered."""
    assert parse_quiet("22:00-07:00") == QuietHours("22:00", "07:00", "UTC", allow_critical=True)


def test_quiet_hours_take_a_zone_in_any_case_and_all() -> None:
    """`22 - 7 europe/paris all` → the IANA spelling, and critical held too."""
    expected = QuietHours("22:00", "07:00", "Europe/Paris", allow_critical=False)
    assert parse_quiet("22 - 7 europe/paris all") == expected


def test_quiet_hours_critical_word_keeps_critical_passing() -> None:
    """`critical` states the default: critical alerts go through."""
    assert parse_quiet("23:30-06:00 UTC critical").allow_critical


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("22:00", "window from-to"),
        ("25:00-07:00", "not a time of day"),
        ("22:60-07:00", "not a time of day"),
        ("22:00-22:00", "different times"),
        ("22:00-07:00 Mars/Base", "not a time zone"),
        ("22:00-07:00 ../../etc/passwd", "not a time zone"),
        ("22:00-07:00 UTC Europe/Paris", "one word too many"),
    ],
)
def test_bad_quiet_hours_name_the_problem(text: str, fragment: str) -> None:
    """A wrong clock, zone or extra word is named, with the /quiet usage line."""
    with pytest.raises(GrammarError, match="Usage: /quiet") as caught:
        parse_quiet(text)
    assert fragment in caught.value.problem


def test_matchers_are_read_with_canonical_values() -> None:
    """Kinds and severities lower-cased, bases upper-cased, `#12` rule ids as digits."""
    text = "kind=LIQ symbol=btc account=Main severity=Warning rule=#12"
    expected = {"kind": "liq", "symbol": "BTC", "account": "Main", "severity": "warning"}
    assert parse_matchers(text) == {**expected, "rule": "12"}


def test_matchers_allow_spaces_around_the_equals_sign() -> None:
    """`kind = auth_failed` is `kind=auth`."""
    assert parse_matchers("kind = auth_failed") == {"kind": "auth"}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "at least one matcher"),
        ("colour=red", "is not a matcher"),
        ("kind=", "is not a matcher"),
        ("kind=lqi", "not an alert kind"),
        ("severity=loud", "info, warning or critical"),
        ("rule=abc", "not a rule id"),
        ("kind=liq kind=prob", "once"),
        ("symbol=B<C", "not a symbol"),
    ],
)
def test_bad_matchers_name_the_problem(text: str, fragment: str) -> None:
    """Unknown keys, empty values, bad kinds and duplicates are refused with a usage line."""
    with pytest.raises(GrammarError, match="Usage: /silence") as caught:
        parse_matchers(text)
    assert fragment in caught.value.problem


@pytest.mark.parametrize("folder", ["America", "Europe", "Etc"])
def test_a_tzdata_folder_is_not_a_time_zone(folder: str) -> None:
    """ZoneInfo opens the folder and raises OSError: the grammar answers with its usage."""
    with pytest.raises(GrammarError, match="is not a time zone"):
        parse_quiet(f"22:00-07:00 {folder}")
