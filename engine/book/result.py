"""What a re-pricing returns: columns for the accounts it touched, and each one's ``Analysis``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from engine.advice import Advice
from engine.analysis import COLUMNS, Analysis
from engine.book.block import Block
from engine.book.pricing import Priced
from engine.greeks import account_greeks, account_notes
from engine.liquidation import NO_LIQUIDATION, PAST, UNSETTLED, Liquidation
from engine.liquidation.notes import Notes
from engine.normalise import Snapshot
from engine.portfolio import Portfolio
from engine.probability import TouchModel
from engine.types import FloatArray, IntArray


@dataclass(frozen=True, eq=False)
class Repriced:
    """The accounts a re-pricing touched (``accounts``, book ids) and their figures.

    Per position, every ``Analysis`` column is an array over the touched accounts' positions,
    account after account in ``accounts`` order, each account's in its snapshot's order
    (``rows(account)`` is its slice); per account, the portfolio totals alerts read
    (``equity_usd``, ``margin_ratio``, ``effective_leverage``, ``gross_exposure_usd``).
    ``analysis(account)`` assembles one account's full ``Analysis`` — equal to
    ``analyze(with_marks(snapshot, marks))`` of its snapshot — from these columns, cheaply.
    """

    accounts: IntArray
    start: IntArray
    count: IntArray
    horizon_hours: float
    touch_model: TouchModel
    priced: Priced
    #: The store's blocks (append-only) and, per re-priced account, its record among them.
    _blocks: Sequence[Block]
    _records: IntArray
    _keys: dict[str, tuple[IntArray, IntArray]]

    def __len__(self) -> int:
        return len(self.accounts)

    def column(self, name: str) -> FloatArray:
        """A per-position ``Analysis`` column by name (``engine.analysis.COLUMNS``)."""
        return self.priced.columns[name]

    @property
    def liquidation_price(self) -> FloatArray:
        return self.priced.columns["liquidation_price"]

    @property
    def distance_pct(self) -> FloatArray:
        return self.priced.columns["distance_pct"]

    @property
    def probability(self) -> FloatArray:
        return self.priced.columns["probability"]

    @property
    def mark(self) -> FloatArray:
        return self.priced.state["mark"]

    @property
    def upnl(self) -> FloatArray:
        return self.priced.upnl

    @property
    def equity_usd(self) -> FloatArray:
        return self.priced.totals.equity_usd

    @property
    def margin_ratio(self) -> FloatArray:
        return self.priced.totals.margin_ratio

    @property
    def effective_leverage(self) -> FloatArray:
        return self.priced.totals.effective_leverage

    @property
    def gross_exposure_usd(self) -> FloatArray:
        return self.priced.totals.gross_usd

    def position(self, account: int) -> int:
        """Where ``account`` is in ``accounts`` (KeyError if it was not re-priced)."""
        if "_at" not in self.__dict__:
            object.__setattr__(self, "_at", {a: k for k, a in enumerate(self.accounts.tolist())})
        at: dict[int, int] = self.__dict__["_at"]
        return at[account]

    def rows(self, account: int) -> slice:
        """The slice of the per-position columns holding ``account``'s positions."""
        k = self.position(account)
        return slice(int(self.start[k]), int(self.start[k] + self.count[k]))

    def analyses(self) -> Iterator[tuple[int, Analysis]]:
        """(account, its analysis) for every re-priced account."""
        for account in self.accounts.tolist():
            yield account, self.analysis(account)

    def analysis(self, account: int) -> Analysis:
        """The account's ``Analysis``, as ``analyze`` of its re-priced snapshot returns it."""
        k = self.position(account)
        part = self.rows(account)
        block, priced = self._blocks[int(self._records[k])], self.priced
        snapshot = self._snapshot(k, block, part)
        dynamic = (PAST, priced.past), (NO_LIQUIDATION, priced.none), (UNSETTLED, priced.unsettled)
        notes = Notes.joined(block.notes, [(message, mask[part]) for message, mask in dynamic])
        advice = priced.advice
        greeks, underlyings = account_greeks(snapshot.positions)
        portfolio = self._portfolio(k, block)
        greek_notes = account_notes(snapshot.positions, greeks, snapshot.account)
        return Analysis(
            snapshot=snapshot,
            horizon_hours=self.horizon_hours,
            touch_model=self.touch_model,
            computed=Liquidation(priced.price[part], priced.formula[part], notes),
            upnl=priced.upnl[part],
            sigma=priced.sigma[part],
            portfolio=replace(portfolio, diagnostics=(*portfolio.diagnostics, *greek_notes)),
            greeks=greeks,
            underlyings=underlyings,
            advice=Advice(
                target_pct=advice.target_pct,
                needed=advice.needed[part],
                target_price=advice.target_price[part],
                margin_to_add=advice.margin_to_add[part],
                reduce_qty=advice.reduce_qty[part],
                reduce_fraction=advice.reduce_fraction[part],
            ),
            **{name: priced.columns[name][part] for name in COLUMNS},
        )

    def _span(self, space: str, k: int) -> slice:
        start, count = self._keys[space]
        return slice(int(start[k]), int(start[k] + count[k]))

    def _snapshot(self, k: int, block: Block, part: slice) -> Snapshot:
        state = self.priced.state
        positions = replace(
            block.snapshot.positions,
            mark=state["mark"][part],
            venue_upnl=state["venue_upnl"][part],
            venue_liq=state["venue_liq"][part],
            settle_usd=state["settle_usd"][part],
        )
        account = replace(
            block.snapshot.account,
            margin_balance=_dict(block.balance_keys, self._slot("bal", k)),
            maintenance_margin=_dict(block.maint_keys, self._slot("mm", k)),
            usd_rate=_dict(tuple(block.snapshot.account.usd_rate), self._reported(k, block)),
        )
        return Snapshot(positions, account, block.snapshot.tiers, block.snapshot.taken_at)

    def _slot(self, space: str, k: int) -> FloatArray:
        return self.priced.slots[space][self._span(space, k)]

    def _reported(self, k: int, block: Block) -> FloatArray:
        at = {c: i for i, c in enumerate(block.currencies)}
        reported = self._slot("cur", k)
        return reported[[at[c] for c in block.snapshot.account.usd_rate]]

    def _portfolio(self, k: int, block: Block) -> Portfolio:
        totals = self.priced.totals
        rates = totals.rate[self._span("cur", k)][: block.rate_count]
        und = self._span("und", k)
        return Portfolio(
            equity_usd=float(totals.equity_usd[k]),
            equity_by_currency=_dict(block.equity_keys, totals.amount[self._span("eq", k)]),
            gross_exposure_usd=float(totals.gross_usd[k]),
            net_exposure_usd=float(totals.net_usd[k]),
            underlyings=block.underlyings,
            gross_by_underlying=totals.gross[und],
            net_by_underlying=totals.net[und],
            effective_leverage=float(totals.effective_leverage[k]),
            maintenance_usd=float(totals.maintenance_usd[k]),
            margin_ratio=float(totals.margin_ratio[k]),
            pool_margin_ratio=_dict(block.pools, totals.pool_ratio[self._span("pool", k)]),
            usd_rate=_dict(block.currencies[: block.rate_count], rates),
            diagnostics=block.diagnostics,
        )


def _dict(keys: tuple[str, ...], values: FloatArray) -> dict[str, float]:
    return dict(zip(keys, values.tolist(), strict=True))
