"""Where tests get PostgreSQL: LIQWATCH_TEST_POSTGRES_URL (default the local server's ``test``
database), one fresh schema per test, dropped after it. Without a server the test is skipped
with a one-line reason, so the suite still passes on a laptop without PostgreSQL."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg  # type: ignore[import-untyped]
import pytest

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def server_url() -> str:
    return os.environ.get("LIQWATCH_TEST_POSTGRES_URL", DEFAULT_URL)


@asynccontextmanager
async def postgres_schema() -> AsyncIterator[str]:
    """A URL whose connections live in a new, empty schema (via ``search_path``)."""
    url = server_url()
    try:
        admin = await asyncpg.connect(url, timeout=3)
    except (OSError, asyncpg.exceptions.PostgresError, TimeoutError) as exc:
        reason = f"no PostgreSQL at {url} ({type(exc).__name__})"
        pytest.skip(f"{reason}: set LIQWATCH_TEST_POSTGRES_URL to one")
    schema = f"lw_{secrets.token_hex(6)}"
    try:
        await admin.execute(f"CREATE SCHEMA {schema}")
        joiner = "&" if "?" in url else "?"
        yield f"{url}{joiner}search_path={schema}"
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()
