"""Per venue: which ccxt.pro method streams the mark, where the mark is, and how to stop it."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


def _mark_price(ticker: Mapping[str, Any]) -> Any:
    return ticker.get("markPrice")


def _mark_px(ticker: Mapping[str, Any]) -> Any:
    info = ticker.get("info")
    return info.get("markPx") if isinstance(info, Mapping) else None


@dataclass(frozen=True)
class StreamSpec:
    """How liqwatch follows one venue's marks through ccxt.pro."""

    #: The per-symbol watch (``method(symbol, params)`` returns a ticker).
    method: str
    #: Where the mark is in that ticker (the raw value; ``read_mark`` checks it).
    mark: Callable[[Mapping[str, Any]], Any] = _mark_price
    params: Mapping[str, Any] = field(default_factory=dict)
    #: A watch of many symbols in one subscribe request, used when a client starts: venues
    #: that limit client frames (Binance 10/s, OKX 3 subscribe requests/s) would refuse one
    #: request per symbol. ``None``: one request per symbol is fine.
    batch: str | None = None
    #: The per-symbol un-watch. ``None``: the venue (or ccxt) cannot unsubscribe reliably, so
    #: a change of the followed set restarts the venue's client with the new set.
    unwatch: str | None = None
    #: The venue pushes every subscribed mark on its own clock, moved or not, so a symbol's
    #: silence is a fault. Otherwise it pushes on change only (or its idle period is not
    #: below the stale limit), and a quiet symbol is only stale once REST shows a mark the
    #: stream did not send.
    periodic: bool = False
    #: ccxt.pro options on top of the venue's REST options (``venues.spec_for``).
    options: Mapping[str, Any] = field(default_factory=dict)
    #: The venue's public trades name both parties (Hyperliquid's ``users``): watching each
    #: held symbol's trades tells which watched wallets just traded, to re-poll them at once
    #: (one subscription per coin, not per wallet; docs/polling.md).
    trades: bool = False


# ccxt gives each new set of Binance symbols a stream of its own (a new connection per
# subscribe call, up to 50); one stream keeps the venue on one socket. Binance allows 1024
# streams per connection; ccxt counts subscribe calls per stream against 200 by default.
_ONE_BINANCE_STREAM = {
    "streamLimits": {"linear": 1, "inverse": 1},
    "subscriptionLimitByStream": {"linear": 1024, "inverse": 1024},
}

SPECS: dict[str, StreamSpec] = {
    # <symbol>@markPrice@1s: a markPriceUpdate every second whether the mark moved or not.
    "binanceusdm": StreamSpec(
        "watch_mark_price",
        batch="watch_mark_prices",
        unwatch="un_watch_mark_price",
        periodic=True,
        options=_ONE_BINANCE_STREAM,
    ),
    "binancecoinm": StreamSpec(
        "watch_mark_price",
        batch="watch_mark_prices",
        unwatch="un_watch_mark_price",
        periodic=True,
        options=_ONE_BINANCE_STREAM,
    ),
    # v5 tickers: a snapshot, then deltas of the fields that changed, nothing while the market
    # is still. A quiet symbol is therefore no fault: not periodic, so REST is asked and a
    # symbol whose REST mark is the one last streamed stays live (a still market never flaps).
    "bybit": StreamSpec("watch_ticker", unwatch="un_watch_ticker"),
    # mark-price channel: every 200 ms while the mark moves, every 10 s while it does not.
    # ccxt 4.5.90 ignores OKX's answer to un-watching it (the un-watch never resolves and the
    # symbol cannot be watched again on that client): restart instead.
    "okx": StreamSpec("watch_mark_price", batch="watch_mark_prices"),
    # ticker.<instrument>.100ms; ccxt has no un-watch for Deribit.
    "deribit": StreamSpec("watch_ticker"),
    # activeAssetCtx: ccxt leaves markPrice empty and keeps the mark in info.markPx
    # (watch_tickers rides allMids, which are mids, not marks).
    "hyperliquid": StreamSpec(
        "watch_ticker", mark=_mark_px, unwatch="un_watch_ticker", trades=True
    ),
}

#: Venues without realistic stream fakes: their ticker's markPrice, restarted on change.
DEFAULT = StreamSpec("watch_ticker")


def stream_spec(venue: str) -> StreamSpec:
    return SPECS.get(venue, DEFAULT)


def read_mark(spec: StreamSpec, ticker: Any) -> float | None:
    """The mark in ``ticker`` where ``spec`` says it is; ``None`` unless finite and positive."""
    if not isinstance(ticker, Mapping):
        return None
    try:
        mark = float(spec.mark(ticker))
    except (TypeError, ValueError):
        return None
    return mark if math.isfinite(mark) and mark > 0 else None


def traders(trades: Any, *, since_ms: float) -> set[str]:
    """The addresses (lower case) named by ``trades`` (ccxt's parsed trades, the venue's own
    record in ``info``) at or after ``since_ms``: the trades a new subscription replays
    happened before it, and were seen by the poll that made us follow the coin."""
    found: set[str] = set()
    for trade in trades if isinstance(trades, list) else ():
        if not isinstance(trade, Mapping):
            continue
        stamp = trade.get("timestamp")
        if not isinstance(stamp, int | float) or stamp < since_ms:
            continue
        info = trade.get("info")
        users = info.get("users") if isinstance(info, Mapping) else None
        if isinstance(users, list):
            found.update(u.lower() for u in users if isinstance(u, str) and u)
    return found
