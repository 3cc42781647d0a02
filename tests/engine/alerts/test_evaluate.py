"""The alert state machine and policy, one semantic per test, on hand-built observations."""

from __future__ import annotations

from dataclasses import replace

from engine.alerts.evaluate import material
from engine.alerts.events import AlertStatus, Reason
from engine.alerts.policy import Silence
from engine.alerts.quiet import ChatSettings
from engine.alerts.rules import Kind, Op, RuleSpec, Severity
from engine.domain import AccountStatus, Platform
from tests.engine.alerts.helpers import (
    DM,
    Run,
    defaults,
    failed,
    items,
    liq,
    position,
    quiet,
    reasons,
    rule,
    seen,
)

BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"


def test_a_breach_under_for_stays_pending_and_one_wick_pages_nobody() -> None:
    """for 3 polls: two breaching polls then a recovery drop the episode without a message."""
    run = Run([liq(1, 5.0, for_polls=3)])
    first = run(seen(0, position(BTC, liq=4.0)))
    assert [a.status for a in first.alerts] == [AlertStatus.PENDING] and not first.messages
    run(seen(30, position(BTC, liq=4.5)))
    out = run(seen(60, position(BTC, liq=8.0)))
    assert out.dropped == (1,) and not out.messages and run.alerts == {}


def test_for_polls_fires_on_the_nth_consecutive_breach() -> None:
    """for 3 polls: the third breaching poll fires and sends the first notification."""
    run = Run([liq(1, 5.0, for_polls=3)])
    run(seen(0, position(BTC, liq=4.0)))
    assert not run(seen(30, position(BTC, liq=4.0))).messages
    out = run(seen(60, position(BTC, liq=4.0)))
    assert items(out) == [(1, "firing", "FIRST")]
    assert run.alerts[1].fired_at == 60


def test_streamed_marks_never_count_as_polls_for_a_for_n_polls_rule() -> None:
    """for 3 polls: a breach seen at a poll, then a burst of ticks, is still pending; the
    second and third polls fire it (ticks move values, not the poll count)."""
    run = Run([liq(1, 5.0, for_polls=3)])
    run(seen(0, position(BTC, liq=4.0)))
    for at in (0.25, 0.5, 0.75, 1.0):
        out = run(replace(seen(at, position(BTC, liq=3.9)), poll=False))
        assert not out.messages and run.alerts[1].status is AlertStatus.PENDING
    assert not run(seen(30, position(BTC, liq=4.0))).messages
    assert items(run(seen(60, position(BTC, liq=4.0)))) == [(1, "firing", "FIRST")]


def test_a_rule_without_for_fires_on_the_first_streamed_breach() -> None:
    """No ``for``: the first look that breaches fires, a tick as well as a poll."""
    run = Run([liq(1, 5.0)])
    out = run(replace(seen(0.25, position(BTC, liq=4.0)), poll=False))
    assert items(out) == [(1, "firing", "FIRST")]


def test_for_seconds_waits_for_the_duration_whatever_the_poll_count() -> None:
    """for 90s: polls at 0, 30, 60 stay pending; the poll at 90 fires."""
    run = Run([liq(1, 5.0, for_s=90.0)])
    for at in (0, 30, 60):
        assert not run(seen(at, position(BTC, liq=3.0))).messages
    assert items(run(seen(90, position(BTC, liq=3.0)))) == [(1, "firing", "FIRST")]


def test_hysteresis_keeps_firing_between_threshold_and_clear_level() -> None:
    """Fires below 5 %, stays firing at 6 % (clear level 7 %), resolves at 7.5 %."""
    run = Run([liq(1, 5.0, clear=7.0)])
    run(seen(0, position(BTC, liq=4.9)))
    for at, value in ((30, 5.2), (60, 4.95), (90, 6.0)):
        out = run(seen(at, position(BTC, liq=value)))
        assert run.alerts[1].status is AlertStatus.FIRING and not out.messages
    out = run(seen(120, position(BTC, liq=7.5)))
    assert items(out) == [(1, "resolved", "RESOLVED")]


def test_breaching_positions_of_one_account_arrive_in_one_message() -> None:
    """Two positions breach in one poll: one message with two items, not two messages."""
    run = Run([liq(1, 5.0)])
    out = run(
        seen(
            0,
            position(BTC, liq=3.0),
            position(ETH, "short", liq=4.0),
            position("SOL/USDT:USDT", liq=20.0),
        )
    )
    assert len(out.messages) == 1
    assert sorted(i.symbol or "" for i in out.messages[0].notice.items) == [BTC, ETH]


