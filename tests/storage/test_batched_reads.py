"""The alert stage's batched reads (one query per table for a tick batch's accounts) give each
account exactly what it would get alone: its own rules, silences, chats and live alerts, never
another owner's."""

from __future__ import annotations

from engine.alerts.quiet import QuietHours
from engine.alerts.rules import Kind, Op, RuleSpec
from engine.domain import LinkedAccount, Platform, User
from storage.accounts import Accounts
from storage.alerts import Alerts
from storage.chats import Chats
from storage.db import Database
from storage.rules import Rules
from storage.shares import Shares
from tests.storage.conftest import NOW


async def test_rules_in_scope_many_keeps_each_owner_and_account_apart(
    db: Database, accounts: Accounts, alice: User, bob: User, alice_account: LinkedAccount,
    bob_account: LinkedAccount,
) -> None:  # fmt: skip
    rules = Rules(db)
    second = await accounts.add(alice.id, "bybit", "second", ciphertext=b"x", key_id="k1", now=NOW)
    everywhere = await rules.add(alice.id, None, RuleSpec(Kind.LIQ, Op.BELOW, 8.0), now=NOW)
    only_main = await rules.add(
        alice.id, alice_account.id, RuleSpec(Kind.MARGIN, Op.ABOVE, 80.0), now=NOW
    )
    bobs = await rules.add(bob.id, bob_account.id, RuleSpec(Kind.LIQ, Op.BELOW, 3.0), now=NOW)
    pairs = [(alice.id, alice_account.id), (alice.id, second.id), (bob.id, bob_account.id)]
    got = {
        pair: [r.id for r in found] for pair, found in (await rules.in_scope_many(pairs)).items()
    }
    for owner, account in pairs:  # each account's defaults, and the owner's rules for all
        alone = [r.id for r in await rules.list_for(owner) if r.account_id in (None, account)]
        assert got[(owner, account)] == alone
    assert {everywhere.id, only_main.id} <= set(got[(alice.id, alice_account.id)])
    assert everywhere.id in got[(alice.id, second.id)]
    assert only_main.id not in got[(alice.id, second.id)]
    assert bobs.id in got[(bob.id, bob_account.id)]
    assert everywhere.id not in got[(bob.id, bob_account.id)]


async def test_silences_many_are_each_owners_own_and_still_in_force(
    db: Database, alice: User, bob: User
) -> None:
    alerts = Alerts(db)
    over = await alerts.add_silence(alice.id, {"symbol": "BTC"}, starts_at=NOW - 20, ends_at=NOW)
    alices = await alerts.add_silence(alice.id, {"symbol": "ETH"}, starts_at=NOW, ends_at=NOW + 60)
    bobs = await alerts.add_silence(bob.id, {"symbol": "SOL"}, starts_at=NOW, ends_at=NOW + 60)
    got = await alerts.silences_many([alice.id, bob.id, 999], NOW)
    assert [s.id for s in got[alice.id]] == [alices.id] and over.id not in got[alice.id]
    assert [s.id for s in got[bob.id]] == [bobs.id]
    assert got[999] == []


async def test_recipients_many_reach_the_owners_chats_then_the_accounts_groups(
    db: Database, accounts: Accounts, alice: User, bob: User, alice_account: LinkedAccount,
    bob_account: LinkedAccount,
) -> None:  # fmt: skip
    alerts = Alerts(db)
    second = await accounts.add(alice.id, "bybit", "second", ciphertext=b"x", key_id="k1", now=NOW)
    shares = Shares(db)
    await shares.add(Platform.TELEGRAM, "-100", alice_account.id, alice.id, thread_id="7", now=NOW)
    await shares.add(Platform.DISCORD, "g-1", bob_account.id, bob.id, thread_id=None, now=NOW)
    await Chats(db).set_quiet(Platform.DISCORD, "g-1", QuietHours("22:00", "07:00", "UTC", False))
    pairs = [
        (alice.id, alice_account.id), (alice.id, second.id), (bob.id, bob_account.id),
        (alice.id, None),
    ]  # fmt: skip
    got = await alerts.recipients_many(pairs)
    chats = {pair: [(c.platform, c.chat_id) for c in got[pair]] for pair in pairs}
    assert chats[(alice.id, alice_account.id)] == [
        (Platform.TELEGRAM, "1001"),
        (Platform.TELEGRAM, "-100#7"),
    ]
    assert chats[(alice.id, second.id)] == [(Platform.TELEGRAM, "1001")]
    assert chats[(alice.id, None)] == [(Platform.TELEGRAM, "1001")]
    assert chats[(bob.id, bob_account.id)] == [
        (Platform.DISCORD, "dm-2002"),
        (Platform.DISCORD, "g-1"),
    ]
    group = got[(bob.id, bob_account.id)][1]
    assert group.quiet is not None and group.quiet.start == "22:00"


async def test_live_many_groups_each_accounts_live_episodes(
    db: Database, alice_account: LinkedAccount, bob_account: LinkedAccount
) -> None:
    alerts = Alerts(db)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO alerts (id, rule_id, account_id, key, status, since, polls, value, worst)"
            " VALUES (1, 1, ?, 'BTC:long', 'firing', ?, 1, 3, 3),"
            " (2, 1, ?, 'ETH:long', 'resolved', ?, 1, 20, 3),"
            " (3, 1, ?, 'SOL:short', 'pending', ?, 1, 4, 4)",
            (alice_account.id, NOW, alice_account.id, NOW, bob_account.id, NOW),
        )
    got = await alerts.live_many([alice_account.id, bob_account.id, 12345])
    assert [a.id for a in got[alice_account.id]] == [1]
    assert [a.id for a in got[bob_account.id]] == [3]
    assert got[12345] == []
