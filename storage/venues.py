"""What the running service last saw of each venue (``venue_status``): written by its status
job, read by `/status` and `liqwatch accounts list` (another process)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from typing import Literal

from storage.db import Database, Transaction

StreamState = Literal["live", "degraded", "off"]


@dataclass(frozen=True)
class VenueReport:
    """One venue at ``reported_at`` (unix seconds)."""

    venue: str
    #: live: every followed symbol streams; degraded: some are read over REST; off: no stream.
    stream: StreamState
    last_tick_at: float | None
    symbols: int
    stale: int
    reconnects: int
    #: REST spending in ccxt's cost units over the last minute, and ccxt's limit a minute
    #: (``None``: no request yet, or a simulated venue).
    rest_per_min: float | None
    rest_limit_per_min: float | None
    #: The limit is the IP's (every account shares it); False: each key's, the busiest shown.
    rest_per_ip: bool | None
    polls_per_min: float
    accounts: int
    reported_at: float


_COLUMNS = (
    "venue, stream, last_tick_at, symbols, stale, reconnects, rest_per_min, rest_limit_per_min,"
    " rest_per_ip, polls_per_min, accounts, reported_at"
)


def _from_row(row: sqlite3.Row) -> VenueReport:
    per_ip = row["rest_per_ip"]
    return VenueReport(
        venue=str(row["venue"]),
        stream=row["stream"],
        last_tick_at=row["last_tick_at"],
        symbols=int(row["symbols"]),
        stale=int(row["stale"]),
        reconnects=int(row["reconnects"]),
        rest_per_min=row["rest_per_min"],
        rest_limit_per_min=row["rest_limit_per_min"],
        rest_per_ip=None if per_ip is None else bool(per_ip),
        polls_per_min=float(row["polls_per_min"]),
        accounts=int(row["accounts"]),
        reported_at=float(row["reported_at"]),
    )


class VenueReports:
    """Repository of the venues' latest reports."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def replace(self, reports: Sequence[VenueReport], *, tx: Transaction) -> None:
        """The service's whole picture now: venues it no longer watches disappear."""
        await tx.execute("DELETE FROM venue_status")
        await tx.executemany(
            f"INSERT INTO venue_status ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [astuple(report) for report in reports],
        )

    async def all(self, *, tx: Transaction | None = None) -> list[VenueReport]:
        """Every venue's latest report, by venue name."""
        rows = await self._db.reads(tx).fetchall(
            f"SELECT {_COLUMNS} FROM venue_status ORDER BY venue"
        )
        return [_from_row(row) for row in rows]
