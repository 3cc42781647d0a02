"""Credentials bound to their account: a ciphertext moved to another account's row does not
decrypt there, and what older versions stored is re-sealed by `liqwatch run` at start-up."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sqlite3
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.exchanges import Credentials
from bot.runtime.app import run
from bot.security.vault import Vault, VaultError, bind_credentials, generate_key
from bot.settings import Secret, Settings
from engine.domain import Platform
from storage import Database
from storage.accounts import Accounts
from storage.migrate import load_migrations
from storage.users import Users
from tests.bot.monitor.conftest import World
from tests.fakes.exchange import FakeExchange

ALICE = Credentials("KEY-alice-sentinel", "SECRET-alice-sentinel")
BOB = Credentials("KEY-bob-sentinel", "SECRET-bob-sentinel")


def _sealed_the_old_way(master_key: str, credentials: Credentials) -> bytes:
    """Exactly what liqwatch stored before migration 0010: the purpose as the only
    authenticated data, so the blob decrypted for any account."""
    plain = json.dumps(
        {
            "api_key": credentials.api_key,
            "secret": credentials.secret,
            "passphrase": credentials.passphrase,
            "wallet_address": credentials.wallet_address,
        }
    ).encode("utf-8")
    nonce = os.urandom(12)
    aead = AESGCM(base64.urlsafe_b64decode(master_key))
    return nonce + aead.encrypt(nonce, plain, b"liqwatch/credentials/v1")


async def _old_database(path: Path, master_key: str) -> tuple[int, int]:
    """Two accounts whose credentials an older liqwatch sealed (unbound)."""
    vault = Vault(Secret(master_key))
    async with Database.open(path) as db:
        user = await Users(db).ensure(Platform.CONSOLE, "ops", "ops", None, now=time.time())
        ids = []
        for label, creds in (("alice", ALICE), ("bob", BOB)):
            account = await Accounts(db).add(
                user.id, "bybit", label, ciphertext=b"placeholder", key_id=vault.key_id,
                now=time.time(),
            )  # fmt: skip
            ids.append(account.id)
            async with db.transaction() as tx:
                await tx.execute(
                    "UPDATE credentials SET ciphertext = ?, bound = 0 WHERE account_id = ?",
                    (_sealed_the_old_way(master_key, creds), account.id),
                )
    return ids[0], ids[1]


def _copy_ciphertext(path: Path, source: int, target: int) -> None:
    """The attack: one account's sealed credentials written into another account's row."""
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE credentials SET ciphertext = (SELECT ciphertext FROM credentials"
            " WHERE account_id = ?) WHERE account_id = ?",
            (source, target),
        )
    conn.close()


async def test_old_credentials_are_re_sealed_bound_and_a_copied_one_then_fails(
    tmp_path: Path,
) -> None:
    """The upgrade keeps every credential readable (for its own account) and leaves none
    that another account's row could borrow."""
    path, key = tmp_path / "liqwatch.db", generate_key()
    alice, bob = await _old_database(path, key)
    vault = Vault(Secret(key))
    async with Database.open(path) as db:
        assert await bind_credentials(Accounts(db), vault) == 2
        assert await bind_credentials(Accounts(db), vault) == 0  # idempotent
        rows = {row.account_id: row for row in await Accounts(db).all_credentials()}
    assert all(row.bound for row in rows.values())
    assert vault.open_row(rows[alice]) == ALICE and vault.open_row(rows[bob]) == BOB
    _copy_ciphertext(path, alice, bob)
    async with Database.open(path) as db:
        stolen = await Accounts(db).system_credentials(bob)
    assert stolen is not None
    with pytest.raises(VaultError, match="belong to another account"):
        vault.open_row(stolen)


async def test_liqwatch_run_re_seals_at_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeExchange
) -> None:
    """The migration's data half: the real `run` binds the old rows before it polls (the
    fake exchange answers its first polls: no request leaves the machine)."""
    monkeypatch.chdir(tmp_path)
    path, key = tmp_path / "liqwatch.db", generate_key()
    await _old_database(path, key)
    stop = asyncio.Event()
    stop.set()  # start up, then stop at once
    settings = Settings(db_path=path, master_key=Secret(key), exchange_url_prefix=fake.url)
    await run(settings, stop=stop)
    with sqlite3.connect(path) as conn:
        bound = [r[0] for r in conn.execute("SELECT bound FROM credentials")]
    conn.close()
    assert bound == [1, 1]


async def test_a_poll_of_an_account_holding_another_ones_credentials_fails(
    world: World,
) -> None:
    """End to end: the copied blob makes the victim's poll fail with the vault's sentence,
    and the other account's key is never used for it."""
    first = await world.link("bybit", 0)
    second = await world.link("bybit", 1)
    _copy_ciphertext(world.db_path, first.id, second.id)
    sent_before = len(world.fake.requests)
    event = await world.monitor.poll(second.id)
    assert event is not None and event.failure is not None
    assert "belong to another account" in str(event.failure)
    assert len(world.fake.requests) == sent_before  # the borrowed key never reached the venue


async def test_migration_0010_marks_what_was_stored_before_it_unbound(tmp_path: Path) -> None:
    """A credential row written at schema 9 comes out of the migration unbound (bound = 0),
    so the start-up re-seal finds it; rows written since are bound."""
    path = tmp_path / "liqwatch.db"
    async with Database.open(path, migrations=load_migrations()[:9]) as db:
        user = await Users(db).ensure(Platform.CONSOLE, "ops", "ops", None, now=time.time())
        async with db.transaction() as tx:
            account_id = await tx.insert(
                "INSERT INTO accounts (owner_id, venue, label, created_at) VALUES (?, ?, ?, ?)",
                (user.id, "bybit", "old", time.time()),
            )
            await tx.execute(
                "INSERT INTO credentials (account_id, ciphertext, key_id) VALUES (?, ?, ?)",
                (account_id, b"sealed-long-ago", "k1"),
            )
    async with Database.open(path) as db:
        old = await Accounts(db).system_credentials(account_id)
        fresh = await Accounts(db).add(
            user.id, "bybit", "new", ciphertext=b"sealed-now", key_id="k1", now=time.time()
        )
        new = await Accounts(db).system_credentials(fresh.id)
    assert old is not None and not old.bound
    assert new is not None and new.bound
