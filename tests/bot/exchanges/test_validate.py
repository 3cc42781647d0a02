"""Linking validates credentials: one real read, and refusal of keys that can withdraw."""

from __future__ import annotations

import pytest

from bot.errors import UserError
from bot.exchanges import Credentials, ExchangeHub, LinkRefused
from tests.bot.exchanges.conftest import KEY_VENUES, SECRET, link
from tests.fakes.exchange import FakeExchange


async def test_a_read_only_binance_key_links_without_warnings(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """A read-only key passes the read and the apiRestrictions check quietly."""
    assert await hub.validate("binanceusdm", link(fake, "binanceusdm")) == []
    assert fake.count("binance", "/sapi/v1/account/apiRestrictions") == 1


@pytest.mark.parametrize("venue", ["binanceusdm", "binancecoinm"])
async def test_a_binance_key_that_can_withdraw_is_refused(
    fake: FakeExchange, hub: ExchangeHub, venue: str
) -> None:
    """enableWithdrawals → LinkRefused (a UserError) asking for a read-only key."""
    credentials = link(fake, venue, permissions={"enableWithdrawals": True})
    with pytest.raises(LinkRefused, match="can withdraw funds: create a read-only key"):
        await hub.validate(venue, credentials)
    assert issubclass(LinkRefused, UserError)


async def test_a_binance_key_that_can_trade_links_with_a_warning(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """enableFutures → linked, with one warning naming what the key can trade."""
    credentials = link(fake, "binanceusdm", permissions={"enableFutures": True})
    warnings = await hub.validate("binanceusdm", credentials)
    assert len(warnings) == 1 and "can trade (futures)" in warnings[0]


@pytest.mark.parametrize(
    ("venue", "withdraw", "trade"),
    [
        ("bybit", {"permissions": {"Wallet": ["AccountTransfer", "Withdraw"]}}, {"readOnly": 0}),
        ("okx", {"perm": "read_only,withdraw"}, {"perm": "read_only,trade"}),
    ],
)
async def test_bybit_and_okx_key_permissions(
    fake: FakeExchange, hub: ExchangeHub, venue: str, withdraw: dict, trade: dict
) -> None:
    """Bybit (query-api) and OKX (account/config) report permissions too: same policy."""
    assert await hub.validate(venue, link(fake, venue, 1)) == []
    with pytest.raises(LinkRefused, match="can withdraw"):
        await hub.validate(venue, link(fake, venue, 2, permissions=withdraw))
    assert "can trade" in (await hub.validate(venue, link(fake, venue, 3, permissions=trade)))[0]


async def test_deribit_warns_that_permissions_are_unknown(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """Without a permissions endpoint, linking succeeds with a read-only reminder."""
    warnings = await hub.validate("deribit", link(fake, "deribit"))
    assert len(warnings) == 1 and "read-only" in warnings[0]


@pytest.mark.parametrize("venue", KEY_VENUES)
async def test_a_wrong_key_is_refused_with_a_sentence(
    fake: FakeExchange, hub: ExchangeHub, venue: str
) -> None:
    """The read fails authentication: LinkRefused says so, without echoing the key."""
    link(fake, venue)
    wrong = Credentials("KEY-never-issued", SECRET, "PASS")
    with pytest.raises(LinkRefused, match="refused these credentials") as raised:
        await hub.validate(venue, wrong)
    assert "KEY-never-issued" not in str(raised.value) and SECRET not in str(raised.value)


async def test_a_proxy_refusing_us_is_not_blamed_on_the_key(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """A 407 from the operator's proxy while checking a key: the refusal names the proxy and
    the operator, not the user's credentials."""
    credentials = link(fake, "bybit")
    await hub.public("bybit")  # markets loaded: the key check itself meets the proxy
    fake.fail("bybit", status=407, body="Proxy Authentication Required", times=99)
    with pytest.raises(LinkRefused, match=r"proxy refused.*operator") as raised:
        await hub.validate("bybit", credentials)
    assert "credentials" not in str(raised.value)


async def test_validation_leaves_no_instance_open(fake: FakeExchange, hub: ExchangeHub) -> None:
    """The probe instance is closed: only the shared public instance remains."""
    await hub.validate("bybit", link(fake, "bybit"))
    assert len(hub.instances()) == 1


async def test_hyperliquid_validates_by_address(fake: FakeExchange, hub: ExchangeHub) -> None:
    """A well-formed address with one successful read links, with no key at all."""
    assert await hub.validate("hyperliquid", link(fake, "hyperliquid")) == []
    assert fake.count("hyperliquid", "clearinghouseState") >= 1


@pytest.mark.parametrize("address", ["", "0x123", "1" * 42, "0x" + "g" * 40, "0x" + "a" * 41])
async def test_a_bad_hyperliquid_address_is_refused(hub: ExchangeHub, address: str) -> None:
    """Anything but 0x + 40 hex digits is refused before any request."""
    with pytest.raises(LinkRefused, match="0x followed by 40 hex digits"):
        await hub.validate("hyperliquid", Credentials.wallet(address))


@pytest.mark.parametrize(
    ("venue", "message"),
    [
        ("no-such-venue", "does not know the venue"),
        ("coinbaseexchange", "does not report positions"),
    ],
)
async def test_unknown_or_positionless_venues_are_refused(
    hub: ExchangeHub, venue: str, message: str
) -> None:
    """Venues ccxt lacks, or whose ccxt class has no fetchPositions, are named and refused."""
    with pytest.raises(LinkRefused, match=message):
        await hub.validate(venue, Credentials("k", "s"))


async def test_okx_without_passphrase_is_refused(hub: ExchangeHub) -> None:
    """OKX keys need their passphrase: refused before any request."""
    with pytest.raises(LinkRefused, match="passphrase"):
        await hub.validate("okx", Credentials("k", "s"))
