"""Dates on the command line of the history commands (candles, backtest, calibrate): one
parser and one printed form, so each says the same thing about the same mistake."""

from __future__ import annotations

import datetime as dt

from bot.errors import UserError


def parse_day(text: str, flag: str) -> int:
    """``2024-01-01`` or an ISO date-time (UTC unless it says otherwise) → epoch ms."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"{flag} {text!r} is not a date such as 2024-01-01.") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


def iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%dT%H:%MZ")
