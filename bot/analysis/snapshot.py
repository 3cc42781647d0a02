"""Reading an account snapshot file (the `liqwatch analyze` input contract) into the engine."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import UserError
from engine.normalise import Snapshot, normalise


@dataclass(frozen=True)
class SnapshotFile:
    """A validated snapshot: the normalised account plus the options that go with it."""

    exchange: str
    snapshot: Snapshot
    volatility: Mapping[str, float]
    horizon_hours: float
    #: Funding rate per symbol, a fraction per funding interval (optional "funding_rates").
    funding: Mapping[str, float] = field(default_factory=dict)
    #: When the venue reported the snapshot, POSIX seconds (NaN: the file does not say).
    taken_at: float = math.nan


def load(path: Path) -> SnapshotFile:
    """Read and validate ``path``; every problem is a ``UserError`` naming the file and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise UserError(f"{path}: not valid JSON (nested too deeply)") from None
    except ValueError:  # Python's limit on integer digits (4300), raised while decoding
        raise UserError(f"{path}: not valid JSON (a number has too many digits)") from None
    _held_to_the_contract(data, str(path))
    return parse(data, source=str(path))


def _held_to_the_contract(data: Any, source: str) -> None:
    """File-only checks: a file is the user's own input, so a number no float can hold or a
    tier table that is not a list of objects is refused with its place named. The monitor's
    venue data goes through ``parse`` alone, where such garbage costs only its position."""
    where = _too_large(data)
    if where is not None:
        raise UserError(f"{source}: {_plain(where)} is a number too large to compute with")
    tiers = data.get("leverage_tiers") if isinstance(data, Mapping) else None
    for symbol, table in tiers.items() if isinstance(tiers, Mapping) else ():
        if not isinstance(table, list) or not all(isinstance(t, Mapping) for t in table):
            raise UserError(
                f'{source}: "leverage_tiers" of "{_plain(symbol)}" must be a list of tier objects'
            )


def _too_large(data: Any) -> str | None:
    """Where the first integer beyond a float's range sits (``positions[0].contracts``), if any.

    Iterative, not recursive: the decoder allows nesting deeper than a walk's stack would.
    """
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, Mapping):
            children = [(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()]
            stack.extend(reversed(children))
        elif isinstance(value, list):
            stack.extend(reversed([(v, f"{where}[{i}]") for i, v in enumerate(value)]))
        elif isinstance(value, int) and abs(value) > sys.float_info.max:
            return where or "the document"
    return None


def parse(data: Any, *, source: str = "snapshot") -> SnapshotFile:
    """Validate a decoded snapshot object and normalise it."""
    if not isinstance(data, Mapping):
        raise UserError(f"{source}: expected a JSON object, got {type(data).__name__}")
    exchange = data.get("exchange")
    if not isinstance(exchange, str) or not exchange.strip():
        raise UserError(f'{source}: missing required key "exchange" (a ccxt exchange id)')
    positions = data.get("positions")
    if not isinstance(positions, list):
        raise UserError(f'{source}: missing required key "positions" (a list of ccxt positions)')
    balance = _optional(data, "balance", Mapping, source)
    tiers = _optional(data, "leverage_tiers", Mapping, source)
    volatility = _volatility(_optional(data, "volatility", Mapping, source) or {}, source)
    funding = _funding(_optional(data, "funding_rates", Mapping, source) or {}, source)
    horizon = _number(data.get("horizon_hours", 24))
    if horizon is None or not horizon > 0:
        raise UserError(f'{source}: "horizon_hours" must be a positive, finite number of hours')
    markets = _optional(data, "markets", Mapping, source) or {}
    greeks = _optional(data, "greeks", Mapping, source) or {}
    taken_at = _taken_at(data, balance, positions, source)
    venue = exchange.strip().lower()
    snapshot = normalise(
        venue, positions, balance, tiers, markets=markets, greeks=greeks, taken_at=taken_at
    )
    return SnapshotFile(venue, snapshot, volatility, horizon, funding, taken_at)


def _taken_at(
    data: Mapping[str, Any], balance: Mapping[str, Any] | None, positions: list[Any], source: str
) -> float:
    """The snapshot's time in POSIX seconds: "timestamp" (ms, as ccxt), else the balance's
    ccxt timestamp, else the newest position update; NaN when none says. Never the clock: the
    same file gives the same answer any day."""
    if "timestamp" in data and data["timestamp"] is not None:
        stamp = _number(data["timestamp"])
        if stamp is None or not stamp > 0:
            raise UserError(f'{source}: "timestamp" must be a positive number of milliseconds')
        return stamp / 1000.0
    found = _number((balance or {}).get("timestamp"))
    if found is not None and found > 0:
        return found / 1000.0
    updates = [
        _number(p.get(key))
        for p in positions
        if isinstance(p, Mapping)
        for key in ("lastUpdateTimestamp", "timestamp")
    ]
    known = [u for u in updates if u is not None and u > 0]
    return max(known) / 1000.0 if known else math.nan


def _number(value: Any) -> float | None:
    """A finite float from a JSON number; None for anything else (bools, ±inf, NaN, huge ints)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        out = float(value)
    except OverflowError:  # an int past a float's range: json accepts any number of digits
        return None
    return out if math.isfinite(out) else None


def _optional(data: Mapping[str, Any], key: str, kind: type, source: str) -> Any:
    value = data.get(key)
    if value is not None and not isinstance(value, kind):
        raise UserError(f'{source}: "{key}" must be a JSON object')
    return value


def _volatility(raw: Mapping[str, Any], source: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for symbol, value in raw.items():
        sigma = _number(value)
        if sigma is None or not sigma > 0:
            raise UserError(
                f'{source}: volatility of "{_plain(symbol)}" must be a positive, finite number'
            )
        out[str(symbol)] = sigma
    return out


def _funding(raw: Mapping[str, Any], source: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for symbol, value in raw.items():
        rate = _number(value)
        if rate is None:
            raise UserError(f'{source}: funding rate of "{_plain(symbol)}" must be a finite number')
        out[str(symbol)] = rate
    return out


def _plain(key: Any) -> str:
    """A JSON key as one printable line: an error is one line, whatever a file's keys hold."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(key))
