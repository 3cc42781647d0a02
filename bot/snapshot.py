"""Reading an account snapshot file (the `liqwatch analyze` input contract) into the engine."""

from __future__ import annotations

import json
import math
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
    return parse(data, source=str(path))


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
    horizon = data.get("horizon_hours", 24)
    if isinstance(horizon, bool) or not isinstance(horizon, int | float) or not horizon > 0:
        raise UserError(f'{source}: "horizon_hours" must be a positive number of hours')
    snapshot = normalise(exchange.strip().lower(), positions, balance, tiers)
    return SnapshotFile(exchange.strip().lower(), snapshot, volatility, float(horizon), funding)


def _optional(data: Mapping[str, Any], key: str, kind: type, source: str) -> Any:
    value = data.get(key)
    if value is not None and not isinstance(value, kind):
        raise UserError(f'{source}: "{key}" must be a JSON object')
    return value


def _volatility(raw: Mapping[str, Any], source: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for symbol, sigma in raw.items():
        if isinstance(sigma, bool) or not isinstance(sigma, int | float) or not sigma > 0:
            raise UserError(f'{source}: volatility of "{symbol}" must be a positive number')
        if not math.isfinite(sigma):
            raise UserError(f'{source}: volatility of "{symbol}" must be finite')
        out[str(symbol)] = float(sigma)
    return out


def _funding(raw: Mapping[str, Any], source: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for symbol, rate in raw.items():
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not math.isfinite(rate):
            raise UserError(f'{source}: funding rate of "{symbol}" must be a finite number')
        out[str(symbol)] = float(rate)
    return out
