"""Credential encryption: round trip, wrong key, tampering, another account's blob, malformed
keys, and the re-sealing of credentials stored before they were bound to their account."""

from __future__ import annotations

import pytest

from bot.exchanges import Credentials
from bot.security.vault import Vault, VaultError, generate_key
from bot.settings import Secret

CREDS = Credentials("KEY-sentinel", "SECRET-sentinel", "PASS-sentinel")


def test_round_trip_and_no_plaintext_in_the_ciphertext() -> None:
    """What goes in comes out; the blob contains none of the secrets."""
    vault = Vault(Secret(generate_key()))
    blob = vault.encrypt(CREDS, account_id=7)
    assert vault.decrypt(blob, vault.key_id, account_id=7) == CREDS
    for secret in (b"KEY-sentinel", b"SECRET-sentinel", b"PASS-sentinel"):
        assert secret not in blob


def test_two_encryptions_differ() -> None:
    """A fresh nonce per encryption: equal credentials never give equal ciphertexts."""
    vault = Vault(Secret(generate_key()))
    assert vault.encrypt(CREDS, account_id=7) != vault.encrypt(CREDS, account_id=7)


def test_the_wrong_master_key_is_named_not_a_traceback() -> None:
    """Decrypting with another key says which key the credentials need."""
    old, new = Vault(Secret(generate_key())), Vault(Secret(generate_key()))
    with pytest.raises(VaultError, match=old.key_id):
        new.decrypt(old.encrypt(CREDS, account_id=7), old.key_id, account_id=7)


def test_tampering_is_detected() -> None:
    """One flipped byte fails authentication with a clear sentence."""
    vault = Vault(Secret(generate_key()))
    blob = bytearray(vault.encrypt(CREDS, account_id=7))
    blob[-1] ^= 1
    with pytest.raises(VaultError, match="corrupt, were tampered with"):
        vault.decrypt(bytes(blob), vault.key_id, account_id=7)


def test_a_blob_does_not_decrypt_for_another_account() -> None:
    """Copied into another account's row (a database write, a backup restored over it), the
    ciphertext fails authentication: it is bound to the account it was sealed for."""
    vault = Vault(Secret(generate_key()))
    blob = vault.encrypt(CREDS, account_id=7)
    with pytest.raises(VaultError, match="belong to another account"):
        vault.decrypt(blob, vault.key_id, account_id=8)


@pytest.mark.parametrize("key", ["short", "!!!!", generate_key()[:-4]])
def test_a_malformed_master_key_is_refused(key: str) -> None:
    """Anything but 32 bytes of URL-safe base64 points at `liqwatch genkey`."""
    with pytest.raises(VaultError, match="liqwatch genkey"):
        Vault(Secret(key))


def test_the_vault_repr_shows_only_the_key_id() -> None:
    """repr(vault) never shows the key."""
    key = generate_key()
    assert key not in repr(Vault(Secret(key)))
