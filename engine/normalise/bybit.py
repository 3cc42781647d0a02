"""bybit raw fields (stub: the generic reader only, until its venue reader lands)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.model import Account
from engine.normalise.generic import read_account
from engine.normalise.row import Row


class _Reader:
    def refine(self, position: Mapping[str, Any], info: Mapping[str, Any], row: Row) -> None:
        """No venue-specific fields yet."""

    def account(self, venue: str, balance: Mapping[str, Any] | None) -> Account:
        """The generic unified-balance reading."""
        return read_account(venue, balance)


READER = _Reader()
