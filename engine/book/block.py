"""One account's share of the book: what its poll fixes until the next one, as columns.

A tick moves marks, never sizes, entries, formulas or which balance a position draws on, so
everything here is computed once per poll with the engine's own single-account code
(``engine.liquidation.prepare``, ``engine.portfolio``) and only gathered afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

import numpy as np

from engine.analysis import position_sigma
from engine.liquidation import RULES, Prepared, prepare
from engine.liquidation.notes import Notes
from engine.model import FORMULAS, ContractType, Labels, MarginMode, Tiers
from engine.normalise import Snapshot
from engine.normalise.fields import STABLECOINS, pool_amount
from engine.portfolio import underlying_marks, usd_total, venue_pm_ratios
from engine.reprice import balance_counts, balance_key, is_coin, usd_quoted
from engine.types import FloatArray, IntArray

#: Where a currency's USD rate comes from (``engine.portfolio.usd_rates``, in its order).
NO_RATE, STABLE, REPORTED, MARK, SETTLE = range(5)

Columns = dict[str, np.ndarray]


@dataclass(frozen=True, eq=False)
class Block:
    """An account's static columns per position and per key, with the names behind the keys.

    Row columns hold every ``Positions`` column (the dynamic ones at the poll's values) and
    the derived ones the re-pricing reads: formula, legs, the outside terms of each equation
    (``eq_const``/``mm_const``: a cross formula's terms without the other positions' uPnL and
    maintenance, which the book adds at current marks) and local indices into the key tables.
    """

    snapshot: Snapshot
    rows: Columns
    tiers: Tiers
    symbols: tuple[str, ...]
    pools: tuple[str, ...]
    pool: Columns
    balance_keys: tuple[str, ...]
    balance: Columns
    maint_keys: tuple[str, ...]
    maint: Columns
    equity_keys: tuple[str, ...]
    equity: Columns
    currencies: tuple[str, ...]
    currency: Columns
    rate_count: int
    underlyings: tuple[str, ...]
    notes: Notes
    hedged: bool
    equity_from_balance: bool
    reported_maint: bool
    diagnostics: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.snapshot.positions)


def prepare_block(snapshot: Snapshot, volatility: Mapping[str, float]) -> Block:
    """The static block of ``snapshot`` with σ per position from ``volatility``."""
    p = snapshot.positions
    prep = prepare(snapshot)
    rates = _rate_sources(snapshot)
    currencies = _currencies(rates, p.underlying, p.settle)
    account = snapshot.account
    equity_keys = tuple(account.margin_balance or account.wallet_balance)
    rows = _row_columns(snapshot, prep, volatility)
    rows.update(_row_keys(snapshot, currencies, equity_keys))
    return Block(
        snapshot=snapshot,
        rows=rows,
        tiers=prep.ctx.legs.tiers,
        symbols=p.symbol.names,
        pools=p.pool.names,
        pool=_pool_columns(snapshot, equity_keys),
        balance_keys=tuple(account.margin_balance),
        balance={"value": _values(account.margin_balance)},
        maint_keys=tuple(account.maintenance_margin),
        maint={
            "value": _values(account.maintenance_margin),
            "cur": _index(
                currencies, tuple(account.maintenance_margin), len(rates), account.in_total
            ),
        },
        equity_keys=equity_keys,
        equity=_equity_columns(snapshot, equity_keys, currencies, len(rates)),
        currencies=currencies,
        currency=_currency_columns(snapshot, rates, currencies),
        rate_count=len(rates),
        underlyings=p.underlying.names,
        notes=prep.notes,
        hedged=not prep.ctx.singletons,
        equity_from_balance=bool(account.margin_balance),
        reported_maint=bool(account.maintenance_margin),
        diagnostics=_diagnostics(snapshot, equity_keys, rates),
    )


def _row_columns(snapshot: Snapshot, prep: Prepared, volatility: Mapping[str, float]) -> Columns:
    p, ctx = snapshot.positions, prep.ctx
    out: Columns = {
        f.name: getattr(p, f.name) for f in fields(p) if isinstance(getattr(p, f.name), np.ndarray)
    }
    eq_const, mm_const = _outside_terms(prep)
    out.update(
        formula=prep.formula,
        active=prep.active,
        member=ctx.member,
        counted=balance_counts(p),
        cross=np.asarray(p.margin_mode == MarginMode.CROSS),
        leg_entry=ctx.legs.entry,
        leg_fixed=ctx.legs.fixed,
        leg_table=ctx.legs.tiers.table,
        eq_const=eq_const,
        mm_const=mm_const,
        group_l=ctx.group,
        sym_l=p.symbol.code,
        pool_l=p.pool.code,
        und_l=p.underlying.code,
        sigma=position_sigma(snapshot, volatility),
    )
    return out


def _outside_terms(prep: Prepared) -> tuple[FloatArray, FloatArray]:
    """Each position's equation terms at the poll, a cross member's without the other members'
    uPnL and maintenance: the formulas evaluated with those set to zero (``others`` is then
    exactly 0), so adding them back at current marks repeats the formula's own arithmetic."""
    n = len(prep.formula)
    zero = replace(prep.ctx, upnl=np.zeros(n), maint=np.zeros(n))
    equity, maint = prep.equity.copy(), prep.maint.copy()
    for code in np.unique(prep.formula).tolist():
        rule = RULES.get(FORMULAS[code])
        mask = (prep.formula == code) & prep.ctx.member
        if rule is None or not mask.any():
            continue
        rule_equity, rule_maint = rule.terms(zero, mask, Notes(n))
        np.copyto(equity, rule_equity, where=mask)
        np.copyto(maint, rule_maint, where=mask)
    return equity, maint


def _row_keys(snapshot: Snapshot, currencies: tuple[str, ...], equity: tuple[str, ...]) -> Columns:
    """Per position, the local index of its balance, maintenance and equity keys (-1: none),
    of its underlying's and settle currency's rate, and the flags the coin values need."""
    p, account = snapshot.positions, snapshot.account
    pools = p.pool.names
    wallet_derived = not account.margin_balance
    by_pool = {
        "bal_l": _keyed(account.margin_balance, pools),
        "mm_l": _keyed(account.maintenance_margin, pools),
        # Equity from wallets sums the positions whose pool IS the key (pool_equity).
        "eq_l": np.array(
            [equity.index(n) if wallet_derived and n in equity else -1 for n in pools],
            dtype=np.int64,
        ),
    }
    out = {name: table[p.pool.code] if len(pools) else _ints(0) for name, table in by_pool.items()}
    at = {name: k for k, name in enumerate(currencies)}
    und = np.array([at[n] for n in p.underlying.names], dtype=np.int64)
    settle = np.array([at[n] for n in p.settle.names], dtype=np.int64)
    coin = np.array([is_coin(n) for n in p.settle.names], dtype=np.bool_)
    n = len(p)
    out["cur_und"] = und[p.underlying.code] if len(und) else _ints(n)
    out["cur_set"] = settle[p.settle.code] if len(settle) else _ints(n)
    quoted = usd_quoted(p.symbol.names)
    out["pricing"] = np.asarray(
        (quoted[p.symbol.code] if len(quoted) else np.zeros(n, np.bool_))
        & (p.kind != ContractType.OPTION)
    )
    settle_coin = coin[p.settle.code] if len(coin) else np.zeros(n, np.bool_)
    out["settle_coin"] = np.asarray(settle_coin & np.isfinite(p.settle_usd))
    return out


def _keyed(figures: Mapping[str, float], pools: tuple[str, ...]) -> IntArray:
    keys = list(figures)
    return np.array(
        [-1 if (key := balance_key(figures, name)) is None else keys.index(key) for name in pools],
        dtype=np.int64,
    )


def _pool_columns(snapshot: Snapshot, equity_keys: tuple[str, ...]) -> Columns:
    """Per pool: the maintenance key it reads (or -1) and its equity key (``_pool_ratios``)."""
    account = snapshot.account
    pools = snapshot.positions.pool.names
    equity = dict.fromkeys(equity_keys, 0.0)
    # A portfolio-margin pool's ratio is the venue's own, as polled (engine.portfolio).
    pm = venue_pm_ratios(account)
    return {
        "mm": _keyed(account.maintenance_margin, pools),
        "eq": _keyed(equity, pools),
        "pm": np.array([pool_amount(pm, pool) for pool in pools], dtype=np.float64),
    }


def _equity_columns(
    snapshot: Snapshot, keys: tuple[str, ...], currencies: tuple[str, ...], rated: int
) -> Columns:
    """Per equity key: its balance key (or the wallet it starts from), the isolated wallets
    ``pool_equity`` adds to it, and its rate's currency (-1: no rate)."""
    p, account = snapshot.positions, snapshot.account
    n = len(keys)
    if account.margin_balance:
        wallet, isolated = np.zeros(n), np.zeros(n)
    else:
        wallet = _values(account.wallet_balance)
        on_iso = p.margin_mode == MarginMode.ISOLATED
        isolated = np.array(
            [np.nansum(np.where(p.pool.equals(k) & on_iso, p.isolated_wallet, 0.0)) for k in keys]
        )
    cur = _index(currencies, keys, rated, account.in_total)
    return {"wallet": wallet, "isolated": isolated, "cur": cur}


def _rate_sources(snapshot: Snapshot) -> dict[str, tuple[int, int, float]]:
    """``engine.portfolio.usd_rates`` with each rate's source: currency → (source, the local
    row it is read from or -1, the reported rate or NaN), in the dict's own order."""
    p, account = snapshot.positions, snapshot.account
    seen = (*account.margin_balance, *p.settle.names)
    rates: dict[str, tuple[int, int, float]] = {
        c: (STABLE, -1, np.nan) for c in seen if c in STABLECOINS
    }
    rates.update({c: (REPORTED, -1, float(r)) for c, r in account.usd_rate.items()})
    pairs = ((p.underlying, underlying_marks(p), MARK), (p.settle, p.settle_usd, SETTLE))
    for labels, prices, source in pairs:
        known = np.flatnonzero(~np.isnan(prices))
        first = np.full(len(labels.names), -1, dtype=np.int64)
        # Reversed assignment leaves the first known row of each label in place.
        first[labels.code[known][::-1]] = known[::-1]
        for name, row in zip(labels.names, first.tolist(), strict=True):
            if name not in rates and row >= 0:
                rates[name] = (source, row, np.nan)
    return rates


def _currencies(
    rates: Mapping[str, tuple[int, int, float]], underlying: Labels, settle: Labels
) -> tuple[str, ...]:
    """The rated currencies first (in ``usd_rates`` order), then any other coin named."""
    names = list(rates)
    names += [n for n in (*underlying.names, *settle.names) if n not in rates]
    return tuple(dict.fromkeys(names))


def _currency_columns(
    snapshot: Snapshot, rates: Mapping[str, tuple[int, int, float]], currencies: tuple[str, ...]
) -> Columns:
    reported = snapshot.account.usd_rate
    sources = [rates.get(c, (NO_RATE, -1, np.nan)) for c in currencies]
    return {
        "src": np.array([s[0] for s in sources], dtype=np.int64),
        "row": np.array([s[1] for s in sources], dtype=np.int64),
        "reported": np.array([float(reported.get(c, np.nan)) for c in currencies]),
        "moves": np.array([c in reported and is_coin(c) for c in currencies], dtype=np.bool_),
    }


def _diagnostics(
    snapshot: Snapshot, equity_keys: tuple[str, ...], rates: Mapping[str, tuple[int, int, float]]
) -> tuple[str, ...]:
    """``engine.portfolio.build``'s notes: they depend on which rates exist, not on marks."""
    account = snapshot.account
    known = {c: rate if source == REPORTED else 1.0 for c, (source, _row, rate) in rates.items()}
    notes = list(account.diagnostics)
    usd_total(account.summed(dict.fromkeys(equity_keys, 0.0)), known, notes)
    if account.maintenance_margin:
        usd_total(account.summed(account.maintenance_margin), known, notes)
    return tuple(notes)


def _index(
    currencies: tuple[str, ...], keys: tuple[str, ...], rated: int, in_total: frozenset[str]
) -> IntArray:
    """Per key, its currency slot if that currency has a rate and the key adds to the account's
    totals (``Account.in_total`` keys do not), else -1."""
    at = {c: k for k, c in enumerate(currencies[:rated])}
    return np.array([-1 if k in in_total else at.get(k, -1) for k in keys], dtype=np.int64)


def _values(figures: Mapping[str, float]) -> FloatArray:
    return np.array([float(v) for v in figures.values()], dtype=np.float64)


def _ints(n: int) -> IntArray:
    return np.zeros(n, dtype=np.int64)
