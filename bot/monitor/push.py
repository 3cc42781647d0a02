"""Pushed positions applied to an account's last polled snapshot, and checked by the next poll.

A venue's private stream pushes only the positions that changed, and with fewer fields than
its REST read (Binance's ``ACCOUNT_UPDATE`` has no mark, leverage or liquidation price). So a
push is merged into the raw snapshot the last poll fetched: changed positions replace theirs,
closed ones go, new ones come in completed from what the push implies, and the balance and
tiers stay the poll's. The next poll is the truth again; where it disagrees with what was
pushed before it started, both values are logged (docs/streaming.md#position-pushes).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: (unified symbol, side): the side only for hedge-mode legs (a one-way position that flips
#: from long to short is the same position).
Key = tuple[str, str | None]
#: Relative differences below this are rounding, not disagreement.
TOLERANCE = 1e-6


def _key(position: Mapping[str, Any]) -> Key:
    side = position.get("side") if position.get("hedged") else None
    return str(position.get("symbol")), side if isinstance(side, str) else None


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def _contracts(position: Mapping[str, Any] | None) -> float:
    if position is None:
        return 0.0
    contracts = abs(_number(position.get("contracts")))
    return contracts if contracts == contracts else 0.0


@dataclass(frozen=True)
class Pushed:
    """What a push said of one position, and when it arrived."""

    contracts: float
    entry: float
    at: float


@dataclass(frozen=True)
class Merged:
    """The account's raw snapshot after a push, and whether it opened a symbol the last poll
    did not hold (whose tiers and venue liquidation price only a poll reads)."""

    raw: dict[str, Any]
    opened: bool


class Pushes:
    """Per followed account: the last poll's raw snapshot and what was pushed since."""

    def __init__(self) -> None:
        self.followed: dict[int, str] = {}
        self._raw: dict[int, dict[str, Any]] = {}
        self._told: dict[int, dict[Key, Pushed]] = {}
        #: Disagreements logged since start (operators read it beside the pushes applied).
        self.disagreements = 0

    def follow(self, accounts: Mapping[int, str]) -> None:
        """The accounts whose positions are pushed (id → venue); the others are forgotten."""
        self.followed = dict(accounts)
        for account_id in [a for a in self._raw if a not in accounts]:
            self.forget(account_id)

    def forget(self, account_id: int) -> None:
        self._raw.pop(account_id, None)
        self._told.pop(account_id, None)

    def polled(self, account_id: int, raw: Mapping[str, Any], started: float) -> list[str]:
        """A poll that started at ``started`` read ``raw``: kept as the base of later pushes;
        what was pushed before it started and it contradicts, one line per position."""
        if account_id not in self.followed:
            return []
        self._raw[account_id] = dict(raw)
        told = self._told.pop(account_id, {})
        later = {key: push for key, push in told.items() if push.at >= started}
        if later:
            self._told[account_id] = later
        polled = {_key(p): p for p in _positions(raw)}
        lines = [
            line
            for key, push in sorted(told.items())
            if push.at < started and (line := _disagreement(key, push, polled.get(key)))
        ]
        self.disagreements += len(lines)
        return lines

    def apply(
        self, account_id: int, venue: str, positions: list[dict[str, Any]], at: float
    ) -> Merged | None:
        """The account's raw snapshot with ``positions`` (ccxt's pushed records) merged in;
        ``None`` until a poll has read the account (nothing to merge into)."""
        base = self._raw.get(account_id)
        if base is None:
            return None
        held = {_key(p): p for p in _positions(base)}
        symbols = {key[0] for key in held}
        told = self._told.setdefault(account_id, {})
        opened = False
        for pushed in positions:
            key = _key(pushed)
            contracts = _contracts(pushed)
            told[key] = Pushed(contracts, _number(pushed.get("entryPrice")), at)
            if contracts == 0:
                held.pop(key, None)
                continue
            held[key] = complete(venue, pushed, held.get(key))
            opened = opened or key[0] not in symbols
        merged = {**base, "positions": list(held.values())}
        self._raw[account_id] = merged
        return Merged(merged, opened)


def _positions(raw: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = raw.get("positions")
    return [p for p in found if isinstance(p, Mapping)] if isinstance(found, list) else []


def _disagreement(key: Key, push: Pushed, polled: Mapping[str, Any] | None) -> str | None:
    contracts = _contracts(polled)
    entry = _number(polled.get("entryPrice")) if polled is not None else math.nan
    size_differs = not math.isclose(push.contracts, contracts, rel_tol=TOLERANCE, abs_tol=1e-12)
    entry_differs = (
        contracts > 0
        and push.entry == push.entry
        and entry == entry
        and not math.isclose(push.entry, entry, rel_tol=TOLERANCE)
    )
    if not (size_differs or entry_differs):
        return None
    symbol = key[0] + (f" {key[1]}" if key[1] else "")
    return (
        f"{symbol}: pushed {push.contracts:g} contracts @ {push.entry:g}, "
        f"polled {contracts:g} @ {entry:g}"
    )


def complete(
    venue: str, pushed: Mapping[str, Any], before: Mapping[str, Any] | None
) -> dict[str, Any]:
    """A pushed position in the shape the poll's readers expect: the push's own fields, its
    mark (pushed, implied by its PnL, or the last poll's), the leverage the last poll read for
    it, and for Binance the push's raw fields renamed to positionRisk's (the engine's Binance
    reader reads those, docs/risk.md#binance-usdm)."""
    position = copy.deepcopy(dict(pushed))
    mark = _mark(position, before)
    if mark == mark:
        position["markPrice"] = mark
        size = _number(position.get("contractSize"))
        position["notional"] = _contracts(position) * (size if size == size else 1.0) * mark
    if position.get("leverage") is None and before is not None:
        position["leverage"] = before.get("leverage")
    if venue in ("binanceusdm", "binancecoinm"):
        position["info"] = _position_risk(position.get("info"), position)
    return position


def _mark(position: Mapping[str, Any], before: Mapping[str, Any] | None) -> float:
    mark = _number(position.get("markPrice"))
    if mark > 0:
        return mark
    contracts, entry = _contracts(position), _number(position.get("entryPrice"))
    pnl = _number(position.get("unrealizedPnl"))
    size = _number(position.get("contractSize"))
    sign = -1.0 if position.get("side") == "short" else 1.0
    if contracts > 0 and entry > 0 and pnl == pnl and not (size == size and size != 1.0):
        return entry + sign * pnl / contracts  # a linear contract's PnL is size × (mark − entry)
    last = _number(before.get("markPrice")) if before is not None else math.nan
    return last if last > 0 else entry


def _position_risk(info: Any, position: Mapping[str, Any]) -> dict[str, Any]:
    """An ``ACCOUNT_UPDATE`` position row renamed to positionRisk's fields."""
    row = info if isinstance(info, Mapping) else {}
    isolated = str(row.get("mt", "")).lower() == "isolated"
    wallet, pnl = _number(row.get("iw")), _number(row.get("up"))
    renamed = {
        "symbol": row.get("s"),
        "positionSide": row.get("ps", "BOTH"),
        "positionAmt": row.get("pa"),
        "entryPrice": row.get("ep"),
        "breakEvenPrice": row.get("bep"),
        "unRealizedProfit": row.get("up"),
        "marginType": row.get("mt"),
        "marginAsset": row.get("ma"),
        "isolatedWallet": row.get("iw", "0"),
        "isolatedMargin": str(wallet + pnl) if isolated and wallet == wallet else "0",
        "markPrice": position.get("markPrice"),
        "notional": position.get("notional"),
    }
    return {k: v for k, v in renamed.items() if v is not None}
