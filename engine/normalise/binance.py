"""Binance USDⓈ-M (fapi v3 positionRisk / account) and COIN-M (dapi) raw fields.

positionRisk v3 has no ``leverage`` and no ``marginType``: the margin mode follows from
``isolatedMargin`` (0 ⇒ cross) and the leverage from notional / positionInitialMargin. ccxt back-
solves cross ``collateral`` from the liquidation price, so it is never read here
(docs/risk.md#binance-usdm).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.model import Account, ContractType, Leg, MarginMode
from engine.normalise.fields import STABLECOINS, items, num, positive, put, text
from engine.normalise.generic import set_margin_mode
from engine.normalise.row import Row

_LEGS = {"BOTH": Leg.BOTH, "LONG": Leg.LONG, "SHORT": Leg.SHORT}

#: COIN-M contract face value in USD when ccxt's market is not loaded (Binance contract specs).
COINM_FACE_USD = {"BTC": 100.0}
COINM_DEFAULT_FACE_USD = 10.0


@dataclass(frozen=True)
class BinanceReader:
    """Reader for one Binance futures family (``inverse`` selects COIN-M)."""

    inverse: bool

    def refine(self, position: Mapping[str, Any], info: Mapping[str, Any], row: Row) -> None:
        """Overlay ccxt's unified view with what positionRisk itself says."""
        row.leg = int(_LEGS.get(text(info.get("positionSide", "BOTH")).upper(), Leg.BOTH))
        amount = num(info.get("positionAmt"))
        if amount == amount and row.side != row.side and amount != 0:
            row.side = 1.0 if amount > 0 else -1.0
        self._margin_mode(info, row)
        upnl = num(info.get("unRealizedProfit"))
        if upnl == upnl:
            row.venue_upnl = upnl
        maint = positive(info.get("maintMargin"))
        if maint == maint:
            row.venue_maint_margin = maint
        self._maint_amount(info, row)
        if self.inverse:
            self._coinm_units(position, info, row)
        else:
            row.pool = text(info.get("marginAsset")) or row.settle
        if row.leverage != row.leverage:
            row.leverage = self._derived_leverage(info, row)

    def _margin_mode(self, info: Mapping[str, Any], row: Row) -> None:
        kind = text(info.get("marginType")).lower()
        isolated_margin = num(info.get("isolatedMargin"))
        if kind == "isolated" or (not kind and isolated_margin > 0):
            set_margin_mode(row, MarginMode.ISOLATED, positive(info.get("isolatedWallet")))
            if row.isolated_wallet != row.isolated_wallet:
                row.note("isolated position without isolatedWallet: margin unknown")
        elif kind == "cross" or isolated_margin == 0:
            set_margin_mode(row, MarginMode.CROSS)

    def _coinm_units(self, position: Mapping[str, Any], info: Mapping[str, Any], row: Row) -> None:
        row.kind = int(ContractType.INVERSE)
        if position.get("contractSize") is None:
            row.contract_size = COINM_FACE_USD.get(row.underlying, COINM_DEFAULT_FACE_USD)
            row.note(f"contract size not in the market data: assumed {row.contract_size:g} USD")
        row.qty = row.contracts * row.contract_size
        row.settle_usd = row.mark
        row.pool = row.settle

    def _maint_amount(self, info: Mapping[str, Any], row: Row) -> None:
        """The bracket's ``cum`` at the current size: ``MM = notional·MMR − cum`` solved for cum.

        ccxt's MMR is the bracket's rate at the current notional, but ccxt drops the bracket's
        maintenance amount; leaving it 0 would overstate the maintenance margin. With no
        ``maintMargin`` (positionRisk v2) the rate is left to the tier table instead.
        """
        maint = positive(info.get("maintMargin"))
        notional = abs(num(info.get("notional") or info.get("notionalValue")))
        if maint != maint or not notional > 0:
            row.mmr = float("nan")
            row.maint_amount = 0.0
            return
        if row.mmr != row.mmr:
            row.mmr = maint / notional
        row.maint_amount = max(notional * row.mmr - maint, 0.0)

    def _derived_leverage(self, info: Mapping[str, Any], row: Row) -> float:
        """notional / positionInitialMargin, the leverage setting that margin implies."""
        initial = positive(info.get("positionInitialMargin") or info.get("initialMargin"))
        notional = abs(num(info.get("notional") or info.get("notionalValue")))
        return notional / initial if initial == initial and notional > 0 else float("nan")

    def account(self, venue: str, balance: Mapping[str, Any] | None) -> Account:
        """Cross wallet, margin balance and maintenance per asset from fapi/dapi account."""
        info = balance.get("info") if balance else None
        if not isinstance(info, Mapping):
            return Account(venue=venue, diagnostics=("no Binance account payload (balance.info)",))
        wallet: dict[str, float] = {}
        margin: dict[str, float] = {}
        maint: dict[str, float] = {}
        if info.get("multiAssetsMargin") in (True, "true"):
            # Multi-Assets mode: every asset's haircut USD value backs every USDⓈ-M position,
            # so only the USD totals count (per-asset figures would count collateral twice).
            put(wallet, "USD", info.get("totalCrossWalletBalance"))
            put(margin, "USD", info.get("totalMarginBalance"))
            put(maint, "USD", info.get("totalMaintMargin"))
        else:
            for asset in items(info.get("assets")):
                if not isinstance(asset, Mapping):
                    continue
                code = text(asset.get("asset"))
                put(wallet, code, asset.get("crossWalletBalance"))
                put(margin, code, asset.get("marginBalance"))
                put(maint, code, asset.get("maintMargin"))
        rates = {code: 1.0 for code in margin | wallet if code in STABLECOINS}
        return Account(
            venue=venue,
            wallet_balance=wallet,
            margin_balance=margin,
            maintenance_margin=maint,
            usd_rate=rates,
        )


USDM = BinanceReader(inverse=False)
COINM = BinanceReader(inverse=True)
