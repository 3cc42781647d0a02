"""What every flow reader shares: the flow record, its kinds, and reading a venue's fields.

A flow leaves liqwatch in one convention whatever the venue: the trader's side, + received or
profit, − paid or loss, in the currency it settled in (never converted: a COIN-M profit is
reported in BTC, a Deribit settlement in the currency of its transaction log).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bot.exchanges.errors import ExchangeFailure

FlowKind = Literal["realised", "funding", "fee", "transfer"]
KINDS: tuple[FlowKind, ...] = ("realised", "funding", "fee", "transfer")
#: Pages fetched per source and window at most: a bot closing thousands of orders a day is
#: still read whole in 15-minute windows, and a runaway cursor cannot loop for ever.
MAX_PAGES = 20
#: Between a running total's key and the version of it a step is (``Flow.total_of``).
STEP = "@"

Call = Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]


@dataclass(frozen=True)
class Flow:
    """One cash flow: ``amount`` from the trader's side, in ``currency``.

    ``total_of`` is set where the venue reports a running total rather than one event (OKX's
    positions-history: a position's realised PnL so far, updated at each partial close): the
    flow is then the total's value at version ``ref`` (``<total_of>@<version>``), and the
    store keeps only its increase over the versions stored before (``storage/flows.py``).
    """

    kind: FlowKind
    ref: str
    at: float
    symbol: str
    currency: str
    amount: float
    total_of: str | None = None


def field(entry: Any, path: str) -> Any:
    """The value at a dotted ``path`` ("amount", "info.delta.coin"); None where it is missing."""
    value: Any = entry
    for name in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def number(value: Any) -> float | None:
    """A finite number from a venue's number or decimal string; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        found = float(value)
    except (TypeError, ValueError):
        return None
    return found if math.isfinite(found) else None


def amount(entry: Any, path: str, venue: str) -> float | None:
    """The number at ``path``: None when the venue left it out (None or ""), and
    ``ExchangeFailure`` when it sent something else that is no number. A garbled amount fails
    the whole read: skipping it would store a day that looks read whole and is not."""
    value = field(entry, path)
    if value is None or value == "":
        return None
    found = number(value)
    if found is None:
        raise malformed(venue, f"{path.removeprefix('info.')} {str(value)[:24]!r}")
    return found


def malformed(venue: str, what: str) -> ExchangeFailure:
    """The one sentence a garbled ledger answer gets (logged by the ledger; nothing stored)."""
    return ExchangeFailure(
        "malformed", f"{venue} sent a ledger entry liqwatch could not read ({what})", venue=venue
    )


def flow_ref(parts: tuple[Any, ...]) -> str | None:
    """``parts`` joined by ':' (a time sent as 1734026400057.0 is 1734026400057); None when a
    part is missing (no ref can stand for the entry)."""
    out: list[str] = []
    for value in parts:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
            return None
        out.append(str(value))
    return ":".join(out)
