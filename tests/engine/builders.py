"""Build engine inputs directly from columns, for tests that need exact hand-picked values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.model import Account, Labels, Positions
from engine.normalise import Snapshot
from engine.normalise.row import Row

_LABELS = ("symbol", "underlying", "settle", "pool", "greeks_source")


def positions(venue: str = "test", **columns: Sequence[Any]) -> Positions:
    """Positions with Row defaults for every column not given; all columns equal length."""
    n = len(next(iter(columns.values())))
    defaults = Row()
    values: dict[str, Any] = {}
    for name in Row.__slots__:  # type: ignore[attr-defined]
        if name == "diagnostics":
            continue
        given = columns.get(name)
        if name in _LABELS:
            fallback = {
                "symbol": "BTC/USDT:USDT",
                "underlying": "BTC",
                "settle": "USDT",
                "greeks_source": "",
            }
            seq = given if given is not None else [fallback.get(name, "USDT")] * n
            values[name] = Labels.of(list(seq))
        elif name in ("kind", "margin_mode", "leg"):
            seq = given if given is not None else [getattr(defaults, name)] * n
            values[name] = np.asarray(seq, dtype=np.int64)
        else:
            seq = given if given is not None else [getattr(defaults, name)] * n
            values[name] = np.asarray(seq, dtype=np.float64)
    if "settle_usd" not in columns:
        values["settle_usd"] = np.ones(n)
    return Positions(venue=venue, valid=np.ones(n, dtype=np.bool_), diagnostics=((),) * n, **values)


def snapshot(pos: Positions, account: Account | None = None) -> Snapshot:
    """A snapshot around ``pos`` with single-tier brackets from its own MMR."""
    from engine.tiers import build_tiers

    return Snapshot(pos, account or Account(venue=pos.venue), build_tiers(pos, None))