def test_critical_repeats_after_its_interval_not_before() -> None:
    """Critical repeats every 5 min: silent at +4 min, repeated at +5 min."""
    run = Run([liq(1, 5.0)])
    run(seen(0, position(BTC, liq=3.0)))
    quiet_poll = run(seen(240, position(BTC, liq=3.0)))
    assert not quiet_poll.messages and reasons(quiet_poll) == {1: "WAITING"}
    assert items(run(seen(300, position(BTC, liq=3.0)))) == [(1, "firing", "REPEAT")]


def test_warning_repeats_hourly() -> None:
    """A warning is not repeated after 5 minutes, it is after an hour."""
    run = Run([liq(1, 10.0, Severity.WARNING)])
    run(seen(0, position(BTC, liq=9.0)))
    assert not run(seen(300, position(BTC, liq=9.0))).messages
    assert items(run(seen(3600, position(BTC, liq=9.0)))) == [(1, "firing", "REPEAT")]


def test_escalation_when_the_distance_halves_inside_the_repeat_interval() -> None:
    """Notified at 4 %: 2.5 % is not an escalation, 2 % is (a new message at +60 s)."""
    run = Run([liq(1, 5.0)])
    run(seen(0, position(BTC, liq=4.0)))
    assert not run(seen(30, position(BTC, liq=2.5))).messages
    assert items(run(seen(60, position(BTC, liq=2.0)))) == [(1, "firing", "ESCALATED")]
    assert run.alerts[1].notified_value == 2.0


def test_escalation_towards_a_margin_ratio_of_100_percent() -> None:
    """margin>80%: notified at 84 % (gap 16 to liquidation), escalates at 92 % (gap 8)."""
    run = Run([rule(1, RuleSpec(Kind.MARGIN, Op.ABOVE, 80.0, Severity.WARNING))])
    run(seen(0, margin=84.0))
    assert not run(seen(30, margin=91.0)).messages
    assert items(run(seen(60, margin=92.0))) == [(1, "firing", "ESCALATED")]


def test_an_infinite_margin_ratio_does_not_escalate_at_every_poll() -> None:
    """No equity left: the margin ratio is infinite. Notified there once, it stays quiet (the
    gap to the limit cannot halve; inf - inf once read as "it did", a message every poll)."""
    run = Run([rule(1, RuleSpec(Kind.MARGIN, Op.ABOVE, 80.0, Severity.WARNING))])
    assert items(run(seen(0, margin=float("inf")))) == [(1, "firing", "FIRST")]
    for at in (30, 60, 90):
        assert not run(seen(at, margin=float("inf"))).messages


def test_a_position_at_its_liquidation_price_does_not_escalate_at_every_poll() -> None:
    """Notified at 0 % from liquidation: nothing can be twice as close, so no escalation
    follows while it stays there (0 <= 0 / 2 once read as "it did")."""
    run = Run([rule(1, RuleSpec(Kind.LIQ, Op.BELOW, 5.0, Severity.CRITICAL))])
    assert items(run(seen(0, position("BTC/USDT:USDT", liq=0.0)))) == [(1, "firing", "FIRST")]
    for at in (30, 60, 90):
        assert not run(seen(at, position("BTC/USDT:USDT", liq=0.0))).messages


def test_firing_critical_inhibits_the_warning_for_the_same_position() -> None:
    """Both default liq rules fire on one position: only the critical is told."""
    run = Run(defaults())
    out = run(seen(0, position(BTC, liq=3.0)))
    told = items(out)
    assert len(told) == 1 and run.alerts[told[0][0]].rule_id == 2
    warning = next(a for a in run.alerts.values() if a.rule_id == 1)
    assert warning.reason is Reason.INHIBITED


def test_inhibited_warning_is_told_once_the_critical_resolves() -> None:
    """After the critical resolves, the still-firing warning is notified for the first time."""
    run = Run([liq(1, 10.0, Severity.WARNING, clear=12.0), liq(2, 5.0, clear=7.0)])
    run(seen(0, position(BTC, liq=3.0)))
    out = run(seen(30, position(BTC, liq=8.0)))
    assert sorted(items(out)) == [(1, "firing", "FIRST"), (2, "resolved", "RESOLVED")]


def test_account_level_alert_inhibits_its_position_alerts() -> None:
    """margin>80% critical firing: the same account's liq warning is inhibited."""
    margin = rule(1, RuleSpec(Kind.MARGIN, Op.ABOVE, 80.0, Severity.CRITICAL))
    run = Run([margin, liq(2, 10.0, Severity.WARNING)])
    out = run(seen(0, position(BTC, liq=8.0), margin=90.0))
    assert items(out) == [(1, "firing", "FIRST")]
    assert run.alerts[2].reason is Reason.INHIBITED


