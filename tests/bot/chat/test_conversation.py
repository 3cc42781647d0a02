"""The shared Conversation over a real database: who may press which button where, shares as
alert recipients (with their forum topic), and /start lifting a block."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.accounts.portfolio import PortfolioService
from bot.accounts.service import AccountService
from bot.alerting.service import AlertService
from bot.chat import buttons
from bot.chat.context import Action, ChatContext
from bot.chat.conversation import Conversation
from bot.digest.jobs import DigestJobs
from bot.security.vault import Vault, generate_key
from bot.settings import Secret
from engine.alerts.evaluate import evaluate
from engine.alerts.observe import Observation, Subject, position_key
from engine.alerts.rules import Kind
from engine.domain import AccountStatus, LinkedAccount, Platform
from storage import Database
from storage.accounts import Accounts
from storage.alerts import Alerts
from storage.chats import Chats
from storage.digests import Digests
from storage.outbox import Outbox
from storage.rules import Rules
from storage.users import Users

BTC = "BTC/USDT:USDT"
DESK = "-100777"


@dataclass
class Env:
    db: Database
    conversation: Conversation
    ann: int
    account: LinkedAccount


def _ctx(user: str, chat: str, *, admin: bool = False, thread: str | None = None) -> ChatContext:
    async def is_admin() -> bool:
        return admin

    return ChatContext(Platform.TELEGRAM, user, f"user{user}", chat, chat == user, thread, is_admin)


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with Database.open(str(tmp_path / "db.sqlite")) as db:
        ann = await Users(db).ensure(Platform.TELEGRAM, "1", "Ann", "1", now=time.time())
        account = await Accounts(db).add(ann.id, "bybit", "main", wallet_address="x", now=1.0)
        accounts = AccountService(db, None, Vault(Secret(generate_key())))  # type: ignore[arg-type]
        conversation = Conversation(db, accounts, AlertService(db), PortfolioService(accounts, {}))
        yield Env(db, conversation, ann.id, account)


async def _fire(env: Env) -> list[int]:
    """A critical liquidation alert on Ann's account, queued to every recipient; outbox ids."""
    subject = Subject(position_key(BTC, "long"), {Kind.LIQ: 3.0}, BTC, "BTC", "long")
    obs = Observation(
        env.account, time.time(), AccountStatus.ACTIVE, True, (Subject("", {}), subject)
    )
    async with env.db.transaction() as tx:
        result = evaluate(
            obs,
            rules=await Rules(tx.db).in_scope(env.ann, env.account.id, tx=tx),
            alerts=[],
            chats=await Alerts(tx.db).recipients(env.ann, env.account.id, tx=tx),
            next_id=await Alerts(tx.db).next_id(tx=tx),
        )
        await Alerts(tx.db).apply(result, tx=tx)
        await Outbox(tx.db).enqueue(result.messages, now=time.time(), tx=tx)
    rows = await env.db.fetchall("SELECT id, chat_id FROM outbox ORDER BY id")
    return [int(r["id"]) for r in rows]


async def test_a_share_makes_the_group_topic_a_recipient(env: Env) -> None:
    """/share in a forum topic: the account's alerts go to the owner's chat and that topic."""
    reply = await env.conversation.handle(_ctx("1", DESK, admin=True, thread="42"), "/share main")
    assert "is now shared" in reply.text
    await _fire(env)
    rows = await env.db.fetchall("SELECT chat_id FROM outbox ORDER BY id")
    assert [r["chat_id"] for r in rows] == ["1", f"{DESK}#42"]


async def _acked(env: Env) -> dict[int, bool]:
    """Rule id → whether its live alert is acknowledged."""
    live = await env.conversation.alerts.live(env.ann)
    return {v.alert.rule_id: v.alert.acked_at is not None for v in live}


def _button(action: Action, row_or_account: int) -> str:
    """The payload of a button naming an outbox row (ack, snooze) or an account (positions)."""
    return buttons.encode(action, outbox_id=row_or_account, account_id=row_or_account)


