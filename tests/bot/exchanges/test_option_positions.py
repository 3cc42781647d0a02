"""Option books from the real venues' shapes: real ccxt against the fake exchange, the monitor's
snapshot, ``bot.analysis.snapshot.parse`` and the engine, down to each position's greeks and
each underlying's sums, checked against Black-76 worked by hand (issue 19).

The book's inputs (tests/fakes/exchange/options.py): F = 64,000 USD, K = 64,000, σ = 50 %,
T = 0.1 year, r = 0. By hand, per ONE long coin:

    σ√T = 0.5 × 0.316228 = 0.158114;  d1 = σ√T / 2 = 0.0790569;  N(d1) = 0.531506
    φ(d1) = 0.398942 × e^(−0.003125) = 0.397697
    premium = F (2 N(d1) − 1) = 64,000 × 0.063013 = 4,032.81 USD = 0.063013 BTC (call = put)
    delta: call 0.531506, put −0.468494; premium-adjusted call 0.468494, put −0.531506
    gamma = 0.397697 / (64,000 × 0.158114) = 3.93009e-5 per USD
    vega = 64,000 × 0.397697 × 0.316228 / 100 = 80.488 USD per vol point
    theta = −64,000 × 0.397697 × 0.5 / (2 × 0.316228) / 365 = −55.129 USD per day
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.analysis.snapshot import parse
from bot.exchanges import ExchangeHub
from engine.analysis import Analysis, analyze
from engine.model import ContractType
from tests.bot.exchanges.conftest import link
from tests.fakes.exchange import FakeExchange
from tests.fakes.exchange import options as o
from tests.fakes.exchange.base import Request

# The hand values of the module docstring, to the digits worked out there.
DELTA_CALL, DELTA_PUT = 0.531506, -0.468494
ADJUSTED_CALL, ADJUSTED_PUT = 0.468494, -0.531506
GAMMA = 3.93009e-5
VEGA = 80.488
THETA = -55.129
PREMIUM_COIN = 0.063013
HAND = 2e-5  # relative: the hand values carry 6 significant digits


def close(value: float, expected: float, rel: float = HAND) -> bool:
    return math.isclose(value, expected, rel_tol=rel, abs_tol=1e-9)


@pytest.fixture
async def hub(fake: FakeExchange) -> AsyncIterator[ExchangeHub]:
    """The hub whose wall clock reads the fake's option time (0.1 year before expiry)."""
    async with ExchangeHub(
        fake.url, rate_limit=False, backoff_s=0.01, wall_clock=lambda: o.TAKEN_MS / 1000.0
    ) as exchanges:
        yield exchanges


async def _analysed(
    fake: FakeExchange, hub: ExchangeHub, venue: str, positions: list[Any], balance: Any = None
) -> tuple[dict[str, Any], Analysis]:
    """One poll's snapshot of an account holding ``positions``, parsed and analysed as the
    monitor does (bot/monitor/poller.py)."""
    credentials = link(fake, venue, positions=positions, balance=balance)
    raw = await hub.fetch_snapshot(f"{venue}-options", venue, credentials)
    json.dumps(raw)  # what the monitor stores must be JSON
    loaded = parse(raw, source=f"{venue} account")
    return raw, analyze(loaded.snapshot, volatility=loaded.volatility, horizon_hours=24.0)


def _row(analysis: Analysis, symbol: str) -> int:
    return list(analysis.snapshot.positions.symbol).index(symbol)


def _greeks(analysis: Analysis, symbol: str) -> tuple[float, float, float, float, str]:
    """Per long unit: delta, gamma, vega, theta, and where they came from."""
    p, i = analysis.snapshot.positions, _row(analysis, symbol)
    return (
        float(p.delta[i]),
        float(p.gamma[i]),
        float(p.vega[i]),
        float(p.theta[i]),
        p.greeks_source[i],
    )


