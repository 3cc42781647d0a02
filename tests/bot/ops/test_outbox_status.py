"""`liqwatch accounts list` ends with the outbox: rows per status and possible duplicates."""

from __future__ import annotations

from pathlib import Path

from bot.ops.operator import accounts_list
from bot.settings import Settings
from storage import Database
from storage.outbox import Outbox
from tests.fakes.notices import message

NOW = 1_700_000_000.0


async def test_the_listing_counts_rows_re_sent_after_a_lapsed_lease(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    async with Database.open(path) as db:
        outbox = Outbox(db)
        await outbox.enqueue([message(key="a"), message(key="b")], now=NOW)
        assert "possible duplicates" not in await accounts_list(Settings(db_path=path))
        [a, _] = await outbox.claim(NOW, 10, 15.0)
        await outbox.mark_sent(a.id, NOW + 1.0, "m-1")
        await outbox.claim(NOW + 20.0, 10, 15.0)  # b's first claim lapsed unrecorded
    listed = await accounts_list(Settings(db_path=path))
    assert listed.splitlines()[-1] == (
        "OUTBOX: 1 pending, 1 sent, 0 dead;"
        " re-sent after a lapsed lease (possible duplicates): 1 telegram"
    )