async def test_a_group_button_needs_the_owner_or_an_admin(env: Env) -> None:
    await env.conversation.handle(_ctx("1", DESK, admin=True), "/share main")
    private_row, group_row = await _fire(env)
    conv = env.conversation

    stranger = await conv.press(_ctx("9", DESK), _button(Action.ACK, group_row))
    assert stranger.notice is None and "owner or this chat's admins" in stranger.toast
    assert await _acked(env) == {1: False, 2: False}

    # The same row pressed from another chat is refused: a button's authority is its chat.
    elsewhere = await conv.press(_ctx("1", "1"), _button(Action.ACK, group_row))
    assert "not from this chat" in elsewhere.toast

    admin = await conv.press(_ctx("9", DESK, admin=True), _button(Action.ACK, group_row))
    assert admin.toast == "Acknowledged." and admin.state and "user9" in admin.state
    # Only what the message showed (the critical, rule 2), not the inhibited warning.
    assert await _acked(env) == {1: False, 2: True}
    assert admin.actions == (Action.POSITIONS,)

    snoozed = await conv.press(_ctx("1", "1"), _button(Action.SNOOZE, private_row))
    assert snoozed.toast == "Snoozed for 1 hour." and Action.ACK in snoozed.actions


async def test_show_positions_only_for_accounts_visible_here(env: Env) -> None:
    conv = env.conversation
    hidden = await conv.press(_ctx("9", DESK), _button(Action.POSITIONS, env.account.id))
    assert hidden.reply is None and "not shared" in hidden.toast
    await conv.handle(_ctx("1", DESK, admin=True), "/share main")
    shown = await conv.press(_ctx("9", DESK), _button(Action.POSITIONS, env.account.id))
    assert shown.reply is not None and "[main] not polled yet" in shown.reply.text
    garbage = await conv.press(_ctx("9", DESK), "rm -rf:x")
    assert garbage.toast == "That button is not one of mine."


async def test_start_after_a_block_targets_the_chat_again(env: Env) -> None:
    chats = Chats(env.db)
    await chats.block(Platform.TELEGRAM, "1", "Forbidden: bot was blocked by the user", at=1.0)
    assert await chats.blocked([(Platform.TELEGRAM, "1")])
    await env.conversation.handle(_ctx("1", "1"), "/start")
    assert not await chats.blocked([(Platform.TELEGRAM, "1")])


class AcceptingHub:
    """Stands in for the exchange: every key is valid (validation has its own tests)."""

    async def validate(self, venue: str, credentials: object) -> list[str]:
        return []


async def test_a_second_link_on_one_venue_gets_a_numbered_label(env: Env) -> None:
    env.conversation.accounts.hub = AcceptingHub()  # type: ignore[assignment]
    first = await env.conversation.handle(_ctx("1", "1"), "/link bybit KEY-one SECRET-one")
    second = await env.conversation.handle(_ctx("1", "1"), "/link bybit KEY-two SECRET-two")
    assert 'Linked bybit as "bybit"' in first.text
    assert 'Linked bybit as "bybit-2"' in second.text
    assert "SECRET" not in first.text + second.text


async def test_watch_echoes_the_wallet_and_labels_it_by_its_address(env: Env) -> None:
    """/watch says which wallet it linked (0x7a3f…c9e1) and labels it hl-7a3f, not
    "hyperliquid", "hyperliquid-2"…; a label already taken takes more of the address."""
    env.conversation.accounts.hub = AcceptingHub()  # type: ignore[assignment]
    first, second, third = (
        "0x7A3F" + "0" * 32 + "C9E1",
        "0x7a3fbb" + "1" * 30 + "dd02",
        "0x51ca" + "2" * 32 + "0003",
    )
    replies = [
        (await env.conversation.handle(_ctx("1", "1"), f"/watch hyperliquid {a}")).text
        for a in (first, second, third)
    ]
    assert replies[0].startswith('Linked hyperliquid wallet 0x7A3F…C9E1 as "hl-7a3f" (#')
    assert replies[1].startswith('Linked hyperliquid wallet 0x7a3f…dd02 as "hl-7a3fbb" (#')
    assert replies[2].startswith('Linked hyperliquid wallet 0x51ca…0003 as "hl-51ca" (#')
    listed = (await env.conversation.handle(_ctx("1", "1"), "/accounts")).text
    assert sorted(line.split()[1] for line in listed.splitlines()) == [
        "hl-51ca", "hl-7a3f", "hl-7a3fbb", "main",
    ]  # fmt: skip


