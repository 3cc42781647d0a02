"""Exchange credentials whose ``repr`` never shows a secret."""

from __future__ import annotations

from dataclasses import dataclass

_HIDDEN = "'***'"


@dataclass(frozen=True, repr=False)
class Credentials:
    """An API key pair (+ passphrase), or a public wallet address for read-only tracking.

    There is deliberately no field for a wallet private key: liqwatch never signs on a chain.
    """

    api_key: str = ""
    secret: str = ""
    passphrase: str | None = None
    wallet_address: str | None = None

    @classmethod
    def wallet(cls, address: str) -> Credentials:
        """Read-only tracking of a public address (Hyperliquid)."""
        return cls(wallet_address=address)

    def __repr__(self) -> str:
        shown = [
            f"api_key={_HIDDEN if self.api_key else repr('')}",
            f"secret={_HIDDEN if self.secret else repr('')}",
            f"passphrase={_HIDDEN if self.passphrase else None}",
            f"wallet_address={self.wallet_address!r}",
        ]
        return f"Credentials({', '.join(shown)})"

    __str__ = __repr__
