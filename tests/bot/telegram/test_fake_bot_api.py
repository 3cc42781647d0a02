"""The fake Bot API behaves enough like Telegram that the real python-telegram-bot works on it.

Every test drives the real ``telegram.Bot`` or ``telegram.ext.Application``; if PTB could not
parse an answer, or busy-looped, or re-delivered updates, these tests would catch it before the
adapter's tests rely on the fake.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    ChatMemberAdministrator,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)
from telegram.request import HTTPXRequest

from tests.fakes.telegram import FakeTelegram

USER = 111
GROUP = -100123


def plain_http() -> HTTPXRequest:
    # The fake speaks plain HTTP on localhost: skipping the CA bundle load saves up to a second
    # per client on a busy machine, and two clients are built per Bot.
    return HTTPXRequest(httpx_kwargs={"verify": False})


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    client = Bot(
        fake.token,
        base_url=f"{fake.url}/bot",
        request=plain_http(),
        get_updates_request=plain_http(),
    )
    await client.initialize()
    yield client
    await client.shutdown()


def build_app(fake: FakeTelegram) -> Application:  # type: ignore[type-arg]
    return (
        ApplicationBuilder().token(fake.token).base_url(f"{fake.url}/bot").job_queue(None).build()
    )


async def start_polling(app: Application) -> None:  # type: ignore[type-arg]
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)


async def stop_polling(app: Application) -> None:  # type: ignore[type-arg]
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


async def test_get_me_answers_the_bot_from_the_token(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "liqwatch_bot", True)
    assert [c.method for c in fake.calls] == ["getMe", "getMe"]  # initialize() asks too


async def test_wrong_token_and_unknown_method(fake: FakeTelegram) -> None:
    wrong = Bot("999:nope", base_url=f"{fake.url}/bot", request=plain_http())
    with pytest.raises(InvalidToken):
        await wrong.get_me()
    await wrong.shutdown()
    async with Bot(fake.token, base_url=f"{fake.url}/bot", request=plain_http()) as client:
        with pytest.raises(EndPointNotFound):  # PTB maps 404 here
            await client.do_api_request("noSuchMethod")
    assert [c.status for c in fake.calls[:1]] == [401]
    assert fake.calls_to("noSuchMethod")[0].status == 404


async def test_command_reaches_command_handler_and_reply_is_recorded(fake: FakeTelegram) -> None:
    chat = fake.private_chat(USER, "Ann")
    seen: list[str] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        seen.append(update.effective_message.text or "")
        await update.effective_message.reply_text(
            "<b>hello</b>", parse_mode=ParseMode.HTML, do_quote=True
        )

    app = build_app(fake)
    app.add_handler(CommandHandler("start", start))
    await start_polling(app)
    try:
        fake.send(chat, "/start now")
        replies = await fake.wait_for(lambda: fake.bot_messages(USER), timeout=5)
    finally:
        await stop_polling(app)
    assert seen == ["/start now"]
    assert replies[0].text == "<b>hello</b>" and replies[0].plain == "hello"
    assert replies[0].reply_to_message_id == 1  # reply_text quotes the command
    methods = [c.method for c in fake.calls]
    assert methods[:2] == ["getMe", "deleteWebhook"] and "getUpdates" in methods


async def test_group_command_with_bot_suffix_matches(fake: FakeTelegram) -> None:
    chat = fake.group(GROUP, forum=True)
    threads: list[int | None] = []

    async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        threads.append(update.effective_message.message_thread_id)

    app = build_app(fake)
    app.add_handler(CommandHandler("status", status))
    await start_polling(app)
    try:
        fake.send(chat, "/status@liqwatch_bot", user_id=7, thread_id=42)
        await fake.wait_for(lambda: threads, timeout=5)
    finally:
        await stop_polling(app)
    assert threads == [42]


async def test_offset_is_honoured_across_polling_restarts(fake: FakeTelegram) -> None:
    chat = fake.private_chat(USER)
    seen: list[str] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        seen.append(update.effective_message.text or "")

    fake.send(chat, "/one")
    for expected in (["/one"], ["/one", "/two"]):
        app = build_app(fake)
        app.add_handler(CommandHandler(["one", "two"], record))
        await start_polling(app)
        await fake.wait_for(lambda e=expected: seen == e, timeout=5)  # type: ignore[misc]
        await stop_polling(app)
        fake.send(chat, "/two")
    await asyncio.sleep(0)
    assert seen == ["/one", "/two"]
    assert [u["update_id"] for u in fake.updates] == [3]  # only the unconfirmed last one


async def test_long_poll_holds_until_timeout(fake: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert time.monotonic() - started >= 0.9
    # The server held it for the timeout, then answered (well before a 5 s client timeout;
    # a loaded VM can add a second or more, so the upper bound only rules out "never").
    poll = fake.calls_to("getUpdates")[0]
    assert poll.done is not None and 0.9 <= poll.done - poll.at < 4.0


async def test_long_poll_returns_as_soon_as_an_update_arrives(fake: FakeTelegram, bot: Bot) -> None:
    chat = fake.private_chat(USER)
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    fake.send(chat, "hi")
    updates = await poll
    assert time.monotonic() - started < 4.0  # woken by the update, not by the 5 s timeout
    assert updates[0].message is not None and updates[0].message.text == "hi"


async def test_injected_429_raises_retry_after(
    fake: FakeTelegram, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    fake.private_chat(USER)
    fake.fail("sendMessage", status=429, retry_after=3, chat_id=USER)
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(USER, "x")
    assert raised.value.retry_after == dtm.timedelta(seconds=3)
    await bot.send_message(USER, "x")  # the fault was used up
    assert [c.status for c in fake.calls_to("sendMessage")] == [429, 200]


async def test_rate_limiter_rejects_fast_sends_and_records_them(
    fake: FakeTelegram, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    fake.private_chat(USER)
    fake.rate_limit(per_chat_interval_s=0.2, retry_after=1)
    await bot.send_message(USER, "a")
    with pytest.raises(RetryAfter):
        await bot.send_message(USER, "b")
    await asyncio.sleep(0.25)
    await bot.send_message(USER, "c")
    times = fake.accepted_sends(USER)
    assert len(times) == 2 and times[1] - times[0] >= 0.2
    assert len(fake.rejections) == 1 and fake.rejections[0].params["text"] == "b"


async def test_blocked_user_raises_forbidden(fake: FakeTelegram, bot: Bot) -> None:
    fake.private_chat(USER)
    fake.block(USER)
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(USER, "x")
    assert "my_chat_member" in fake.updates[-1]


async def test_other_statuses_map_to_ptb_errors(fake: FakeTelegram, bot: Bot) -> None:
    fake.private_chat(USER)
    fake.fail("sendMessage", status=502, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(USER, "x")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "x")


BAD_HTML = (
    "<script>alert(1)</script>",
    "BTC < 60k",
    "fish & chips",
    "<b>open",
    "<b><i>crossed</b></i>",
    '<span class="x">a</span>',
    "<a>no href</a>",
)


async def test_bad_html_raises_bad_request(fake: FakeTelegram, bot: Bot) -> None:
    fake.private_chat(USER)
    for text in BAD_HTML:  # one client for all cases: building clients dominates the run time
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(USER, text, parse_mode=ParseMode.HTML)
    assert [c.status for c in fake.calls_to("sendMessage")] == [400] * len(BAD_HTML)
    assert fake.bot_messages(USER) == []


async def test_valid_html_and_length_limit(fake: FakeTelegram, bot: Bot) -> None:
    fake.private_chat(USER)
    good = (
        '<b>a</b> &lt;x&gt; &amp; &#39; <a href="https://x.y/?a=1&amp;b=2">l</a> '
        '<tg-spoiler>s</tg-spoiler> <span class="tg-spoiler">s</span> <pre>p</pre> BTC > 1'
    )
    message = await bot.send_message(USER, good, parse_mode=ParseMode.HTML)
    assert message.text is not None and "<x>" in message.text
    await bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "x" * 4097)


async def test_callback_press_reaches_handler_and_answers_are_recorded(
    fake: FakeTelegram,
) -> None:
    fake.private_chat(USER)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Mute", callback_data="mute:1")]])

    async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Muted")
        await query.edit_message_text(f"done: {query.data}")

    app = build_app(fake)
    app.add_handler(CallbackQueryHandler(on_press))
    await start_polling(app)
    try:
        sent = await app.bot.send_message(USER, "alert", reply_markup=keyboard)
        assert fake.bot_messages(USER)[0].reply_markup == keyboard.to_dict()
        fake.press(USER, sent.message_id, "mute:1", user_id=USER)
        await fake.wait_for(lambda: fake.calls_to("editMessageText"), timeout=5)
    finally:
        await stop_polling(app)
    assert fake.answered_callbacks[0].params["text"] == "Muted"
    message = fake.bot_messages(USER)[0]
    assert (message.text, message.reply_markup, message.edits) == ("done: mute:1", None, 1)


async def test_edit_and_delete_errors(fake: FakeTelegram, bot: Bot) -> None:
    fake.private_chat(USER)
    sent = await bot.send_message(USER, "same")
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("same", USER, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", USER, 9999)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]])
    await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=markup)
    assert await bot.delete_message(USER, sent.message_id) is True
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER, sent.message_id)
    assert fake.bot_messages(USER) == [] and fake.messages[USER][0].deleted


async def test_get_chat_member_statuses(fake: FakeTelegram, bot: Bot) -> None:
    fake.group(GROUP)
    fake.set_member(GROUP, 5, "administrator")
    fake.set_member(GROUP, 6, "creator")
    assert isinstance(await bot.get_chat_member(GROUP, 5), ChatMemberAdministrator)
    assert isinstance(await bot.get_chat_member(GROUP, 6), ChatMemberOwner)
    for user_id, status in ((7, "member"), (8, "left"), (9, "kicked")):
        if status != "member":
            fake.set_member(GROUP, user_id, status)
        assert (await bot.get_chat_member(GROUP, user_id)).status == status
    chat = await bot.get_chat(GROUP)
    assert (chat.id, chat.type, chat.title) == (GROUP, "supergroup", "Desk")


async def test_send_photo_stores_uploaded_bytes(fake: FakeTelegram, bot: Bot) -> None:
    fake.private_chat(USER)
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    message = await bot.send_photo(USER, png, caption="<i>chart</i>", parse_mode=ParseMode.HTML)
    assert message.photo and message.caption == "chart"
    again = await bot.send_photo(USER, message.photo[-1].file_id)
    stored = fake.bot_messages(USER)
    assert stored[0].photo == png and stored[1].photo == png and again.message_id > 0
    assert fake.calls_to("sendPhoto")[0].params["photo"] == png


async def test_send_media_group_posts_one_album_of_uploads(fake: FakeTelegram, bot: Bot) -> None:
    """PTB uploads each photo as an ``attach://`` multipart part: the fake resolves them, makes
    one message per item sharing a media_group_id, and answers the array PTB parses."""
    fake.private_chat(USER)
    pngs = [b"\x89PNG\r\n\x1a\n" + bytes([n]) * 64 for n in range(3)]
    media = [
        InputMediaPhoto(png, caption=f"<b>chart {n}</b>", parse_mode=ParseMode.HTML)
        for n, png in enumerate(pngs)
    ]
    sent = await bot.send_media_group(USER, media)
    assert [m.caption for m in sent] == ["chart 0", "chart 1", "chart 2"]
    assert len({m.media_group_id for m in sent}) == 1 and sent[0].media_group_id
    stored = fake.bot_messages(USER)
    assert [m.photo for m in stored] == pngs
    assert len(fake.calls_to("sendMediaGroup")) == 1 and not fake.calls_to("sendPhoto")


async def test_send_media_group_refuses_what_telegram_refuses(fake: FakeTelegram, bot: Bot) -> None:
    """One item (an album needs 2-10) and a reference to a part never uploaded are 400s."""
    fake.private_chat(USER)
    with pytest.raises(BadRequest, match="2-10 items"):
        await bot.send_media_group(USER, [InputMediaPhoto(b"\x89PNG one")])
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_media_group(USER, [InputMediaPhoto("nope"), InputMediaPhoto("nope")])
    assert fake.bot_messages(USER) == []


async def test_set_my_commands_is_stored(fake: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("status", "Status")])
    assert [c["command"] for c in fake.commands] == ["start", "status"]
    assert [c.command for c in await bot.get_my_commands()] == ["start", "status"]


async def test_wait_for_times_out_with_a_dump(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(AssertionError, match="getMe"):
        await fake.wait_for(lambda: False, timeout=0.05)


async def test_plain_http_clients_get_json_envelopes(fake: FakeTelegram) -> None:
    """Other clients may send JSON bodies or query strings; the envelope is the same."""
    fake.private_chat(USER)
    base = f"{fake.url}/bot{fake.token}"
    async with aiohttp.ClientSession() as session:
        body = {"chat_id": USER, "text": "hi", "reply_markup": {"inline_keyboard": []}}
        async with session.post(f"{base}/sendmessage", json=body) as reply:
            sent = await reply.json()
            assert reply.content_type == "application/json"
        async with session.get(f"{base}/getChatMember?chat_id={USER}&user_id={USER}") as reply:
            member = await reply.json()
        async with session.get(f"{base}/getChat?chat_id=5") as reply:
            missing = (reply.status, await reply.json())
    assert sent["ok"] and sent["result"]["text"] == "hi"
    assert fake.calls_to("sendMessage")[0].params["reply_markup"] == {"inline_keyboard": []}
    assert member == {"ok": True, "result": {"status": "member", "user": fake.users[USER]}}
    assert missing == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
    )
