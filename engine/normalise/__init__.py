"""ccxt positions + balance + leverage tiers → columnar ``Positions``, ``Account``, ``Tiers``.

Reading dicts is the one per-position Python loop in the engine; every metric after it is
vectorised. A position that cannot be read gets diagnostics and ``valid=False``, never an
exception that would hide the account's other positions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from engine.model import Account, Positions, Tiers
from engine.normalise import binance, bitmex, bybit, deribit, hyperliquid, okx
from engine.normalise.fields import STABLECOINS
from engine.normalise.generic import read_account, read_position
from engine.normalise.options import complete, read_terms
from engine.normalise.row import Row, build
from engine.tiers import bracket_notional, build_tiers, tier_at


class VenueReader(Protocol):
    """Refines generic rows from a venue's raw ``info`` and reads its account balance."""

    def refine(self, position: Mapping[str, Any], info: Mapping[str, Any], row: Row) -> None: ...

    def account(self, venue: str, balance: Mapping[str, Any] | None) -> Account: ...


#: ccxt exchange id → its reader. Ids not listed get the generic reader only.
READERS: dict[str, VenueReader] = {
    "binanceusdm": binance.USDM,
    "binancecoinm": binance.COINM,
    "binance": binance.USDM,
    "bybit": bybit.READER,
    "okx": okx.READER,
    "hyperliquid": hyperliquid.READER,
    "deribit": deribit.READER,
    "bitmex": bitmex.READER,
}


@dataclass(frozen=True, eq=False)
class Snapshot:
    """One account's state, normalised: what every engine stage takes as input."""

    positions: Positions
    account: Account
    tiers: Tiers
    #: When the venue reported these figures, POSIX seconds (NaN: unknown). The engine has no
    #: clock: anything that ages (an option's time to expiry) is measured from here.
    taken_at: float = math.nan


def normalise(
    venue: str,
    positions: Sequence[Any],
    balance: Mapping[str, Any] | None = None,
    leverage_tiers: Mapping[str, Any] | None = None,
    *,
    markets: Mapping[str, Any] | None = None,
    greeks: Mapping[str, Any] | None = None,
    taken_at: float = math.nan,
) -> Snapshot:
    """Normalise one account snapshot; bad positions carry diagnostics instead of raising.

    ``markets`` and ``greeks`` (ccxt's, by unified symbol) complete what option positions
    leave out; ``taken_at`` (POSIX seconds) is when the venue reported the figures.
    """
    reader = READERS.get(venue)
    rows: list[Row] = []
    for raw in positions:
        rows.append(_read_one(raw, reader, markets or {}))
    account = reader.account(venue, balance) if reader else read_account(venue, balance)
    complete(rows, venue, greeks or {}, taken_at, account.usd_rate)
    _shared_pool(rows, account)
    kept = [r for r in rows if r.qty != 0 or r.diagnostics]
    tables = _readable_tiers(leverage_tiers, kept)
    columns = build(venue, kept)
    tiers = build_tiers(columns, tables)
    return Snapshot(
        positions=_fill_from_tiers(columns, tiers), account=account, tiers=tiers, taken_at=taken_at
    )


def _shared_pool(rows: list[Row], account: Account) -> None:
    """In a multi-asset mode (only USD totals reported) every stablecoin pool is one "USD" pool.

    Binance Multi-Assets and OKX multi-currency margin let USDT and USDC positions share one
    collateral total, so their cross legs must see each other as TMM1/UPNL1.
    """
    if "USD" not in account.wallet_balance and "USD" not in account.margin_balance:
        return
    per_asset = set(account.wallet_balance) | set(account.margin_balance)
    for row in rows:
        if row.pool in STABLECOINS and row.pool not in per_asset:
            row.pool = "USD"


def _readable_tiers(leverage_tiers: Any, rows: list[Row]) -> dict[str, Sequence[Mapping[str, Any]]]:
    """The symbols' tier tables that are lists of objects; the positions of any other symbol
    get a note and their own maintenance rate (a partial table would pick wrong brackets)."""
    tables: dict[str, Sequence[Mapping[str, Any]]] = {}
    unreadable: set[str] = set()
    for symbol, table in (leverage_tiers if isinstance(leverage_tiers, Mapping) else {}).items():
        if isinstance(table, list | tuple) and all(isinstance(tier, Mapping) for tier in table):
            tables[symbol] = table
        elif isinstance(symbol, str):
            unreadable.add(symbol)
    for row in rows:
        if row.symbol in unreadable:
            row.note("leverage tiers are not a list of tier objects: ignored")
    return tables


def _read_one(raw: Any, reader: VenueReader | None, markets: Mapping[str, Any]) -> Row:
    if not isinstance(raw, Mapping):
        row = Row(symbol="?")
        row.note(f"position is not an object but {type(raw).__name__}")
        return row
    row = read_position(raw)
    info = raw.get("info")
    if reader is not None:
        if isinstance(info, Mapping):
            reader.refine(raw, info, row)
        else:
            row.note("no raw venue payload (info): venue-specific fields unavailable")
    read_terms(row, raw, markets)
    return row


def _fill_from_tiers(positions: Positions, tiers: Tiers) -> Positions:
    """Positions whose venue did not report an MMR take it from the bracket at their notional."""
    gap = np.isnan(positions.mmr) & (tiers.count[tiers.table] > 0)
    if not gap.any():
        return positions
    mmr, cum = tier_at(tiers, bracket_notional(positions, positions.mark))
    positions.mmr[gap] = mmr[gap]
    positions.maint_amount[gap] = cum[gap]
    return positions
