"""The fake Telegram Bot API: an aiohttp server the real python-telegram-bot talks to.

Point PTB at it with ``ApplicationBuilder().token(fake.token).base_url(f"{fake.url}/bot")``;
requests then arrive as ``POST /bot<TOKEN>/<method>``. Tests act as users (``send``, ``press``,
``block``), inject faults (``fail``, ``rate_limit``) and read back what the bot did (``calls``,
``bot_messages``, ``accepted_sends``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

from aiohttp import web

from tests.fakes.telegram.methods import BLOCKABLE, METHODS, BotApiMethods, member_json
from tests.fakes.telegram.model import (
    DESCRIPTIONS,
    ApiError,
    Call,
    ChatRef,
    Msg,
    decode_params,
    utf16_len,
)
from tests.fakes.telegram.state import Fault, Limiter

T = TypeVar("T")
#: The users Telegram sends messages from when they are sent on behalf of a chat.
GROUP_ANONYMOUS_BOT = 1087968824
CHANNEL_BOT = 136817688
#: Lower-cased method name -> the canonical spelling, since Telegram ignores the case.
_CANONICAL = {name.lower(): name for name in METHODS}
STATUSES = frozenset({"creator", "administrator", "member", "left", "kicked"})


class FakeTelegram(BotApiMethods):
    """A Bot API server on 127.0.0.1 with users, chats and fault injection for tests."""

    def __init__(
        self, token: str = "123456:TEST-token", bot_username: str = "liqwatch_bot"
    ) -> None:
        super().__init__(token, bot_username)
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._next_callback = 1
        #: Holds not yet taken: the next call each matches waits for its release.
        self._holds: list[Hold] = []
        self._all_holds: list[Hold] = []

    @property
    def url(self) -> str:
        """The server root; PTB's ``base_url`` is ``f"{url}/bot"``."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._closing = False
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._serve)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        # Release held long polls first so the server does not wait out their timeouts.
        self._closing = True
        self._wake()
        for hold in self._all_holds:
            hold.release()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ----------------------------------------------------------------- people and chats
    def private_chat(
        self, user_id: int, first_name: str = "Ann", username: str | None = None
    ) -> ChatRef:
        """Registers a user and their private chat with the bot (chat id == user id)."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        chat: ChatRef = {"id": user_id, "type": "private", "first_name": first_name}
        if username is not None:
            user["username"] = chat["username"] = username
        self.users[user_id] = user
        self.chats[user_id] = chat
        return chat

    def group(self, chat_id: int, title: str = "Desk", *, forum: bool = False) -> ChatRef:
        """Registers a supergroup (ids are negative, like ``-100123``), a forum if asked."""
        chat: ChatRef = {"id": chat_id, "type": "supergroup", "title": title}
        if forum:
            chat["is_forum"] = True
        self.chats[chat_id] = chat
        return chat

    def channel(self, chat_id: int, title: str = "News") -> ChatRef:
        """Registers a channel (it can post in a group it is linked to, as itself)."""
        chat: ChatRef = {"id": chat_id, "type": "channel", "title": title}
        self.chats[chat_id] = chat
        return chat

    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        """What ``getChatMember`` answers for ``user_id`` in ``chat_id`` (default "member")."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {sorted(STATUSES)}, not {status!r}")
        self.members[(chat_id, user_id)] = status

    # ----------------------------------------------------------------- what users do
    def send(
        self,
        chat: ChatRef,
        text: str,
        *,
        user_id: int | None = None,
        first_name: str = "Ann",
        thread_id: int | None = None,
        sender_chat: ChatRef | None = None,
    ) -> int:
        """A user writes ``text`` in ``chat``; queues the update and returns the message id.

        With ``sender_chat`` the message is sent on behalf of that chat, as Telegram does it:
        an anonymous admin posts as the group itself (``sender_chat`` is ``chat``) from the
        GroupAnonymousBot user, the same in every group; a channel posts from Channel_Bot.
        """
        if sender_chat is not None:
            anonymous = sender_chat["id"] == chat["id"]
            user_id = GROUP_ANONYMOUS_BOT if anonymous else CHANNEL_BOT
            self.users[user_id] = _service_bot(user_id)
        if user_id is None:
            if chat["type"] != "private":
                raise ValueError("send() to a group needs user_id")
            user_id = int(chat["id"])
        sender = self._user(user_id, first_name)
        msg = self.add_message(
            Msg(
                message_id=self.new_message_id(),
                chat_id=chat["id"],
                from_bot=False,
                text=text,
                user_id=user_id,
                thread_id=thread_id,
            )
        )
        payload = self.message_json(msg, sender)
        if sender_chat is not None:
            payload["sender_chat"] = sender_chat
        if text.startswith("/"):
            # CommandHandler only matches messages whose first entity is a bot_command at 0.
            word = text.split(maxsplit=1)[0]
            payload["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(word)}]
        self.queue_update("message", payload)
        return msg.message_id

    def press(
        self, chat_id: int, message_id: int, data: str, *, user_id: int, first_name: str = "Ann"
    ) -> str:
        """A user presses an inline button with ``data`` on a bot message; returns the query id."""
        msg = self.find(chat_id, message_id)
        if msg is None or not msg.from_bot:
            raise ValueError(f"no live bot message {message_id} in chat {chat_id}")
        query_id = f"cbq-{self._next_callback}"
        self._next_callback += 1
        self.callbacks[query_id] = False
        payload = {
            "id": query_id,
            "from": self._user(user_id, first_name),
            "message": self.message_json(msg),
            "chat_instance": f"ci{chat_id}",
            "data": data,
        }
        self.queue_update("callback_query", payload)
        return query_id

    def block(self, chat_id: int) -> None:
        """The user blocks the bot: later sends to ``chat_id`` get 403, as on Telegram."""
        self.blocked.add(chat_id)
        chat = self.chats.get(chat_id)
        if chat is not None and chat["type"] == "private":
            # Telegram tells the bot with a my_chat_member update (bot member -> kicked).
            self.queue_update(
                "my_chat_member",
                {
                    "chat": chat,
                    "from": self.user_json(chat_id),
                    "date": int(time.time()),
                    "old_chat_member": member_json("member", self.bot_user),
                    "new_chat_member": member_json("kicked", self.bot_user),
                },
            )

    def _user(self, user_id: int, first_name: str) -> dict[str, Any]:
        """The sender: a registered user keeps their name unless a non-default one is given."""
        if user_id not in self.users:
            self.users[user_id] = {"id": user_id, "is_bot": False, "first_name": first_name}
        return self.user_json(user_id, None if first_name == "Ann" else first_name)

    # ----------------------------------------------------------------- fault injection
    def fail(
        self,
        method: str,
        *,
        status: int,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` (to ``chat_id`` if given) get this error."""
        if description is None:
            default = DESCRIPTIONS.get(status, "Error")
            if retry_after is None:
                default = default.split(": retry after")[0]
            description = default.format(retry_after=retry_after)
        error = ApiError(status, description, retry_after)
        self.faults.append(Fault(method, error, times, chat_id))

    def rate_limit(
        self,
        per_chat_interval_s: float | None = None,
        global_per_s: float | None = None,
        retry_after: int = 1,
    ) -> None:
        """Turns on flood control for the bot's sends (both None turns it off)."""
        if per_chat_interval_s is None and global_per_s is None:
            self.limiter = None
        else:
            self.limiter = Limiter(per_chat_interval_s, global_per_s, retry_after)

    def hold_reply(self, method: str, chat_id: int) -> Hold:
        """The next ``method`` call to ``chat_id`` takes effect (a message is in the chat) but
        its answer waits until the hold is released: a process killed meanwhile has sent it
        without hearing so (``Hold.peer`` says which client it was). Close releases all."""
        hold = Hold(method, chat_id)
        self._holds.append(hold)
        self._all_holds.append(hold)
        return hold

    # ----------------------------------------------------------------- what the bot did
    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def bot_messages(self, chat_id: int) -> list[Msg]:
        """The bot's live messages in ``chat_id``, as they stand after edits."""
        return [m for m in self.messages.get(chat_id, []) if m.from_bot and not m.deleted]

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 10.0) -> T:
        """Polls ``predicate`` every 20 ms until it is truthy and returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                recent = "\n".join(f"  {call.brief()}" for call in self.calls[-15:])
                raise AssertionError(f"not true within {timeout}s; recent calls:\n{recent}")
            await asyncio.sleep(0.02)

    # ----------------------------------------------------------------- serving
    async def _serve(self, http: web.Request) -> web.Response:
        name = http.match_info["method"]
        call = Call(_CANONICAL.get(name.lower(), name), {})
        self.calls.append(call)
        try:
            call.params = await _read_params(http)
            body: dict[str, Any] = {"ok": True, "result": await self._dispatch(http, call)}
        except ApiError as error:
            call.status = error.status
            body = error.body()
        else:
            await self._held(call, http)
        call.done = time.monotonic()
        return web.Response(
            status=call.status, text=json.dumps(body), content_type="application/json"
        )

    async def _held(self, call: Call, http: web.Request) -> None:
        """Wait for the release of the first hold this call matches (taking the hold)."""
        for n, hold in enumerate(self._holds):
            if hold.method == call.method and hold.chat_id == call.chat_id:
                del self._holds[n]
                peer = http.transport.get_extra_info("peername") if http.transport else None
                hold.peer = None if peer is None else (str(peer[0]), int(peer[1]))
                await hold.released.wait()
                return

    async def _dispatch(self, http: web.Request, call: Call) -> Any:
        if http.match_info["token"] != self.token:
            raise ApiError(401, "Unauthorized")
        handler = METHODS.get(call.method)
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        for fault in self.faults:
            error = fault.take(call.method, call.chat_id)
            if error is not None:
                raise error
        if call.method in BLOCKABLE and call.chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        try:
            result = await getattr(self, handler)(call.params)
        except ApiError as error:
            if error.status == 429:  # only flood control raises 429 inside a handler
                self.rejections.append(call)
            raise
        if call.method == "answerCallbackQuery":
            self.answered_callbacks.append(call)
        return result


@dataclass
class Hold:
    """A held answer (``FakeTelegram.hold_reply``)."""

    method: str
    chat_id: int
    released: asyncio.Event = field(default_factory=asyncio.Event)
    #: The client (host, port) whose call is held, once one is.
    peer: tuple[str, int] | None = None

    def release(self) -> None:
        self.released.set()


def _service_bot(user_id: int) -> dict[str, Any]:
    """GroupAnonymousBot or Channel_Bot as Telegram shows them in ``from``."""
    name = "GroupAnonymousBot" if user_id == GROUP_ANONYMOUS_BOT else "Channel_Bot"
    first = "Group" if user_id == GROUP_ANONYMOUS_BOT else "Channel"
    return {"id": user_id, "is_bot": True, "first_name": first, "username": name}


async def _read_params(http: web.Request) -> dict[str, Any]:
    """Query string plus a JSON, url-encoded or multipart body; uploads become bytes."""
    raw: dict[str, Any] = dict(http.query)
    if http.content_type == "application/json":
        body = await http.json()
        if isinstance(body, dict):
            raw.update(body)
    elif http.can_read_body:
        for key, value in (await http.post()).items():
            raw[key] = value.file.read() if isinstance(value, web.FileField) else value
    return decode_params(raw)
