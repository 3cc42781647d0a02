"""Reading an account's keys for a poll, and what a failed poll does to the account: counted,
blind after a streak, and ``auth_failed`` only once the venue has rejected the key on every
poll for a grace period."""

from __future__ import annotations

from bot.exchanges import Credentials, ExchangeFailure
from bot.security.vault import Vault, VaultError
from engine.domain import AccountStatus, LinkedAccount
from storage import Transaction
from storage.accounts import Accounts


async def record_failure(
    accounts: Accounts,
    tx: Transaction,
    account: LinkedAccount,
    failure: ExchangeFailure,
    at: float,
    *,
    auth_grace_s: float,
    blind_after: int,
) -> AccountStatus | None:
    """Count the failed poll; a key the venue has rejected on every poll for
    ``auth_grace_s`` makes the account AUTH_FAILED (one 401 is not a revoked key). The new
    status, or None if the account is gone."""
    if failure.kind != "auth":
        return await accounts.record_poll_failure(account.id, at, str(failure), blind_after, tx=tx)
    since = await accounts.note_key_rejected(account.id, at, tx=tx)
    if since is None:
        return None
    lasted = at - since
    if lasted >= auth_grace_s:
        error = f"{failure}, on every poll for {lasted:.0f} s: link the account again"
        await accounts.mark_auth_failed(account.id, error, tx=tx)
        return AccountStatus.AUTH_FAILED
    error = (
        f"{failure}, on every poll for {lasted:.0f} s: still polled, and marked auth_failed"
        f" if the key is still rejected after {auth_grace_s:.0f} s"
    )
    return await accounts.record_poll_failure(
        account.id, at, error, blind_after, key_rejected=True, tx=tx
    )


async def read_credentials(accounts: Accounts, vault: Vault, account: LinkedAccount) -> Credentials:
    """What the hub needs to read ``account``: its wallet address or its decrypted keys (a
    missing or unbound row is a ``VaultError`` naming what to do, which fails the poll)."""
    if account.wallet_address:
        return Credentials.wallet(account.wallet_address)
    row = await accounts.system_credentials(account.id)
    if row is None:
        raise VaultError(f"account {account.id} has no stored credentials: link it again")
    if not row.bound:  # `run` re-seals these at start-up; one appearing since is suspect
        raise VaultError(
            f"credentials of account {account.id} are not bound to it: restart "
            "`liqwatch run` to re-seal them, or link the account again"
        )
    return vault.decrypt(row.ciphertext, row.key_id, account_id=account.id)
