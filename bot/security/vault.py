"""Encryption of exchange credentials at rest: AES-256-GCM under the operator's master key.

The storage layer only ever sees ciphertext and a key id (a fingerprint of the master key, not
the key), so a database file, a backup or a log line holds nothing usable on its own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.errors import UserError
from bot.exchanges import Credentials
from bot.settings import Secret
from storage.accounts import Accounts
from storage.credentials import CredentialRow

#: Authenticated data of credentials sealed before migration 0010: the purpose only, so such a
#: blob decrypted for any account. Read once, by the start-up upgrade, never for a poll.
_LEGACY_AAD = b"liqwatch/credentials/v1"
_NONCE_BYTES = 12


def _aad(account_id: int) -> bytes:
    """Binds a ciphertext to its purpose AND its account: copied to another account's row
    (a database write, a restored backup), it no longer decrypts there."""
    return f"liqwatch/credentials/v2/account:{int(account_id)}".encode("ascii")


class VaultError(UserError):
    """The master key is malformed, or is not the key the credentials were stored with."""


def generate_key() -> str:
    """A new master key: 32 random bytes, URL-safe base64 (what `liqwatch genkey` prints)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


class Vault:
    """Encrypts and decrypts credentials with one master key."""

    def __init__(self, master_key: Secret) -> None:
        try:
            raw = base64.urlsafe_b64decode(master_key.reveal().encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raw = b""
        if len(raw) != 32:
            raise VaultError(
                "LIQWATCH_MASTER_KEY is not a valid key (32 bytes, URL-safe base64): "
                "create one with `liqwatch genkey`"
            )
        self._aead = AESGCM(raw)
        self.key_id = hashlib.sha256(b"liqwatch-key-id" + raw).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"Vault(key_id={self.key_id!r})"

    def encrypt(self, credentials: Credentials, *, account_id: int) -> bytes:
        """Nonce ‖ AES-GCM ciphertext of the credentials as JSON, bound to ``account_id``."""
        plain = json.dumps(
            {
                "api_key": credentials.api_key,
                "secret": credentials.secret,
                "passphrase": credentials.passphrase,
                "wallet_address": credentials.wallet_address,
            }
        ).encode("utf-8")
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plain, _aad(account_id))

    def decrypt(self, blob: bytes, key_id: str, *, account_id: int) -> Credentials:
        """The credentials of ``account_id``, or a ``VaultError`` saying which key they need
        (or that the blob is not this account's)."""
        return self._open(blob, key_id, _aad(account_id))

    def decrypt_unbound(self, blob: bytes, key_id: str) -> Credentials:
        """Credentials sealed before they were bound to an account: only to re-seal them."""
        return self._open(blob, key_id, _LEGACY_AAD)

    def _open(self, blob: bytes, key_id: str, aad: bytes) -> Credentials:
        if key_id != self.key_id:
            raise VaultError(
                f"stored credentials were encrypted with master key {key_id}, but "
                f"LIQWATCH_MASTER_KEY is key {self.key_id}: set the key they were stored with"
            )
        try:
            plain = self._aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], aad)
        except (InvalidTag, ValueError):
            raise VaultError(
                "stored credentials are corrupt, were tampered with, or belong to another "
                "account: link the account again"
            ) from None
        data = json.loads(plain)
        return Credentials(
            api_key=data["api_key"],
            secret=data["secret"],
            passphrase=data["passphrase"],
            wallet_address=data["wallet_address"],
        )

    def open_row(self, row: CredentialRow) -> Credentials:
        """A stored row's credentials, whichever way it was sealed."""
        if row.bound:
            return self.decrypt(row.ciphertext, row.key_id, account_id=row.account_id)
        return self.decrypt_unbound(row.ciphertext, row.key_id)

    def reseal(self, row: CredentialRow, into: Vault | None = None) -> CredentialRow:
        """``row`` sealed again, bound to its account, under ``into`` (default: this key)."""
        target = into or self
        plain = self.open_row(row)
        return CredentialRow(
            row.account_id, target.encrypt(plain, account_id=row.account_id), target.key_id
        )


async def bind_credentials(accounts: Accounts, vault: Vault) -> int:
    """Re-seal every credential stored before migration 0010 so it is bound to its account
    (all or nothing); how many. Run by `liqwatch run` at start-up: SQL has no key to do it."""
    changes = [
        (row, vault.reseal(row)) for row in await accounts.all_credentials() if not row.bound
    ]
    if changes:
        await accounts.replace_credentials(changes)
    return len(changes)
