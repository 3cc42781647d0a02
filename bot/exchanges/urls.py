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