def _match(got: tuple[float, ...], delta: float) -> None:
    """delta, gamma, vega, theta of ``got`` are the hand values (with ``delta``)."""
    for value, hand in zip(got[:4], (delta, GAMMA, VEGA, THETA), strict=True):
        assert close(value, hand), got


def _btc(analysis: Analysis) -> Any:
    (btc,) = [u for u in analysis.underlyings if u.underlying == "BTC"]
    return btc


def _diagnostics(analysis: Analysis, symbol: str) -> tuple[str, ...]:
    return analysis.diagnostics(_row(analysis, symbol))


# ------------------------------------------------------------------------------ Deribit
async def test_deribit_book_greeks_are_the_venues_and_check_out_by_hand(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """Long 2 BTC of the call, short 3 of the put, short 100,000 USD of BTC-PERPETUAL. Each
    option's greeks are Deribit's (per long coin: premium-adjusted delta), and BTC's sums:

        delta = 2 × 0.468494 + (−3) × (−0.531506) − 100,000 / 64,000
              = 0.936988 + 1.594518 − 1.5625 = 0.969006 BTC = 62,016.4 USD
        gamma = (2 − 3) × 3.93009e-5 = −3.93009e-5 per USD
              = −3.93009e-5 × 64,000² / 100 = −1,609.77 USD of delta per +1 %
        vega = (2 − 3) × 80.488 = −80.488 USD per vol point; theta = −1 × −55.129 = 55.129 USD/day
    """
    book = o.deribit_book()
    _, analysis = await _analysed(
        fake, hub, "deribit", book, o.deribit_account(o.deribit_summary(book))
    )
    call, put = (o.DERIBIT_SYMBOLS[k] for k in "CP")
    for symbol, delta in ((call, ADJUSTED_CALL), (put, ADJUSTED_PUT)):
        got = _greeks(analysis, symbol)
        assert got[4] == "venue", got
        _match(got, delta)
        # Black-76 at the ticker's mark IV (50, in percent) reproduces Deribit's figures.
        assert analysis.snapshot.positions.mark_iv[_row(analysis, symbol)] == pytest.approx(0.5)
        assert not any("Black-76" in d for d in _diagnostics(analysis, symbol))
    btc = _btc(analysis)
    assert btc.options == 2 and btc.unknown == 0
    assert close(btc.price_usd, 64_000.0)
    assert close(btc.delta_coin, 0.969006, rel=1e-5)
    assert close(btc.delta_usd, 62_016.4, rel=1e-5)
    assert close(btc.gamma_coin, -GAMMA)
    assert close(btc.gamma_usd, -1_609.77, rel=1e-5)
    assert close(btc.vega_usd, -VEGA)
    assert close(btc.theta_usd, -THETA)


async def test_deribits_portfolio_figures_are_read_and_agree_with_the_positions(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """The BTC summary's options_delta/gamma/vega/theta, delta_total (and per index) and
    estimated liquidation ratio reach the account as reported; on portfolio margin the pool's
    ratio is Deribit's maintenance / margin balance = (3 × 0.1 + 1.5625 × 0.01) / 5 = 0.063125.
    The positions' own sums reproduce every figure, so no account diagnostic questions one."""
    book = o.deribit_book()
    raw, analysis = await _analysed(
        fake, hub, "deribit", book, o.deribit_account(o.deribit_summary(book))
    )
    account = analysis.snapshot.account
    figures = account.venue_greeks["BTC"]
    assert close(figures["options_delta"], 2 * ADJUSTED_CALL - 3 * ADJUSTED_PUT)
    assert close(figures["delta_total"], 0.969006, rel=1e-5)
    assert close(figures["delta_total:btc_usd"], 0.969006, rel=1e-5)
    assert close(figures["options_gamma"], -GAMMA)
    assert close(figures["options_vega"], -VEGA)
    assert close(figures["options_theta"], -THETA)
    assert close(figures["estimated_liquidation_ratio"], 0.063125)
    assert account.portfolio_margin == frozenset({"BTC"})
    assert close(account.venue_margin_ratio["BTC"], 0.063125)
    assert not any("differs from the positions" in d for d in _account_notes(analysis))
    # Read without ``extended``: Deribit's summaries carry every figure without the account's
    # identity (email, username), which nothing reads.
    assert "email" not in raw["balance"]["info"]


async def test_a_deribit_portfolio_figure_the_positions_do_not_reproduce_is_named(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """options_delta reported 0.5 BTC off the positions' 2.531506: one account diagnostic with
    both numbers."""
    book = o.deribit_book()
    summary = o.deribit_summary(book)
    summary["options_delta"] += 0.5
    _, analysis = await _analysed(fake, hub, "deribit", book, o.deribit_account(summary))
    notes = [d for d in _account_notes(analysis) if "options_delta" in d]
    assert len(notes) == 1, _account_notes(analysis)
    assert "3.03151" in notes[0] and "2.53151" in notes[0]


def _account_notes(analysis: Analysis) -> tuple[str, ...]:
    return tuple(analysis.portfolio.diagnostics)


async def test_an_option_without_venue_greeks_gets_black76_from_the_mark_iv(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """A Deribit put whose position carries no greeks and whose ticker gives only the mark IV
    (no greeks object): the engine's Black-76 at 50 % and T = 0.1, in Deribit's convention
    (premium-adjusted delta −0.531506), and says it computed them."""
    put = o.deribit_option("P", -3.0, delta=None, gamma=None, vega=None, theta=None)
    ticker = {"jsonrpc": "2.0", "result": _ticker_without_greeks("P"), "testnet": False}
    fake.fail("deribit", status=200, body=json.dumps(ticker), path="/public/ticker", times=9)
    _, analysis = await _analysed(fake, hub, "deribit", [put])
    got = _greeks(analysis, o.DERIBIT_SYMBOLS["P"])
    assert got[4] == "engine", got
    _match(got, ADJUSTED_PUT)
    btc = _btc(analysis)
    assert close(btc.delta_coin, -3 * ADJUSTED_PUT) and close(btc.vega_usd, -3 * VEGA)


def _request(query: dict[str, str]) -> Request:
    """A public request to the fake, for building an answer to inject."""
    return Request("GET", "host", "/path", query, {}, "", "venue")


def _ticker_without_greeks(kind: str) -> dict[str, Any]:
    ticker = o.deribit_ticker(_request({"instrument_name": o.DERIBIT_IDS[kind]}))
    assert ticker is not None
    ticker.pop("greeks")
    return ticker


async def test_garbage_greeks_end_in_a_diagnostic_not_a_crash(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """Deribit sends the call's greeks as strings and nulls and its ticker a mark IV of "n/a":
    the poll succeeds, the call's delta is unknown with one sentence saying what was missing,
    and the put beside it keeps its greeks."""
    call = o.deribit_option("C", 2.0, delta="abc", gamma=None, vega="1e999x", theta={"x": 1})
    put = o.deribit_option("P", -3.0)
    ticker = {"jsonrpc": "2.0", "result": {**_ticker_without_greeks("C"), "mark_iv": "n/a"}}
    fake.fail(
        "deribit",
        status=200,
        body=json.dumps(ticker),
        path="/public/ticker",
        query={"instrument_name": o.DERIBIT_IDS["C"]},
        times=9,
    )
    raw, analysis = await _analysed(fake, hub, "deribit", [call, put])
    assert raw["greeks"][o.DERIBIT_SYMBOLS["C"]]["markImpliedVolatility"] is None
    p, i = analysis.snapshot.positions, _row(analysis, o.DERIBIT_SYMBOLS["C"])
    assert math.isnan(p.delta[i])
    (note,) = [d for d in _diagnostics(analysis, o.DERIBIT_SYMBOLS["C"]) if "delta" in d]
    assert "mark IV" in note
    assert close(_greeks(analysis, o.DERIBIT_SYMBOLS["P"])[0], ADJUSTED_PUT)
    assert _btc(analysis).unknown == 1


def _okx_garbage() -> tuple[list[Any], str, str]:
    """A call whose BS fields are strings and blanks, and an opt-summary of garbage."""
    call = o.okx_option("C", 100, deltaBS="abc", gammaBS="", vegaBS="NaN", thetaBS="-")
    rows = o.okx_opt_summary(_request({"instFamily": "BTC-USD"}))
    bad = [
        {**row, **dict.fromkeys(("markVol", "deltaBS", "gammaBS", "fwdPx"), "abc")} for row in rows
    ]
    body = {"code": "0", "msg": "", "data": bad}
    return [call], "/api/v5/public/opt-summary", json.dumps(body)


def _bybit_garbage() -> tuple[list[Any], str, str]:
    """A call whose greeks are strings and blanks, and option tickers of garbage."""
    call = o.bybit_option("C", 1.0, delta="abc", gamma="", vega="NaN", theta="-")
    rows = o.bybit_tickers(_request({"category": "option"}))
    bad = [{**row, **dict.fromkeys(("markIv", "delta", "underlyingPrice"), "n/a")} for row in rows]
    body = {"retCode": 0, "retMsg": "OK", "result": {"category": "option", "list": bad}}
    return [call], "/v5/market/tickers", json.dumps(body | {"time": o.TAKEN_MS})


@pytest.mark.parametrize(("venue", "garbage"), [("okx", _okx_garbage), ("bybit", _bybit_garbage)])
async def test_okx_and_bybit_garbage_greeks_end_in_a_diagnostic(
    fake: FakeExchange, hub: ExchangeHub, venue: str, garbage: Any
) -> None:
    """Position greeks and the greeks endpoint's figures that are no numbers: the poll goes
    through and the option's delta is unknown, with the sentence naming the mark IV."""
    book, path, body = garbage()
    fake.fail(venue, status=200, body=body, path=path, times=9)
    _, analysis = await _analysed(fake, hub, venue, book)
    symbol = {"okx": o.OKX_SYMBOLS, "bybit": o.BYBIT_SYMBOLS}[venue]["C"]
    assert math.isnan(_greeks(analysis, symbol)[0])
    assert any("mark IV" in d for d in _diagnostics(analysis, symbol))
    assert _btc(analysis).unknown == 1


# ------------------------------------------------------------------------------ OKX
async def test_okx_book_reads_the_bs_greeks_and_never_the_pa_ones(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """Long 500 contracts (5 BTC) of the call with its BS and PA fields, short 200 (2 BTC) of
    the put with none, whose greeks come from public/opt-summary's BS fields. OKX's deltaBS is
    the plain Black-Scholes delta (its PA delta is premium-adjusted, and ccxt's unified greeks
    are the PA ones). BTC's sums, by hand:

        delta = 5 × 0.531506 + (−2) × (−0.468494) = 2.657530 + 0.936988 = 3.594518 BTC
        gamma = (5 − 2) × 3.93009e-5 = 1.179027e-4 per USD; vega = 3 × 80.488 = 241.464 USD
        theta = 3 × −55.129 = −165.387 USD per day

    Summing the PA fields instead would give delta 5 × 0.468494 + 2 × 0.531506 = 3.405482 and
    gamma 5 × 3.93009e-5 × 64,000 (coins per 1 % ...) — nowhere near."""
    book = [o.okx_option("C", 500), o.okx_option("P", -200, greeks=False)]
    raw, analysis = await _analysed(fake, hub, "okx", book)
    call, put = (o.OKX_SYMBOLS[k] for k in "CP")
    expected = {call: (DELTA_CALL, "venue"), put: (DELTA_PUT, "ccxt")}
    for symbol, (delta, source) in expected.items():
        got = _greeks(analysis, symbol)
        assert got[4] == source, got
        _match(got, delta)
    # ccxt's unified greeks are OKX's PA figures: present, and not what the engine used.
    assert close(raw["greeks"][put]["delta"], ADJUSTED_PUT)
    btc = _btc(analysis)
    assert close(btc.delta_coin, 3.594518, rel=1e-5)
    assert not close(btc.delta_coin, 3.405482, rel=1e-3)
    assert close(btc.gamma_coin, 1.179027e-4, rel=1e-5)
    assert close(btc.vega_usd, 241.464, rel=1e-5)
    assert close(btc.theta_usd, -165.387, rel=1e-5)
    # The contract is 0.01 BTC (ctVal 1 × ctMult 0.01): the size is 5 BTC, not 500.
    i = _row(analysis, call)
    assert close(float(analysis.snapshot.positions.qty[i]), 5.0)


async def test_okx_pa_fields_alone_are_never_read(fake: FakeExchange, hub: ExchangeHub) -> None:
    """A call whose BS fields are empty and whose PA fields are wildly off (deltaPA 40 BTC on
    a 5 BTC position): the greeks come from the opt-summary BS figures, the PA ones nowhere."""
    call = o.okx_option(
        "C", 500, greeks=False, deltaPA="40", gammaPA="7", vegaPA="900", thetaPA="-3"
    )
    _, analysis = await _analysed(fake, hub, "okx", [call])
    got = _greeks(analysis, o.OKX_SYMBOLS["C"])
    assert got[4] == "ccxt", got
    _match(got, DELTA_CALL)
    assert close(_btc(analysis).delta_coin, 5 * DELTA_CALL)


# ------------------------------------------------------------------------------ Bybit
async def test_bybit_book_greeks_from_the_position_and_the_option_tickers(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """USDC-settled: long 1 BTC of the call (its position's greeks), short 2 of the put (none on
    the position: v5 option tickers). Plain deltas (the premium is in USDC):

        delta = 0.531506 + (−2) × (−0.468494) = 1.468494 BTC = 93,983.6 USD
        gamma = (1 − 2) × 3.93009e-5; vega = −80.488 USD; theta = 55.129 USD per day
    """
    book = [o.bybit_option("C", 1.0), o.bybit_option("P", -2.0, greeks=False)]
    _, analysis = await _analysed(fake, hub, "bybit", book)
    call, put = (o.BYBIT_SYMBOLS[k] for k in "CP")
    for symbol, (delta, source) in {call: (DELTA_CALL, "venue"), put: (DELTA_PUT, "ccxt")}.items():
        got = _greeks(analysis, symbol)
        assert got[4] == source, got
        _match(got, delta)
    btc = _btc(analysis)
    assert close(btc.delta_coin, 1.468494, rel=1e-5)
    assert close(btc.delta_usd, 93_983.6, rel=1e-5)
    assert close(btc.gamma_coin, -GAMMA) and close(btc.vega_usd, -VEGA)
    assert close(btc.theta_usd, -THETA)


# ------------------------------------------------------------------------------ the snapshot
async def test_the_snapshot_carries_time_markets_and_greeks_of_the_options(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """What the engine needs beside the positions: the poll's time (ms, the hub's wall clock),
    each held option's market (strike, expiry, call/put, contract size; OKX's ctMult) and
    ccxt's greeks (Deribit's mark IV in percent, OKX's and Bybit's a fraction)."""
    books = {
        "deribit": ([o.deribit_option("C", 1.0), o.deribit_perpetual(10_000.0)], o.DERIBIT_SYMBOLS),
        "okx": ([o.okx_option("C", 100)], o.OKX_SYMBOLS),
        "bybit": ([o.bybit_option("C", 1.0)], o.BYBIT_SYMBOLS),
    }
    for venue, (book, symbols) in books.items():
        raw, _ = await _analysed(fake, hub, venue, book)
        assert raw["timestamp"] == o.TAKEN_MS
        call = symbols["C"]
        assert set(raw["markets"]) == {call}  # the perpetual needs none
        market = raw["markets"][call]
        assert (market["strike"], market["expiry"], market["optionType"]) == (
            o.STRIKE,
            o.EXPIRY_MS,
            "call",
        )
        assert set(raw["greeks"]) == {call}
        iv = raw["greeks"][call]["markImpliedVolatility"]
        assert iv == pytest.approx(50.0 if venue == "deribit" else 0.5)
    assert raw["markets"][o.BYBIT_SYMBOLS["C"]]["contractSize"] == 1


async def test_okx_market_keeps_the_contract_multiplier(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    raw, _ = await _analysed(fake, hub, "okx", [o.okx_option("P", -100)])
    market = raw["markets"][o.OKX_SYMBOLS["P"]]
    assert market["contractSize"] == 1 and market["info"]["ctMult"] == "0.01"
    assert market["info"]["instFamily"] == "BTC-USD"


@pytest.mark.parametrize(
    ("venue", "path", "query"),
    [
        ("okx", "/api/v5/account/positions", {"instType": "OPTION"}),
        ("bybit", "/v5/position/list", {"category": "option"}),
    ],
)
async def test_option_positions_are_asked_for(
    fake: FakeExchange, hub: ExchangeHub, venue: str, path: str, query: dict[str, str]
) -> None:
    """OKX lists positions per instType and Bybit per category: options are one more read."""
    await hub.fetch_snapshot("a", venue, link(fake, venue))
    assert fake.count(venue, path, **query) == 1


async def test_an_account_without_options_reads_no_greeks(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    raw = await hub.fetch_snapshot("a", "okx", link(fake, "okx"))
    assert "markets" not in raw and "greeks" not in raw
    assert fake.count("okx", "/api/v5/public/opt-summary") == 0
    assert all(p["info"]["instType"] != "OPTION" for p in raw["positions"])
    assert ContractType.OPTION not in set(parse(raw).snapshot.positions.kind.tolist())


async def test_a_put_call_parity_pair_is_a_forward(fake: FakeExchange, hub: ExchangeHub) -> None:
    """Long the Bybit call, short the put (same strike and expiry): a synthetic long forward,
    delta 0.531506 + 0.468494 = 1 BTC exactly, gamma, vega and theta cancelling."""
    book = [o.bybit_option("C", 1.0), o.bybit_option("P", -1.0)]
    _, analysis = await _analysed(fake, hub, "bybit", book)
    btc = _btc(analysis)
    assert btc.delta_coin == pytest.approx(1.0, abs=1e-9)
    assert (btc.gamma_coin, btc.vega_usd, btc.theta_usd) == pytest.approx((0, 0, 0), abs=1e-9)


async def test_a_delta_hedged_deribit_book_nets_to_zero(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """Long 2 BTC of the call (premium-adjusted delta 2 × 0.468494 = 0.936988 BTC) hedged by
    59,970 USD short of BTC-PERPETUAL (0.937031 BTC at 64,000; the nearest 10 USD contract):
    BTC's net delta is −0.00004 BTC, 2.8 USD, and Deribit's delta_total says the same."""
    book = [o.deribit_option("C", 2.0), o.deribit_perpetual(-59_970.0)]
    _, analysis = await _analysed(
        fake, hub, "deribit", book, o.deribit_account(o.deribit_summary(book))
    )
    btc = _btc(analysis)
    assert btc.delta_coin == pytest.approx(2 * ADJUSTED_CALL - 59_970 / 64_000, abs=2e-6)
    assert abs(btc.delta_usd) < 3.0
    assert analysis.snapshot.account.venue_greeks["BTC"]["delta_total"] == pytest.approx(
        btc.delta_coin, abs=1e-9
    )
