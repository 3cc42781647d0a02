"""Binance USDⓈ-M user-data streams for the fake: ``ACCOUNT_UPDATE`` on a listen key.

Wire format (developers.binance.com, USDⓈ-M "User Data Streams" → "Event: Balance and Position
Update", and the sample in ccxt.pro's ``binance.handle_positions``):

* ``POST /fapi/v1/listenKey`` (the REST fake) opens a key; the socket is
  ``wss://fstream.binance.com/private/ws?listenKey=<key>`` since the 2026 URL split (COIN-M:
  ``wss://dstream.binance.com/ws/<key>``). The client sends nothing: the venue pushes.
* ``{"e": "ACCOUNT_UPDATE", "E": event ms, "T": transaction ms, "a": {"m": reason, "B":
  [balances], "P": [positions]}}``: ``P`` holds only the positions the event changed (a
  closed one with ``pa`` "0"), each ``s`` symbol, ``pa`` signed amount, ``ep`` entry, ``bep``
  break-even, ``cr`` accumulated realised, ``up`` unrealised PnL, ``mt`` margin type, ``iw``
  isolated wallet, ``ps`` position side, ``ma`` margin asset; all numbers as strings.

Not modelled: ``ORDER_TRADE_UPDATE``, ``MARGIN_CALL``, ``listenKeyExpired``, the 24 h disconnect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tests.engine.normalise.payloads.binance import Leg
from tests.fakes.stream.base import Connection, text


def private_route(host: str, path: str) -> str | None:
    """The USDⓈ-M user-data socket (COIN-M's ``/ws/<key>`` is the market route's)."""
    return "binanceusdm" if (host, path) == ("fstream.binance.com", "/private/ws") else None


def listen_key_of(conn: Connection) -> str | None:
    """The listen key a connection was opened with (``None``: a market stream)."""
    if "listenKey" in conn.query:
        return conn.query["listenKey"]
    name = conn.path.partition("/ws/")[2]
    return name if name and "@" not in name and "/" not in name else None


def _side_key(leg: Leg) -> tuple[str, str]:
    return leg.symbol, leg.side


def _row(leg: Leg, amount: float | None = None) -> dict[str, Any]:
    amount = leg.amount if amount is None else amount
    return {
        "s": leg.symbol,
        "pa": text(amount),
        "ep": text(leg.entry if amount else 0.0),
        "bep": text(leg.entry if amount else 0.0),
        "cr": "0",
        "up": text(amount * (leg.mark - leg.entry)),
        "mt": "isolated" if leg.isolated_wallet else "cross",
        "iw": text(leg.isolated_wallet if amount else 0.0),
        "ps": leg.side,
        "ma": "USDT",
    }


def account_update(
    before: Sequence[Leg], after: Sequence[Leg], *, wallet: float, now_ms: int, reason: str
) -> dict[str, Any]:
    """The event that takes the account from ``before`` to ``after``: the changed and the new
    positions, and the closed ones at amount 0."""
    old = {_side_key(leg): leg for leg in before}
    new = {_side_key(leg): leg for leg in after}
    rows = [_row(leg) for key, leg in new.items() if old.get(key) != leg]
    rows += [_row(leg, 0.0) for key, leg in old.items() if key not in new]
    balance = {"a": "USDT", "wb": text(wallet), "cw": text(wallet), "bc": "0"}
    return {
        "e": "ACCOUNT_UPDATE",
        "E": now_ms,
        "T": now_ms,
        "a": {"m": reason, "B": [balance], "P": rows},
    }
