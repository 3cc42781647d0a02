"""Migration 0011: refs stored at schema 10 rewritten to each venue's own key, and the
Hyperliquid funding days that lost payments forgotten so the ledger reads them again."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.domain import Platform
from storage.accounts import Accounts
from storage.db import Database
from storage.flows import Flows, StoredFlow
from storage.migrate import load_migrations
from storage.users import Users
from tests.storage.conftest import NOW

FH = "fetch_funding_history"
#: What the old code stored for every Hyperliquid funding payment: the zero hash.
ZERO = f"{FH}:0x" + "0" * 64
#: Times with milliseconds, as the venues send them.
T1, T2 = 1_734_026_400_057, 1_734_030_000_001
#: (ref, time in ms, symbol, amount) of one stored flow.
Row = tuple[str, int, str, float]


@dataclass(frozen=True)
class Old:
    """Account ids of the schema-10 database."""

    usdm: int
    coinm: int
    bybit: int
    wallet: int
    #: A wallet whose funding once came with distinct hashes, two of them for one payment.
    hashed: int


async def _record(db: Database, account: int, kind: str, rows: list[Row]) -> None:
    flows = [
        StoredFlow(account, kind, ref, ms / 1000, symbol, symbol.rpartition(":")[2], amount)
        for ref, ms, symbol, amount in rows
    ]
    await Flows(db).record(account, kind, flows, since=NOW - 86_400, until=NOW)


async def _accounts(db: Database) -> Old:
    user = await Users(db).ensure(Platform.TELEGRAM, "1", "alice", "1", now=NOW)
    accounts = Accounts(db)

    async def keyed(venue: str) -> int:
        added = await accounts.add(
            user.id, venue, venue, ciphertext=b"sealed", key_id="k1", now=NOW
        )
        return added.id

    async def wallet(label: str, address: str) -> int:
        added = await accounts.add(user.id, "hyperliquid", label, wallet_address=address, now=NOW)
        return added.id

    return Old(
        usdm=await keyed("binanceusdm"),
        coinm=await keyed("binancecoinm"),
        bybit=await keyed("bybit"),
        wallet=await wallet("hl", "0xa"),
        hashed=await wallet("hl2", "0xb"),
    )


@pytest.fixture
async def old(db_path: Path) -> Old:
    """A database at schema 10 holding the refs the old code stored, each kind covered."""
    async with Database.open(db_path, migrations=load_migrations()[:10]) as db:
        assert await db.schema_version() == 10
        ids = await _accounts(db)
        await _record(db, ids.usdm, "funding", [(f"{FH}:101", T1, "BTC/USDT:USDT", -1.5)])
        await _record(db, ids.usdm, "realised", [
            (f"{FH}:101", T1, "BTC/USDT:USDT", 80.0),
            (f"{FH}:102", T2, "ETH/USDT:USDT", -4.0),
        ])  # fmt: skip
        await _record(db, ids.coinm, "realised", [(f"{FH}:201", T1, "BTC/USD:BTC", -0.002)])
        await _record(db, ids.bybit, "funding", [(f"{FH}:8d1ef156-4ec6", T1, "BTC/USDT:USDT", 1.5)])
        await _record(db, ids.bybit, "realised", [
            ("fetch_positions_history:a11e5fe2-1dbf", T2, "XRP/USDT:USDT", 12.0),
        ])  # fmt: skip
        await _record(db, ids.wallet, "funding", [(ZERO, T1, "SOL/USDC:USDC", -0.75)])
        await _record(db, ids.wallet, "realised", [
            ("fetch_my_trades:128423918764978", T2, "ETH/USDC:USDC", 31.5),
        ])  # fmt: skip
        await _record(db, ids.hashed, "funding", [
            (f"{FH}:0xaa", T1, "SOL/USDC:USDC", -0.5),
            (f"{FH}:0xbb", T1, "BTC/USDC:USDC", -0.25),
            (f"{FH}:0xcc", T1, "SOL/USDC:USDC", -0.5),  # the 0xaa payment again
            (f"{FH}:0xdd", T2, "SOL/USDC:USDC", -0.5),
        ])  # fmt: skip
    return ids


async def _refs(db_path: Path, account: int) -> list[tuple[str, str, float]]:
    """(kind, ref, amount) of the account's flows after opening with every migration."""
    async with Database.open(db_path) as db:
        assert await db.schema_version() >= 11  # 0011 and every later one
        rows = await db.fetchall(
            "SELECT kind, ref, amount FROM account_flows WHERE account_id = ? ORDER BY kind, ref",
            (account,),
        )
    return [(str(r["kind"]), str(r["ref"]), float(r["amount"])) for r in rows]


async def test_binance_refs_get_the_income_type_of_their_kind(db_path: Path, old: Old) -> None:
    """A tranId is unique per income type only: the type read for the row's kind joins it."""
    assert await _refs(db_path, old.usdm) == [
        ("funding", f"{FH}:101:FUNDING_FEE", -1.5),
        ("realised", f"{FH}:101:REALIZED_PNL", 80.0),
        ("realised", f"{FH}:102:REALIZED_PNL", -4.0),
    ]
    assert await _refs(db_path, old.coinm) == [("realised", f"{FH}:201:REALIZED_PNL", -0.002)]


async def test_hyperliquid_funding_refs_become_time_and_coin(db_path: Path, old: Old) -> None:
    """The kept zero-hash payment is keyed by its time in ms and its coin, as a re-read keys it;
    fills keep their tid."""
    assert await _refs(db_path, old.wallet) == [
        ("funding", f"{FH}:{T1}:SOL", -0.75),
        ("realised", "fetch_my_trades:128423918764978", 31.5),
    ]


async def test_two_rows_of_one_hyperliquid_payment_become_one(db_path: Path, old: Old) -> None:
    """Rows with the same time and coin are one payment: the first stored stays, and the new
    primary key never collides."""
    assert await _refs(db_path, old.hashed) == [
        ("funding", f"{FH}:{T1}:BTC", -0.25),
        ("funding", f"{FH}:{T1}:SOL", -0.5),
        ("funding", f"{FH}:{T2}:SOL", -0.5),
    ]


async def test_refs_already_unique_on_their_venue_are_left_alone(db_path: Path, old: Old) -> None:
    """Bybit's execId and orderId were the venue's keys already."""
    assert await _refs(db_path, old.bybit) == [
        ("funding", f"{FH}:8d1ef156-4ec6", 1.5),
        ("realised", "fetch_positions_history:a11e5fe2-1dbf", 12.0),
    ]


async def test_only_hyperliquid_funding_coverage_is_forgotten(db_path: Path, old: Old) -> None:
    """The dropped payments are unknown, so that day is no longer read whole: the ledger reads
    it again. Every other kind and venue keeps its window."""
    async with Database.open(db_path) as db:
        coverage = await Flows(db).coverage(list(vars(old).values()))
    assert sorted((c.account_id, c.kind) for c in coverage) == sorted([
        (old.usdm, "funding"),
        (old.usdm, "realised"),
        (old.coinm, "realised"),
        (old.bybit, "funding"),
        (old.bybit, "realised"),
        (old.wallet, "realised"),
    ])  # fmt: skip
