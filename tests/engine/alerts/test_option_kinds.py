"""The option alert kinds (issue 19 part 4) from a real analysis through ``evaluate``:
delta, gamma and vega per underlying in USD, expiry per held option, and a portfolio-margin
account's margin ratio from the venue.

The book: a long BTC call (2 coins, venue delta 0.5, gamma 2e-5 per USD, vega 100 USD per vol
point per coin, underlying at 60,000 USD) beside a BTC perpetual short of ``perp`` coins. By
hand (docs/risk.md#greeks): delta = 2·0.5·60,000 − perp·60,000 USD; gamma per 1 % move =
2·2e-5·60,000²/100 = 1,440 USD; vega = 2·100 = 200 USD.
"""

from __future__ import annotations

import math

import pytest

from engine.alerts.events import VENUE_PM, AlertStatus
from engine.alerts.grammar import parse_rule
from engine.alerts.observe import Observation, observe
from engine.alerts.policy import Policy
from engine.alerts.rules import Kind
from engine.alerts.screen import watch
from engine.analysis import analyze
from engine.backtest import check_replayable
from engine.model import Account, ContractType
from engine.sweep import Unsupported, liq_levels
from tests.engine.alerts.helpers import ACCOUNT, Run, items, rule
from tests.engine.builders import positions, snapshot

AT = 1_719_000_000.0
HOUR = 3_600.0
CALL = "BTC/USD:BTC-240628-60000-C"
PERP = "BTC/USDT:USDT"
ETH_PERP = "ETH/USDT:USDT"


def _book(
    perp: float = 0.5,
    *,
    at: float = AT,
    expiry_h: float = 5.0,
    call_qty: float = 2.0,
    gamma: float = 2e-5,
    account: Account | None = None,
) -> Observation:
    """The call and the perp short, observed at ``at`` (the option expiring ``expiry_h``
    hours after ``AT``); ``call_qty`` 0 leaves the call out, ``perp`` 0 the perpetual."""
    nan = math.nan
    rows = [
        dict(
            symbol=CALL, kind=ContractType.OPTION, side=1.0, qty=call_qty, mark=3_000.0,
            entry=2_500.0, underlying_price=60_000.0, strike=60_000.0,
            expiry=AT + expiry_h * HOUR, call=1.0, mark_iv=0.6, delta=0.5, gamma=gamma,
            vega=100.0, theta=-50.0, greeks_source="venue", leverage=nan, mmr=0.0,
        ),
        dict(
            symbol=PERP, kind=ContractType.LINEAR, side=-1.0, qty=perp, mark=60_000.0,
            entry=60_000.0, underlying_price=nan, strike=nan, expiry=nan, call=nan,
            mark_iv=nan, delta=nan, gamma=nan, vega=nan, theta=nan, greeks_source="",
            leverage=10.0, mmr=0.005,
        ),
    ]  # fmt: skip
    kept = [r for r in rows if r["qty"]]
    columns = {name: [r[name] for r in kept] for name in kept[0]}
    pos = positions(
        underlying=["BTC"] * len(kept),
        contracts=columns["qty"],
        contract_size=[1.0] * len(kept),
        **columns,  # type: ignore[arg-type]
    )
    account = account or Account(venue="test", margin_balance={"USDT": 10_000.0})
    return observe(analyze(snapshot(pos, account)), ACCOUNT, at=at)


def _underlying(obs: Observation, name: str = "BTC") -> dict[Kind, float]:
    return dict(next(s for s in obs.underlyings if s.key == name).values)


# --- what rules see --------------------------------------------------------------------------


def test_an_underlying_carries_its_net_delta_gamma_and_vega_in_usd() -> None:
    """60,000 − 30,000 = 30,000 USD of delta; 1,440 USD of gamma per 1 %; 200 USD of vega."""
    values = _underlying(_book(perp=0.5))
    assert math.isclose(values[Kind.DELTA], 30_000.0)
    assert math.isclose(values[Kind.GAMMA], 1_440.0)
    assert math.isclose(values[Kind.VEGA], 200.0)


def test_an_underlying_without_options_still_has_its_delta() -> None:
    """A perpetual alone: delta −0.5·60,000 = −30,000 USD, no gamma or vega."""
    values = _underlying(_book(perp=0.5, call_qty=0.0))
    assert values == {Kind.DELTA: -30_000.0, Kind.GAMMA: 0.0, Kind.VEGA: 0.0}


def test_a_greek_some_position_lacks_is_unknown_for_its_underlying() -> None:
    """The call's gamma missing (no venue figure, none filled): BTC's gamma is unknown (NaN),
    not the perpetual's 0; its delta, which every position has, is still known."""
    values = _underlying(_book(gamma=math.nan))
    assert math.isnan(values[Kind.GAMMA])
    assert math.isclose(values[Kind.DELTA], 30_000.0)


