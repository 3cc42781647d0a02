"""The URL prefix routes every REST endpoint of a real ccxt class through a reverse proxy."""

from __future__ import annotations

import json

import ccxt.async_support as ccxt
import pytest

from bot.exchanges import apply_prefix, rewrite
from tests.bot.exchanges.conftest import VENUES


@pytest.mark.parametrize("venue", VENUES)
def test_no_https_url_survives_the_prefix(venue: str) -> None:
    """Every ``https://`` URL in ``urls["api"]`` of the real ccxt class moves behind the prefix."""
    exchange = getattr(ccxt, venue)()
    apply_prefix(exchange, "http://127.0.0.1:9/")
    text = json.dumps(exchange.urls["api"])
    assert "https://" not in text
    assert "http://127.0.0.1:9/" in text
    assert "127.0.0.1:9//" not in text


def test_rewrite_keeps_host_path_and_placeholders() -> None:
    """``https://HOST/PATH`` → ``PREFIX/HOST/PATH`` in nested dicts; other schemes untouched."""
    api = {"public": "https://api.{hostname}/v5", "ws": {"s": "wss://stream.x.com/ws"}, "n": 1}
    assert rewrite(api, "http://proxy:8080/") == {
        "public": "http://proxy:8080/api.{hostname}/v5",
        "ws": {"s": "wss://stream.x.com/ws"},
        "n": 1,
    }


def test_without_prefix_urls_are_untouched() -> None:
    """No prefix configured: the instance keeps the venue's own URLs."""
    exchange = ccxt.okx()
    before = json.dumps(exchange.urls["api"])
    apply_prefix(exchange, None)
    assert json.dumps(exchange.urls["api"]) == before
