"""Option books for the fake exchange (issue 19): Deribit, OKX and Bybit option positions, their
instruments, the greeks ccxt's ``fetch_greeks`` reads and Deribit's portfolio figures.

One set of stated inputs throughout, so every greek served checks out against Black-76 by hand
(r = 0, on the forward; docs/risk.md#greeks):

    F = BTC index = the expiry's forward = 64,000 USD (no basis), K = 64,000 (at the money),
    σ = mark IV = 50 %, T = 0.1 year: expiry 28 Jun 2024 08:00 UTC is 36.5 days after TAKEN_MS.
    σ√T = 0.5 × √0.1 = 0.158114;  d1 = (ln F/K + σ²T/2) / σ√T = σ√T / 2 = 0.0790569;  d2 = −d1
    N(d1) = 0.531506,  N(d2) = 0.468494,  φ(d1) = 0.398942 × e^(−d1²/2) = 0.397697
    premium: call = put = F·(N(d1) − N(d2)) = 64,000 × 0.063013 = 4,032.81 USD = 0.063013 BTC
    delta: call N(d1) = 0.531506; put N(d1) − 1 = −0.468494
      premium-adjusted (Deribit's for coin-settled options): call 0.531506 − 0.063013 = 0.468494,
      put −0.468494 − 0.063013 = −0.531506
    gamma = φ(d1) / (F·σ√T) = 0.397697 / 10,119.3 = 3.93009e-5 per USD (call and put)
    vega = F·φ(d1)·√T / 100 = 64,000 × 0.397697 × 0.316228 / 100 = 80.488 USD per vol point
    theta = −F·φ(d1)·σ / (2√T) / 365 = −20,122.08 / 365 = −55.129 USD per day

``black76`` below computes them with the ``math`` module alone (not the engine's code), so a
test comparing the engine with these figures compares two implementations.

Venue-wide answers (instruments, greeks, tickers) always list these options; positions and
Deribit's account summaries are per account: a test passes ``*_positions(...)`` as the
account's positions and ``deribit_account(...)`` as its balance.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tests.fakes.exchange.base import Request

#: The hub's wall clock in option tests (ms): 2024-05-22 20:00 UTC.
TAKEN_MS = 1_716_408_000_000
#: 2024-06-28 08:00 UTC, every venue's expiry hour: 36.5 days = 0.1 year after TAKEN_MS.
EXPIRY_MS = 1_719_561_600_000
YEARS = (EXPIRY_MS - TAKEN_MS) / 1000.0 / (365.0 * 86_400.0)
INDEX = 64_000.0
STRIKE = 64_000.0
IV = 0.5

Raw = dict[str, Any]


@dataclass(frozen=True)
class Greeks:
    """Black-76 figures of ONE long option on one coin of underlying."""

    forward: float
    price_usd: float
    #: ∂price/∂F (plain Black-76).
    delta: float
    #: ∂delta/∂F, per USD.
    gamma: float
    #: USD per vol point (σ + 0.01).
    vega: float
    #: USD per day.
    theta: float

    @property
    def premium_coin(self) -> float:
        """The premium in coin, as coin-settled venues quote it."""
        return self.price_usd / self.forward

    @property
    def adjusted_delta(self) -> float:
        """Delta less the premium in coin: what Deribit reports for a coin-settled option."""
        return self.delta - self.premium_coin


def _cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def black76(forward: float, strike: float, sigma: float, years: float, *, call: bool) -> Greeks:
    """Black-76 with r = 0 (the module docstring's formulas), by the ``math`` module."""
    s_t = sigma * math.sqrt(years)
    d1 = (math.log(forward / strike) + 0.5 * s_t * s_t) / s_t
    d2 = d1 - s_t
    pdf = math.exp(-0.5 * d1 * d1) / math.sqrt(2.0 * math.pi)
    if call:
        price, delta = forward * _cdf(d1) - strike * _cdf(d2), _cdf(d1)
    else:
        price, delta = strike * _cdf(-d2) - forward * _cdf(-d1), _cdf(d1) - 1.0
    return Greeks(
        forward=forward,
        price_usd=price,
        delta=delta,
        gamma=pdf / (forward * s_t),
        vega=forward * pdf * math.sqrt(years) / 100.0,
        theta=-forward * pdf * sigma / (2.0 * math.sqrt(years)) / 365.0,
    )


CALL = black76(INDEX, STRIKE, IV, YEARS, call=True)
PUT = black76(INDEX, STRIKE, IV, YEARS, call=False)
BOTH = {"C": CALL, "P": PUT}


def _dec(value: float) -> str:
    """A venue's decimal string of ``value`` (OKX and Bybit send numbers as strings)."""
    return format(value, ".12g")


# --------------------------------------------------------------------------------- Deribit
DERIBIT_IDS = {k: f"BTC-28JUN24-64000-{k}" for k in BOTH}
DERIBIT_SYMBOLS = {k: f"BTC/USD:BTC-240628-64000-{k}" for k in BOTH}


def deribit_instruments() -> list[Raw]:
    """public/get_instruments rows of the two options (coin-settled, 1 BTC a contract)."""
    return [
        {
            "instrument_name": DERIBIT_IDS[k],
            "kind": "option",
            "option_type": "call" if k == "C" else "put",
            "strike": STRIKE,
            "settlement_period": "month",
            "base_currency": "BTC",
            "counter_currency": "USD",
            "quote_currency": "BTC",
            "settlement_currency": "BTC",
            "instrument_type": "reversed",
            "price_index": "btc_usd",
            "contract_size": 1.0,
            "tick_size": 0.0001,
            "min_trade_amount": 0.1,
            "is_active": True,
            "creation_timestamp": TAKEN_MS - 30 * 86_400_000,
            "expiration_timestamp": EXPIRY_MS,
            "maker_commission": 0.0003,
            "taker_commission": 0.0003,
            "instrument_id": 300_001 if k == "C" else 300_002,
        }
        for k in BOTH
    ]


def deribit_option(kind: str, size: float, **fields: Any) -> Raw:
    """private/get_positions: ``size`` BTC (signed) of the 64k call ("C") or put ("P").

    The position's greeks are its size times the per-coin ones, delta premium-adjusted (Deribit
    reports the net transaction delta of coin-settled options), vega per vol point, theta per
    day. Entered at 90 % of the mark, so a long is in profit.
    """
    g = BOTH[kind]
    mark = g.premium_coin
    entry = round(mark * 0.9, 4)
    raw: Raw = {
        "instrument_name": DERIBIT_IDS[kind],
        "kind": "option",
        "direction": "buy" if size > 0 else "sell",
        "size": size,
        "average_price": entry,
        "average_price_usd": entry * INDEX,
        "mark_price": mark,
        "index_price": INDEX,
        "settlement_price": mark,
        "delta": size * g.adjusted_delta,
        "gamma": size * g.gamma,
        "vega": size * g.vega,
        "theta": size * g.theta,
        "floating_profit_loss": size * (mark - entry),
        "floating_profit_loss_usd": size * (mark - entry) * INDEX,
        "total_profit_loss": size * (mark - entry),
        "realized_profit_loss": 0.0,
        "initial_margin": 0.15 * abs(size) if size < 0 else 0.0,
        "maintenance_margin": 0.1 * abs(size) if size < 0 else 0.0,
        "open_orders_margin": 0.0,
        "estimated_liquidation_price": None,
    }
    raw.update(fields)
    return raw


def deribit_perpetual(size_usd: float, **fields: Any) -> Raw:
    """BTC-PERPETUAL ``size_usd`` (signed; 10 USD a contract) marked at the index."""
    coins = size_usd / INDEX
    raw: Raw = {
        "instrument_name": "BTC-PERPETUAL",
        "kind": "future",
        "direction": "buy" if size_usd > 0 else "sell",
        "size": size_usd,
        "size_currency": coins,
        "average_price": INDEX,
        "mark_price": INDEX,
        "index_price": INDEX,
        "settlement_price": INDEX,
        "delta": coins,
        "leverage": 50,
        "floating_profit_loss": 0.0,
        "total_profit_loss": 0.0,
        "realized_profit_loss": 0.0,
        "realized_funding": 0.0,
        "interest_value": 0.0,
        "initial_margin": abs(coins) * 0.02,
        "maintenance_margin": abs(coins) * 0.01,
        "open_orders_margin": 0.0,
        "estimated_liquidation_price": 0,
    }
    raw.update(fields)
    return raw


def deribit_book(
    call: float = 2.0, put: float = -3.0, perpetual_usd: float = -100_000.0
) -> list[Raw]:
    """Long ``call`` BTC of the 64k call, ``put`` BTC of the 64k put (short 3 by default) and a
    ``perpetual_usd`` BTC-PERPETUAL (short 100,000 USD = −1.5625 BTC by default)."""
    book = [deribit_option("C", call), deribit_option("P", put)]
    return [*book, deribit_perpetual(perpetual_usd)] if perpetual_usd else book


def deribit_summary(positions: Iterable[Mapping[str, Any]], **fields: Any) -> Raw:
    """get_account_summaries' BTC summary of ``positions``: the portfolio greeks are the sums
    Deribit reports (options_* over options; delta_total adds the futures' BTC size), per
    currency and per index ("btc_usd"); portfolio margin ("cross_pm") by default, equity 5 BTC,
    maintenance the positions' sum, estimated_liquidation_ratio maintenance / margin balance."""
    held = list(positions)
    options = [p for p in held if p.get("kind") == "option"]

    def total(key: str, rows: list[Mapping[str, Any]]) -> float:
        return sum(float(p[key]) for p in rows)

    futures = total("size_currency", [p for p in held if p.get("kind") == "future"])
    greeks = {f"options_{g}": total(g, options) for g in ("delta", "gamma", "vega", "theta")}
    maintenance = total("maintenance_margin", held)
    initial = total("initial_margin", held)
    equity = 5.0
    value = sum(float(p["size"]) * float(p["mark_price"]) for p in options)
    summary: Raw = {
        "currency": "BTC",
        "balance": equity - value,
        "equity": equity,
        "margin_balance": equity,
        "initial_margin": initial,
        "maintenance_margin": maintenance,
        "projected_initial_margin": initial,
        "projected_maintenance_margin": maintenance,
        "available_funds": equity - initial,
        "available_withdrawal_funds": equity - initial,
        "options_value": value,
        **greeks,
        "options_gamma_map": {"btc_usd": greeks["options_gamma"]},
        "options_vega_map": {"btc_usd": greeks["options_vega"]},
        "options_theta_map": {"btc_usd": greeks["options_theta"]},
        "delta_total": greeks["options_delta"] + futures,
        "projected_delta_total": greeks["options_delta"] + futures,
        "delta_total_map": {"btc_usd": greeks["options_delta"] + futures},
        "estimated_liquidation_ratio": maintenance / equity,
        "estimated_liquidation_ratio_map": {"btc_usd": maintenance / equity},
        "options_pl": 0.0,
        "options_session_rpl": 0.0,
        "options_session_upl": 0.0,
        "futures_pl": 0.0,
        "futures_session_rpl": 0.0,
        "futures_session_upl": 0.0,
        "session_rpl": 0.0,
        "session_upl": 0.0,
        "total_pl": 0.0,
        "fee_balance": 0.0,
        "spot_reserve": 0.0,
        "margin_model": "cross_pm",
        "portfolio_margining_enabled": True,
        "cross_collateral_enabled": True,
        "total_equity_usd": equity * INDEX,
        "total_margin_balance_usd": equity * INDEX,
        "total_initial_margin_usd": initial * INDEX,
        "total_maintenance_margin_usd": maintenance * INDEX,
        "total_delta_total_usd": (greeks["options_delta"] + futures) * INDEX,
    }
    summary.update(fields)
    return summary


#: What ``extended=true`` adds at the top of get_account_summaries (Deribit's API reference:
#: the account's identity, none of the figures liqwatch reads).
_IDENTITY: Raw = {
    "id": 10,
    "email": "trader@example.com",
    "username": "trader",
    "system_name": "trader",
    "type": "main",
    "creation_timestamp": 1_687_352_432_143,
    "login_enabled": False,
    "security_keys_enabled": False,
    "mmp_enabled": False,
    "interuser_transfers_enabled": False,
    "referrer_id": None,
}


def deribit_account(*summaries: Raw) -> Callable[[Request], Raw]:
    """An account's get_account_summaries answer (``FakeExchange.add_account(balance=...)``):
    ``summaries``, with the identity fields when the request asks ``extended=true``."""

    def answer(request: Request) -> Raw:
        extended = request.query.get("extended") == "true"
        return {**(_IDENTITY if extended else {}), "summaries": list(summaries)}

    return answer


def deribit_ticker(request: Request) -> Raw | None:
    """public/ticker of one of the options (``None``: not one of them): greeks PER ONE COIN, the
    delta plain Black-76 (Deribit's ticker delta is not premium-adjusted), vega per vol point,
    theta per day, IV in percent, underlying_price the expiry's forward."""
    name = request.query.get("instrument_name")
    kind = next((k for k, i in DERIBIT_IDS.items() if i == name), None)
    if kind is None:
        return None
    g = BOTH[kind]
    mark = g.premium_coin
    return {
        "instrument_name": name,
        "timestamp": TAKEN_MS,
        "state": "open",
        "mark_price": mark,
        "mark_iv": IV * 100.0,
        "bid_iv": IV * 100.0 - 0.5,
        "ask_iv": IV * 100.0 + 0.5,
        "best_bid_price": round(mark - 0.0005, 4),
        "best_ask_price": round(mark + 0.0005, 4),
        "best_bid_amount": 10.0,
        "best_ask_amount": 10.0,
        "last_price": mark,
        "settlement_price": mark,
        "min_price": 0.0001,
        "max_price": 0.5,
        "open_interest": 1200.0,
        "interest_rate": 0.0,
        "underlying_index": "BTC-28JUN24",
        "underlying_price": INDEX,
        "index_price": INDEX,
        "estimated_delivery_price": INDEX,
        "greeks": {
            "delta": g.delta,
            "gamma": g.gamma,
            "vega": g.vega,
            "theta": g.theta,
            "rho": 0.0,
        },
        "stats": {"volume": 12.0, "volume_usd": 48_000.0, "price_change": 0.0},
    }


# --------------------------------------------------------------------------------- OKX
OKX_IDS = {k: f"BTC-USD-240628-64000-{k}" for k in BOTH}
OKX_SYMBOLS = {k: f"BTC/USD:BTC-240628-64000-{k}" for k in BOTH}
#: An OKX BTC option contract is ctVal (1) × ctMult (0.01) = 0.01 BTC.
OKX_MULTIPLIER = 0.01


def okx_instruments(request: Request) -> list[Raw]:
    """public/instruments?instType=OPTION&uly=BTC-USD rows (other underlyings list none)."""
    if request.query.get("uly", request.query.get("instFamily")) != "BTC-USD":
        return []
    return [
        {
            "instType": "OPTION",
            "instId": OKX_IDS[k],
            "uly": "BTC-USD",
            "instFamily": "BTC-USD",
            "baseCcy": "",
            "quoteCcy": "",
            "settleCcy": "BTC",
            "ctVal": "1",
            "ctMult": _dec(OKX_MULTIPLIER),
            "ctValCcy": "BTC",
            "ctType": "",
            "optType": k,
            "stk": _dec(STRIKE),
            "listTime": str(TAKEN_MS - 30 * 86_400_000),
            "expTime": str(EXPIRY_MS),
            "lever": "",
            "tickSz": "0.0005",
            "lotSz": "1",
            "minSz": "1",
            "maxLmtSz": "10000",
            "maxMktSz": "5000",
            "state": "live",
            "alias": "",
            "category": "1",
        }
        for k in BOTH
    ]


def okx_option(kind: str, contracts: int, *, greeks: bool = True, **fields: Any) -> Raw:
    """account/positions, instType OPTION: ``contracts`` (signed, net mode) of the 64k call or
    put, coin-settled (0.01 BTC a contract).

    The BS fields are the position's Black-76 greeks (coin delta, gamma per USD, vega USD per
    vol point, theta USD per day); the PA fields are OKX's price-adjusted ones in coin units and
    differ on purpose (the premium-adjusted delta; gamma, vega and theta over F), so a test
    can tell if one was summed. ``greeks=False``: OKX left them all empty.
    """
    g = BOTH[kind]
    coins = contracts * OKX_MULTIPLIER
    mark = g.premium_coin
    entry = round(mark * 0.9, 4)
    shown = {
        "deltaBS": coins * g.delta,
        "gammaBS": coins * g.gamma,
        "vegaBS": coins * g.vega,
        "thetaBS": coins * g.theta,
        "deltaPA": coins * g.adjusted_delta,
        "gammaPA": coins * g.gamma * INDEX,
        "vegaPA": coins * g.vega / INDEX,
        "thetaPA": coins * g.theta / INDEX,
    }
    raw: Raw = {
        "instType": "OPTION",
        "instId": OKX_IDS[kind],
        "mgnMode": "cross",
        "posSide": "net",
        "pos": str(contracts),
        "availPos": str(abs(contracts)),
        "ccy": "BTC",
        "posCcy": "",
        "avgPx": _dec(entry),
        "markPx": _dec(mark),
        "idxPx": _dec(INDEX),
        "usdPx": _dec(INDEX),
        "last": _dec(mark),
        "notionalUsd": _dec(abs(coins) * INDEX),
        "optVal": _dec(coins * mark),
        "upl": _dec(coins * (mark - entry)),
        "uplRatio": _dec((mark - entry) / entry),
        "imr": "",
        "mmr": _dec(0.1 * abs(coins)) if contracts < 0 else "0",
        "margin": "",
        "mgnRatio": "",
        "lever": "",
        "liqPx": "",
        "interest": "",
        "adl": "1",
        "posId": f"7000{abs(contracts):05d}{1 if kind == 'C' else 2}",
        "tradeId": "1",
        "cTime": str(TAKEN_MS - 86_400_000),
        "uTime": str(TAKEN_MS - 60_000),
        **{key: (_dec(value) if greeks else "") for key, value in shown.items()},
    }
    raw.update(fields)
    return raw


def okx_opt_summary(request: Request) -> list[Raw]:
    """public/opt-summary rows of the options (of ``uly``/``instFamily`` BTC-USD; ``expTime``
    narrows to one expiry): per ONE coin, BS fields in USD units like the positions', the
    plain ``delta``/``gamma``/``vega``/``theta`` OKX's price-adjusted coin ones (the ones ccxt
    maps), markVol a fraction, fwdPx the expiry's forward."""
    family = request.query.get("instFamily", request.query.get("uly"))
    expiry = request.query.get("expTime")
    if family != "BTC-USD" or expiry not in (None, "240628"):
        return []
    return [
        {
            "instType": "OPTION",
            "instId": OKX_IDS[k],
            "uly": "BTC-USD",
            "delta": _dec(g.adjusted_delta),
            "gamma": _dec(g.gamma * INDEX),
            "vega": _dec(g.vega / INDEX),
            "theta": _dec(g.theta / INDEX),
            "deltaBS": _dec(g.delta),
            "gammaBS": _dec(g.gamma),
            "vegaBS": _dec(g.vega),
            "thetaBS": _dec(g.theta),
            "lever": _dec(1.0 / g.premium_coin),
            "markVol": _dec(IV),
            "bidVol": _dec(IV - 0.005),
            "askVol": _dec(IV + 0.005),
            "realVol": "",
            "volLv": _dec(IV),
            "fwdPx": _dec(INDEX),
            "ts": str(TAKEN_MS),
        }
        for k, g in BOTH.items()
    ]


# --------------------------------------------------------------------------------- Bybit
BYBIT_IDS = {k: f"BTC-28JUN24-64000-{k}" for k in BOTH}
BYBIT_SYMBOLS = {k: f"BTC/USDC:USDC-240628-64000-{k}" for k in BOTH}


def bybit_is_option(market_id: str) -> bool:
    """A Bybit option id (``BTC-28JUN24-64000-C``), not a perpetual's."""
    return market_id.count("-") == 3


def bybit_instruments(request: Request) -> list[Raw]:
    """v5/market/instruments-info?category=option rows (baseCoin BTC, or all; USDC-settled)."""
    if request.query.get("baseCoin", "BTC") != "BTC":
        return []
    return [
        {
            "symbol": BYBIT_IDS[k],
            "optionsType": "Call" if k == "C" else "Put",
            "status": "Trading",
            "baseCoin": "BTC",
            "quoteCoin": "USDC",
            "settleCoin": "USDC",
            "launchTime": str(TAKEN_MS - 30 * 86_400_000),
            "deliveryTime": str(EXPIRY_MS),
            "deliveryFeeRate": "0.00015",
            "priceFilter": {"minPrice": "5", "maxPrice": "10000000", "tickSize": "5"},
            "lotSizeFilter": {"maxOrderQty": "500", "minOrderQty": "0.01", "qtyStep": "0.01"},
            "displayName": "",
        }
        for k in BOTH
    ]


def bybit_option(kind: str, size: float, *, greeks: bool = True, **fields: Any) -> Raw:
    """v5/position/list, category=option: ``size`` BTC (signed) of the 64k call or put,
    USDC-settled; the position's greeks (plain Black-76 delta: the premium is in USDC) or,
    with ``greeks=False``, empty strings."""
    g = BOTH[kind]
    entry = round(g.price_usd * 0.9, 1)
    shown = {"delta": size * g.delta, "gamma": size * g.gamma}
    shown |= {"vega": size * g.vega, "theta": size * g.theta}
    raw: Raw = {
        "positionIdx": 0,
        "symbol": BYBIT_IDS[kind],
        "side": "Buy" if size > 0 else "Sell",
        "size": _dec(abs(size)),
        "avgPrice": _dec(entry),
        "positionValue": _dec(abs(size) * g.price_usd),
        "markPrice": _dec(g.price_usd),
        "unrealisedPnl": _dec(size * (g.price_usd - entry)),
        "cumRealisedPnl": "0",
        "positionIM": "",
        "positionMM": "",
        "leverage": "",
        "liqPrice": "",
        "bustPrice": "",
        "tradeMode": 0,
        "positionStatus": "Normal",
        "autoAddMargin": 0,
        "riskId": 0,
        "riskLimitValue": "",
        "createdTime": str(TAKEN_MS - 86_400_000),
        "updatedTime": str(TAKEN_MS - 60_000),
        "seq": 1,
        **{key: (_dec(value) if greeks else "") for key, value in shown.items()},
    }
    raw.update(fields)
    return raw


def bybit_tickers(request: Request) -> list[Raw]:
    """v5/market/tickers?category=option rows (baseCoin BTC by default, or one ``symbol``): per
    ONE coin, markIv a fraction, underlyingPrice the expiry's forward."""
    if request.query.get("baseCoin", "BTC") != "BTC":
        return []
    wanted = request.query.get("symbol")
    return [
        {
            "symbol": BYBIT_IDS[k],
            "bid1Price": _dec(g.price_usd - 5.0),
            "bid1Size": "1",
            "bid1Iv": _dec(IV - 0.005),
            "ask1Price": _dec(g.price_usd + 5.0),
            "ask1Size": "1",
            "ask1Iv": _dec(IV + 0.005),
            "lastPrice": _dec(g.price_usd),
            "highPrice24h": _dec(g.price_usd),
            "lowPrice24h": _dec(g.price_usd),
            "markPrice": _dec(g.price_usd),
            "indexPrice": _dec(INDEX),
            "markIv": _dec(IV),
            "underlyingPrice": _dec(INDEX),
            "openInterest": "100",
            "turnover24h": "0",
            "volume24h": "0",
            "totalVolume": "100",
            "totalTurnover": "6400000",
            "delta": _dec(g.delta),
            "gamma": _dec(g.gamma),
            "vega": _dec(g.vega),
            "theta": _dec(g.theta),
            "predictedDeliveryPrice": "0",
            "change24h": "0",
        }
        for k, g in BOTH.items()
        if wanted in (None, BYBIT_IDS[k])
    ]