async def test_watching_the_same_wallet_twice_says_under_which_label(env: Env) -> None:
    """The same address again (in any case) is refused with the label it already has."""
    env.conversation.accounts.hub = AcceptingHub()  # type: ignore[assignment]
    address = "0x7a3f" + "0" * 32 + "c9e1"
    await env.conversation.handle(_ctx("1", "1"), f"/watch hyperliquid {address}")
    shouted = "0x" + address[2:].upper()
    again = await env.conversation.handle(_ctx("1", "1"), f"/watch hyperliquid {shouted}")
    assert again.text == 'you already watch 0x7A3F…C9E1 as "hl-7a3f": see /accounts'


@pytest.mark.parametrize(
    ("deleted", "said", "unsaid"),
    [
        (True, "I deleted that message", "could not"),
        (False, "I could not delete that message: delete it yourself", "I deleted"),
        (None, "Send /link to me in a private chat", "delete"),
    ],
)
async def test_link_in_a_group_says_only_what_happened_to_the_message(
    env: Env, deleted: bool | None, said: str, unsaid: str
) -> None:
    """/link in a group: "I deleted that message" only when the adapter deleted it; a failed
    deletion says so, and a platform that posted nothing (Discord) claims nothing. The same
    for a malformed /link, which carried a key all the same."""
    group = replace(_ctx("1", DESK, admin=True), deleted=deleted)
    for text in ("/link bybit KEY-g SECRET-g", "/link bybit SECRET-only"):
        answer = (await env.conversation.handle(group, text)).text
        assert said in answer and unsaid not in answer and "SECRET" not in answer


async def test_a_private_link_whose_message_stayed_says_to_delete_it(env: Env) -> None:
    """In a private chat the answer (here: the usage line) ends with what the user must do
    when the message with the key could not be deleted, and only then."""
    stayed = await env.conversation.handle(replace(_ctx("1", "1"), deleted=False), "/link x")
    gone = await env.conversation.handle(replace(_ctx("1", "1"), deleted=True), "/link x")
    assert stayed.text.endswith("delete it yourself and revoke that key.")
    assert "delete" not in gone.text


async def test_a_group_posting_as_itself_acts_as_the_group_not_as_a_person(env: Env) -> None:
    """sender_chat set: the sender is the chat's own identity whatever user_id says, so it
    reads what the group sees, and is refused what needs a person, registering nobody."""
    anonymous = replace(_ctx("1", DESK, admin=True), sender_chat=DESK)
    refused = await env.conversation.handle(anonymous, "/unlink main")
    assert refused.text.startswith("You are posting as the group (anonymous admin)")
    assert [a.label for a in await env.conversation.accounts.list(env.ann)] == ["main"]
    assert await Users(env.db).by_identity(Platform.TELEGRAM, f"chat:{DESK}") is None
    read = await env.conversation.handle(anonymous, "/accounts")
    assert read.text.startswith("Nothing is shared with this chat")  # not Ann's own "main"
    assert await Users(env.db).by_identity(Platform.TELEGRAM, f"chat:{DESK}") is not None


def _discord(user: str, chat: str) -> ChatContext:
    return ChatContext(Platform.DISCORD, user, f"d{user}", chat, True)


async def test_connect_joins_a_discord_identity_to_the_telegram_user(env: Env) -> None:
    """/connect on Telegram gives a code; /connect <code> on Discord makes both chats one
    user: the Discord chat lists the same account and becomes an alert recipient."""
    conv = env.conversation
    issued = await conv.handle(_ctx("1", "1"), "/connect")
    code = issued.text.split("/connect ")[1].split()[0]
    joined = await conv.handle(_discord("55", "900"), f"/connect {code}")
    assert joined.text.startswith("Connected")
    assert "#1 main (bybit)" in (await conv.handle(_discord("55", "900"), "/accounts")).text
    async with env.db.transaction() as tx:
        chats = await Alerts(tx.db).recipients(env.ann, env.account.id, tx=tx)
    assert {(c.platform, c.chat_id) for c in chats} == {
        (Platform.TELEGRAM, "1"),
        (Platform.DISCORD, "900"),
    }
    again = await conv.handle(_discord("56", "901"), f"/connect {code}")
    assert "unknown or expired" in again.text  # one use only


