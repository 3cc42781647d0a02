"""The fake exchange serves each account's realised PnL and funding history the way the venues
do, so the REAL ccxt reads them: Binance's income history, Bybit's execution and closed-PnL
lists, Hyperliquid's ``userFunding`` and fills.

Sign conventions as ccxt parses them: Binance and Hyperliquid give the trader's side
(``amount`` = the flow's amount); Bybit's funding ``amount`` is the fee, i.e. minus it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import ccxt.async_support as ccxt  # type: ignore[import-untyped]
import pytest

from bot.exchanges import Credentials
from bot.exchanges.factory import build_private, build_public
from tests.bot.exchanges.conftest import SECRET, link
from tests.engine.normalise.payloads.hyperliquid import ADDRESS
from tests.fakes.exchange import FakeExchange
from tests.fakes.exchange.base import Flow
from tests.fakes.exchange.hyperliquid import ZERO_HASH

T0 = 1_717_000_000_000
HOUR = 3_600_000
#: A checksummed (mixed-case) wallet address: the fake matches wallets in any case.
WALLET = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01"


@asynccontextmanager
async def reader(fake: FakeExchange, venue: str, credentials: Credentials) -> AsyncIterator[Any]:
    """A real ccxt instance of ``venue`` pointed at the fake, as the hub builds it: a private
    one for an API key (markets from a public instance: no private currency calls), the
    public one for a wallet."""
    public = build_public(venue, prefix=fake.url, rate_limit=False)
    exchange = public  # a wallet is read by address, through the public instance
    try:
        await public.load_markets()
        if credentials.api_key:
            exchange = build_private(venue, credentials, prefix=fake.url, rate_limit=False)
            exchange.set_markets_from_exchange(public)
        yield exchange
    finally:
        # ccxt sleeps 250 ms on close for TLS transports to drain; plain HTTP has none.
        for instance in {id(public): public, id(exchange): exchange}.values():
            instance.timeout_on_exit = 0
            await instance.close()


def ids(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["id"] for entry in entries]


# --------------------------------------------------------------------------- add_flow
async def test_add_flow_records_flows_with_unique_numeric_refs(fake: FakeExchange) -> None:
    link(fake, "binanceusdm")
    fake.add_wallet(WALLET)
    first = fake.add_flow("KEY-binanceusdm-0", "funding", "BTC/USDT:USDT", -1.5, T0)
    second = fake.add_flow(WALLET.upper().replace("0X", "0x"), "realised", "SOL/USDC:USDC", 2, T0)
    named = fake.add_flow("KEY-binanceusdm-0", "realised", "ETH/USDT:USDT", 3.0, T0, ref="r-1")
    assert first == Flow("funding", "BTC/USDT:USDT", -1.5, T0, first.ref)
    assert first.ref.isdigit() and second.ref.isdigit() and first.ref != second.ref
    assert named.ref == "r-1" and second.amount == 2.0 and second.settle == "USDC"
    assert fake.accounts["KEY-binanceusdm-0"].flows == [first, named]
    assert fake.accounts[WALLET.lower()].flows == [second]


async def test_add_flow_refuses_what_the_venue_could_not_have(fake: FakeExchange) -> None:
    link(fake, "binanceusdm")
    with pytest.raises(KeyError):
        fake.add_flow("KEY-nobody", "funding", "BTC/USDT:USDT", 1.0, T0)
    with pytest.raises(ValueError, match="not a binanceusdm market"):
        fake.add_flow("KEY-binanceusdm-0", "funding", "BTC/USD:BTC", 1.0, T0)
    with pytest.raises(ValueError, match="kind"):
        fake.add_flow("KEY-binanceusdm-0", "fee", "BTC/USDT:USDT", 1.0, T0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        fake.add_flow("KEY-binanceusdm-0", "funding", "BTC/USDT:USDT", float("nan"), T0)
    fake.add_flow("KEY-binanceusdm-0", "funding", "BTC/USDT:USDT", 1.0, T0, ref="x")
    with pytest.raises(ValueError, match="already has a funding flow"):
        fake.add_flow("KEY-binanceusdm-0", "funding", "ETH/USDT:USDT", 2.0, T0, ref="x")
    fake.add_wallet(WALLET)
    with pytest.raises(ValueError, match="only Binance lists transfers"):
        fake.add_flow(WALLET, "transfer", "BTC/USDC:USDC", 10.0, T0)


async def test_add_flow_takes_a_ref_again_in_another_kind(fake: FakeExchange) -> None:
    """Binance's tranId is unique per income type only: a trade's REALIZED_PNL and COMMISSION
    rows share one, so the fake takes a ref once per kind."""
    link(fake, "binanceusdm")
    pnl = fake.add_flow("KEY-binanceusdm-0", "realised", "BTC/USDT:USDT", 5.0, T0, ref="7")
    fee = fake.add_flow("KEY-binanceusdm-0", "commission", "BTC/USDT:USDT", -0.2, T0, ref="7")
    assert (pnl.ref, pnl.kind, fee.ref, fee.kind) == ("7", "realised", "7", "commission")


# --------------------------------------------------------------------------- Binance
async def test_binance_usdm_income_reads_through_ccxt(fake: FakeExchange) -> None:
    """REALIZED_PNL and FUNDING_FEE (ccxt's default) come apart; amounts, symbols, times,
    ids and the USDT code are the flows'; tiny amounts survive as plain decimals."""
    credentials = link(fake, "binanceusdm")
    key = credentials.api_key
    pnl = fake.add_flow(key, "realised", "BTC/USDT:USDT", 125.25, T0)
    paid = fake.add_flow(key, "funding", "ETH/USDT:USDT", -0.00001234, T0 + HOUR)
    got = fake.add_flow(key, "funding", "SOL/USDT:USDT", 0.5, T0 + 2 * HOUR, ref="r-sol")
    loss = fake.add_flow(key, "realised", "XRP/USDT:USDT", -7.0, T0 + 3 * HOUR)
    async with reader(fake, "binanceusdm", credentials) as exchange:
        realised = await exchange.fetch_funding_history(
            None, T0, None, {"incomeType": "REALIZED_PNL"}
        )
        funding = await exchange.fetch_funding_history(None, T0)
        raw = await exchange.fapiPrivateGetIncome({"startTime": T0})
    assert [(e["symbol"], e["amount"], e["timestamp"], e["id"], e["code"]) for e in realised] == [
        ("BTC/USDT:USDT", 125.25, T0, pnl.ref, "USDT"),
        ("XRP/USDT:USDT", -7.0, T0 + 3 * HOUR, loss.ref, "USDT"),
    ]
    assert [(e["amount"], e["id"]) for e in funding] == [(paid.amount, paid.ref), (0.5, got.ref)]
    # Without incomeType: every kind, oldest first, as Binance writes it.
    assert [row["incomeType"] for row in raw] == [
        "REALIZED_PNL",
        "FUNDING_FEE",
        "FUNDING_FEE",
        "REALIZED_PNL",
    ]
    assert raw[1] == {
        "symbol": "ETHUSDT",
        "incomeType": "FUNDING_FEE",
        "income": "-0.00001234",
        "asset": "USDT",
        "info": "",
        "time": T0 + HOUR,
        "tranId": int(paid.ref),
        "tradeId": "",
    }
    assert raw[2]["tranId"] == "r-sol"


async def test_binance_income_lists_commissions_sharing_the_trades_tran_id(
    fake: FakeExchange,
) -> None:
    """Without ``incomeType`` every type comes, COMMISSION too; a trade's REALIZED_PNL and
    COMMISSION rows carry the same tranId; ``incomeType`` keeps one type."""
    credentials = link(fake, "binanceusdm")
    key = credentials.api_key
    fake.add_flow(key, "realised", "BTC/USDT:USDT", 80.0, T0, ref="4480321991774044580")
    fake.add_flow(key, "commission", "BTC/USDT:USDT", -0.4, T0, ref="4480321991774044580")
    fake.add_flow(key, "funding", "BTC/USDT:USDT", -1.0, T0 + HOUR)
    async with reader(fake, "binanceusdm", credentials) as exchange:
        raw = await exchange.fapiPrivateGetIncome({"startTime": T0})
        fees = await exchange.fapiPrivateGetIncome({"startTime": T0, "incomeType": "COMMISSION"})
        realised = await exchange.fetch_funding_history(
            None, T0, None, {"incomeType": "REALIZED_PNL"}
        )
    assert [(row["incomeType"], row["tranId"]) for row in raw[:2]] == [
        ("REALIZED_PNL", 4480321991774044580),
        ("COMMISSION", 4480321991774044580),
    ]
    assert raw[2]["incomeType"] == "FUNDING_FEE"
    assert [(row["income"], row["asset"]) for row in fees] == [("-0.4", "USDT")]
    assert [(e["amount"], e["id"]) for e in realised] == [(80.0, "4480321991774044580")]


async def test_binance_income_window_symbol_and_limit(fake: FakeExchange) -> None:
    """startTime/endTime are inclusive; ``limit`` keeps the first page from startTime (and the
    latest without it); ``symbol`` narrows to one market."""
    credentials = link(fake, "binanceusdm")
    flows = [
        fake.add_flow(credentials.api_key, "funding", symbol, float(n + 1), T0 + n * HOUR)
        for n, symbol in enumerate(["BTC/USDT:USDT", "ETH/USDT:USDT"] * 3)
    ]
    refs = [flow.ref for flow in flows]
    async with reader(fake, "binanceusdm", credentials) as exchange:
        window = await exchange.fetch_funding_history(
            None, T0 + HOUR, None, {"until": T0 + 4 * HOUR}
        )
        first = await exchange.fetch_funding_history(None, T0 + HOUR, 2)
        btc = await exchange.fetch_funding_history("BTC/USDT:USDT", T0)
        latest = await exchange.fapiPrivateGetIncome({"limit": 2})
    assert ids(window) == refs[1:5]
    assert ids(first) == refs[1:3]
    assert ids(btc) == refs[0::2] and {e["symbol"] for e in btc} == {"BTC/USDT:USDT"}
    assert [str(row["tranId"]) for row in latest] == refs[4:]
    assert fake.count("binanceusdm", "/fapi/v1/income", startTime=str(T0 + HOUR), limit="2") == 1


async def test_binance_coinm_income_is_in_the_coin_and_apart_from_usdm(
    fake: FakeExchange,
) -> None:
    """COIN-M flows are read from dapi in BTC; a USDⓈ-M key is not a COIN-M key."""
    coinm, usdm = link(fake, "binancecoinm"), link(fake, "binanceusdm")
    flow = fake.add_flow(coinm.api_key, "realised", "BTC/USD:BTC", -0.0025, T0)
    fake.add_flow(usdm.api_key, "realised", "BTC/USDT:USDT", 10.0, T0)
    async with reader(fake, "binancecoinm", coinm) as exchange:
        realised = await exchange.fetch_funding_history(
            None, T0, None, {"incomeType": "REALIZED_PNL"}
        )
        exchange.apiKey = usdm.api_key
        with pytest.raises(ccxt.AuthenticationError):
            await exchange.fetch_funding_history(None, T0)
    assert [(e["symbol"], e["amount"], e["code"], e["id"]) for e in realised] == [
        ("BTC/USD:BTC", -0.0025, "BTC", flow.ref)
    ]


async def test_binance_income_refuses_a_wrong_or_revoked_key(fake: FakeExchange) -> None:
    credentials = link(fake, "binanceusdm")
    fake.add_flow(credentials.api_key, "funding", "BTC/USDT:USDT", 1.0, T0)
    async with reader(fake, "binanceusdm", Credentials("KEY-wrong", SECRET)) as exchange:
        with pytest.raises(ccxt.AuthenticationError):
            await exchange.fetch_funding_history(None, T0)
        exchange.apiKey = credentials.api_key
        assert len(await exchange.fetch_funding_history(None, T0)) == 1
        fake.revoke(credentials.api_key)
        with pytest.raises(ccxt.AuthenticationError):
            await exchange.fetch_funding_history(None, T0)


# --------------------------------------------------------------------------- Hyperliquid
async def test_hyperliquid_funding_and_closed_pnl_read_through_ccxt(fake: FakeExchange) -> None:
    """userFunding amounts are the flows', every entry's hash (ccxt's id) zeros as
    Hyperliquid sends it; fills carry each realised flow as ``closedPnl``; both honour
    since/until and skip the other kind."""
    link(fake, "hyperliquid")
    paid = fake.add_flow(ADDRESS, "funding", "SOL/USDC:USDC", -0.75, T0)
    got = fake.add_flow(ADDRESS, "funding", "BTC/USDC:USDC", 1.25, T0 + HOUR)
    pnl = fake.add_flow(ADDRESS, "realised", "ETH/USDC:USDC", -42.5, T0 + HOUR, ref="0xabc")
    late = fake.add_flow(ADDRESS, "realised", "SOL/USDC:USDC", 3.0, T0 + 5 * HOUR)
    async with reader(fake, "hyperliquid", Credentials.wallet(ADDRESS)) as exchange:
        user = {"user": ADDRESS}
        funding = await exchange.fetch_funding_history(None, T0, None, user)
        trades = await exchange.fetch_my_trades(None, T0, None, user)
        early = await exchange.fetch_my_trades(None, T0, None, {**user, "until": T0 + HOUR})
        recent = await exchange.fetch_my_trades(None, None, None, user)
        later = await exchange.fetch_funding_history(None, T0 + 1, None, user)
    assert [(e["symbol"], e["amount"], e["timestamp"], e["code"]) for e in funding] == [
        (paid.symbol, -0.75, T0, "USDC"),
        (got.symbol, 1.25, T0 + HOUR, "USDC"),
    ]
    assert {e["id"] for e in funding} == {e["info"]["hash"] for e in funding} == {ZERO_HASH}
    assert [e["info"]["delta"]["coin"] for e in funding] == ["SOL", "BTC"]
    assert [(t["symbol"], float(t["info"]["closedPnl"]), t["timestamp"]) for t in trades] == [
        ("ETH/USDC:USDC", pnl.amount, T0 + HOUR),
        ("SOL/USDC:USDC", late.amount, T0 + 5 * HOUR),
    ]
    assert [t["info"]["hash"] for t in trades] == ["0xabc", late.ref]
    assert trades[1]["id"] == late.ref and trades[0]["side"] == "sell"
    assert [t["info"]["hash"] for t in early] == ["0xabc"]
    assert [t["info"]["hash"] for t in recent] == ["0xabc", late.ref]
    assert [e["timestamp"] for e in later] == [got.at_ms]


async def test_hyperliquid_funding_pages_repeat_the_payments_at_their_edge(
    fake: FakeExchange,
) -> None:
    """Every coin is paid at the same millisecond each hour; userFunding answers 500 entries at
    most, so a page can end inside one hour, and the next page from that hour repeats it."""
    link(fake, "hyperliquid")
    coins = ("BTC", "ETH", "SOL")
    for hour in range(200):
        for coin in coins:
            fake.add_flow(ADDRESS, "funding", f"{coin}/USDC:USDC", -0.01, T0 + hour * HOUR)
    async with reader(fake, "hyperliquid", Credentials.wallet(ADDRESS)) as exchange:
        info = exchange.publicPostInfo
        first = await info({"type": "userFunding", "user": ADDRESS, "startTime": T0})
        edge = first[-1]["time"]
        second = await info({"type": "userFunding", "user": ADDRESS, "startTime": edge})
    assert len(first) == 500 and edge == T0 + 166 * HOUR
    assert [e["delta"]["coin"] for e in first if e["time"] == edge] == ["BTC", "ETH"]
    assert [e["delta"]["coin"] for e in second[:3]] == list(coins)
    assert {e["time"] for e in second[:3]} == {edge} and len(second) == 600 - 166 * 3
    assert {e["hash"] for e in first + second} == {ZERO_HASH}


async def test_hyperliquid_unknown_wallets_caps_and_a_missing_start(fake: FakeExchange) -> None:
    """An unknown user has no history; a user's address matches in any case; fills come at
    most 2000 at a time (the first 2000 from startTime, the latest 2000 without it); a
    time query without startTime does not deserialize."""
    fake.add_wallet(WALLET)
    for n in range(2001):
        fake.add_flow(WALLET, "realised", "BTC/USDC:USDC", 1.0, T0 + n)
    async with reader(fake, "hyperliquid", Credentials.wallet(WALLET)) as exchange:
        stranger = {"user": "0x" + "2" * 40}
        assert await exchange.fetch_funding_history(None, T0, None, stranger) == []
        assert await exchange.fetch_my_trades(None, T0, None, stranger) == []
        lower = WALLET.lower()
        last = await exchange.fetch_my_trades(None, T0 + 2000, None, {"user": lower})
        info = exchange.publicPostInfo
        by_time = await info({"type": "userFillsByTime", "user": WALLET, "startTime": T0})
        recent = await info({"type": "userFills", "user": WALLET})
        with pytest.raises(ccxt.BaseError):
            await info({"type": "userFunding", "user": WALLET})
    assert [t["timestamp"] for t in last] == [T0 + 2000]
    assert len(by_time) == 2000 and by_time[0]["time"] == T0 and by_time[-1]["time"] == T0 + 1999
    assert len(recent) == 2000 and recent[0]["time"] == T0 + 1 and recent[-1]["time"] == T0 + 2000


# --------------------------------------------------------------------------- Bybit
async def test_bybit_funding_reads_as_the_fee_through_ccxt(fake: FakeExchange) -> None:
    """execFee is what the trader paid: ccxt's ``amount`` is minus the flow; linear and
    inverse markets are separate categories."""
    credentials = link(fake, "bybit")
    key = credentials.api_key
    paid = fake.add_flow(key, "funding", "BTC/USDT:USDT", -1.5, T0)
    got = fake.add_flow(key, "funding", "ETH/USDT:USDT", 0.25, T0 + HOUR)
    coin = fake.add_flow(key, "funding", "BTC/USD:BTC", -0.0001, T0 + HOUR)
    fake.add_flow(key, "realised", "XRP/USDT:USDT", 9.0, T0 + HOUR)
    async with reader(fake, "bybit", credentials) as exchange:
        linear = await exchange.fetch_funding_history(None, T0, None, {"subType": "linear"})
        inverse = await exchange.fetch_funding_history(None, T0, None, {"subType": "inverse"})
        raw = await exchange.privateGetV5ExecutionList(
            {"category": "linear", "execType": "Funding", "startTime": T0}
        )
    assert [(e["symbol"], e["amount"], e["timestamp"], e["id"]) for e in linear] == [
        ("BTC/USDT:USDT", 1.5, T0, paid.ref),
        ("ETH/USDT:USDT", -0.25, T0 + HOUR, got.ref),
    ]
    assert [(e["symbol"], e["amount"], e["id"]) for e in inverse] == [
        ("BTC/USD:BTC", 0.0001, coin.ref)
    ]
    assert raw["retCode"] == 0 and raw["result"]["category"] == "linear"
    rows = raw["result"]["list"]
    assert [row["execId"] for row in rows] == [got.ref, paid.ref]  # newest first, like Bybit
    assert rows[1]["execFee"] == "1.5" and rows[1]["execType"] == "Funding"
    assert rows[1]["execTime"] == str(T0) and rows[1]["symbol"] == "BTCUSDT"


async def test_bybit_closed_pnl_reads_as_realised_pnl_through_ccxt(fake: FakeExchange) -> None:
    credentials = link(fake, "bybit")
    key = credentials.api_key
    win = fake.add_flow(key, "realised", "BTC/USDT:USDT", 250.0, T0, ref="order-1")
    loss = fake.add_flow(key, "realised", "XRP/USDT:USDT", -12.5, T0 + HOUR)
    coin = fake.add_flow(key, "realised", "BTC/USD:BTC", 0.002, T0 + 2 * HOUR)
    fake.add_flow(key, "funding", "BTC/USDT:USDT", -1.0, T0)
    async with reader(fake, "bybit", credentials) as exchange:
        linear = await exchange.fetch_positions_history(None, T0, None, {"subType": "linear"})
        inverse = await exchange.fetch_positions_history(None, T0, None, {"subType": "inverse"})
    got = sorted(linear, key=lambda p: p["lastUpdateTimestamp"])
    assert [
        (p["symbol"], p["realizedPnl"], p["lastUpdateTimestamp"], p["info"]["orderId"]) for p in got
    ] == [
        ("BTC/USDT:USDT", 250.0, T0, win.ref),
        ("XRP/USDT:USDT", -12.5, T0 + HOUR, loss.ref),
    ]
    assert [p["info"]["orderId"] for p in linear] == [loss.ref, win.ref]  # newest first
    assert {p["side"] for p in linear} == {"long"} and all(p["entryPrice"] > 0 for p in linear)
    assert [(p["symbol"], p["realizedPnl"]) for p in inverse] == [("BTC/USD:BTC", coin.amount)]
    assert inverse[0]["entryPrice"] > 0


async def test_bybit_window_and_page_size(fake: FakeExchange) -> None:
    """startTime/endTime are inclusive; the page (ccxt's ``size``, Bybit's ``limit``, 50 by
    default) keeps the newest rows of the window."""
    credentials = link(fake, "bybit")
    flows = [
        fake.add_flow(credentials.api_key, kind, "BTC/USDT:USDT", 1.0 + n, T0 + n * HOUR)
        for n in range(60)
        for kind in ("funding", "realised")
    ]
    funding = [f.ref for f in flows if f.kind == "funding"]
    realised = [f.ref for f in flows if f.kind == "realised"]
    async with reader(fake, "bybit", credentials) as exchange:
        until = {"subType": "linear", "until": T0 + 5 * HOUR}
        window = await exchange.fetch_funding_history(None, T0 + 2 * HOUR, None, until)
        sized = await exchange.fetch_funding_history(None, T0, 3, {"subType": "linear"})
        closed = await exchange.fetch_positions_history(None, T0 + 2 * HOUR, 2, until)
        default = await exchange.privateGetV5PositionClosedPnl({"category": "linear"})
        spot = await exchange.privateGetV5ExecutionList({"category": "spot"})
    assert ids(window) == funding[2:6]
    assert ids(sized) == funding[57:]
    assert [p["info"]["orderId"] for p in closed] == [realised[5], realised[4]]
    assert [row["orderId"] for row in default["result"]["list"]] == realised[10:][::-1]
    assert spot["result"]["list"] == []
    assert fake.count("bybit", "/v5/execution/list", size="3") == 1


async def test_bybit_history_refuses_a_wrong_key_and_a_missing_category(
    fake: FakeExchange,
) -> None:
    credentials = link(fake, "bybit")
    async with reader(fake, "bybit", Credentials("KEY-wrong", SECRET)) as exchange:
        with pytest.raises(ccxt.AuthenticationError):
            await exchange.fetch_funding_history(None, T0, None, {"subType": "linear"})
        with pytest.raises(ccxt.AuthenticationError):
            await exchange.fetch_positions_history(None, T0, None, {"subType": "linear"})
        exchange.apiKey = credentials.api_key
        with pytest.raises(ccxt.BadRequest):
            await exchange.privateGetV5PositionClosedPnl({})
