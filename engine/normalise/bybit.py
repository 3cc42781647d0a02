"""Bybit v5 raw fields: position/list (linear and inverse) and account/wallet-balance (UTA)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.model import Account, ContractType, Leg, MarginMode
from engine.normalise.fields import NAN, STABLECOINS, items, mapping, num, positive, put, text
from engine.normalise.generic import set_margin_mode
from engine.normalise.greeks import position_greeks
from engine.normalise.row import Row

_LEGS = {"0": Leg.BOTH, "1": Leg.LONG, "2": Leg.SHORT}

#: Pool of cross positions backed by the whole unified account (every coin's USD value).
UNIFIED_POOL = "USD"

#: Bybit's liqPrice when a position has none in its price range (the price floor, 0.0001).
NO_LIQUIDATION_PRICE = 0.0001


class BybitReader:
    """Reads Bybit's position list (``size`` in base units, inverse in USD) and UTA balances.

    Bybit v5 "Get Position Info": ``tradeMode`` 0 cross / 1 isolated (Unified account 2.0 always
    reports 0: its isolated mode is account-level), ``positionBalance`` is the position margin
    excluding unrealised PnL, ``positionIM``/``positionMM`` are amounts including the
    estimated fee to close.
    """

    def refine(self, position: Mapping[str, Any], info: Mapping[str, Any], row: Row) -> None:
        """Overlay ccxt's unified view with what position/list itself says."""
        row.leg = int(_LEGS.get(text(info.get("positionIdx", "0")), Leg.BOTH))
        if row.side != row.side:
            row.side = {"buy": 1.0, "sell": -1.0}.get(text(info.get("side")).lower(), NAN)
        size = abs(num(info.get("size")))
        if size == size:
            row.contracts = size
            # Linear: size in base units; inverse: size in USD (contracts of 1 USD).
            row.qty = size * row.contract_size
        self._margin(info, row)
        self._amounts(info, row)
        if row.kind == ContractType.OPTION:
            # The position's delta (coins), gamma (per USD), vega (USD per vol point) and
            # theta (USD per day), option positions only (docs/risk.md#greeks).
            position_greeks(row, info)
        elif row.leverage != row.leverage:
            row.leverage = self._derived_leverage(info, row)
        row.venue_liq = _venue_liquidation(row.venue_liq, row)

    def _margin(self, info: Mapping[str, Any], row: Row) -> None:
        mode = text(info.get("tradeMode")).strip()
        if mode == "1":
            wallet = positive(info.get("positionBalance"))
            if wallet != wallet:
                wallet = positive(info.get("positionIM"))
                if wallet == wallet:
                    row.note("isolated position without positionBalance: used positionIM")
                else:
                    row.note("isolated position without positionBalance: margin unknown")
            set_margin_mode(row, MarginMode.ISOLATED, wallet)
            return
        set_margin_mode(row, MarginMode.CROSS)
        if mode != "0":
            row.note("Bybit tradeMode not reported: assumed cross (unified account)")
        row.pool = row.settle if row.kind == ContractType.INVERSE else UNIFIED_POOL

    def _amounts(self, info: Mapping[str, Any], row: Row) -> None:
        upnl = num(info.get("unrealisedPnl"))
        if upnl == upnl:
            row.venue_upnl = upnl
        maint = positive(info.get("positionMM"))
        initial = positive(info.get("positionIM"))
        row.venue_maint_margin = maint
        if initial == initial:
            row.venue_initial_margin = initial
        # positionValue is Q·EP (linear) or Q/EP coin (inverse), the base of Bybit's MM. The
        # rate is effective at the current size: tier MMR net of its deduction, plus the
        # estimated fee to close that the Unified account folds into positionMM.
        value = positive(info.get("positionValue"))
        base = value if value == value else _notional(row)
        row.mmr = maint / base if maint == maint and base > 0 else NAN
        row.maint_amount = 0.0
        limit = positive(info.get("riskLimitValue"))
        if limit == limit and value == value and value > limit:
            row.note(f"position value {value:g} exceeds its risk limit {limit:g}")

    def _derived_leverage(self, info: Mapping[str, Any], row: Row) -> float:
        """position value / positionIM, the leverage that margin implies."""
        initial = positive(info.get("positionIM"))
        notional = _notional(row)
        if initial == initial and notional > 0:
            row.note("leverage not reported: derived from position value / positionIM")
            return notional / initial
        return NAN

    def account(self, venue: str, balance: Mapping[str, Any] | None) -> Account:
        """Unified totals under ``USD`` plus per-coin figures, from account/wallet-balance."""
        info = mapping(mapping(balance).get("info"))
        accounts = mapping(info.get("result")).get("list")
        if not isinstance(accounts, list) or not accounts:
            return Account(venue=venue, diagnostics=("no Bybit wallet-balance payload",))
        figures: dict[str, dict[str, float]] = {"w": {}, "m": {}, "mm": {}, "usd": {}}
        notes: list[str] = []
        in_total: set[str] = set()
        pm: dict[str, float] = {}
        for entry in accounts:
            entry = mapping(entry)
            unified = text(entry.get("accountType")).upper() in ("UNIFIED", "UTA")
            if unified:
                notes.extend(_unified_totals(entry, figures))
                pm.update(_portfolio_margin(info, entry))
            for coin in items(entry.get("coin")):
                code = _coin(mapping(coin), figures)
                # A unified account's coin rows are the same wallet as its USD totals.
                if code and unified and UNIFIED_POOL in figures["m"]:
                    in_total.add(code)
        return Account(
            venue=venue,
            wallet_balance=figures["w"],
            margin_balance=figures["m"],
            maintenance_margin=figures["mm"],
            usd_rate=figures["usd"],
            in_total=frozenset(in_total - {UNIFIED_POOL}),
            diagnostics=tuple(notes),
            portfolio_margin=frozenset(pm),
            venue_margin_ratio=pm,
        )


