"""Route every exchange REST URL through a proxy: ``https://HOST/PATH`` → ``PREFIX/HOST/PATH``."""

from __future__ import annotations

from typing import Any

_SCHEME = "https://"


def rewrite(api: Any, prefix: str) -> Any:
    """``api`` (a URL or nested dicts/lists of URLs) with every ``https://`` URL behind ``prefix``.

    Other values (``wss://`` streams, numbers) are kept. ``{hostname}`` placeholders survive, so
    ccxt still fills them in after the rewrite.
    """
    base = prefix.rstrip("/")
    if isinstance(api, str):
        return base + "/" + api[len(_SCHEME) :] if api.startswith(_SCHEME) else api
    if isinstance(api, dict):
        return {key: rewrite(value, base) for key, value in api.items()}
    if isinstance(api, list):
        return [rewrite(value, base) for value in api]
    return api


def apply_prefix(exchange: Any, prefix: str | None) -> None:
    """Point a ccxt instance's REST endpoints at ``prefix`` (no-op without one)."""
    if prefix:
        exchange.urls = {**exchange.urls, "api": rewrite(exchange.urls["api"], prefix)}


_WS_SCHEME = "wss://"


def rewrite_ws(api: Any, prefix: str) -> Any:
    """``api`` (a URL or nested dicts/lists of URLs) with every ``wss://`` URL behind ``prefix``:
    ``wss://HOST/PATH`` → ``PREFIX/HOST/PATH`` (``PREFIX`` may be ``ws://127.0.0.1:PORT``).

    Other values (``https://`` endpoints, numbers) are kept; ``HOST`` keeps its port
    (``ws.okx.com:443``) and ``{hostname}`` placeholders survive, so ccxt still fills them in.
    """
    base = prefix.rstrip("/")
    if isinstance(api, str):
        return base + "/" + api[len(_WS_SCHEME) :] if api.startswith(_WS_SCHEME) else api
    if isinstance(api, dict):
        return {key: rewrite_ws(value, base) for key, value in api.items()}
    if isinstance(api, list):
        return [rewrite_ws(value, base) for value in api]
    return api


def apply_ws_prefix(exchange: Any, prefix: str | None) -> None:
    """Point a ccxt.pro instance's websocket endpoints (``urls["api"]["ws"]``, a URL or URLs
    nested per market type) at ``prefix`` (no-op without one, or on a REST-only instance)."""
    api = exchange.urls.get("api")
    if not prefix or not isinstance(api, dict) or "ws" not in api:
        return
    exchange.urls = {**exchange.urls, "api": {**api, "ws": rewrite_ws(api["ws"], prefix)}}
