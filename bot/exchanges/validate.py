"""Validate credentials before linking: one real read, and the key's permissions if shown."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.exchanges.credentials import Credentials
from bot.exchanges.errors import ExchangeFailure, LinkRefused
from bot.exchanges.venues import exchange_class, spec_for

if TYPE_CHECKING:
    from bot.exchanges.hub import ExchangeHub

log = logging.getLogger(__name__)
WALLET = re.compile(r"0x[0-9a-fA-F]{40}")
NO_WITHDRAW = "this API key can withdraw funds: create a read-only key and link that one instead"


@dataclass(frozen=True)
class Permissions:
    """What a key may do beyond reading, as far as the venue reports it."""

    withdraw: bool
    trade: tuple[str, ...]


async def _binance(exchange: Any) -> Permissions:
    raw = await exchange.sapi_get_account_apirestrictions()
    trading = {
        "enableFutures": "futures",
        "enableSpotAndMarginTrading": "spot and margin",
        "enableMargin": "margin",
        "enableVanillaOptions": "options",
        "enablePortfolioMarginTrading": "portfolio margin",
    }
    return Permissions(
        withdraw=raw.get("enableWithdrawals") is True,
        trade=tuple(name for key, name in trading.items() if raw.get(key) is True),
    )


async def _bybit(exchange: Any) -> Permissions:
    result = (await exchange.private_get_v5_user_query_api())["result"]
    wallet = result.get("permissions", {}).get("Wallet") or []
    read_only = str(result.get("readOnly")) == "1"
    return Permissions(withdraw="Withdraw" in wallet, trade=() if read_only else ("trading",))


async def _okx(exchange: Any) -> Permissions:
    perm = str((await exchange.private_get_account_config())["data"][0].get("perm", ""))
    granted = {p.strip() for p in perm.split(",")}
    return Permissions(withdraw="withdraw" in granted, trade=("trading",) * ("trade" in granted))


PERMISSION_READERS: dict[str, Callable[[Any], Awaitable[Permissions]]] = {
    "binanceusdm": _binance,
    "binancecoinm": _binance,
    "binance": _binance,
    "bybit": _bybit,
    "okx": _okx,
}


def _check_venue(venue: str) -> Any:
    cls = exchange_class(venue)
    shown = venue[:40]
    if cls is None:
        raise LinkRefused(f"liqwatch does not know the venue '{shown}'")
    if not cls().has.get("fetchPositions"):
        raise LinkRefused(f"{shown} does not report positions through liqwatch's exchange library")
    return cls


def _check_credentials(venue: str, required: dict[str, Any], credentials: Credentials) -> None:
    if not (credentials.api_key and credentials.secret):
        raise LinkRefused(f"{venue} needs an API key and its secret")
    if required.get("password") and not credentials.passphrase:
        raise LinkRefused(f"{venue} needs the API key's passphrase too")


def _refusal(venue: str, failure: ExchangeFailure) -> LinkRefused:
    if failure.kind == "auth":
        return LinkRefused(
            f"{venue} refused these credentials: check the key and secret, that the key is "
            "enabled for reading, and any IP allow-list"
        )
    if failure.kind == "proxy":  # nothing the user can change: say whose problem it is
        return LinkRefused(
            f"liqwatch's proxy refused the connection to {venue}, so the key could not be "
            "checked: the operator has to fix it; try again later"
        )
    return LinkRefused(f"could not check the credentials with {failure}; try again later")


async def validate(hub: ExchangeHub, venue: str, credentials: Credentials) -> list[str]:
    """Warnings for a usable account, or ``LinkRefused`` with a sentence for the user."""
    cls = _check_venue(venue)
    if spec_for(venue).wallet:
        return await _validate_wallet(hub, venue, credentials)
    _check_credentials(venue, cls().requiredCredentials, credentials)
    async with hub.probe(venue, credentials) as exchange:
        try:
            await hub.call(
                venue, lambda: exchange.fetch_balance(dict(spec_for(venue).balance_params))
            )
        except ExchangeFailure as failure:
            raise _refusal(venue, failure) from None
        return await _permission_warnings(hub, venue, exchange)


async def _validate_wallet(hub: ExchangeHub, venue: str, credentials: Credentials) -> list[str]:
    address = credentials.wallet_address or ""
    if not WALLET.fullmatch(address):
        raise LinkRefused(f"{venue} tracks a wallet by its address: 0x followed by 40 hex digits")
    try:
        await hub.fetch_snapshot(f"validate:{address}", venue, credentials)
    except ExchangeFailure as failure:
        raise _refusal(venue, failure) from None
    return []


async def _permission_warnings(hub: ExchangeHub, venue: str, exchange: Any) -> list[str]:
    reader = PERMISSION_READERS.get(venue)
    if reader is None:
        return [f"{venue} does not show a key's permissions: make sure this key is read-only"]
    try:
        permissions = await hub.call(venue, lambda: reader(exchange))
    except ExchangeFailure as failure:
        log.warning("%s: key permissions unreadable (%s)", venue, failure)
        return [f"could not read this key's permissions on {venue}: make sure it is read-only"]
    if permissions.withdraw:
        raise LinkRefused(NO_WITHDRAW)
    if permissions.trade:
        return [
            f"this API key can trade ({', '.join(permissions.trade)}): liqwatch only reads, "
            "so a read-only key is safer"
        ]
    return []