async def test_connect_refuses_to_orphan_accounts_and_expired_codes(env: Env) -> None:
    conv = env.conversation
    bob = await Users(env.db).ensure(Platform.DISCORD, "77", "Bob", "700", now=1.0)
    await Accounts(env.db).add(bob.id, "okx", "bobs", wallet_address="y", now=1.0)
    code = (await conv.handle(_ctx("1", "1"), "/connect")).text.split("/connect ")[1].split()[0]
    refused = await conv.handle(_discord("77", "700"), f"/connect {code}")
    assert "You already have accounts here" in refused.text
    still = await Users(env.db).by_identity(Platform.DISCORD, "77")
    assert still is not None and still.id == bob.id
    await Users(env.db).issue_code(env.ann, "ABCDEFGHJKMNPQRS", expires_at=time.time() - 1)
    expired = await conv.handle(_discord("78", "701"), "/connect abcd-efgh-jkmn-pqrs")
    assert "unknown or expired" in expired.text
    group = await conv.handle(_ctx("1", DESK), "/connect")
    assert "private chat" in group.text


async def test_an_ephemeral_answer_shows_own_and_shared_accounts_once(env: Env) -> None:
    """Where only the sender sees the answer (Discord's ephemeral replies in a guild), /accounts
    and /chart read the sender's own accounts plus what the group shares, each account once;
    the rest of the group still reads only what is shared."""
    conv = env.conversation
    await Accounts(env.db).add(env.ann, "okx", "hedge", wallet_address="h", now=1.0)
    bob = await Users(env.db).ensure(Platform.TELEGRAM, "9", "Bob", "9", now=1.0)
    await Accounts(env.db).add(bob.id, "okx", "bobs", wallet_address="b", now=1.0)
    await conv.handle(_ctx("1", DESK, admin=True), "/share main")
    await conv.handle(_ctx("9", DESK, admin=True), "/share bobs")
    ann = replace(_ctx("1", DESK), sees_own=True)

    def labels(text: str) -> list[str]:
        return [line.split()[1] for line in text.splitlines()[1:]]

    assert labels((await conv.handle(ann, "/accounts")).text) == ["hedge", "main", "bobs"]
    assert labels((await conv.handle(_ctx("1", DESK), "/accounts")).text) == ["main", "bobs"]
    conv.digests.jobs = DigestJobs(env.db, AsyncIOScheduler(), {})
    assert (await conv.handle(ann, "/chart exposure hedge")).images
    refused = await conv.handle(_ctx("1", DESK), "/chart exposure hedge")
    assert not refused.images and 'No account "hedge" here' in refused.text


async def test_digest_in_another_topic_is_named_instead_of_denied(env: Env) -> None:
    """A digest subscribed in forum topic 42: /digest from the general chat, or unsubscribe
    from topic 7, says where it is (and leaves it alone) instead of "no subscription"."""
    conv = env.conversation
    subscribe = "/digest subscribe at 08:00 Europe/Paris"
    await conv.handle(_ctx("1", DESK, admin=True, thread="42"), subscribe)
    where = "This group has one in topic 42 at 08:00 Europe/Paris; run /digest unsubscribe there"

    shown = await conv.handle(_ctx("9", DESK), "/digest")
    assert shown.text.startswith("No daily digest in the general chat.") and where in shown.text
    kept = await conv.handle(_ctx("1", DESK, admin=True, thread="7"), "/digest unsubscribe")
    assert kept.text.startswith("No daily digest in this topic.") and where in kept.text
    assert [s.chat_id for s in await Digests(env.db).all()] == [f"{DESK}#42"]

    here = await conv.handle(_ctx("9", DESK, thread="42"), "/digest")
    assert here.text == "Daily digest at 08:00 Europe/Paris for every account here."
    gone = await conv.handle(_ctx("1", DESK, admin=True, thread="42"), "/digest unsubscribe")
    assert gone.text == "Digest unsubscribed."
    nothing = await conv.handle(_ctx("9", DESK, thread="7"), "/digest")
    assert nothing.text.startswith("No daily digest here. Usage: /digest")


async def test_a_general_chat_digest_is_named_from_a_topic(env: Env) -> None:
    """The general chat's digest, asked about from a topic, and a second topic's too."""
    conv = env.conversation
    await conv.handle(_ctx("1", DESK, admin=True), "/digest subscribe at 09:00 UTC")
    await conv.handle(_ctx("1", DESK, admin=True, thread="5"), "/digest subscribe at 07:30 UTC")
    shown = await conv.handle(_ctx("9", DESK, thread="7"), "/digest")
    assert (
        "This group has one in the general chat at 09:00 UTC and one in topic 5 at 07:30 UTC;"
        in shown.text
    )
