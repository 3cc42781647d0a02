"""Reading one account: the params a wallet read carries and the checks of what ccxt parsed."""

from __future__ import annotations

from typing import Any

from bot.exchanges.credentials import Credentials
from bot.exchanges.errors import ExchangeFailure


def check_positions(venue: str, found: Any) -> list[dict[str, Any]]:
    """``found`` if ccxt parsed a list of venue objects, else a "malformed" failure."""
    if not isinstance(found, list) or not all(_readable(p) for p in found):
        raise ExchangeFailure("malformed", f"{venue} sent positions liqwatch could not read")
    return found


def _readable(position: Any) -> bool:
    """ccxt parsed a venue object (not e.g. a bare number from a garbled response)."""
    return isinstance(position, dict) and isinstance(position.get("info"), dict)


def nonempty(key: str, value: dict[str, Any]) -> dict[str, Any]:
    """``{key: value}``, or nothing when ``value`` is empty (as the best-effort keys)."""
    return {key: value} if value else {}


def wallet_params(venue: str, credentials: Credentials) -> dict[str, Any]:
    """What every read of a wallet venue carries: the tracked address."""
    if not credentials.wallet_address:
        raise ExchangeFailure("auth", f"{venue} is tracked by wallet address, and none is set")
    return {"user": credentials.wallet_address}
