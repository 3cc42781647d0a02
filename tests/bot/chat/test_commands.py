"""Chat command parsing shared by every platform: each command, its errors, and fuzzed input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.chat.commands.parse import (
    COMMANDS,
    Ack,
    AddRule,
    AddSilence,
    ChangeRule,
    Command,
    Connect,
    DigestCommand,
    ExplainAlert,
    Help,
    Link,
    ListAccounts,
    ListConnections,
    ListSilences,
    RemoveConnection,
    RemoveSilence,
    RuleAction,
    SetQuiet,
    Share,
    ShowAlerts,
    ShowChart,
    ShowPositions,
    ShowRisk,
    ShowStatus,
    Snooze,
    Start,
    StressTest,
    Unlink,
    Unshare,
    Watch,
    help_text,
    parse,
)
from bot.errors import UserError
from engine.alerts.grammar import parse_rule
from engine.alerts.quiet import QuietHours


def _refused(text: str) -> str:
    with pytest.raises(UserError) as caught:
        parse(text)
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("/start", Start()),
        ("/start ref_42", Start("ref_42")),
        ("/help", Help()),
        ("/help alert", Help("alert")),
        ("/watch Hyperliquid 0xAbC", Watch("hyperliquid", "0xAbC")),
        ("/unlink main", Unlink("main")),
        ("/accounts", ListAccounts()),
        ("/positions", ShowPositions()),
        ("/positions main", ShowPositions("main")),
        ("/risk", ShowRisk()),
        ("/risk main", ShowRisk("main")),
        ("/alerts", ShowAlerts()),
        ("/alert rm 12", ChangeRule(RuleAction.RM, 12)),
        ("/alert pause 3", ChangeRule(RuleAction.PAUSE, 3)),
        ("/alert resume 3", ChangeRule(RuleAction.RESUME, 3)),
        ("/ack 7", Ack(7)),
        ("/ack all", Ack(None)),
        ("/snooze 7 1h", Snooze(7, 3_600.0)),
        ("/snooze all 90s", Snooze(None, 90.0)),
        ("/quiet off", SetQuiet(None)),
        ("/why 7", ExplainAlert(7)),
        ("/silence", ListSilences()),
        ("/silence rm 2", RemoveSilence(2)),
        ("/share main", Share("main")),
        ("/unshare main", Unshare("main")),
        ("/connect", Connect()),
        ("/chart ladder", ShowChart("ladder")),
        ("/chart Equity main", ShowChart("equity", "main")),
        ("/connect abcd-efgh-jkmn-pqrs", Connect("ABCDEFGHJKMNPQRS")),
        ("/connect list", ListConnections()),
        ("/connect remove discord", RemoveConnection("discord")),
        ("/digest", DigestCommand()),
        ("/status", ShowStatus()),
    ],
)
def test_each_command_parses_to_its_record(text: str, command: Command) -> None:
    """Every command of the menu turns into its own frozen record."""
    assert parse(text) == command


def test_every_record_comes_from_exactly_one_command_word() -> None:
    """Each record the parser returns is listed by a spec (so it has a word, an access and,
    in the conversation, a handler); /alert list shares /alerts' record and its access."""
    words = {spec.name: set(spec.forms) for spec in COMMANDS}
    assert len(COMMANDS) == 22
    assert len(COMMANDS.forms()) == 29  # /stress grid and /chart stress have records of their own
    assert words["alert"] & words["alerts"] == {ShowAlerts}
    assert COMMANDS.form(ShowAlerts())[0].name == "alerts"


def test_every_spec_has_a_usage_line_and_a_summary_for_the_menus() -> None:
    """/help and the menus read the same spec: a usage starting with its word, and a summary
    short enough for Discord's 100 characters."""
    for spec in COMMANDS:
        assert spec.usage.startswith(f"/{spec.name}")
        assert 0 < len(spec.summary) <= 100


# --- spelling --------------------------------------------------------------------------------


def test_a_telegram_group_suffix_is_ignored() -> None:
    """`/positions@LiqwatchBot main` in a group is `/positions main`."""
    assert parse("/positions@LiqwatchBot main") == ShowPositions("main")


