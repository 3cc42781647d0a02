"""No plaintext secret survives a full link → poll cycle: not in the database, logs or errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.exchanges import Credentials
from bot.settings import Settings
from tests.bot.exchanges.conftest import PASSPHRASE, SECRET, link
from tests.bot.monitor.conftest import World


def _database_bytes(path: Path) -> bytes:
    """The database file and its WAL/SHM companions, as raw bytes."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


async def test_secrets_never_reach_the_database_logs_or_errors(
    world: World, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """Link OKX (key, secret, passphrase), poll, fail with 5xx, revoke, poll again: grep all."""
    caplog.set_level(logging.DEBUG)
    creds: Credentials = link(world.fake, "okx")
    linked = await world.service.link(world.owner_id, "okx", creds, label="desk")
    events = [await world.monitor.poll(linked.account.id)]
    world.fake.fail("okx", status=500, times=100)
    events.append(await world.monitor.poll(linked.account.id))
    world.fake.failures.clear()
    world.fake.revoke(creds.api_key)
    events.append(await world.monitor.poll(linked.account.id))
    assert [e.failure.kind if e and e.failure else None for e in events] == [
        None,
        "network",
        "auth",
    ]

    secrets = [creds.api_key, SECRET, PASSPHRASE]
    stored = _database_bytes(world.db_path)
    account = await world.monitor.accounts.get(world.owner_id, linked.account.id)
    texts = [caplog.text, *capsys.readouterr(), repr(creds), str(creds), repr(account)]
    texts += [str(e.failure) + repr(e.failure) for e in events if e and e.failure]
    for secret in secrets:
        assert secret.encode() not in stored, f"{secret} found in the database file"
        for text in texts:
            assert secret not in text
    # The fake saw the key (the test could fail): the secrets really were used on the wire.
    assert any(creds.api_key in str(r.headers) for r in world.fake.requests)


def test_settings_repr_hides_the_master_key() -> None:
    """repr/str/format of Settings never show LIQWATCH_MASTER_KEY."""
    settings = Settings.from_env({"LIQWATCH_MASTER_KEY": "MASTER-sentinel-789"})
    assert settings.master_key is not None
    assert settings.master_key.reveal() == "MASTER-sentinel-789"
    for text in (repr(settings), str(settings), f"{settings}", f"{settings.master_key}"):
        assert "MASTER-sentinel-789" not in text
