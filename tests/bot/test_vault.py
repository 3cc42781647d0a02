"""Credential encryption: round trip, wrong key, tampering, malformed keys."""

from __future__ import annotations

import pytest

from bot.exchanges import Credentials
from bot.settings import Secret
from bot.vault import Vault, VaultError, generate_key

CREDS = Credentials("KEY-sentinel", "SECRET-sentinel", "PASS-sentinel")


def test_round_trip_and_no_plaintext_in_the_ciphertext() -> None:
    """What goes in comes out; the blob contains none of the secrets."""
    vault = Vault(Secret(generate_key()))
    blob = vault.encrypt(CREDS)
    assert vault.decrypt(blob, vault.key_id) == CREDS
    for secret in (b"KEY-sentinel", b"SECRET-sentinel", b"PASS-sentinel"):
        assert secret not in blob


def test_two_encryptions_differ() -> None:
    """A fresh nonce per encryption: equal credentials never give equal ciphertexts."""
    vault = Vault(Secret(generate_key()))
    assert vault.encrypt(CREDS) != vault.encrypt(CREDS)


def test_the_wrong_master_key_is_named_not_a_traceback() -> None:
    """Decrypting with another key says which key the credentials need."""
    old, new = Vault(Secret(generate_key())), Vault(Secret(generate_key()))
    with pytest.raises(VaultError, match=old.key_id):
        new.decrypt(old.encrypt(CREDS), old.key_id)


def test_tampering_is_detected() -> None:
    """One flipped byte fails authentication with a clear sentence."""
    vault = Vault(Secret(generate_key()))
    blob = bytearray(vault.encrypt(CREDS))
    blob[-1] ^= 1
    with pytest.raises(VaultError, match="corrupt or were tampered"):
        vault.decrypt(bytes(blob), vault.key_id)


@pytest.mark.parametrize("key", ["short", "!!!!", generate_key()[:-4]])
def test_a_malformed_master_key_is_refused(key: str) -> None:
    """Anything but 32 bytes of URL-safe base64 points at `liqwatch genkey`."""
    with pytest.raises(VaultError, match="liqwatch genkey"):
        Vault(Secret(key))


def test_the_vault_repr_shows_only_the_key_id() -> None:
    """repr(vault) never shows the key."""
    key = generate_key()
    assert key not in repr(Vault(Secret(key)))