def test_a_held_option_carries_its_hours_to_expiry_at_the_poll_time() -> None:
    """Expiring 5 h after ``AT``, observed 2 h after it: 3 h left; the perpetual has none."""
    obs = _book(at=AT + 2 * HOUR)
    call = next(s for s in obs.positions if s.symbol == CALL)
    perp = next(s for s in obs.positions if s.symbol == PERP)
    assert call.values[Kind.EXPIRY] == 3.0 and call.size == 2.0 and call.base == "BTC"
    assert Kind.EXPIRY not in perp.values


def test_an_option_past_its_expiry_is_no_longer_held() -> None:
    """One second past expiry the call carries no expiry value: not a subject of expiry rules."""
    obs = _book(at=AT + 5 * HOUR + 1.0)
    call = next(s for s in obs.positions if s.symbol == CALL)
    assert Kind.EXPIRY not in call.values


def test_a_portfolio_margin_account_reads_the_venues_ratio() -> None:
    """USDT on portfolio margin at the venue's 0.85: margin reads 85 % from the venue (the
    engine's own maintenance / equity here is far lower), and says so."""
    pm = Account(
        venue="test",
        margin_balance={"USDT": 10_000.0},
        portfolio_margin=frozenset({"USDT"}),
        venue_margin_ratio={"USDT": 0.85},
    )
    head = _book(account=pm).account_subject
    assert math.isclose(head.value(Kind.MARGIN), 85.0) and head.basis == {Kind.MARGIN: VENUE_PM}
    plain = _book().account_subject
    assert plain.value(Kind.MARGIN) < 10.0 and plain.basis == {}


def test_a_portfolio_margin_pool_without_a_venue_ratio_keeps_the_engines() -> None:
    """On portfolio margin but no ratio reported: the engine's figure, no venue basis."""
    pm = Account(
        venue="test", margin_balance={"USDT": 10_000.0}, portfolio_margin=frozenset({"USDT"})
    )
    head = _book(account=pm).account_subject
    assert head.basis == {}
    assert math.isclose(head.value(Kind.MARGIN), _book().account_subject.value(Kind.MARGIN))


# --- firing and clearing through evaluate ----------------------------------------------------


def _run(*texts: str) -> Run:
    return Run([rule(n, parse_rule(text)) for n, text in enumerate(texts, start=1)])


def test_delta_fires_above_and_clears_only_past_the_hysteresis() -> None:
    """delta>50k BTC (clears at or below 45k): 30k quiet, 60k fires, 48k (between) keeps
    firing, 42k resolves."""
    run = _run("delta>50k BTC")
    assert not run(_book(perp=0.5)).messages  # 30,000
    first = run(_book(perp=0.0, at=AT + 60))  # 60,000
    assert items(first) == [(1, "firing", "FIRST")]
    (item,) = first.messages[0].notice.items  # type: ignore[union-attr]
    assert (item.symbol, item.side, item.value) == ("BTC", None, 60_000.0)
    between = run(_book(perp=0.2, at=AT + 120))  # 60,000 − 12,000 = 48,000
    assert not between.messages and run.alerts[1].status is AlertStatus.FIRING
    assert items(run(_book(perp=0.3, at=AT + 180))) == [(1, "resolved", "RESOLVED")]  # 42,000


def test_a_net_short_delta_fires_the_below_rule() -> None:
    """delta<-50000 BTC: a perpetual short of 2 against the call is 60,000 − 120,000 =
    −60,000 USD, past −50,000; the above rule stays quiet."""
    run = _run("delta<-50000 BTC", "delta>50000 BTC")
    out = run(_book(perp=2.0))
    assert items(out) == [(1, "firing", "FIRST")]


def test_gamma_and_vega_fire_on_their_underlying_only() -> None:
    """gamma>1000 BTC fires at 1,440; vega>100 fires at 200; vega>2000 and an ETH-scoped
    gamma rule do not."""
    run = _run("gamma>1000 BTC", "vega>100", "vega>2000", "gamma>1000 ETH")
    out = run(_book())
    assert sorted(i[0] for i in items(out)) == [1, 2]


def test_an_unknown_greek_neither_fires_nor_clears() -> None:
    """gamma>1000 firing, then a poll where the call's gamma is unknown: still firing, no
    message; a known value under the clear level (900) then resolves it."""
    run = _run("gamma>1000 BTC")
    assert items(run(_book())) == [(1, "firing", "FIRST")]
    unknown = run(_book(gamma=math.nan, at=AT + 60))
    assert not unknown.messages and run.alerts[1].status is AlertStatus.FIRING
    low = run(_book(gamma=2e-5 * 800 / 1_440, at=AT + 120))  # 800 USD per 1 %
    assert items(low) == [(1, "resolved", "RESOLVED")]


