"""What each venue needs from ccxt: options, per-call params and where its leverage tiers live."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import ccxt.async_support as ccxt  # type: ignore[import-untyped]

#: "account": a private call per account (Binance brackets); "market": a public call per symbol.
TierSource = Literal["account", "market", "none"]

#: Venues with realistic payloads in the test-suite; any other ccxt venue is best effort.
TESTED = ("binanceusdm", "binancecoinm", "bybit", "okx", "hyperliquid", "deribit")


@dataclass(frozen=True)
class VenueSpec:
    """How liqwatch reads one venue through ccxt."""

    #: One ``fetch_positions`` call per entry, results concatenated.
    positions_params: tuple[Mapping[str, Any], ...] = ({},)
    balance_params: Mapping[str, Any] = field(default_factory=dict)
    #: Options of every instance (public and private) of this venue.
    options: Mapping[str, Any] = field(default_factory=dict)
    tiers: TierSource = "none"
    #: Tracked read-only by a public wallet address (no API key, no private instance).
    wallet: bool = False
    #: The venue limits request weight per IP, not per key: every account of the venue shares
    #: one budget (``budget.py``).
    limit_per_ip: bool = False
    #: Positions and balance come from one Hyperliquid ``clearinghouseState`` request
    #: (``clearinghouse.py``), not ccxt's ``fetch_positions`` and ``fetch_balance``.
    clearinghouse: bool = False


# Private currency endpoints are never needed: markets carry every code we read.
_NO_CURRENCIES = {"fetchCurrencies": False}

SPECS: dict[str, VenueSpec] = {
    # ccxt loads fapi/dapi leverageBracket itself before positionRisk; tiers come from the same
    # private endpoint, so they are fetched with the account's key (then cached per symbol).
    "binanceusdm": VenueSpec(options=_NO_CURRENCIES, tiers="account", limit_per_ip=True),
    "binancecoinm": VenueSpec(options=_NO_CURRENCIES, tiers="account", limit_per_ip=True),
    # v5 position/list needs a category, and linear needs a settle coin when no symbol is given;
    # category=option without a base coin lists every option position (ccxt's type "option").
    "bybit": VenueSpec(
        positions_params=(
            {"subType": "linear", "settleCoin": "USDT"},
            {"subType": "linear", "settleCoin": "USDC"},
            {"subType": "inverse"},
            {"type": "option"},
        ),
        # Option markets (BTC, ETH and SOL, ccxt's default) name an option's strike and expiry.
        options={**_NO_CURRENCIES, "fetchMarkets": {"types": ["linear", "inverse", "option"]}},
        tiers="market",
    ),
    # Only derivatives: margin positions would need the spot markets we do not load. Option
    # markets load per underlying (ccxt's default BTC-USD and ETH-USD).
    "okx": VenueSpec(
        positions_params=({"instType": "SWAP"}, {"instType": "FUTURES"}, {"instType": "OPTION"}),
        options={
            **_NO_CURRENCIES,
            "defaultType": "swap",
            "fetchMarkets": {"types": ["swap", "future", "option"]},
        },
        tiers="market",
    ),
    # The perp clearinghouse state is what the engine reads, once a poll; should ccxt's
    # fetch_balance be called, it skips the unified-account probe.
    "hyperliquid": VenueSpec(
        balance_params={"enableUnifiedMargin": False},
        options={"fetchMarkets": {"types": ["swap"]}},
        wallet=True,
        clearinghouse=True,
    ),
    # get_positions / get_account_summaries without a currency (or kind) return every currency
    # and kind at once, options included; the summaries carry the portfolio greeks, margin model
    # and estimated liquidation ratio as they are. Not ``extended``: by Deribit's API reference
    # it adds only the account's identity (email, username) and fee details, read by nothing.
    "deribit": VenueSpec(),
}


def exchange_class(venue: str) -> Any | None:
    """The ccxt async class of ``venue`` (``None`` if ccxt does not know it)."""
    if venue not in ccxt.exchanges:
        return None
    return getattr(ccxt, venue, None)


@functools.cache
def spec_for(venue: str) -> VenueSpec:
    """The venue's spec; untested venues get a default built from ccxt's ``has`` flags."""
    known = SPECS.get(venue)
    if known is not None:
        return known
    cls = exchange_class(venue)
    has: Mapping[str, Any] = cls().has if cls is not None else {}
    tiers: TierSource = "none"
    if has.get("fetchMarketLeverageTiers") is True:
        tiers = "market"
    elif has.get("fetchLeverageTiers") is True:
        tiers = "account"
    return VenueSpec(options=_NO_CURRENCIES, tiers=tiers)
