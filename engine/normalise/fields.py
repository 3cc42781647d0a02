"""Reading numbers, sides and symbols out of ccxt's loosely typed dicts, sentinels included."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from engine.model import ContractType

NAN = math.nan

#: Settle currencies worth one US dollar for risk purposes.
STABLECOINS = frozenset({"USD", "USDT", "USDC", "BUSD", "FDUSD", "DAI", "USDE", "TUSD", "USDD"})


def num(value: Any) -> float:
    """A finite float from a number or numeric string; NaN for None, "", garbage or ±inf.

    An int beyond a float's range (JSON allows 500 digits) is garbage too: ``float()`` raises
    ``OverflowError`` on it, which must not escape and hide the account's other positions.
    """
    if value is None or isinstance(value, bool):
        return NAN
    if isinstance(value, int):
        try:
            out = float(value)
        except OverflowError:
            return NAN
    elif isinstance(value, float):
        out = value
    elif isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return NAN
        try:
            out = float(stripped)
        except ValueError:
            return NAN
    else:
        return NAN
    return out if math.isfinite(out) else NAN


def positive(value: Any) -> float:
    """Like ``num`` but zero and negatives (venues' "not set") are NaN too."""
    out = num(value)
    return out if out > 0 else NAN


def text(value: Any) -> str:
    """``value`` if it is a string, a short number as text, else "" (an enum field's garbage).

    ``str()`` of arbitrary venue data can raise (an int past Python's digit limit) or recurse
    without end (deeply nested lists), so only strings and plain numbers are spelled out.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return str(value)
        except ValueError:
            return ""
    return ""


def items(value: Any) -> list[Any]:
    """``value`` if it is a JSON array, else an empty list (venues nest lists that may be null)."""
    return value if isinstance(value, list) else []


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


def liquidation_price(value: Any) -> float:
    """The venue's liquidation price, or NaN for the "none" spellings every venue shares.

    None, "", 0, "0", negatives and non-numbers mean no liquidation price. A price far from the
    mark is NOT one of them: an over-collateralised cross short can genuinely liquidate at many
    times the mark, and that is real data. Venue-specific markers (Bybit's 0.0001) are the
    venue reader's to recognise.
    """
    price = num(value)
    return price if price > 0 else NAN


def side_sign(position: Mapping[str, Any]) -> tuple[float, str | None]:
    """+1 long, -1 short, NaN when neither the side nor a signed size says which; with a note
    when they contradict each other.

    ccxt's ``contracts`` is unsigned, so a negative one beside ``side: "long"`` means the dict
    was built wrong somewhere: a long's liquidation price on what may be a short would be worse
    than none, so neither is trusted (a venue reader may still read the side from ``info``).
    """
    side = text(position.get("side")).strip().lower()
    stated = {"long": 1.0, "buy": 1.0, "short": -1.0, "sell": -1.0}.get(side, NAN)
    contracts = num(position.get("contracts"))
    if stated > 0 and contracts < 0:
        return NAN, f"side is long but contracts is negative ({contracts:g}): side unknown"
    if stated == stated:
        return stated, None
    for signed in (contracts, num(position.get("notional"))):
        if signed > 0:
            return 1.0, None
        if signed < 0:
            return -1.0, None
    return NAN, "side is neither long nor short and the size is unsigned"


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