def test_command_names_are_case_insensitive_and_spaces_do_not_matter() -> None:
    """`  /RISK    main  ` is `/risk main`."""
    assert parse("  /RISK    main  ") == ShowRisk("main")


def test_the_slash_is_optional_for_the_console() -> None:
    """The console prompt accepts `positions` as well as `/positions`."""
    assert parse("positions") == ShowPositions()


@pytest.mark.parametrize("word", ["12", "#12"])
def test_ids_take_an_optional_hash(word: str) -> None:
    """`12` and `#12` are the same id, as /alerts lists them."""
    assert parse(f"/why {word}") == ExplainAlert(12)


def test_alert_rm_has_word_aliases() -> None:
    """remove / delete / del all mean rm."""
    assert {parse(f"/alert {verb} 1") for verb in ("remove", "delete", "del")} == {
        ChangeRule(RuleAction.RM, 1)
    }


def test_alert_list_is_alerts() -> None:
    """`/alert list` shows the same as `/alerts`."""
    assert parse("/alert list") == ShowAlerts()


def test_help_names_a_command_with_or_without_its_slash() -> None:
    """`/help /alert add` asks about /alert."""
    assert parse("/help /alert add") == Help("alert")


def test_digest_actions_and_schedule() -> None:
    """/digest alone shows, now / unsubscribe act, subscribe takes accounts, a time, a zone."""
    assert parse("/digest now") == DigestCommand("now")
    assert parse("/digest unsubscribe") == DigestCommand("unsubscribe")
    assert parse("/digest subscribe at 9") == DigestCommand("subscribe", (), "09:00", "UTC")
    assert parse("/digest subscribe main hl at 08:30 europe/paris") == DigestCommand(
        "subscribe", ("main", "hl"), "08:30", "Europe/Paris"
    )
    for bad in ("/digest weekly", "/digest subscribe main", "/digest subscribe at 25:00",
                "/digest subscribe at 8 Mars/Olympus", "/digest now please"):  # fmt: skip
        with pytest.raises(UserError):
            parse(bad)


@pytest.mark.parametrize(
    "typed",
    ["abcd-efgh-jkmn-pqrs", "ABCDEFGHJKMNPQRS", "abcd efgh jkmn pqrs", "AbCd-EfGh-JkMn-PqRs"],
)
def test_a_connect_code_is_read_in_any_case_with_or_without_dashes(typed: str) -> None:
    """Phones capitalise at random and people drop the dashes: the same code either way."""
    assert parse(f"/connect {typed}") == Connect("ABCDEFGHJKMNPQRS")


def test_letters_misread_for_digits_in_a_connect_code_are_read_as_those_digits() -> None:
    """The alphabet has no I, L or O: typed, they can only mean 1, 1 and 0."""
    assert parse("/connect ABCD-EFGH-JKMN-PILO") == Connect("ABCDEFGHJKMNP110")


def test_a_connect_code_is_kept_out_of_repr_and_error_messages() -> None:
    """The code joins a chat to your user: neither repr nor a refusal quotes it."""
    command = parse("/connect wxyz-wxyz-wxyz-wxyz")
    assert "WXYZ" not in repr(command) + str(command)
    assert "WXYZ" not in _refused("/connect wxyz-wxyz-wxyz-wxyU").upper()


# --- commands with a grammar -----------------------------------------------------------------


def test_link_keeps_the_secrets_out_of_repr() -> None:
    """The key, secret and passphrase are fields but never appear in repr or str."""
    command = parse("/link OKX KEY-123 SECRET-456 PASS-789")
    assert command == Link("okx", "KEY-123", "SECRET-456", "PASS-789")
    assert not any(s in repr(command) + str(command) for s in ("KEY-123", "SECRET-456", "PASS"))


def test_link_without_passphrase_leaves_it_none() -> None:
    """Three words: venue, key, secret."""
    assert parse("/link binanceusdm K S") == Link("binanceusdm", "K", "S", None)