def test_blind_account_keeps_position_alerts_and_fires_blind() -> None:
    """A failed poll keeps position state (unseen) and the blind rule fires and inhibits them."""
    run = Run(defaults())
    run(seen(0, position(BTC, liq=8.0)))  # warning firing
    out = run(failed(30))
    blind = next(a for a in run.alerts.values() if a.rule_id == 3)
    assert blind.firing and items(out) == [(blind.id, "firing", "FIRST")]
    warning = next(a for a in run.alerts.values() if a.rule_id == 1)
    assert warning.firing and warning.reason is Reason.INHIBITED


def test_closed_position_resolves_its_alert() -> None:
    """A firing position alert resolves ("position closed") when the position disappears."""
    run = Run([liq(1, 5.0)])
    run(seen(0, position(BTC, liq=3.0)))
    out = run(seen(30))
    assert items(out) == [(1, "resolved", "RESOLVED")]
    assert run.alerts[1].detail == "position closed"


def test_acknowledged_alert_stops_repeating_but_still_resolves_out_loud() -> None:
    """Acked: no repeat after 5 or 10 minutes; the resolved message is still sent."""
    run = Run([liq(1, 5.0)])
    run(seen(0, position(BTC, liq=3.0)))
    run.edit(1, acked_at=10.0)
    for at in (300, 600):
        out = run(seen(at, position(BTC, liq=3.0)))
        assert not out.messages and reasons(out) == {1: "ACKED"}
    assert items(run(seen(630, position(BTC, liq=9.0)))) == [(1, "resolved", "RESOLVED")]


def test_snoozed_alert_is_quiet_until_the_snooze_ends() -> None:
    """Snoozed for an hour: no repeat at +10 min; repeated once the hour is over."""
    run = Run([liq(1, 5.0)])
    run(seen(0, position(BTC, liq=3.0)))
    run.edit(1, snoozed_until=3600.0)
    out = run(seen(600, position(BTC, liq=1.0)))
    assert not out.messages and reasons(out) == {1: "SNOOZED"}
    assert items(run(seen(3600, position(BTC, liq=1.0))))[0][2] in {"REPEAT", "ESCALATED"}


def test_silence_by_matcher_mutes_matching_alerts_only() -> None:
    """symbol=BTC silences BTC's alert; ETH's is still told."""
    silence = Silence(1, 1, {"symbol": "btc", "kind": "liq"}, 0.0, 3600.0)
    run = Run([liq(1, 5.0)], silences=[silence])
    out = run(seen(0, position(BTC, liq=3.0), position(ETH, liq=3.0)))
    assert [i.symbol for m in out.messages for i in m.notice.items] == [ETH]
    assert Reason.SILENCED in {a.reason for a in out.alerts}


def test_quiet_hours_hold_warnings_and_let_critical_through() -> None:
    """00:00–07:00 quiet: at 01:00 a warning is held, a critical is delivered."""
    run = Run([liq(1, 10.0, Severity.WARNING), liq(2, 3.0)], chats=[quiet("00:00", "07:00")])
    out = run(seen(3600, position(BTC, liq=8.0), position(ETH, liq=2.0)))
    assert [i.symbol for m in out.messages for i in m.notice.items] == [ETH]
    assert reasons(out)[1] == "QUIET"


def test_held_warning_arrives_as_a_first_notification_when_quiet_hours_end() -> None:
    """The warning held at 01:00 is told at 07:00 as its first notification."""
    run = Run([liq(1, 10.0, Severity.WARNING)], chats=[quiet("00:00", "07:00")])
    run(seen(3600, position(BTC, liq=8.0)))
    assert items(run(seen(7 * 3600, position(BTC, liq=8.0)))) == [(1, "firing", "FIRST")]


def test_quiet_hours_can_hold_critical_too() -> None:
    """With allow_critical off, even a critical waits."""
    run = Run([liq(1, 5.0)], chats=[quiet("00:00", "07:00", allow_critical=False)])
    assert not run(seen(3600, position(BTC, liq=2.0))).messages


def test_resolved_message_carries_duration_and_worst_value() -> None:
    """Fired at 0, worst 1.5 %, resolved at 420 s: the resolved item says 420 s and 1.5."""
    run = Run([liq(1, 5.0, clear=7.0)])
    for at, value in ((0, 4.0), (60, 1.5), (120, 3.0)):
        run(seen(at, position(BTC, liq=value)))
    out = run(seen(420, position(BTC, liq=9.0)))
    item = out.messages[0].notice.items[0]
    assert (item.status, item.duration_s, item.worst) == (AlertStatus.RESOLVED, 420.0, 1.5)


