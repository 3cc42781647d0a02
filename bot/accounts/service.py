"""Account use cases every adapter calls: link a key, watch a wallet, list, find and unlink.

Services raise ``UserError`` with a sentence a user can act on; adapters only render.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.errors import UserError
from bot.exchanges import AccountReader, Credentials
from bot.exchanges.venues import spec_for
from bot.security.vault import Vault
from engine.domain import AccountStatus, LinkedAccount
from storage import ConflictError, Database
from storage.accounts import Accounts

_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
#: Short venue names for wallet labels ("hl-7a3f" is easier to type than "hyperliquid-2").
_VENUE_SHORT = {"hyperliquid": "hl"}


@dataclass(frozen=True)
class Linked:
    """A new linked account and the warnings its key raised (e.g. "this key can trade")."""

    account: LinkedAccount
    warnings: tuple[str, ...]


class AccountService:
    """Linking and unlinking exchange accounts; ``on_change`` re-syncs the monitor."""

    def __init__(
        self,
        db: Database,
        hub: AccountReader,
        vault: Vault,
        *,
        on_change: Callable[[], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.accounts = Accounts(db)
        self.hub, self.vault, self.clock = hub, vault, clock
        self._on_change = on_change

    async def link(
        self,
        owner_id: int,
        venue: str,
        credentials: Credentials,
        *,
        label: str | None = None,
        poll_s: float | None = None,
    ) -> Linked:
        """Validate with one real read, then store the credentials encrypted. An account of
        this venue whose key the venue rejected (``auth_failed``) gets the new key instead of
        a second account beside it: linking again is how a revoked key is replaced."""
        venue = venue.strip().lower()
        if not credentials.wallet_address:
            stale = await self._rejected(owner_id, venue, label)
            if stale is not None:
                return await self._relink(owner_id, stale, credentials)
        name = _label(label, venue)
        if label is None:
            # /link takes no label: a second account on the same venue gets "venue-2".
            taken = {a.label.lower() for a in await self.accounts.list_for(owner_id)}
            name = next(n for i in range(1, 1000) if (n := _numbered(name, i)).lower() not in taken)
        warnings = await self.hub.validate(venue, credentials)
        try:
            if credentials.wallet_address:
                account = await self.accounts.add(
                    owner_id,
                    venue,
                    name,
                    wallet_address=credentials.wallet_address,
                    poll_s=poll_s,
                    now=self.clock(),
                )
            else:
                account = await self.accounts.add(
                    owner_id,
                    venue,
                    name,
                    ciphertext=lambda account_id: self.vault.encrypt(
                        credentials, account_id=account_id
                    ),
                    key_id=self.vault.key_id,
                    poll_s=poll_s,
                    now=self.clock(),
                )
        except ConflictError:
            raise UserError(
                f'you already have an account labelled "{name}": pick another label'
            ) from None
        await self._changed()
        return Linked(account, tuple(warnings))

    async def _rejected(self, owner_id: int, venue: str, label: str | None) -> LinkedAccount | None:
        """The owner's one ``auth_failed`` account on ``venue`` (with ``label`` if given)."""
        found = [
            a
            for a in await self.accounts.list_for(owner_id)
            if a.venue == venue
            and a.status is AccountStatus.AUTH_FAILED
            and (label is None or a.label.lower() == label.lower())
        ]
        return found[0] if len(found) == 1 else None

    async def _relink(
        self, owner_id: int, account: LinkedAccount, credentials: Credentials
    ) -> Linked:
        warnings = await self.hub.validate(account.venue, credentials)
        sealed = self.vault.encrypt(credentials, account_id=account.id)
        await self.accounts.set_credentials(owner_id, account.id, sealed, self.vault.key_id)
        await self.hub.drop(str(account.id))  # the client holding the revoked key
        await self._changed()
        fresh = await self.accounts.get(owner_id, account.id)
        return Linked(fresh or account, tuple(warnings))

    async def watch(
        self, owner_id: int, venue: str, address: str, *, label: str | None = None
    ) -> Linked:
        """Track a public wallet read-only (Hyperliquid); never asks for a private key.

        Without a label the wallet gets one that tells it apart from the owner's other wallets
        and is short to type: ``hl-7a3f`` (more of the address when that one is taken).
        """
        venue, address = venue.strip().lower(), address.strip()
        if not spec_for(venue).wallet:
            raise UserError(f"{venue} cannot be tracked by address: link an API key instead")
        if not _ADDRESS.match(address):
            raise UserError("that is not a wallet address: expected 0x followed by 40 hex digits")
        mine = await self.accounts.list_for(owner_id)
        for account in mine:
            if account.venue == venue and (account.wallet_address or "").lower() == address.lower():
                raise UserError(
                    f'you already watch {short_address(address)} as "{account.label}": '
                    "see /accounts"
                )
        if label is None:
            label = wallet_label(venue, address, {a.label.lower() for a in mine})
        return await self.link(owner_id, venue, Credentials.wallet(address), label=label)

    async def list(self, owner_id: int) -> list[LinkedAccount]:
        """The user's own accounts."""
        return await self.accounts.list_for(owner_id)

    async def find(self, owner_id: int, ref: str) -> LinkedAccount:
        """An account of the user's by id or label, or a UserError naming what was asked."""
        ref = ref.strip()
        account = None
        if ref.isdigit():
            account = await self.accounts.get(owner_id, int(ref))
        account = account or await self.accounts.by_label(owner_id, ref)
        if account is None:
            raise UserError(f'no account "{ref}" among yours: see /accounts')
        return account

    async def unlink(self, owner_id: int, ref: str) -> LinkedAccount:
        """Remove the account, its credentials and its history; close its exchange client."""
        account = await self.find(owner_id, ref)
        await self.accounts.remove(owner_id, account.id)
        await self.hub.drop(str(account.id))
        await self._changed()
        return account

    async def _changed(self) -> None:
        if self._on_change is not None:
            await self._on_change()


def _label(label: str | None, venue: str) -> str:
    name = (label or venue).strip()
    if not _LABEL.match(name):
        raise UserError(
            "a label is 1-32 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


def short_address(address: str) -> str:
    """``0x7a3f…c9e1``: enough of a wallet address to recognise it in a reply."""
    return f"{address[:6]}…{address[-4:]}" if len(address) > 12 else address


def wallet_label(venue: str, address: str, taken: set[str]) -> str:
    """``hl-7a3f``: the venue's short name and the address's first hex digits, two more at a
    time while the label is ``taken`` (lower-case labels); labels stay within 32 characters."""
    prefix = _VENUE_SHORT.get(venue, venue)[:12]
    digits = address.lower().removeprefix("0x")
    for n in range(4, len(digits) + 1, 2):
        label = f"{prefix}-{digits[:n]}"[:32]
        if label.lower() not in taken:
            return label
    return _numbered(f"{prefix}-{digits[:4]}", len(taken) + 1)


def _numbered(label: str, n: int) -> str:
    return label if n == 1 else f"{label[:28]}-{n}"
