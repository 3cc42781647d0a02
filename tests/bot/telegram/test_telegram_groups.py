"""Groups, forum topics, /link hygiene and HTML injection, through the running app."""

from __future__ import annotations

import pytest

from tests.bot.telegram.conftest import App
from tests.engine.normalise.payloads.hyperliquid import ADDRESS

pytestmark = pytest.mark.slow

ANN, BOB, EVE = 1001, 1002, 1003
DESK = -1001234567890
OTHER_ADDRESS = "0x2222222222222222222222222222222222222222"


async def _watch(app: App, user: int, name: str, address: str) -> None:
    app.exchange.add_wallet(address)
    chat = app.telegram.private_chat(user, name)
    short = f"{address[:6]}…{address[-4:]}"
    await app.reply(chat, f"/watch hyperliquid {address}", f"wallet {short} as", first_name=name)


async def test_only_admins_share_and_the_group_sees_only_what_was_shared(app: App) -> None:
    tg = app.telegram
    await _watch(app, ANN, "Ann", ADDRESS)
    await _watch(app, BOB, "Bob", OTHER_ADDRESS)
    desk = tg.group(DESK, "Desk")
    tg.set_member(DESK, ANN, "administrator")
    tg.set_member(DESK, EVE, "member")

    # Nothing shared yet: a helpful sentence, not an error and not anyone's private accounts.
    empty = await app.reply(desk, "/positions", "Nothing is shared", user_id=EVE, first_name="Eve")
    assert "hyperliquid" not in empty.plain

    # A member who is not an admin cannot share (even their own account).
    tg.set_member(DESK, BOB, "member")
    refused = await app.reply(desk, "/share hl-2222", "Only this chat's admins", user_id=BOB)
    assert "/share" in refused.plain
    assert tg.calls_to("getChatMember")  # asked Telegram, did not guess

    # Ann (admin) shares hers; Eve (a plain member) can read it; Bob's stays private.
    await app.reply(desk, "/share hl-1111", "is now shared with this chat", user_id=ANN)
    listed = await app.reply(desk, "/accounts", "Shared with this chat", user_id=EVE)
    assert listed.plain.splitlines()[1:] == ["#1 hl-1111 (hyperliquid) — active"]
    shown = await app.reply(desk, "/positions", "[hl-1111]", user_id=EVE, timeout=30)
    assert "[hl-2222]" not in shown.plain and OTHER_ADDRESS not in shown.plain

    # A member may not change the group's alerting; an admin may.
    await app.reply(desk, "/quiet 22:00-07:00", "Only this chat's admins", user_id=EVE)
    await app.reply(desk, "/quiet 22:00-07:00", "Quiet hours 22:00-07:00", user_id=ANN)
    await app.reply(desk, "/unshare hl-1111", "Only this chat's admins", user_id=EVE)
    await app.reply(desk, "/unshare hl-1111", "no longer shared", user_id=ANN)
    await app.reply(desk, "/positions", "Nothing is shared", user_id=EVE)


async def test_link_in_a_group_is_deleted_and_refused(app: App) -> None:
    tg = app.telegram
    desk = tg.group(DESK, "Desk")
    refusal = await app.reply(
        desk, "/link binanceusdm KEY-in-group SECRET-in-group", "Never post API keys", user_id=ANN
    )
    sent = next(m for m in tg.messages[DESK] if not m.from_bot and "/link" in (m.text or ""))
    assert sent.deleted
    assert "private chat" in refusal.plain and "SECRET-in-group" not in refusal.plain

    # Deleted even when malformed, in a private chat too.
    chat = tg.private_chat(ANN, "Ann")
    await app.reply(chat, "/link binanceusdm only-a-key", "Give the venue, the API key")
    bad = [m for m in tg.messages[ANN] if not m.from_bot and "/link" in (m.text or "")]
    assert bad and all(m.deleted for m in bad)


async def test_link_in_a_group_that_could_not_be_deleted_says_so(app: App) -> None:
    """Telegram refuses the deletion (the bot is not an admin there): the refusal says the
    message is still there and what to do, never "I deleted that message"."""
    tg = app.telegram
    desk = tg.group(DESK, "Desk")
    tg.fail("deleteMessage", status=400, description="Bad Request: message can't be deleted")
    refusal = await app.reply(
        desk, "/link binanceusdm KEY-stays SECRET-stays", "Never post API keys", user_id=ANN
    )
    sent = next(m for m in tg.messages[DESK] if not m.from_bot and "/link" in (m.text or ""))
    assert not sent.deleted and tg.calls_to("deleteMessage")
    assert "I could not delete that message" in refusal.plain
    assert "I deleted" not in refusal.plain and "SECRET-stays" not in refusal.plain


async def test_replies_go_to_the_forum_topic_they_came_from(app: App) -> None:
    tg = app.telegram
    forum = tg.group(DESK, "Desk", forum=True)
    answer = await app.reply(forum, "/help", "Commands:", user_id=ANN, thread_id=77)
    assert answer.thread_id == 77


async def test_user_supplied_text_is_escaped_everywhere(app: App) -> None:
    """Every hostile input still gets an answer (the fake rejects invalid HTML with a 400, so
    an unescaped ``<`` or ``&`` would leave the user with no reply at all)."""
    tg = app.telegram
    chat = tg.private_chat(EVE, "<b>Eve</b> & co")
    attacks = [
        ("/positions <script>alert(1)</script>", "<script>"),
        ("/alert add liq<5% <b>BTC</b>", "<b>BTC</b>"),
        ("/why <i>3</i>", "<i>3</i>"),
        ("/help </pre><b>x", "</pre><b>x"),
        ("/snooze 1 <a>1h</a>", "<a>1h</a>"),
    ]
    for text, echoed in attacks:
        reply = await app.reply(chat, text, first_name="<b>Eve</b> & co")
        # Answered (so the HTML was valid), quoting the input exactly as typed.
        assert echoed in reply.plain and "&lt;" in (reply.text or "")
    assert not [c for c in tg.calls_to("sendMessage") if c.status == 400]