def test_never_notified_alert_resolves_without_a_message() -> None:
    """An inhibited-only warning resolving sends nothing (nobody heard of it)."""
    run = Run([liq(1, 10.0, Severity.WARNING, clear=12.0), liq(2, 5.0, clear=7.0)])
    run(seen(0, position(BTC, liq=3.0)))
    out = run(seen(30, position(BTC, liq=20.0)))
    assert items(out) == [(2, "resolved", "RESOLVED")]
    assert run.alerts[1].reason is Reason.RESOLVED_QUIET


def test_every_decision_is_logged_with_its_reason_once() -> None:
    """FIRST, then WAITING logged once across two quiet polls, then REPEAT."""
    run = Run([liq(1, 5.0)])
    for at in (0, 60, 120, 300):
        run(seen(at, position(BTC, liq=3.0)))
    logged = [(d.at, d.reason) for out in run.history for d in out.decisions]
    assert logged == [(0, Reason.FIRST), (60, Reason.WAITING), (300, Reason.REPEAT)]


def test_blocked_chats_are_skipped_and_no_chat_means_no_recipient() -> None:
    """A blocked chat gets nothing; with no reachable chat the reason says so and nothing is
    marked notified (so it is told once a chat exists)."""
    blocked = ChatSettings(Platform.TELEGRAM, "100", blocked_at=1.0, blocked_reason="bot blocked")
    run = Run([liq(1, 5.0)], chats=[blocked])
    out = run(seen(0, position(BTC, liq=3.0)))
    assert not out.messages and reasons(out) == {1: "NO_RECIPIENT"}
    run.chats = [DM]
    assert items(run(seen(30, position(BTC, liq=3.0)))) == [(1, "firing", "FIRST")]


def test_every_chat_gets_its_own_message_with_a_stable_dedup_key() -> None:
    """Two chats: two messages, keys differ per chat and embed account and evaluation time."""
    other = ChatSettings(Platform.DISCORD, "555")
    out = Run([liq(1, 5.0)], chats=[DM, other])(seen(12.5, position(BTC, liq=3.0)))
    keys = [m.dedup_key for m in out.messages]
    assert keys == ["alert:7:12.5:telegram:100", "alert:7:12.5:discord:555"]


def test_rules_scope_by_symbol_and_account() -> None:
    """A BTC-only rule ignores ETH; a rule for another account ignores this one."""
    btc_only = liq(1, 5.0, symbols=("BTC",))
    elsewhere = rule(2, RuleSpec(Kind.LIQ, Op.BELOW, 5.0, Severity.CRITICAL))
    elsewhere = type(elsewhere)(2, 1, 99, elsewhere.spec)
    out = Run([btc_only, elsewhere])(seen(0, position(BTC, liq=3.0), position(ETH, liq=3.0)))
    assert [(i.rule_id, i.symbol) for m in out.messages for i in m.notice.items] == [(1, BTC)]


def test_paused_rule_resolves_its_alert_silently_if_never_told() -> None:
    """Removing a rule from the active set closes its live episode."""
    run = Run([liq(1, 5.0, for_polls=5)])
    run(seen(0, position(BTC, liq=3.0)))
    run.rules = []
    out = run(seen(30, position(BTC, liq=3.0)))
    assert out.dropped == (1,)


def test_auth_failure_fires_critical_and_clears_when_active_again() -> None:
    """auth_failed fires the default critical; a later good poll resolves it."""
    run = Run(defaults())
    out = run(failed(0, AccountStatus.AUTH_FAILED))
    assert [(i.kind, i.severity) for m in out.messages for i in m.notice.items] == [
        (Kind.AUTH, Severity.CRITICAL)
    ]
    assert items(run(seen(30)))[0][1:] == ("resolved", "RESOLVED")


def test_a_tick_that_only_moves_a_firing_value_is_not_material() -> None:
    """Firing at 4 %, a tick at 3.9 % (no repeat due, no escalation) tells nobody anything:
    not material; a tick that resolves it is."""
    run = Run([liq(1, 5.0)])
    run(seen(0, position(BTC, liq=4.0)))
    before = [a for a in run.alerts.values() if a.live]
    quiet_tick = run(replace(seen(1.0, position(BTC, liq=3.9)), poll=False))
    assert not material(quiet_tick, before)
    before = [a for a in run.alerts.values() if a.live]
    recovered = run(replace(seen(2.0, position(BTC, liq=20.0)), poll=False))
    assert material(recovered, before) and items(recovered) == [(1, "resolved", "RESOLVED")]


def test_a_tick_that_starts_an_episode_is_material() -> None:
    """A first breach on a tick under ``for 60s`` sends nothing yet but starts a pending
    episode, which must be stored."""
    run = Run([liq(1, 5.0, for_s=60.0)])
    out = run(replace(seen(0.25, position(BTC, liq=4.0)), poll=False))
    assert not out.messages and material(out, [])
