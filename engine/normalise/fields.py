"""Reading numbers, sides and symbols out of ccxt's loosely typed dicts, sentinels included."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from engine.model import ContractType

NAN = math.nan

#: Settle currencies worth one US dollar for risk purposes.
STABLECOINS = frozenset({"USD", "USDT", "USDC", "BUSD", "FDUSD", "DAI", "USDE", "TUSD", "USDD"})

#: A venue liquidation price this far from the mark (as a ratio either way) means "none in range".
ABSURD_RATIO = 100.0


def num(value: Any) -> float:
    """A finite float from a number or numeric string; NaN for None, "", garbage or ±inf."""
    if value is None or isinstance(value, bool):
        return NAN
    if isinstance(value, int | float):
        out = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return NAN
        try:
            out = float(text)
        except ValueError:
            return NAN
    else:
        return NAN
    return out if math.isfinite(out) else NAN


def positive(value: Any) -> float:
    """Like ``num`` but zero and negatives (venues' "not set") are NaN too."""
    out = num(value)
    return out if out > 0 else NAN


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one (venues nest objects that may be null)."""
    return value if isinstance(value, Mapping) else {}


def put(target: dict[str, float], key: str, value: Any) -> None:
    """Store ``value`` under ``key`` when it reads as a finite number."""
    number = num(value)
    if number == number:
        target[key] = number


def first(mapping: Mapping[str, Any], *keys: str) -> Any:
    """The first key of ``keys`` whose value is not None or ""."""
    for key in keys:
        value = mapping.get(key)
        if value is not None and value != "":
            return value
    return None


def liquidation_price(value: Any, mark: float) -> tuple[float, str | None]:
    """The venue's liquidation price, or NaN for every "none" spelling, with a note why.

    None, "", 0, "0" and negatives mean no liquidation price. Bybit reports 0.0001 and some
    venues report absurd values (a long's liquidation at 1e-8, a short's at 1e12) when the
    position cannot be liquidated in any realistic range: anything more than ``ABSURD_RATIO``
    away from the mark is treated as none, which also catches Bybit's 0.0001 on any coin worth
    more than a cent.
    """
    price = num(value)
    if not price > 0:
        return NAN, None
    if mark > 0 and (price > mark * ABSURD_RATIO or price < mark / ABSURD_RATIO):
        return NAN, f"venue liquidation price {value} is out of any realistic range: ignored"
    return price, None


def side_sign(position: Mapping[str, Any]) -> float:
    """+1 long, -1 short, NaN when neither the side nor a signed size says which."""
    side = str(position.get("side") or "").lower()
    if side in ("long", "buy"):
        return 1.0
    if side in ("short", "sell"):
        return -1.0
    for key in ("contracts", "notional"):
        signed = num(position.get(key))
        if signed > 0:
            return 1.0
        if signed < 0:
            return -1.0
    return NAN


def split_symbol(symbol: str) -> tuple[str, str, str, ContractType]:
    """(base, quote, settle, contract type) of a ccxt unified symbol.

    ``BTC/USDT:USDT`` is linear, ``BTC/USD:BTC`` inverse, ``BTC/USD:BTC-250627-60000-C`` an
    option (ccxt appends expiry, strike and C/P after the settle currency).
    """
    pair, _, settle_part = symbol.partition(":")
    base, _, quote = pair.partition("/")
    settle = settle_part.split("-")[0] if settle_part else quote
    pieces = settle_part.split("-")
    if len(pieces) >= 4 and pieces[-1] in ("C", "P"):
        return base, quote, settle, ContractType.OPTION
    kind = ContractType.INVERSE if settle and settle == base else ContractType.LINEAR
    return base, quote, settle or quote, kind


def pool_amount(amounts: Mapping[str, float], pool: str) -> float:
    """An account figure of a cross-margin pool; NaN when the account does not report it.

    The "USD" key holds a venue's multi-asset total (Binance Multi-Assets, OKX multi-currency),
    which backs stablecoin pools only: a coin pool never falls back to it (wrong units).
    """
    if pool in amounts:
        return float(amounts[pool])
    if pool in STABLECOINS and "USD" in amounts:
        return float(amounts["USD"])
    return NAN
