"""Operator commands: genkey, rotate-key and `accounts add|list|remove` through the CLI."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from bot.cli import main
from bot.exchanges import Credentials
from bot.ops import operator
from bot.security.vault import Vault, VaultError, generate_key
from bot.settings import Secret, Settings
from engine.domain import Platform
from storage import Database
from storage.accounts import Accounts
from storage.credentials import CredentialRow
from storage.users import Users
from tests.bot.exchanges.conftest import SECRET
from tests.fakes.exchange import FakeExchange

CREDS = Credentials("KEY-op", "SECRET-op")


async def _seed(db_path: Path, vault: Vault) -> int:
    async with Database.open(str(db_path)) as db:
        user = await Users(db).ensure(Platform.CONSOLE, "ops", "ops", None, now=time.time())
        account = await Accounts(db).add(
            user.id,
            "bybit",
            "desk",
            ciphertext=lambda account_id: vault.encrypt(CREDS, account_id=account_id),
            key_id=vault.key_id,
            now=time.time(),
        )
    return account.id


async def _stored(db_path: Path) -> CredentialRow:
    async with Database.open(str(db_path)) as db:
        rows = await Accounts(db).all_credentials()
    return rows[0]


def test_genkey_prints_a_usable_master_key(capsys: pytest.CaptureFixture[str]) -> None:
    """`liqwatch genkey` prints one key the vault accepts."""
    assert main(["genkey"]) == 0
    Vault(Secret(capsys.readouterr().out.strip()))


def test_rotate_key_re_encrypts_every_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """After rotation the new key decrypts the credentials and the old one no longer can."""
    db_path = tmp_path / "l.db"
    old_key, new_key = generate_key(), generate_key()
    asyncio.run(_seed(db_path, Vault(Secret(old_key))))
    monkeypatch.setenv("LIQWATCH_DB", str(db_path))
    monkeypatch.setenv("LIQWATCH_MASTER_KEY", old_key)
    monkeypatch.setenv("LIQWATCH_NEW_MASTER_KEY", new_key)
    assert main(["rotate-key"]) == 0
    assert "re-encrypted 1 credentials" in capsys.readouterr().out
    row = asyncio.run(_stored(db_path))
    assert row.bound and Vault(Secret(new_key)).open_row(row) == CREDS
    with pytest.raises(VaultError):
        Vault(Secret(old_key)).open_row(row)


def test_rotate_key_without_a_new_key_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No LIQWATCH_NEW_MASTER_KEY: exit 2 naming it, nothing changed."""
    monkeypatch.setenv("LIQWATCH_DB", str(tmp_path / "l.db"))
    monkeypatch.setenv("LIQWATCH_MASTER_KEY", generate_key())
    monkeypatch.delenv("LIQWATCH_NEW_MASTER_KEY", raising=False)
    assert main(["rotate-key"]) == 2
    assert "LIQWATCH_NEW_MASTER_KEY" in capsys.readouterr().err


def test_accounts_list_and_remove(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """list shows the account with its status; remove deletes it; a second remove is refused."""
    db_path = tmp_path / "l.db"
    account_id = asyncio.run(_seed(db_path, Vault(Secret(generate_key()))))
    monkeypatch.setenv("LIQWATCH_DB", str(db_path))
    assert main(["accounts", "list"]) == 0
    listed = capsys.readouterr().out
    assert "desk" in listed and "bybit" in listed and "active" in listed
    assert main(["accounts", "remove", str(account_id)]) == 0
    assert main(["accounts", "remove", str(account_id)]) == 2
    assert "no account with id" in capsys.readouterr().err


async def test_accounts_add_validates_against_the_venue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operator-linked key is validated by a real read and stored encrypted."""
    async with FakeExchange() as fake:
        fake.add_account("bybit", api_key="KEY-ops-1", secret=SECRET)
        monkeypatch.setenv("LIQWATCH_API_KEY", "KEY-ops-1")
        monkeypatch.setenv("LIQWATCH_API_SECRET", SECRET)
        key = generate_key()
        settings = Settings(
            db_path=tmp_path / "l.db", master_key=Secret(key), exchange_url_prefix=fake.url
        )
        out = await operator.accounts_add(settings, "bybit", "team", None, None)
        assert 'linked bybit account 1 "team"' in out
        row = await _stored(settings.db_path)
        assert row.bound and Vault(Secret(key)).open_row(row).api_key == "KEY-ops-1"


def test_run_refuses_to_start_without_a_master_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`liqwatch run` with no LIQWATCH_MASTER_KEY exits 2 with one line naming the fix."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.delenv("LIQWATCH_MASTER_KEY", raising=False)
    monkeypatch.setenv("LIQWATCH_DB", str(tmp_path / "l.db"))
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "liqwatch genkey" in err
    assert not (tmp_path / "l.db").exists()


def test_a_file_that_is_not_a_database_is_one_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """LIQWATCH_DB pointing at some other file: exit 2, one line naming it and what to do."""
    wrong = tmp_path / "notes.txt"
    wrong.write_text("not a database " * 200)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LIQWATCH_DB", str(wrong))
    monkeypatch.setenv("LIQWATCH_MASTER_KEY", generate_key())
    assert main(["accounts", "list"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and str(wrong) in lines[0]
    assert "not a liqwatch database" in lines[0] and "check LIQWATCH_DB" in lines[0]


@pytest.mark.slow
def test_a_database_locked_past_the_busy_timeout_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A backup holding the write lock while `accounts remove` runs: exit 2 after the busy
    timeout with one line naming the file, and the account is still there afterwards."""
    db_path = tmp_path / "l.db"
    key = generate_key()
    account_id = asyncio.run(_seed(db_path, Vault(Secret(key))))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LIQWATCH_DB", str(db_path))
    monkeypatch.setenv("LIQWATCH_MASTER_KEY", key)
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        assert main(["accounts", "remove", str(account_id)]) == 2
    finally:
        other.rollback()
        other.close()
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and f"{db_path} is locked by another writer" in lines[0]
    assert asyncio.run(_stored(db_path)).account_id == account_id


def test_pause_and_resume_an_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`accounts pause` takes an account out of polling, `resume` puts it back (failures
    reset); resuming an account that is not paused says why."""
    db_path = tmp_path / "l.db"
    key = generate_key()
    account_id = asyncio.run(_seed(db_path, Vault(Secret(key))))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LIQWATCH_DB", str(db_path))
    monkeypatch.setenv("LIQWATCH_MASTER_KEY", key)
    assert main(["accounts", "pause", str(account_id)]) == 0
    assert main(["accounts", "list"]) == 0
    assert "paused" in capsys.readouterr().out
    assert main(["accounts", "resume", str(account_id)]) == 0
    assert main(["accounts", "resume", str(account_id)]) == 2
    err = capsys.readouterr().err
    assert "is active: only a paused account can be resumed" in err
