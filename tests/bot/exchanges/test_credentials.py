"""Credentials never show a secret in repr or str."""

from __future__ import annotations

from bot.exchanges import Credentials


def test_repr_hides_key_secret_and_passphrase() -> None:
    """repr/str show that secrets are set, never their value (not even a prefix)."""
    credentials = Credentials("abcd-KEY-sentinel", "SECRET-sentinel-123", "PASS-sentinel")
    for text in (repr(credentials), str(credentials), f"{credentials}"):
        for secret in ("abcd", "sentinel", "SECRET", "PASS-"):
            assert secret not in text
        assert "'***'" in text


def test_wallet_address_is_public() -> None:
    """A tracked wallet's address is public and shown; there is no private-key field at all."""
    credentials = Credentials.wallet("0x" + "a" * 40)
    assert "0x" + "a" * 40 in repr(credentials)
    assert not hasattr(credentials, "private_key")
