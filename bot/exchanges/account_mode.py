"""Each OKX and Bybit account's margin mode, which their balance does not state, read apart and
merged into the balance's raw payload for the engine (docs/risk.md#pm-ratio).

On portfolio margin a pool's maintenance comes from the venue's scenario risk, so the engine
takes the venue's own ratio there (OKX ``mgnRatio`` inverted, Bybit ``accountMMRate``); which
accounts are on it is OKX's ``acctLv`` ("4") from /api/v5/account/config and Bybit's
``marginMode`` ("PORTFOLIO_MARGIN") from /v5/account/info, and ccxt's ``fetch_balance`` reads
neither. An account changes mode rarely (by hand, on the venue's site): the mode is read on an
account's first poll and again every ``MODE_TTL_S``, on the account's own instance, so it
waits for and is charged to the key's budget like the poll's other requests (ccxt's cost:
neither venue is in ``weights.py``, both limit per key).

Best effort, like the greeks and tiers: one attempt, no retries; a failed or unreadable answer
leaves the poll with the last mode read (none before the first success: the engine then sums
the positions' maintenance as on any other account), is logged once until a read succeeds
again, and is tried again after ``RETRY_FAILED_S``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.exchanges.tiers import RETRY_FAILED_S

log = logging.getLogger(__name__)

#: How long a mode read stays good (an operator switching an account to portfolio margin is
#: seen within this).
MODE_TTL_S = 600.0


@dataclass(frozen=True)
class ModeSource:
    """Where a venue states an account's mode: ccxt's implicit method of the endpoint, the
    path to the field in its answer, and the key under which the engine reads it beside the
    balance's raw payload (engine/normalise/okx.py, bybit.py)."""

    method: str
    path: tuple[str | int, ...]
    key: str


SOURCES: dict[str, ModeSource] = {
    # {"code": "0", "data": [{"acctLv": "4", ...}]}; ccxt cost 4.
    "okx": ModeSource("private_get_account_config", ("data", 0, "acctLv"), "acctLv"),
    # {"retCode": 0, "result": {"marginMode": "PORTFOLIO_MARGIN", ...}}; ccxt cost 5.
    "bybit": ModeSource("private_get_v5_account_info", ("result", "marginMode"), "marginMode"),
}


@dataclass(frozen=True)
class _Known:
    #: The mode last read (``None``: no read has succeeded yet).
    value: str | None
    #: When a poll should read it again.
    refresh_at: float
    #: The last read failed (and was logged): the next failure is not logged again.
    failing: bool = False


class AccountModes:
    """The mode of each account (by the hub's account key), read when due by the poll that
    needs it. Two concurrent polls of one account may both read a due mode: the monitor
    polls an account one poll at a time, and one more request once in ten minutes is cheaper
    than a shared read that outlives the poll that started it."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        ttl_s: float = MODE_TTL_S,
        retry_s: float = RETRY_FAILED_S,
    ) -> None:
        self._clock = clock
        self._ttl_s = ttl_s
        self._retry_s = min(retry_s, ttl_s)
        self._known: dict[str, _Known] = {}

    async def fields(self, account_key: str, venue: str, reader: Any) -> dict[str, str]:
        """``{key: mode}`` to merge into the account's balance payload (``merge``), read on
        ``reader`` (the account's private instance) when due; ``{}`` for a venue whose
        balance needs nothing, or while no read has succeeded. Never raises but on
        cancellation."""
        source = SOURCES.get(venue)
        if source is None:
            return {}
        known = self._known.get(account_key)
        if known is None or self._clock() >= known.refresh_at:
            known = await self._read(account_key, venue, source, reader, known)
        return {} if known.value is None else {source.key: known.value}

    def forget(self, account_key: str) -> None:
        """Drop an account's mode (unlinked, or its credentials changed: maybe another
        account)."""
        self._known.pop(account_key, None)

    async def _read(
        self, account_key: str, venue: str, source: ModeSource, reader: Any, known: _Known | None
    ) -> _Known:
        try:
            answer = await getattr(reader, source.method)()
            value = _pick(answer, source.path)
            if value is None:
                raise ValueError(f"no {source.key} in the answer")
        except Exception as exc:  # the mode only refines the margin ratio: never fatal
            if known is None or not known.failing:
                kept = "the last one read" if known is not None and known.value else "none"
                # The type only: a ccxt error's text carries the venue's body and URL.
                log.warning(
                    "%s: account mode (%s) unavailable (%s); polls go on with %s",
                    venue,
                    source.key,
                    type(exc).__name__,
                    kept,
                )
            last = None if known is None else known.value
            entry = _Known(last, self._clock() + self._retry_s, failing=True)
        else:
            entry = _Known(value, self._clock() + self._ttl_s)
        self._known[account_key] = entry
        return entry

    @staticmethod
    def merge(balance: Any, fields: Mapping[str, str]) -> Any:
        """``balance`` with ``fields`` beside its raw payload's own keys (``info``, where the
        engine reads them), a copy; a key the venue's payload already states is left as is."""
        if not fields or not isinstance(balance, dict):
            return balance
        info = balance.get("info")
        if not isinstance(info, dict):
            return balance
        return {**balance, "info": {**fields, **info}}


def _pick(answer: Any, path: tuple[str | int, ...]) -> str | None:
    """The non-empty text at ``path`` in ``answer`` (a dict key or a list index per step)."""
    node = answer
    for step in path:
        if isinstance(step, int) and isinstance(node, list) and len(node) > step:
            node = node[step]
        elif isinstance(step, str) and isinstance(node, Mapping):
            node = node.get(step)
        else:
            return None
    if isinstance(node, int | float) and not isinstance(node, bool):
        node = str(node)
    return node if isinstance(node, str) and node else None
