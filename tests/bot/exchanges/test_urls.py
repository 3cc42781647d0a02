"""The URL prefixes route every REST endpoint of a real ccxt class, and every stream endpoint of
a real ccxt.pro class, through a reverse proxy."""

from __future__ import annotations

import json

import ccxt.async_support as ccxt  # type: ignore[import-untyped]
import ccxt.pro as ccxtpro  # type: ignore[import-untyped]
import pytest

from bot.exchanges import apply_prefix, rewrite
from bot.exchanges.urls import apply_ws_prefix, rewrite_ws
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


@pytest.mark.parametrize("venue", VENUES)
def test_no_wss_url_survives_the_ws_prefix(venue: str) -> None:
    """Every ``wss://`` URL in ``urls["api"]["ws"]`` of the real ccxt.pro class moves behind the
    prefix, nested per market type or not."""
    exchange = getattr(ccxtpro, venue)()
    apply_ws_prefix(exchange, "ws://127.0.0.1:9/")
    text = json.dumps(exchange.urls["api"]["ws"])
    assert "wss://" not in text
    assert "ws://127.0.0.1:9/" in text
    assert "127.0.0.1:9//" not in text


@pytest.mark.parametrize("venue", VENUES)
def test_ws_prefix_leaves_rest_urls_alone(venue: str) -> None:
    """The websocket prefix touches no ``https://`` endpoint (``apply_prefix``'s job)."""
    exchange = getattr(ccxtpro, venue)()
    rest_before = {key: value for key, value in exchange.urls["api"].items() if key != "ws"}
    apply_ws_prefix(exchange, "ws://127.0.0.1:9")
    rest_after = {key: value for key, value in exchange.urls["api"].items() if key != "ws"}
    assert rest_after == rest_before


def test_rewrite_ws_keeps_host_port_path_and_placeholders() -> None:
    """``wss://HOST[:PORT]/PATH`` → ``PREFIX/HOST[:PORT]/PATH`` in nested dicts and lists;
    other schemes and values untouched."""
    api = {
        "public": {"linear": "wss://stream.{hostname}/v5/public/linear"},
        "okx": "wss://ws.okx.com:443/ws/v5",
        "list": ["wss://a.example/ws", "https://api.example/v1"],
        "n": 1,
    }
    assert rewrite_ws(api, "ws://127.0.0.1:8080/") == {
        "public": {"linear": "ws://127.0.0.1:8080/stream.{hostname}/v5/public/linear"},
        "okx": "ws://127.0.0.1:8080/ws.okx.com:443/ws/v5",
        "list": ["ws://127.0.0.1:8080/a.example/ws", "https://api.example/v1"],
        "n": 1,
    }


def test_without_ws_prefix_urls_are_untouched() -> None:
    """No prefix configured: the instance keeps the venue's own stream URLs."""
    exchange = ccxtpro.bybit()
    before = json.dumps(exchange.urls)
    apply_ws_prefix(exchange, None)
    apply_ws_prefix(exchange, "")
    assert json.dumps(exchange.urls) == before


def test_ws_prefix_on_a_rest_only_instance_is_a_no_op() -> None:
    """A ccxt.async_support instance has no stream URLs: nothing to rewrite, no error."""
    exchange = ccxt.bybit()
    before = json.dumps(exchange.urls)
    apply_ws_prefix(exchange, "ws://127.0.0.1:9")
    assert json.dumps(exchange.urls) == before


def test_binance_usdm_market_stream_url_stays_behind_the_prefix() -> None:
    """ccxt rewrites Binance's linear ``…/ws`` to ``…/market/ws`` itself; behind the prefix it
    still does, so the stream URL is ``PREFIX/fstream.binance.com/market/ws``."""
    exchange = ccxtpro.binanceusdm()
    apply_ws_prefix(exchange, "ws://127.0.0.1:9")
    assert (
        exchange.get_ws_url("linear", "market") == "ws://127.0.0.1:9/fstream.binance.com/market/ws"
    )
    assert exchange.get_ws_url("inverse", "market") == "ws://127.0.0.1:9/dstream.binance.com/ws"


def test_okx_stream_url_keeps_the_port_ccxt_dials() -> None:
    """OKX's stream URL carries ``:443``; the host segment keeps it (``ws.okx.com:443``)."""
    exchange = ccxtpro.okx()
    apply_ws_prefix(exchange, "ws://127.0.0.1:9")
    assert (
        exchange.get_url("mark-price", "public") == "ws://127.0.0.1:9/ws.okx.com:443/ws/v5/public"
    )