def _venue_liquidation(price: float, row: Row) -> float:
    """NaN for Bybit's "none" marker 0.0001, unless it can be real: a short liquidates above its
    mark, so 0.0001 is a genuine price for a short on a coin trading below it."""
    if price == NO_LIQUIDATION_PRICE and not (row.side < 0 and row.mark < NO_LIQUIDATION_PRICE):
        return NAN
    return price


def _notional(row: Row) -> float:
    """Position value at the mark in settle currency: Q·P (linear) or Q/P coin (inverse)."""
    if not (row.qty > 0 and row.mark > 0):
        return NAN
    return row.qty / row.mark if row.kind == ContractType.INVERSE else row.qty * row.mark


def _portfolio_margin(info: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, float]:
    """``{"USD": accountMMRate}`` for a unified account on PORTFOLIO_MARGIN: the mode is in
    /v5/account/info (``marginMode``), which ccxt's balance does not fetch, so it is read from
    the entry or from the response beside ``result`` where the caller merged it."""
    mode = text(entry.get("marginMode")) or text(info.get("marginMode"))
    rate = num(entry.get("accountMMRate"))
    if mode.upper() != "PORTFOLIO_MARGIN" or rate != rate:
        return {}
    return {UNIFIED_POOL: rate}


def _unified_totals(entry: Mapping[str, Any], figures: dict[str, dict[str, float]]) -> list[str]:
    """The unified account's USD totals; accountMMRate = maintenance / margin balance (ours)."""
    put(figures["w"], UNIFIED_POOL, entry.get("totalWalletBalance"))
    put(figures["m"], UNIFIED_POOL, entry.get("totalMarginBalance"))
    put(figures["mm"], UNIFIED_POOL, entry.get("totalMaintenanceMargin"))
    figures["usd"][UNIFIED_POOL] = 1.0
    rate = num(entry.get("accountMMRate"))
    margin = figures["m"].get(UNIFIED_POOL, NAN)
    if UNIFIED_POOL not in figures["mm"] and rate == rate and margin == margin:
        figures["mm"][UNIFIED_POOL] = rate * margin
        return ["totalMaintenanceMargin not reported: derived from accountMMRate"]
    maint = figures["mm"].get(UNIFIED_POOL, NAN)
    if rate == rate and margin > 0 and maint == maint and abs(maint / margin - rate) > 0.01:
        return [f"accountMMRate {rate:g} disagrees with maintenance / margin balance"]
    return []


def _coin(coin: Mapping[str, Any], figures: dict[str, dict[str, float]]) -> str:
    """One coin row's wallet, equity, maintenance and USD rate; its code ("" if none)."""
    code = text(coin.get("coin"))
    if not code:
        return ""
    put(figures["w"], code, coin.get("walletBalance"))
    put(figures["m"], code, coin.get("equity"))
    put(figures["mm"], code, coin.get("totalPositionMM"))
    equity = num(coin.get("equity"))
    usd = num(coin.get("usdValue"))
    if code in STABLECOINS:
        figures["usd"][code] = 1.0
    elif equity > 0 and usd == usd:
        figures["usd"][code] = usd / equity
    return code


READER = BybitReader()
