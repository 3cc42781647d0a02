"""Realised PnL, funding and trading fees over a window, for the digest: summed only where the
day is known.

An account's sum is included only when the ledger has read its whole window; the others are
named with the reason, so "funding: paid 0" never stands for "we could not read it". The three
kinds are disjoint (``bot/exchanges/flows.py``: a venue's realised figure holding fees or
funding has them taken out), so their sum is the day's booked PnL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.exchanges.flows import FlowKind, reported
from engine.domain import LinkedAccount
from storage import Database
from storage.flows import Flows

#: The ledger reads every 15 minutes (and refreshes before a digest): a window read up to an
#: hour before the digest still counts as the day; older than that, the account is left out.
STALE_S = 3600.0
#: The kinds of the day's PnL, in the order the digest shows them. A kind counts for an account
#: once the ledger reads it (``reported`` names them for a venue); until then it shows as not
#: read, never as zero.
_DAY: tuple[FlowKind, ...] = ("realised", "funding", "fee")
DAY_KINDS: tuple[str, ...] = _DAY
TRANSFER = "transfer"


@dataclass(frozen=True)
class Cashflow:
    """One kind of flow over the window, per currency (trader's side: + received / profit)."""

    kind: FlowKind
    totals: tuple[tuple[str, float], ...]
    #: Labels of the accounts whose window is read whole (their flows are in ``totals``).
    included: tuple[str, ...]
    #: Labels left out, each with why: "hyperliquid-2 (not read yet)", "x (kraken does not
    #: report it)".
    missing: tuple[str, ...]

    @property
    def reported(self) -> bool:
        return bool(self.included)


async def cashflows(
    db: Database, accounts: Sequence[LinkedAccount], *, since: float, until: float
) -> tuple[Cashflow, Cashflow, Cashflow]:
    """Realised PnL, funding and trading fees of ``accounts`` with ``since <= at <= until``."""
    flows = Flows(db)
    coverage = {(c.account_id, c.kind): c for c in await flows.coverage([a.id for a in accounts])}
    out: list[Cashflow] = []
    for kind in _DAY:
        included: list[LinkedAccount] = []
        missing: list[str] = []
        for account in accounts:
            known = coverage.get((account.id, kind))
            if kind not in reported(account.venue):
                missing.append(f"{account.label} ({account.venue} does not report it)")
            elif known is None or known.covered_from > since or known.covered_to < until - STALE_S:
                missing.append(f"{account.label} (not read yet)")
            else:
                included.append(account)
        totals = await flows.totals([a.id for a in included], since=since, until=until)
        out.append(
            Cashflow(
                kind=kind,
                totals=tuple((t.currency, t.amount) for t in totals if t.kind == kind),
                included=tuple(a.label for a in included),
                missing=tuple(missing),
            )
        )
    return out[0], out[1], out[2]


@dataclass(frozen=True)
class AccountDay:
    """One account's flows over the window, per kind (trader's side, + received)."""

    label: str
    #: kind → (currency, amount) pairs; a kind missing here was not read whole (or its venue
    #: does not report it), which is not the same as none.
    flows: dict[str, tuple[tuple[str, float], ...]]


async def per_account(
    db: Database, accounts: Sequence[LinkedAccount], *, since: float, until: float
) -> list[AccountDay]:
    """Each account's day, only the kinds its ledger has read whole over the window."""
    flows = Flows(db)
    coverage = {(c.account_id, c.kind): c for c in await flows.coverage([a.id for a in accounts])}
    out = []
    for account in accounts:
        kinds = {str(k) for k in reported(account.venue)}
        read = {
            kind
            for kind in (*DAY_KINDS, TRANSFER)
            if kind in kinds
            and (known := coverage.get((account.id, kind))) is not None
            and known.covered_from <= since
            and known.covered_to >= until - STALE_S
        }
        found: dict[str, list[tuple[str, float]]] = {kind: [] for kind in read}
        for total in await flows.totals([account.id], since=since, until=until):
            if total.kind in found:
                found[total.kind].append((total.currency, total.amount))
        out.append(AccountDay(account.label, {k: tuple(v) for k, v in found.items()}))
    return out
