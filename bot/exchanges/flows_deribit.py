"""Deribit's realised PnL, funding and fees, from its transaction log (one read per currency).

ccxt 4.5 has no unified reader for ``private/get_transaction_log``, so this calls it raw. The
log is per currency (``currency`` is required), newest first, ``count`` ≤ 250 a page, and a
``continuation`` token pages back until it is null. Amounts stay in the log's currency (BTC,
ETH, USDC…), never converted.

What each entry is worth, from the trader's side (Deribit's docs, ``transaction_log``):

- ``settlement``: the daily session PnL of a future or perpetual becomes cash; ``change`` is
  "Futures session PNL and perpetual session funding". ``total_interest_pl`` is the session's
  funding (0 or absent for a dated future), so funding = ``total_interest_pl`` and realised =
  ``change − total_interest_pl``: the two lines sum to the cash the settlement moved, and the
  funding is not counted again inside the realised line.
- ``delivery``: a future or option expires; realised = ``change + commission`` and fee =
  ``−commission``, so again the lines sum to ``change`` and the delivery fee shows once.
- ``trade``: fee = ``−commission`` (``commission`` is what was paid, a maker rebate negative).
  A future's trade realises nothing by itself (its PnL is cashed at the next settlement); an
  option's premium is the price of the position, not PnL (its PnL shows at delivery).
- every other type (deposit, transfer, swap, correction…) is no PnL and is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.exchanges.flows_base import MAX_PAGES, Call, Flow, FlowKind, amount, flow_ref, malformed

VENUE = "deribit"
#: The log's page limit (the docs: default 100, maximum 250).
PAGE = 250
METHOD = "get_transaction_log"
SERVES: frozenset[FlowKind] = frozenset({"realised", "funding", "fee"})


class TransactionLog:
    """The transaction-log source of ``flows.SOURCES``: one read lists all three kinds."""

    serves = SERVES
    together = True

    async def read(
        self,
        reader: Any,
        venue: str,
        params: Mapping[str, Any],
        *,
        since_ms: int,
        until_ms: int,
        call: Call,
    ) -> list[Flow]:
        """Every flow of each settle currency's log with ``since_ms <= time <= until_ms``."""
        found: dict[tuple[str, str], Flow] = {}
        for currency in settle_currencies(reader):
            for flow in await _read_currency(
                reader, currency, params, since_ms=since_ms, until_ms=until_ms, call=call
            ):
                found.setdefault((flow.kind, flow.ref), flow)
        return list(found.values())


def settle_currencies(reader: Any) -> list[str]:
    """The currencies derivatives settle in on the instance's markets: only they carry PnL,
    funding and trading fees (BTC and ETH for inverse contracts, USDC for linear ones)."""
    markets = getattr(reader, "markets", None) or {}
    found = {
        str(m["settle"])
        for m in markets.values()
        if isinstance(m, Mapping) and m.get("contract") and m.get("settle")
    }
    return sorted(found)


async def _read_currency(
    reader: Any,
    currency: str,
    params: Mapping[str, Any],
    *,
    since_ms: int,
    until_ms: int,
    call: Call,
) -> list[Flow]:
    request = {
        **params,
        "currency": currency,
        "start_timestamp": since_ms,
        "end_timestamp": until_ms,
        "count": PAGE,
    }
    found: list[Flow] = []
    for _ in range(MAX_PAGES):
        reply = await call(lambda q=dict(request): reader.privateGetGetTransactionLog(q))  # type: ignore[misc]
        logs, continuation = _page(reply)
        for entry in logs:
            flows = entry_flows(entry, currency, unified(reader, _instrument(entry)))
            found += [f for f in flows if since_ms <= f.at * 1000 <= until_ms]
        if continuation is None or not logs:
            break
        request["continuation"] = continuation
    return found


def _page(reply: Any) -> tuple[list[Any], int | str | None]:
    """The page's entries and the token of the next one (None: the last page)."""
    result = reply.get("result") if isinstance(reply, Mapping) else None
    logs = result.get("logs") if isinstance(result, Mapping) else None
    if not isinstance(logs, list):
        raise malformed(VENUE, "a transaction log without its logs")
    continuation = result.get("continuation")  # type: ignore[union-attr]
    if continuation is not None and (
        isinstance(continuation, bool) or not isinstance(continuation, int | str)
    ):
        raise malformed(VENUE, f"continuation {str(continuation)[:24]!r}")
    return logs, continuation


def _instrument(entry: Any) -> Any:
    return entry.get("instrument_name") if isinstance(entry, Mapping) else None


def entry_flows(entry: Any, currency: str, symbol: str = "") -> list[Flow]:
    """The flows one log entry holds (module docstring), zero ones left out."""
    if not isinstance(entry, Mapping):
        raise malformed(VENUE, "a log entry that is no object")
    kind = entry.get("type")
    if kind not in ("settlement", "delivery", "trade"):
        return []
    ref = flow_ref((METHOD, currency, entry.get("id")))
    at = amount(entry, "timestamp", VENUE)
    if ref is None or at is None:
        raise malformed(VENUE, f"a {kind} entry without its id or time")
    change = amount(entry, "change", VENUE) or 0.0
    commission = amount(entry, "commission", VENUE) or 0.0
    parts: dict[FlowKind, float] = {"fee": -commission}
    if kind == "settlement":
        funding = amount(entry, "total_interest_pl", VENUE) or 0.0
        parts |= {"funding": funding, "realised": change - funding}
    elif kind == "delivery":
        parts["realised"] = change + commission
    return [
        Flow(k, ref, at / 1000.0, symbol, str(entry.get("currency") or currency), v)
        for k, v in parts.items()
        if v != 0.0
    ]


def unified(reader: Any, instrument: Any) -> str:
    """The unified symbol of a log entry's instrument ("BTC/USD:BTC"); "" for none."""
    if not isinstance(instrument, str) or not instrument:
        return ""
    try:
        return str(reader.safe_symbol(instrument))
    except Exception:  # an unknown instrument is no reason to lose the flow
        return instrument