@pytest.mark.parametrize(
    "text", ["/link binanceusdm SECRET-456", "/link binanceusdm K SECRET-456 P X", "/link ? K S"]
)
def test_link_errors_never_echo_an_argument(text: str) -> None:
    """A wrong /link still carries secrets: the reply quotes none of its words."""
    message = _refused(text)
    assert "SECRET-456" not in message and "?" not in message.split("\n")[0]


def test_alert_add_parses_the_rule_with_the_shared_grammar() -> None:
    """Everything after `add` goes to the one rule grammar."""
    text = "liq < 5 % BTC critical for 3"
    assert parse(f"/alert add {text}") == AddRule(parse_rule(text))


def test_alert_add_errors_show_the_grammars_usage() -> None:
    """A bad rule is a UserError whose usage line shows an example of that kind."""
    assert _refused("/alert add price<60000").endswith(
        "Usage: /alert add price<60000 BTC/USDT:USDT"
    )


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("/stress BTC -10%", StressTest("BTC", -10.0)),
        ("/stress eth +5 %", StressTest("ETH", 5.0)),
        ("/stress -20", StressTest(None, -20.0)),
    ],
)
def test_stress_takes_an_optional_asset_and_a_signed_percentage(
    text: str, command: StressTest
) -> None:
    """The asset is upper-cased; no asset shocks every underlying."""
    assert parse(text) == command


def test_quiet_hours_use_the_shared_grammar() -> None:
    """`/quiet 22:00 - 07:00 Europe/Paris all` holds even critical alerts."""
    assert parse("/quiet 22:00 - 07:00 Europe/Paris all") == SetQuiet(
        QuietHours("22:00", "07:00", "Europe/Paris", allow_critical=False)
    )


@pytest.mark.parametrize("folder", ["America", "Europe", "Etc", "etc"])
@pytest.mark.parametrize(
    ("template", "usage"),
    [
        ("/quiet 22:00-07:00 {}", "Usage: /quiet <from>-<to>"),
        ("/quiet 22:00 - 07:00 all {}", "Usage: /quiet <from>-<to>"),
        ("/digest subscribe at 08:00 {}", "Usage: /digest"),
        ("/digest subscribe main at 8 {}", "Usage: /digest"),
    ],
)
def test_a_tzdata_folder_is_not_a_time_zone(folder: str, template: str, usage: str) -> None:
    """`America` is a folder of tzdata, not a zone (ZoneInfo fails on it with an OSError):
    /quiet and /digest subscribe both answer with the one sentence and the usage line."""
    first, second = _refused(template.format(folder)).split("\n")
    assert first == f"'{folder}' is not a time zone like Europe/Paris or UTC."
    assert second.startswith(usage)


def test_zones_are_matched_without_regard_to_case() -> None:
    """A phone's capitalisation does not matter: the zone is stored as IANA spells it."""
    quiet = parse("/quiet 22:00-07:00 america/new_york")
    assert isinstance(quiet, SetQuiet) and quiet.hours is not None
    assert quiet.hours.tz == "America/New_York"
    assert parse("/digest subscribe at 7 etc/utc") == DigestCommand(
        "subscribe", (), "07:00", "Etc/UTC"
    )