def test_expiry_fires_within_the_window_and_names_the_option() -> None:
    """expiry<24h: the call 30 h out is quiet; at 20 h it fires, the item naming the call,
    its side and size (2 BTC) and the hours left."""
    run = _run("expiry<24h")
    assert not run(_book(expiry_h=30.0)).messages
    out = run(_book(expiry_h=30.0, at=AT + 10 * HOUR))
    assert items(out) == [(1, "firing", "FIRST")]
    (item,) = out.messages[0].notice.items  # type: ignore[union-attr]
    assert (item.symbol, item.side, item.size, item.base) == (CALL, "long", 2.0, "BTC")
    assert item.value == 20.0


def test_expiry_resolves_when_the_option_expires() -> None:
    """Firing at 2 h left; the poll after expiry (the venue still lists it) resolves it as
    expired."""
    run = _run("expiry<24h BTC")
    run(_book(at=AT + 3 * HOUR))
    out = run(_book(at=AT + 5 * HOUR + 30))
    assert items(out) == [(1, "resolved", "RESOLVED")]
    assert run.alerts[1].detail == "option expired"


def test_expiry_resolves_when_the_option_is_closed() -> None:
    """Firing, then the call is gone from the book: resolved, position closed."""
    run = _run("expiry<24h")
    run(_book(at=AT + 3 * HOUR))
    out = run(_book(call_qty=0.0, at=AT + 3 * HOUR + 60))
    assert items(out) == [(1, "resolved", "RESOLVED")]
    assert run.alerts[1].detail == "position closed"


def test_expiry_escalates_as_the_time_left_halves() -> None:
    """Told at 4 h left (info: repeats every 4 h); 2.5 h left is not twice as close to the
    expiry, 2 h is: a new message before the repeat is due."""
    run = _run("expiry<24h info")
    run(_book(at=AT + 1 * HOUR))
    assert not run(_book(at=AT + 2.5 * HOUR)).messages
    assert items(run(_book(at=AT + 3 * HOUR))) == [(1, "firing", "ESCALATED")]


def test_a_portfolio_margin_margin_alert_carries_the_venue_basis() -> None:
    """margin>80% on the venue's 85 %: fires, and its item says the value is the venue's."""
    pm = Account(
        venue="test",
        margin_balance={"USDT": 10_000.0},
        portfolio_margin=frozenset({"USDT"}),
        venue_margin_ratio={"USDT": 0.85},
    )
    out = _run("margin>80%")(_book(account=pm))
    (item,) = out.messages[0].notice.items  # type: ignore[union-attr]
    assert (item.kind, item.basis) == (Kind.MARGIN, VENUE_PM)
    assert item.value is not None and math.isclose(item.value, 85.0)


# --- the screen of streamed marks ------------------------------------------------------------


def test_the_screen_leaves_the_venues_ratio_and_the_greeks_to_the_polls() -> None:
    """Streamed marks move the engine's margin ratio, not the venue's portfolio-margin ratio,
    and a re-priced book carries no greeks: such rules leave no tripwire (their values are
    read at each poll), while the engine's margin ratio is watched at threshold and clear."""
    pm = Account(
        venue="test",
        margin_balance={"USDT": 10_000.0},
        portfolio_margin=frozenset({"USDT"}),
        venue_margin_ratio={"USDT": 0.85},
    )
    rules = _run("margin>80%", "delta>50k", "expiry<24h").rules
    for account, wires in ((pm, 0), (None, 2)):
        obs = _book(account=account)
        found = watch(obs, list(range(len(obs.positions))), rules, (), (), policy=Policy())
        assert len(found.kind) == wires


# --- the backtest ----------------------------------------------------------------------------


def test_the_backtest_and_the_sweep_refuse_the_option_kinds_in_a_sentence() -> None:
    """Replays move perpetual and futures marks only: delta, gamma, vega and expiry rules are
    refused by name, as the sweep refuses them; a liq rule beside them is fine alone."""
    specs = [parse_rule(t) for t in ("liq<5%", "delta>50k BTC", "expiry<24h", "vega>2000")]
    with pytest.raises(Unsupported) as caught:
        check_replayable(specs)
    assert "cannot model delta, expiry, vega rules" in str(caught.value)
    check_replayable(specs[:1])
    with pytest.raises(Unsupported, match="gamma rules need option greeks"):
        liq_levels([rule(1, parse_rule("gamma>1k"))], liq_ratio=0.9, side=1.0)
