"""Deribit raw fields: private/get_positions and get_account_summaries (cross, per currency)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.model import Account, ContractType, MarginMode
from engine.normalise.fields import (
    NAN,
    STABLECOINS,
    liquidation_price,
    mapping,
    num,
    positive,
    put,
    text,
)
from engine.normalise.generic import set_margin_mode
from engine.normalise.greeks import position_greeks
from engine.normalise.row import Row


class DeribitReader:
    """Reads Deribit positions: account-level (cross) margin in each settle currency.

    Deribit API v2 "private/get_positions": ``size`` is in USD for inverse futures and in the
    base coin for options and linear (USDC) contracts; ``size_currency`` is the futures size in
    the base coin; ``maintenance_margin``/``initial_margin`` are amounts in the settle currency
    (ccxt's ``*Percentage`` from them is ×100); ``estimated_liquidation_price`` is null or 0 when
    none.
    """

    def refine(self, position: Mapping[str, Any], info: Mapping[str, Any], row: Row) -> None:
        """Overlay ccxt's unified view with the raw position."""
        set_margin_mode(row, MarginMode.CROSS)
        direction = text(info.get("direction")).lower()
        if direction in ("buy", "sell"):
            row.side = 1.0 if direction == "buy" else -1.0
        _size(info, row)
        mark = positive(info.get("mark_price"))
        if mark == mark:
            row.mark = mark
        row.venue_liq = liquidation_price(info.get("estimated_liquidation_price"))
        upnl = num(info.get("floating_profit_loss"))
        if upnl == upnl:
            row.venue_upnl = upnl
        _margins(info, row)
        index = positive(info.get("index_price"))
        if row.settle in STABLECOINS:
            row.settle_usd = 1.0
        elif index == index:
            row.settle_usd = index
        if row.kind == ContractType.OPTION:
            # Position totals: ``delta`` size × the premium-adjusted delta in coin, ``gamma``
            # per USD, ``vega`` USD per vol point, ``theta`` USD per day (docs/risk.md#greeks).
            row.underlying_price = index
            position_greeks(row, info)

    def account(self, venue: str, balance: Mapping[str, Any] | None) -> Account:
        """Balance, margin balance and maintenance per currency from the account summaries."""
        info = mapping(mapping(balance).get("info"))
        summaries = info.get("summaries") if "summaries" in info else [info]
        summaries = summaries if isinstance(summaries, list) else []
        if not any(mapping(s).get("currency") for s in summaries):
            return Account(venue=venue, diagnostics=("no Deribit account summary payload",))
        wallet: dict[str, float] = {}
        margin: dict[str, float] = {}
        maint: dict[str, float] = {}
        usd_equity: dict[str, float] = {}
        coin_equity: dict[str, float] = {}
        risk = _Portfolio()
        for summary in summaries:
            summary = mapping(summary)
            code = text(summary.get("currency")).upper()
            if not code:
                continue
            put(wallet, code, summary.get("balance"))
            # margin_balance is what Deribit compares with the maintenance margin.
            put(margin, code, _first_number(summary, "margin_balance", "equity"))
            put(maint, code, summary.get("maintenance_margin"))
            put(usd_equity, code, summary.get("total_equity_usd"))
            put(coin_equity, code, summary.get("equity"))
            risk.read(code, summary, margin.get(code, NAN), maint.get(code, NAN))
        rates = {code: 1.0 for code in margin if code in STABLECOINS}
        rates.update(_rate_from_usd_total(coin_equity, usd_equity))
        return Account(
            venue=venue,
            wallet_balance=wallet,
            margin_balance=margin,
            maintenance_margin=maint,
            usd_rate=rates,
            portfolio_margin=frozenset(risk.pm),
            venue_margin_ratio=risk.ratio,
            venue_greeks=risk.greeks,
        )


#: Deribit's margin models that are portfolio margin (``margin_model``; older accounts say
#: ``portfolio_margining_enabled``).
PM_MODELS = frozenset({"cross_pm", "segregated_pm"})

#: The summary's portfolio figures read as reported (docs/risk.md#greeks).
FIGURES = (
    "delta_total",
    "options_delta",
    "options_gamma",
    "options_vega",
    "options_theta",
    "estimated_liquidation_ratio",
)

#: Per-index maps (``btc_usd`` → figure): stored as ``"<figure>:<index>"``.
MAPS = {
    "delta_total_map": "delta_total",
    "options_gamma_map": "options_gamma",
    "options_vega_map": "options_vega",
    "options_theta_map": "options_theta",
}


@dataclass
class _Portfolio:
    """Portfolio-margin pools, their venue ratio and the portfolio greeks of each summary."""

    pm: set[str] = field(default_factory=set)
    ratio: dict[str, float] = field(default_factory=dict)
    greeks: dict[str, dict[str, float]] = field(default_factory=dict)

    def read(self, code: str, summary: Mapping[str, Any], margin: float, maint: float) -> None:
        """One currency's summary: on portfolio margin its maintenance / margin balance is the
        venue's own ratio (its scenario risk, not a sum the engine can rebuild)."""
        model = text(summary.get("margin_model")).lower()
        if model in PM_MODELS or summary.get("portfolio_margining_enabled") is True:
            self.pm.add(code)
            if maint == maint and margin == margin:
                self.ratio[code] = maint / margin if margin > 0 else math.inf
        figures: dict[str, float] = {}
        for name in FIGURES:
            put(figures, name, summary.get(name))
        for key, name in MAPS.items():
            for index, value in mapping(summary.get(key)).items():
                put(figures, f"{name}:{str(index).lower()}", value)
        if figures:
            self.greeks[code] = figures


def _size(info: Mapping[str, Any], row: Row) -> None:
    """Q: USD for inverse futures, coins for options and linear contracts."""
    size = abs(num(info.get("size")))
    coins = abs(num(info.get("size_currency")))
    row.contract_size = 1.0
    if row.kind == ContractType.LINEAR and coins > 0:
        row.contracts = row.qty = coins
    elif size == size:
        row.contracts = row.qty = size
    kind = text(info.get("kind")).lower()
    if kind and kind != "option" and row.kind == ContractType.OPTION:
        row.note(f"instrument kind {kind} but the symbol names an option")


def _margins(info: Mapping[str, Any], row: Row) -> None:
    maint = positive(info.get("maintenance_margin"))
    initial = positive(info.get("initial_margin"))
    row.venue_maint_margin = maint
    row.venue_initial_margin = initial
    row.maint_amount = 0.0
    notional = _notional(info, row)
    row.mmr = maint / notional if maint == maint and notional > 0 else NAN
    leverage = positive(info.get("leverage"))
    if leverage != leverage and initial == initial and notional > 0:
        leverage = notional / initial
        row.note("leverage not reported: derived from notional / initial_margin")
    row.leverage = leverage


def _notional(info: Mapping[str, Any], row: Row) -> float:
    """Position value in settle currency: the coin size (inverse) or Q × mark (linear)."""
    if row.kind == ContractType.OPTION:
        return NAN
    if row.kind == ContractType.INVERSE:
        coins = abs(num(info.get("size_currency")))
        if coins > 0:
            return coins
        return row.qty / row.mark if row.qty > 0 and row.mark > 0 else NAN
    return row.qty * row.mark if row.qty > 0 and row.mark > 0 else NAN


def _rate_from_usd_total(
    equity: Mapping[str, float], usd_equity: Mapping[str, float]
) -> dict[str, float]:
    """A coin's USD rate from Deribit's own ``total_equity_usd`` / ``equity`` when the account
    holds that one currency: the total spans every cross-collateral currency, so with several
    it prices none alone (their positions' index prices do)."""
    held = {code: amount for code, amount in equity.items() if amount != 0}
    if len(held) != 1:
        return {}
    ((code, own),) = held.items()
    total_usd = usd_equity.get(code, NAN)
    if code in STABLECOINS or not own > 0 or not total_usd > 0:
        return {}
    return {code: total_usd / own}


def _first_number(mapping_: Mapping[str, Any], *keys: str) -> float:
    for key in keys:
        value = num(mapping_.get(key))
        if value == value:
            return value
    return NAN


READER = DeribitReader()
