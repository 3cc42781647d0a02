"""BitMEX raw fields: /position and /user/margin (integer sizes, amounts in XBt or USDt units)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.model import Account, ContractType, MarginMode
from engine.normalise.fields import NAN, STABLECOINS, mapping, num, positive, text
from engine.normalise.generic import set_margin_mode
from engine.normalise.row import Row

#: BitMEX currency code → (unified code, value of one integer unit): satoshis, micro-USDT.
UNITS = {
    "XBT": ("BTC", 1e-8),
    "XBT_": ("BTC", 1e-8),
    "XBt": ("BTC", 1e-8),
    "USDt": ("USDT", 1e-6),
    "USDT": ("USDT", 1e-6),
    "LAMp": ("USDC", 1e-6),
    "MAMUSD": ("USD", 1e-6),
}

#: BitMEX's liquidationPrice for a short that cannot be liquidated (its price ceiling).
NO_LIQUIDATION_PRICE = 100_000_000.0


class BitmexReader:
    """Reads BitMEX positions and margins.

    BitMEX API "Position": ``currentQty`` is signed integer contracts (XBTUSD: 1 USD each),
    ``homeNotional`` is in the base coin, ``foreignNotional`` in the quote, ``markValue`` in
    settle units; ``posMargin`` is the margin assigned to the position excluding unrealised PnL,
    ``posMaint`` the maintenance requirement, ``maintMargin`` posMargin PLUS unrealised PnL
    (ccxt reads it as the maintenance margin: it is not), ``maintMarginReq`` the rate,
    ``liquidationPrice`` 0 (long) or 100,000,000 (short) when none.
    """

    def refine(self, position: Mapping[str, Any], info: Mapping[str, Any], row: Row) -> None:
        """Overlay ccxt's unified view with the raw /position record."""
        qty = num(info.get("currentQty"))
        if qty == qty and qty != 0:
            row.side = 1.0 if qty > 0 else -1.0
        unit = _unit(info, row)
        self._size(info, row, abs(qty))
        if row.margin_mode == MarginMode.ISOLATED or info.get("crossMargin") is False:
            set_margin_mode(row, MarginMode.ISOLATED, positive(info.get("posMargin")) * unit)
            if row.isolated_wallet != row.isolated_wallet:
                row.note("isolated position without posMargin: margin unknown")
        if info.get("crossMargin") is True:
            set_margin_mode(row, MarginMode.CROSS)
        row.venue_maint_margin = positive(info.get("posMaint")) * unit
        row.venue_initial_margin = positive(info.get("posInit")) * unit
        upnl = num(info.get("unrealisedPnl"))
        row.venue_upnl = upnl * unit if upnl == upnl else row.venue_upnl
        row.mmr = positive(info.get("maintMarginReq"))
        row.maint_amount = 0.0
        row.taker_fee = num(info.get("commission"))
        self._leverage(info, row)
        if row.venue_liq == NO_LIQUIDATION_PRICE:
            row.venue_liq = NAN

    def _size(self, info: Mapping[str, Any], row: Row, contracts: float) -> None:
        """Q: USD for inverse (|foreignNotional|), base coins for linear (|homeNotional|)."""
        if contracts == contracts:
            row.contracts = contracts
        if row.kind == ContractType.INVERSE:
            usd = abs(num(info.get("foreignNotional")))
            row.qty = usd if usd > 0 else contracts * row.contract_size
            return
        coins = abs(num(info.get("homeNotional")))
        quote = text(info.get("quoteCurrency")).upper()
        if coins > 0 and (row.settle in STABLECOINS or row.settle == quote):
            row.qty = coins
        elif coins > 0:
            # Quanto (e.g. ETHUSD settled in XBT): PnL per 1 USD move is markValue / mark.
            unit = _unit(info, row)
            row.qty = abs(num(info.get("markValue"))) * unit / row.mark
            row.settle_usd = NAN
            row.note("quanto contract: size in settle coin per USD of price, settle rate unknown")
        else:
            row.qty = contracts * row.contract_size

    def _leverage(self, info: Mapping[str, Any], row: Row) -> None:
        leverage = positive(info.get("leverage"))
        if leverage != leverage:
            rate = positive(info.get("initMarginReq"))
            leverage = 1.0 / rate if rate == rate else NAN
        row.leverage = leverage

    def account(self, venue: str, balance: Mapping[str, Any] | None) -> Account:
        """Wallet, margin balance and maintenance per currency from /user/margin."""
        info = mapping(balance).get("info")
        entries = info if isinstance(info, list) else [info]
        wallet: dict[str, float] = {}
        margin: dict[str, float] = {}
        maint: dict[str, float] = {}
        for entry in entries:
            entry = mapping(entry)
            code, unit = UNITS.get(text(entry.get("currency")), ("", NAN))
            if not code:
                continue
            _scaled(wallet, code, entry.get("walletBalance"), unit)
            _scaled(margin, code, entry.get("marginBalance"), unit)
            _scaled(maint, code, entry.get("maintMargin"), unit)
        if not margin:
            return Account(venue=venue, diagnostics=("no BitMEX user/margin payload",))
        rates = {code: 1.0 for code in margin if code in STABLECOINS}
        return Account(
            venue=venue,
            wallet_balance=wallet,
            margin_balance=margin,
            maintenance_margin=maint,
            usd_rate=rates,
        )


def _unit(info: Mapping[str, Any], row: Row) -> float:
    """Value of one integer money unit of the position's currency (NaN, with a note, if unknown)."""
    code = text(info.get("currency"))
    if code in UNITS:
        return UNITS[code][1]
    message = f"unknown BitMEX currency {code!r}: margin amounts unavailable"
    if message not in row.diagnostics:
        row.note(message)
    return NAN


def _scaled(target: dict[str, float], key: str, value: Any, unit: float) -> None:
    number = num(value)
    if number == number:
        target[key] = number * unit


READER = BitmexReader()
