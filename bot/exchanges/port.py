"""The port the core reads accounts through: the ccxt hub in production, a simulated venue in
the demo (and what a test may put in their place)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from bot.exchanges.budget import BudgetState
from bot.exchanges.credentials import Credentials
from bot.exchanges.meter import RestUse


class AccountReader(Protocol):
    """Reads linked accounts; holds a client (and its decrypted key) per account key."""

    async def fetch_snapshot(
        self, account_key: str, venue: str, credentials: Credentials
    ) -> dict[str, Any]:
        """One account's ``liqwatch analyze`` input (raises ``ExchangeFailure``)."""
        ...

    async def validate(self, venue: str, credentials: Credentials) -> list[str]:
        """Check credentials before linking: warnings, or ``LinkRefused`` with the reason."""
        ...

    def account_keys(self) -> list[str]:
        """The account keys it holds a client (and so a decrypted key) for."""
        ...

    async def drop(self, account_key: str) -> None:
        """Close and forget one account's client."""
        ...

    def rest_use(self, venue: str) -> RestUse | None:
        """How much of the venue's REST budget the last minute spent (``None``: nothing to say)."""
        ...

    def budgets(self, venues: Iterable[str] | None = None) -> list[BudgetState]:
        """Each venue's REST budget now (those read so far, or ``venues``'); may be empty."""
        ...
