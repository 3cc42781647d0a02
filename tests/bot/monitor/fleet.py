"""Many accounts on the fake venues under one real monitor: Hyperliquid wallets and Binance
USDⓈ-M keys whose holdings put each in a chosen poll band, for the scale test and
``benchmarks/scale.py``.

Each account holds one position of the fake's defaults, and the default marks put it in its
band against the default 10 % warning (near within 20 %, far beyond 40 %): SOL is 4.5 %
(Hyperliquid) and 6 % (Binance) from liquidation, BTC 25 % and 32 %, ETH 49 % and 54 %.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.exchanges import Credentials, ExchangeHub
from bot.monitor.cadence import Cadences
from bot.monitor.poller import Monitor
from bot.runtime.assemble import poll_costs
from bot.security.vault import Vault, generate_key
from bot.settings import Secret
from engine.cadence import Band, Bands
from engine.domain import Platform
from storage import Database
from storage.users import Users
from tests.engine.normalise.payloads import binance as pb
from tests.engine.normalise.payloads import hyperliquid as ph
from tests.fakes.exchange import FakeExchange
from tests.fakes.exchange.base import Request

SECRET = "fleet-secret"
#: The one position that puts an account of each venue in each band at the default marks.
HOLDINGS: dict[str, dict[Band, Any]] = {
    "hyperliquid": {Band.NEAR: ph.ASSETS[2], Band.MIDDLE: ph.ASSETS[0], Band.FAR: ph.ASSETS[1]},
    "binanceusdm": {Band.NEAR: pb.LEGS[2], Band.MIDDLE: pb.LEGS[0], Band.FAR: pb.LEGS[1]},
}
#: The request that is an account's poll on each venue (its positions), and whose it is.
POSITIONS = {"hyperliquid": "/info:clearinghouseState", "binanceusdm": "/fapi/v3/positionRisk"}

#: Per venue, how many accounts in each band.
Mix = Mapping[str, Mapping[Band, int]]


@dataclass
class Fleet:
    """The running monitor over the fake venues, and which account is which."""

    fake: FakeExchange
    db: Database
    hub: ExchangeHub
    monitor: Monitor
    db_path: Path
    #: The band each account's holdings put it in.
    wanted: dict[int, Band] = field(default_factory=dict)
    venue_of: dict[int, str] = field(default_factory=dict)
    #: Wallet address (lower case) or API key → account id.
    by_key: dict[str, int] = field(default_factory=dict)

    def polls(self) -> dict[int, list[float]]:
        """When each account's positions were read (the fake's clock, oldest first)."""
        out: dict[int, list[float]] = defaultdict(list)
        for request in self.fake.requests:
            account_id = self._whose(request)
            if account_id is not None:
                out[account_id].append(request.at)
        return out

    def _whose(self, request: Request) -> int | None:
        if POSITIONS.get(request.venue) != request.endpoint:
            return None
        if request.venue == "hyperliquid":
            return self.by_key.get(str(request.json().get("user", "")).lower())
        return self.by_key.get(request.headers.get("X-MBX-APIKEY", ""))


async def _add(fleet: Fleet, vault: Vault, owner_id: int, venue: str, band: Band, n: int) -> None:
    position = HOLDINGS[venue][band]
    label = f"{venue}-{band}-{n}"
    if venue == "hyperliquid":
        address = f"0x{len(fleet.venue_of) + 1:040x}"
        fleet.fake.add_wallet(address, positions=(position,))
        account = await fleet.monitor.accounts.add(
            owner_id, venue, label, wallet_address=address, now=time.time()
        )
        key = address
    else:
        key = f"KEY-{label}"
        fleet.fake.add_account(venue, api_key=key, secret=SECRET, positions=(position,))

        def seal(account_id: int, key: str = key) -> bytes:
            return vault.encrypt(Credentials(key, SECRET), account_id=account_id)

        account = await fleet.monitor.accounts.add(
            owner_id, venue, label, ciphertext=seal, key_id=vault.key_id, now=time.time()
        )
    fleet.wanted[account.id] = band
    fleet.venue_of[account.id] = venue
    fleet.by_key[key] = account.id


@asynccontextmanager
async def fleet(
    tmp_path: Path,
    fake: FakeExchange,
    mix: Mix,
    *,
    bands: Bands | None = None,
    poll_s: float = 30.0,
    snapshot_s: float = 300.0,
) -> AsyncIterator[Fleet]:
    """A monitor over ``mix`` accounts, started (every account due now, as after a restart)
    and kept in step as ``liqwatch run`` does (resync and budget fit every 30 s); near
    accounts are linked first. ``bands`` None polls every account every ``poll_s``."""
    db_path = tmp_path / "liqwatch.db"
    vault = Vault(Secret(generate_key()))
    async with Database.open(str(db_path)) as db, ExchangeHub(fake.url, backoff_s=0.05) as hub:
        monitor = Monitor(
            db=db, hub=hub, vault=vault, poll_s=poll_s, cadences=Cadences(bands),
            snapshot_s=snapshot_s,
        )  # fmt: skip
        monitor.budget_costs = functools.partial(poll_costs, hub, monitor)
        owner = await Users(db).ensure(Platform.TELEGRAM, "1001", "ops", "1001", now=time.time())
        built = Fleet(fake, db, hub, monitor, db_path)
        for band in (Band.NEAR, Band.MIDDLE, Band.FAR):
            for venue, counts in mix.items():
                for n in range(counts.get(band, 0)):
                    await _add(built, vault, owner.id, venue, band, n)
        await monitor.start()
        keeper = asyncio.create_task(monitor.watch())
        try:
            yield built
        finally:
            keeper.cancel()
            await monitor.stop(grace_s=2.0)
