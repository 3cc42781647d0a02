"""examples/deribit_options.json: a Deribit BTC book parsed by real ccxt, whose greeks check out
by hand (docs/risk.md#greeks).

Short 2 BTC of the 26 Jun 2026 100,000 call and 2 BTC of the put (a short straddle, selling
volatility), and short 20,000 USD of the inverse perpetual, on standard cross margin with
1.5 BTC of collateral, 0.25 year before the expiry, at F = 100,000 and σ = 50 %. Per coin the
options are those of ``payloads.greeks`` (price 0.0994764 BTC, call delta 0.5497382, put
−0.4502618, gamma 1.583351e-5 per USD, vega 197.9188 USD per vol point, theta −54.22434 USD a
day). Deribit reports coin-settled option deltas premium-adjusted (BS delta − price in coin):
  call  −2 · (0.5497382 − 0.0994764) = −0.9005236 BTC
  put   −2 · (−0.4502618 − 0.0994764) = +1.0994764 BTC
  perp  −20,000 USD / 100,000 = −0.2 BTC
  net   −0.0010472 BTC (−104.72 USD): delta-hedged, short gamma (−4 · 1.583351e-5 per USD,
        −6,333.40 USD per 1 %), short vega (−791.68 USD per vol point), earning theta
        (+216.90 USD a day).
"""

from __future__ import annotations

from typing import Any

import ccxt

from tests.engine.normalise.payloads import Raw, market
from tests.engine.normalise.payloads.greeks import (
    CALL_DELTA,
    EXPIRY_MS,
    GAMMA,
    PREMIUM_COIN,
    PUT_DELTA,
    SIGMA,
    TAKEN_AT,
    THETA,
    VEGA,
    F,
)

CALL, PUT, PERP = "BTC/USD:BTC-260626-100000-C", "BTC/USD:BTC-260626-100000-P", "BTC/USD:BTC"
IDS = {CALL: "BTC-26JUN26-100000-C", PUT: "BTC-26JUN26-100000-P", PERP: "BTC-PERPETUAL"}
#: The perpetual's entry (a short from above the mark: in profit).
PERP_ENTRY = 101_000.0
PERP_USD = 20_000.0


def _markets() -> list[Raw]:
    options = [
        market(IDS[s], s, kind="option", strike=F, optionType=k, expiry=EXPIRY_MS)
        for s, k in ((CALL, "call"), (PUT, "put"))
    ]
    return [*options, market(IDS[PERP], PERP, contract_size=10.0)]


def _exchange() -> Any:
    ex = ccxt.deribit({"enableRateLimit": False})
    ex.set_markets(_markets())
    return ex


def _option(ex: Any, symbol: str, delta: float) -> Raw:
    """Short 2 BTC: Deribit's position greeks are totals, signed by the position."""
    raw = {
        "instrument_name": IDS[symbol], "kind": "option", "direction": "sell", "size": -2.0,
        "average_price": 0.11, "mark_price": PREMIUM_COIN, "index_price": F,
        "delta": -2 * (delta - PREMIUM_COIN), "gamma": -2 * GAMMA, "vega": -2 * VEGA,
        "theta": -2 * THETA, "floating_profit_loss": 2 * (0.11 - PREMIUM_COIN),
        "total_profit_loss": 2 * (0.11 - PREMIUM_COIN), "realized_profit_loss": 0.0,
        "initial_margin": 0.05, "maintenance_margin": 0.03, "settlement_price": PREMIUM_COIN,
        "estimated_liquidation_price": None,
    }  # fmt: skip
    result: Raw = ex.parse_position(raw)
    return result


def _perpetual(ex: Any) -> Raw:
    upnl = PERP_USD * (1 / F - 1 / PERP_ENTRY)  # a short inverse: Q·(1/MP − 1/EP) in BTC
    raw = {
        "instrument_name": IDS[PERP], "kind": "future", "direction": "sell", "size": -PERP_USD,
        "size_currency": -PERP_USD / F, "average_price": PERP_ENTRY, "mark_price": F,
        "index_price": F, "delta": -PERP_USD / F, "floating_profit_loss": upnl,
        "total_profit_loss": upnl, "realized_profit_loss": 0.0, "leverage": 10,
        "initial_margin": 0.002, "maintenance_margin": 0.001, "settlement_price": F,
        "estimated_liquidation_price": None,
    }  # fmt: skip
    result: Raw = ex.parse_position(raw)
    return result


def _greeks(ex: Any, symbol: str, delta: float) -> Raw:
    """ccxt's fetch_greeks (public/ticker): per one coin, plain delta, mark IV in percent."""
    ticker = {
        "instrument_name": IDS[symbol], "timestamp": int(TAKEN_AT * 1000),
        "mark_price": PREMIUM_COIN, "mark_iv": SIGMA * 100, "underlying_price": F,
        "index_price": F,
        "greeks": {"delta": delta, "gamma": GAMMA, "vega": VEGA, "theta": THETA, "rho": 0.0},
    }  # fmt: skip
    result: Raw = ex.parse_greeks(ticker)
    return result


def snapshot() -> dict[str, Any]:
    ex = _exchange()
    positions = [_option(ex, CALL, CALL_DELTA), _option(ex, PUT, PUT_DELTA), _perpetual(ex)]
    options_delta = sum(float(p["info"]["delta"]) for p in positions[:2])
    delta_total = options_delta - PERP_USD / F
    summary = {
        "currency": "BTC", "balance": 1.5, "equity": 1.5, "margin_balance": 1.5,
        "maintenance_margin": 0.09, "initial_margin": 0.15, "available_funds": 1.35,
        "margin_model": "cross_sm", "portfolio_margining_enabled": False,
        "total_equity_usd": 1.5 * F, "delta_total": delta_total,
        "delta_total_map": {"btc_usd": delta_total}, "options_delta": options_delta,
        "options_gamma": -4 * GAMMA, "options_vega": -4 * VEGA, "options_theta": -4 * THETA,
        "estimated_liquidation_ratio": 0.06,
    }  # fmt: skip
    markets = {
        m["symbol"]: {k: m[k] for k in ("symbol", "strike", "expiry", "optionType", "contractSize")}
        for m in _markets()[:2]
    }
    return {
        "exchange": "deribit",
        "timestamp": int(TAKEN_AT * 1000),
        "positions": positions,
        "balance": ex.parse_balance(summary),
        "markets": markets,
        "greeks": {CALL: _greeks(ex, CALL, CALL_DELTA), PUT: _greeks(ex, PUT, PUT_DELTA)},
        "volatility": {"BTC": 0.55},
        "horizon_hours": 24,
    }
