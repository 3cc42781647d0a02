"""OKX's bills and positions history for the fake, built from an account's flows.

Bills (``/api/v5/account/bills``, ``bills-archive``): one per flow, newest first, ``limit``
≤ 100 (100 by default), narrowed by ``type``, ``instType``, ``ccy``, ``begin``/``end`` (bill
time, inclusive here: OKX does not say) and ``after``/``before`` (a bill id: older / newer than
it). A funding flow is a type 8 bill (subType 173 expense, 174 income) whose ``balChg`` and
``pnl`` are the payment; a commission an opening trade (type 2, subType 3) whose ``fee`` is the
flow (negative when charged); a realised flow a closing trade (subType 5) with ``pnl`` the flow
and no fee.

Positions history (``/api/v5/account/positions-history``): one record per position, the
running totals OKX keeps (docs: "Accumulated" fee, funding fee and pnl; ``realizedPnl = pnl +
fee + fundingFee + liqPenalty + settledPnl``). The realised flows of a market are its closes;
those whose refs share a part before a '.' ("7.1", "7.2") are partial closes of one position
(``posId`` from that part), any other is a position of its own. A position holds the
commissions and funding of its market since the previous position's last close, up to its own
last close: so a realised flow of 100 with a -0.5 commission and -3 funding before it is a
record with ``pnl`` 100, ``fee`` -0.5, ``fundingFee`` -3 and ``realizedPnl`` 96.5. Newest
update first, ``after``/``before`` an update time (exclusive, as documented), ``limit`` ≤ 100
but every record of the last update time on the page.

Not modelled: the 7-day and 3-month reach of the two bill lists, liquidation penalties and
settled PnL (always "0" and "").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tests.engine.normalise.payloads import okx as po
from tests.fakes.exchange.base import (
    Account,
    Flow,
    Request,
    as_ms,
    bounded,
    daily_closes,
    decimal,
    numeric_id,
)

IDS = {symbol: market_id for market_id, symbol, _, _ in po.OKX_MARKETS}
_SUBTYPE = {"funding": "174", "commission": "3", "realised": "5"}


def _envelope(data: list[Any]) -> dict[str, Any]:
    return {"code": "0", "msg": "", "data": data}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "msg": message, "data": []}


def _settle(symbol: str) -> str:
    return symbol.rpartition(":")[2]


def _bill(flow: Flow) -> dict[str, Any]:
    """One bill of a funding, commission or realised flow, as OKX's bills list it."""
    market_id = IDS[flow.symbol]
    amount = decimal(flow.amount)
    funding = flow.kind == "funding"
    subtype = "173" if funding and flow.amount < 0 else _SUBTYPE[flow.kind]
    return {
        "bal": "1000",
        "balChg": amount,
        "billId": str(numeric_id(flow.ref)),
        "ccy": _settle(flow.symbol),
        "clOrdId": "",
        "execType": "" if funding else "T",
        "fee": amount if flow.kind == "commission" else "0",
        "fillFwdPx": "",
        "fillIdxPx": "",
        "fillMarkPx": "",
        "fillMarkVol": "",
        "fillPxUsd": "",
        "fillPxVol": "",
        "fillTime": str(flow.at_ms),
        "from": "",
        "instId": market_id,
        "instType": "SWAP",
        "interest": "0",
        "mgnMode": "cross",
        "notes": "",
        "ordId": "" if funding else str(numeric_id(flow.ref) // 2),
        "pnl": "0" if flow.kind == "commission" else amount,
        "posBal": "0",
        "posBalChg": "0",
        "px": decimal(daily_closes(market_id, 1)[0]),
        "subType": subtype,
        "sz": "1",
        "tag": "",
        "to": "",
        "tradeId": "" if funding else str(numeric_id(flow.ref) // 3),
        "ts": str(flow.at_ms),
        "type": "8" if funding else "2",
    }


def _bills(request: Request, account: Account) -> dict[str, Any]:
    q = request.query
    try:
        begin, end = as_ms(q.get("begin")), as_ms(q.get("end"))
        after, before = as_ms(q.get("after")), as_ms(q.get("before"))
    except ValueError:
        return _error("51000", "Parameter begin error")
    if q.get("instType") not in (None, "SWAP"):
        return _envelope([])
    rows = [
        _bill(flow)
        for flow in account.flows
        if flow.kind in _SUBTYPE and flow.symbol in IDS
        and (begin is None or flow.at_ms >= begin) and (end is None or flow.at_ms <= end)
        and q.get("ccy") in (None, _settle(flow.symbol))
    ]  # fmt: skip
    rows = [
        row
        for row in rows
        if q.get("type") in (None, row["type"])
        and (after is None or int(row["billId"]) < after)
        and (before is None or int(row["billId"]) > before)
    ]
    rows.sort(key=lambda row: (int(row["ts"]), int(row["billId"])), reverse=True)
    return _envelope(rows[: bounded(q.get("limit"), 100, 100)])


@dataclass(frozen=True)
class Position:
    """One position's closes and the commissions and funding paid while it was open."""

    symbol: str
    pos_id: str
    closes: tuple[Flow, ...]
    costs: tuple[Flow, ...]

    @property
    def c_time(self) -> int:
        return min(f.at_ms for f in (*self.closes, *self.costs))

    @property
    def u_time(self) -> int:
        return max(f.at_ms for f in self.closes)

    def total(self, kinds: Iterable[Flow]) -> Decimal:
        return sum((Decimal(decimal(f.amount)) for f in kinds), Decimal(0))


def positions(flows: Iterable[Flow]) -> list[Position]:
    """The account's positions, each with its closes and the costs since the last position of
    its market closed (module docstring)."""
    flows = list(flows)
    out: list[Position] = []
    for symbol in IDS:
        closes: dict[str, list[Flow]] = {}
        for flow in sorted(flows, key=lambda f: f.at_ms):
            if flow.kind == "realised" and flow.symbol == symbol:
                closes.setdefault(flow.ref.split(".")[0], []).append(flow)
        start = -1
        for key, mine in sorted(closes.items(), key=lambda kv: kv[1][-1].at_ms):
            end = mine[-1].at_ms
            costs = tuple(
                f
                for f in flows
                if f.symbol == symbol
                and f.kind in ("commission", "funding")
                and start < f.at_ms <= end
            )
            out.append(Position(symbol, str(numeric_id(key)), tuple(mine), costs))
            start = end
    return out


def _record(position: Position) -> dict[str, Any]:
    """A positions-history record of ``position`` (a long, closed at the market's price)."""
    market_id = IDS[position.symbol]
    pnl = position.total(position.closes)
    fee = position.total(f for f in position.costs if f.kind == "commission")
    funding = position.total(f for f in position.costs if f.kind == "funding")
    price = daily_closes(market_id, 1)[0]
    return {
        "cTime": str(position.c_time),
        "ccy": _settle(position.symbol),
        "closeAvgPx": decimal(price),
        "closeTotalPos": str(len(position.closes)),
        "direction": "long",
        "fee": format(fee, "f"),
        "fundingFee": format(funding, "f"),
        "instId": market_id,
        "instType": "SWAP",
        "lever": "10.0",
        "liqPenalty": "0",
        "mgnMode": "cross",
        "nonSettleAvgPx": "",
        "openAvgPx": decimal(price),
        "openMaxPos": str(len(position.closes)),
        "pnl": format(pnl, "f"),
        "pnlRatio": "0",
        "posId": position.pos_id,
        "posSide": "net",
        "realizedPnl": format(pnl + fee + funding, "f"),
        "settledPnl": "",
        "triggerPx": "",
        "type": "2" if len(position.closes) == 1 else "1",
        "uTime": str(position.u_time),
        "uly": market_id.rpartition("-")[0],
    }


def _positions_history(request: Request, account: Account) -> dict[str, Any]:
    q = request.query
    try:
        after, before = as_ms(q.get("after")), as_ms(q.get("before"))
    except ValueError:
        return _error("51000", "Parameter after error")
    if q.get("instType") not in (None, "SWAP"):
        return _envelope([])
    chosen = [
        p
        for p in positions(account.flows)
        if q.get("instId") in (None, IDS[p.symbol])
        and (after is None or p.u_time < after)
        and (before is None or p.u_time > before)
    ]
    chosen.sort(key=lambda p: (p.u_time, p.pos_id), reverse=True)
    limit = bounded(q.get("limit"), 100, 100)
    if len(chosen) > limit:  # every record of the page's last update time comes with it
        edge = chosen[limit - 1].u_time
        chosen = [p for n, p in enumerate(chosen) if n < limit or p.u_time == edge]
    return _envelope([_record(p) for p in chosen])


PRIVATE: dict[str, Callable[[Request, Account], dict[str, Any]]] = {
    "/api/v5/account/bills": _bills,
    "/api/v5/account/bills-archive": _bills,
    "/api/v5/account/positions-history": _positions_history,
}
