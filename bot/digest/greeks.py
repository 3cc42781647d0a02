"""Net delta and vega per underlying over the digest's accounts, and their change in 24 h.

Today's figures are the accounts' current views (the live book, or a blind account's last
stored snapshot, as every other digest total). The figure 24 h ago is summed from each
account's stored snapshot at or just before that instant (``WINDOW_S``): snapshots keep each
position's delta and vega (bot/monitor/summary.py), as they keep equity for the equity change.
Where that figure cannot be whole — an account that existed then has no snapshot in the window,
or one of its positions on the underlying has no stored greeks (snapshots taken before they
were kept) — the change is "n/a", never a change against a partial sum.

The lines appear only when an account holds an option now or held one then: without options
the net delta in USD is the exposure table's net column and vega is zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.render.views import AccountView
from engine.domain import AccountSnapshot, AccountStatus, LinkedAccount
from storage import Database
from storage.snapshots import Snapshots

DAY_S = 86_400.0
#: How far before "24 h ago" a stored snapshot still stands for then: snapshots are stored every
#: 5 min by default and at every change of holdings (LIQWATCH_SNAPSHOT_SECONDS), so two hours
#: tolerates a longer cadence or a short gap in polling without reaching a different day.
WINDOW_S = 7_200.0
#: Underlyings listed (largest net delta in USD first).
MAX_LISTED = 8


@dataclass(frozen=True)
class NetGreeks:
    """One underlying over every account: delta in coins and USD, vega in USD per vol point."""

    underlying: str
    delta_coin: float
    delta_usd: float
    vega_usd: float
    #: Positions on it whose delta or vega is unknown now (left out of the sums).
    unknown: int
    #: The same sums 24 h earlier (None: no whole figure then).
    delta_coin_before: float | None
    vega_usd_before: float | None

    @property
    def delta_coin_change(self) -> float | None:
        return None if self.delta_coin_before is None else self.delta_coin - self.delta_coin_before

    @property
    def vega_usd_change(self) -> float | None:
        return None if self.vega_usd_before is None else self.vega_usd - self.vega_usd_before


@dataclass
class _Sums:
    delta_coin: float = 0.0
    delta_usd: float = 0.0
    vega_usd: float = 0.0
    unknown: int = 0
    options: int = 0


#: One position's (underlying, contract type, delta coin, delta USD, vega USD).
_Figures = tuple[str, str, float | None, float | None, float | None]


def _sum(positions: Iterable[_Figures]) -> dict[str, _Sums]:
    out: dict[str, _Sums] = {}
    for underlying, kind, delta_coin, delta_usd, vega_usd in positions:
        sums = out.setdefault(underlying, _Sums())
        sums.options += kind == "option"
        if delta_coin is None or delta_usd is None or vega_usd is None:
            sums.unknown += 1  # views and snapshots hold None, never NaN, for unknown
            continue
        sums.delta_coin += delta_coin
        sums.delta_usd += delta_usd
        sums.vega_usd += vega_usd
    return out


def _now(views: Sequence[AccountView]) -> dict[str, _Sums]:
    return _sum(
        (
            p.underlying,
            p.contract_type,
            None if p.greeks is None else p.greeks.delta_coin,
            None if p.greeks is None else p.greeks.delta_usd,
            None if p.greeks is None else p.greeks.vega_usd,
        )
        for view in views
        for p in view.positions
    )


def _stored(snapshots: Iterable[AccountSnapshot]) -> dict[str, _Sums]:
    return _sum(
        (
            p.underlying or p.symbol.split("/")[0],
            p.contract_type,
            p.delta_coin,
            p.delta_usd,
            p.vega_usd,
        )
        for snapshot in snapshots
        for p in snapshot.positions
    )


async def _before(
    db: Database, accounts: Sequence[LinkedAccount], when: float
) -> dict[str, _Sums] | None:
    """The sums at ``when`` from each account's last snapshot in the window before it; None
    when an account that existed then (and is watched now) has none there."""
    found = []
    for account in accounts:
        if account.status is AccountStatus.PAUSED or account.created_at > when:
            continue  # not counted now / held nothing then
        until = math.nextafter(when, math.inf)  # at or before ``when``
        rows = await Snapshots(db).between(account.owner_id, account.id, when - WINDOW_S, until)
        if not rows:
            return None
        found.append(rows[-1])
    return _stored(found)


async def net_greeks(
    db: Database, accounts: Sequence[LinkedAccount], views: Sequence[AccountView], *, at: float
) -> tuple[NetGreeks, ...]:
    """Per underlying, largest net delta in USD first; empty when no option is held now or
    24 h ago (``views``: the accounts' current figures, as the digest's totals use)."""
    now = _now(views)
    before = await _before(db, accounts, at - DAY_S)
    if not any(s.options for s in [*now.values(), *(before or {}).values()]):
        return ()
    rows = []
    for name in {*now, *(before or {})}:
        today = now.get(name, _Sums())
        then = None if before is None else before.get(name, _Sums())
        whole = then is not None and then.unknown == 0
        rows.append(
            NetGreeks(
                underlying=name,
                delta_coin=today.delta_coin,
                delta_usd=today.delta_usd,
                vega_usd=today.vega_usd,
                unknown=today.unknown,
                delta_coin_before=then.delta_coin if whole and then else None,
                vega_usd_before=then.vega_usd if whole and then else None,
            )
        )
    return tuple(sorted(rows, key=lambda r: (-abs(r.delta_usd), r.underlying)))


def _cell(value: float | None, decimals: int) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    text = f"{value:+,.{decimals}f}"
    return f"{0:.{decimals}f}" if float(text.replace(",", "")) == 0 else text


def _coin_cell(value: float | None) -> str:
    """Coins with four decimals under 10, two up to 1,000, none above (a column reads down)."""
    magnitude = 0.0 if value is None else abs(value)
    return _cell(value, 4 if magnitude < 10 else 2 if magnitude < 1000 else 0)


def lines(found: Sequence[NetGreeks]) -> list[str]:
    """The digest's greeks table: net delta in coin (and its 24 h change) and in USD, vega in
    USD per vol point (and its 24 h change), then what the columns mean."""
    if not found:
        return []
    titles = ("Net greeks", "Δ coin", "24h", "Δ USD", "vega", "24h")
    rows = [titles] + [
        (
            f"  {g.underlying}",
            _coin_cell(g.delta_coin),
            _coin_cell(g.delta_coin_change),
            _cell(g.delta_usd, 0),
            _cell(g.vega_usd, 2),
            _cell(g.vega_usd_change, 2),
        )
        for g in found[:MAX_LISTED]
    ]
    widths = [max(len(r[c]) for r in rows) for c in range(len(titles))]
    out = [
        " ".join(
            cell.ljust(w) if c == 0 else cell.rjust(w)
            for c, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    out += [
        f"  {g.underlying}: {g.unknown} position{'s' if g.unknown > 1 else ''} with unknown "
        "greeks left out"
        for g in found[:MAX_LISTED]
        if g.unknown
    ]
    if len(found) > MAX_LISTED:
        out.append(f"  … and {len(found) - MAX_LISTED} more underlyings")
    out.append("  vega: USD per vol point · 24h: change since 24 h ago")
    if any(g.delta_coin_before is None for g in found[:MAX_LISTED]):
        out.append(
            "  n/a: no whole figure from 24 h ago (an account not read then, or read before"
            " greeks were kept)"
        )
    return out