def test_silence_reads_matchers_then_a_duration() -> None:
    """The last word is the duration; matchers keep their order and canonical values."""
    assert parse("/silence kind=liq symbol=btc 2h") == AddSilence(
        (("kind", "liq"), ("symbol", "BTC")), 7_200.0
    )


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem", "usage"),
    [
        ("/nope", "There is no /nope command.", "Usage: /help [command]"),
        ("", "Send a command, like /positions.", "Usage: /help [command]"),
        ("/help nope", "There is no /nope command.", "Usage: /help [command]"),
        ("/accounts all", "/accounts takes no arguments.", "Usage: /accounts"),
        ("/unlink", "Say which account to unlink, by its label.", "Usage: /unlink <account>"),
        ("/unlink a b", "/unlink got more than it takes.", "Usage: /unlink <account>"),
        ("/positions m@in", "'m@in' is not an account label", "Usage: /positions [account]"),
        ("/why twelve", "'twelve' is not an alert id", "Usage: /why <alert id>, e.g. /why 12"),
        ("/why #0", "'#0' is not an alert id", "Usage: /why <alert id>, e.g. /why 12"),
        ("/ack", "Say which alert to acknowledge", "Usage: /ack <alert id|all>, e.g. /ack 12"),
        ("/alert", "Say what to do: add, rm, pause or resume.", "Usage: /alert add <rule>"),
        ("/alert frob 1", "'frob' is not something /alert does", "Usage: /alert add <rule>"),
        ("/alert rm", "Say which rule: its id, like 12.", "Usage: /alert add <rule>"),
        ("/snooze 7", "Say which alert to snooze", "Usage: /snooze <alert id|all> <duration>"),
        ("/snooze 7 soon", "'soon' is not a duration", "Usage: /snooze 12 1h"),
        ("/stress BTC", "'BTC' is not a price move like -10%.", "Usage: /stress [asset]"),
        ("/stress BTC 0", "The price move must be a non-zero", "Usage: /stress [asset]"),
        ("/stress BTC -100", "The price move must be a non-zero", "Usage: /stress [asset]"),
        ("/stress B/C -5", "'B/C' is not an asset like BTC.", "Usage: /stress [asset]"),
        ("/quiet", "Give the quiet window", "Usage: /quiet <from>-<to>"),
        ("/quiet 25:00-07:00", "'25:00' is not a time of day", "Usage: /quiet 22:00-07:00"),
        ("/silence kind=liq", "End the silence with how long it lasts", "Usage: /silence <mat"),
        ("/silence 2h", "A silence needs at least one matcher.", "Usage: /silence kind=liq"),
        ("/watch hyperliquid", "Give the venue and the wallet address", "Usage: /watch <venue>"),
        ("/connect 1a2b-3c4d", "That is not a connect code", "Usage: /connect [code"),
        ("/connect remove", "Say which chat to remove", "Usage: /connect [code"),
        ("/connect remove a b", "/connect got more than it takes.", "Usage: /connect [code"),
    ],
)
def test_bad_commands_get_one_sentence_and_the_usage_line(
    text: str, problem: str, usage: str
) -> None:
    """Two lines: what is wrong, then how to say it right."""
    first, second = _refused(text).split("\n")
    assert first.startswith(problem)
    assert second.startswith(usage)


def test_a_long_unknown_command_is_cut_short_in_the_reply() -> None:
    """The reply quotes at most 32 characters of what the user typed."""
    assert len(_refused("/" + "x" * 500)) < 100


_WORDS = st.sampled_from(
    [*(spec.name for spec in COMMANDS), "add", "rm", "all", "#3", "12", "1h", "-10%", "kind=liq"]
)
_MESSAGES = st.text(max_size=80) | st.lists(_WORDS | st.text(max_size=6), max_size=6).map(
    lambda words: "/" + " ".join(words)
)


@settings(deadline=None)
@given(_MESSAGES)
def test_any_text_gives_a_command_or_a_user_error(text: str) -> None:
    """No message, however mangled, escapes as anything but a Command or a UserError."""
    try:
        command = parse(text)
    except UserError:
        return
    assert isinstance(command, Command) and type(command) in COMMANDS.forms()


# --- help ------------------------------------------------------------------------------------


def test_help_lists_every_command_with_its_summary() -> None:
    """One line per command: usage and summary."""
    text = help_text()
    assert all(f"{spec.usage} — {spec.summary}" in text for spec in COMMANDS)


def test_help_for_alert_explains_the_rule_grammar() -> None:
    """/help alert shows the usage line, an example and the kinds."""
    text = help_text("/alert")
    assert "Usage: /alert add <rule>" in text and "e.g. /alert add liq<5% BTC critical" in text
    assert "account_exposure" in text


def test_help_for_an_unknown_command_is_a_user_error() -> None:
    """help_text refuses a command that does not exist, like parse does."""
    with pytest.raises(UserError, match="There is no /nope command"):
        help_text("nope")
