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

#: Binds ciphertexts to their purpose: a blob from elsewhere never decrypts as credentials.
_AAD = b"liqwatch/credentials/v1"
_NONCE_BYTES = 12


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

    def encrypt(self, credentials: Credentials) -> bytes:
        """Nonce ‖ AES-GCM ciphertext of the credentials as JSON."""
        plain = json.dumps(
            {
                "api_key": credentials.api_key,
                "secret": credentials.secret,
                "passphrase": credentials.passphrase,
                "wallet_address": credentials.wallet_address,
            }
        ).encode("utf-8")
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plain, _AAD)

    def decrypt(self, blob: bytes, key_id: str) -> Credentials:
        """The credentials, or a ``VaultError`` saying which key they need."""
        if key_id != self.key_id:
            raise VaultError(
                f"stored credentials were encrypted with master key {key_id}, but "
                f"LIQWATCH_MASTER_KEY is key {self.key_id}: set the key they were stored with"
            )
        try:
            plain = self._aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], _AAD)
        except (InvalidTag, ValueError):
            raise VaultError("stored credentials are corrupt or were tampered with") from None
        data = json.loads(plain)
        return Credentials(
            api_key=data["api_key"],
            secret=data["secret"],
            passphrase=data["passphrase"],
            wallet_address=data["wallet_address"],
        )
