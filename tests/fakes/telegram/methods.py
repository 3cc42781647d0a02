"""The Bot API methods the fake serves, each answering like Telegram does for the cases we use."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from tests.fakes.telegram.entities import check_html
from tests.fakes.telegram.model import (
    ApiError,
    Msg,
    bad_request,
    int_param,
    visible_text,
)
from tests.fakes.telegram.state import TelegramState

Params = dict[str, Any]

#: Canonical method name -> handler attribute. Telegram matches method names case-insensitively.
METHODS: dict[str, str] = {
    "getMe": "get_me",
    "deleteWebhook": "delete_webhook",
    "getUpdates": "get_updates",
    "sendMessage": "send_message",
    "sendPhoto": "send_photo",
    "sendMediaGroup": "send_media_group",
    "editMessageText": "edit_message_text",
    "editMessageReplyMarkup": "edit_message_reply_markup",
    "deleteMessage": "delete_message",
    "answerCallbackQuery": "answer_callback_query",
    "setMyCommands": "set_my_commands",
    "getMyCommands": "get_my_commands",
    "getChatMember": "get_chat_member",
    "getChat": "get_chat",
    "sendChatAction": "send_chat_action",
}
#: Methods that a user who blocked the bot makes fail with 403.
BLOCKABLE = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendMediaGroup",
        "editMessageText",
        "editMessageReplyMarkup",
        "sendChatAction",
    }
)
_GIFT_KINDS = (
    "unlimited_gifts",
    "limited_gifts",
    "unique_gifts",
    "premium_subscription",
    "gifts_from_channels",
)
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
#: sendMediaGroup: "must include 2-10 items" (Bot API), and documents or audio only in albums
#: of their own type.
ALBUM_MIN, ALBUM_MAX = 2, 10
ALBUM_TYPES = frozenset({"photo", "video", "document", "audio"})
#: The longest long poll the fake holds, whatever the client asks (Telegram caps it at 50 s).
MAX_POLL_S = 50.0
#: Every administrator right PTB's ChatMemberAdministrator requires.
ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
    "can_manage_topics",
)


class BotApiMethods(TelegramState):
    """Handlers for the served methods; each returns the ``result`` or raises ``ApiError``."""

    async def get_me(self, p: Params) -> Any:
        return self.bot_user

    async def delete_webhook(self, p: Params) -> Any:
        if p.get("drop_pending_updates"):
            self.updates.clear()
        return True

    async def get_updates(self, p: Params) -> Any:
        offset = p.get("offset")
        if isinstance(offset, int) and offset > 0:
            # Confirming an offset forgets every earlier update for good, as Telegram does.
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        limit = p.get("limit")
        limit = min(max(limit, 1), 100) if isinstance(limit, int) else 100
        timeout = min(float(p.get("timeout") or 0), MAX_POLL_S)
        deadline = time.monotonic() + timeout
        while not self.updates and not self._closing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            event = self.wakeup_event()
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                break
        return self.updates[:limit]

    async def send_message(self, p: Params) -> Any:
        chat = self.chat(p.get("chat_id"))
        self.check_flood(chat["id"], time.monotonic())
        text = p.get("text")
        if not isinstance(text, str) or not text.strip():
            raise bad_request("message text is empty")
        _check_text(text, p.get("parse_mode"), TEXT_LIMIT, "message is too long")
        msg = self._bot_message(chat["id"], p, text)
        return self.message_json(self.add_message(msg))

    async def send_photo(self, p: Params) -> Any:
        chat = self.chat(p.get("chat_id"))
        self.check_flood(chat["id"], time.monotonic())
        caption = p.get("caption")
        if isinstance(caption, str):
            _check_text(caption, p.get("parse_mode"), CAPTION_LIMIT, "message caption is too long")
        msg = self._bot_message(chat["id"], p, caption if isinstance(caption, str) else None)
        msg.file_id = f"photo-{msg.message_id}"
        photo = p.get("photo")
        if isinstance(photo, bytes):
            msg.photo = photo
            self.files[msg.file_id] = photo
        elif isinstance(photo, str) and photo in self.files:
            msg.photo, msg.file_id = self.files[photo], photo
        elif not (isinstance(photo, str) and photo.startswith(("http://", "https://"))):
            raise bad_request("wrong file identifier/HTTP URL specified")
        return self.message_json(self.add_message(msg))

    async def send_media_group(self, p: Params) -> Any:
        """An album: each item of ``media`` becomes its own message sharing a
        ``media_group_id``; an upload is referenced as ``attach://<part name>`` and arrives as
        that multipart part. Returns the array of messages, as Telegram does."""
        chat = self.chat(p.get("chat_id"))
        self.check_flood(chat["id"], time.monotonic())
        media = p.get("media")
        if not isinstance(media, list) or not ALBUM_MIN <= len(media) <= ALBUM_MAX:
            raise bad_request("media must include 2-10 items")  # wording of the Bot API docs
        types = {item.get("type") if isinstance(item, dict) else None for item in media}
        if not types <= ALBUM_TYPES or (len(types) > 1 and types & {"document", "audio"}):
            raise bad_request("wrong media type in the media group")
        files = [self._album_file(item, p) for item in media]
        group = f"album-{self.new_message_id()}"
        sent = []
        for item, (photo, file_id) in zip(media, files, strict=True):
            caption = item.get("caption")
            if isinstance(caption, str):
                _check_text(caption, item.get("parse_mode"), CAPTION_LIMIT, "caption is too long")
            msg = self._bot_message(chat["id"], p, caption if isinstance(caption, str) else None)
            msg.parse_mode = item.get("parse_mode")
            msg.photo, msg.file_id, msg.media_group_id = photo, file_id, group
            sent.append(self.message_json(self.add_message(msg)))
        return sent

    def _album_file(self, item: Any, p: Params) -> tuple[bytes | None, str]:
        """The bytes and file id of one album item: an upload, a known file id or a URL."""
        ref = item.get("media") if isinstance(item, dict) else None
        if isinstance(ref, str) and ref.startswith("attach://"):
            data = p.get(ref.removeprefix("attach://"))
            if not isinstance(data, bytes):
                raise bad_request(f"file {ref} not found in the request")
            file_id = f"photo-upload-{len(self.files) + 1}"
            self.files[file_id] = data
            return data, file_id
        if isinstance(ref, str) and ref in self.files:
            return self.files[ref], ref
        if isinstance(ref, str) and ref.startswith(("http://", "https://")):
            return None, ref
        raise bad_request("wrong file identifier/HTTP URL specified")

    async def edit_message_text(self, p: Params) -> Any:
        msg = self._editable(p, "message to edit not found")
        text = p.get("text")
        if not isinstance(text, str) or not text.strip():
            raise bad_request("message text is empty")
        _check_text(text, p.get("parse_mode"), TEXT_LIMIT, "message is too long")
        # Telegram drops the inline keyboard when an edit does not repeat it.
        markup = p.get("reply_markup")
        if text == msg.text and markup == msg.reply_markup:
            raise bad_request(_NOT_MODIFIED)
        msg.text, msg.parse_mode, msg.reply_markup = text, p.get("parse_mode"), markup
        msg.edits += 1
        return self.message_json(msg)

    async def edit_message_reply_markup(self, p: Params) -> Any:
        msg = self._editable(p, "message to edit not found")
        markup = p.get("reply_markup")
        if markup == msg.reply_markup:
            raise bad_request(_NOT_MODIFIED)
        msg.reply_markup = markup
        msg.edits += 1
        return self.message_json(msg)

    async def delete_message(self, p: Params) -> Any:
        chat = self.chat(p.get("chat_id"))
        msg = self.find(chat["id"], int_param(p, "message_id"))
        if msg is None:
            raise bad_request("message to delete not found")
        msg.deleted = True
        return True

    async def answer_callback_query(self, p: Params) -> Any:
        query_id = str(p.get("callback_query_id"))
        if self.callbacks.get(query_id, True):  # unknown, or answered already
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self.callbacks[query_id] = True
        return True

    async def set_my_commands(self, p: Params) -> Any:
        commands = p.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        self.commands = commands
        self.commands_by_scope[_scope_key(p)] = commands
        return True

    async def get_my_commands(self, p: Params) -> Any:
        return self.commands_by_scope.get(_scope_key(p), [])

    async def get_chat_member(self, p: Params) -> Any:
        chat = self.chat(p.get("chat_id"))
        user_id = int_param(p, "user_id")
        status = self.members.get((chat["id"], user_id), "member")
        user = self.bot_user if user_id == self.bot_id else self.user_json(user_id)
        return member_json(status, user)

    async def get_chat(self, p: Params) -> Any:
        chat = self.chat(p.get("chat_id"))
        # ChatFullInfo: PTB requires these three beyond the plain Chat fields.
        gifts = dict.fromkeys(_GIFT_KINDS, False)
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    async def send_chat_action(self, p: Params) -> Any:
        self.chat(p.get("chat_id"))
        return True

    # ----------------------------------------------------------------- helpers
    def _bot_message(self, chat_id: int, p: Params, text: str | None) -> Msg:
        reply_to = p.get("reply_to_message_id")
        reply_parameters = p.get("reply_parameters")
        if isinstance(reply_parameters, dict):
            reply_to = reply_parameters.get("message_id")
        allow = bool(p.get("allow_sending_without_reply")) or (
            isinstance(reply_parameters, dict)
            and bool(reply_parameters.get("allow_sending_without_reply"))
        )
        if isinstance(reply_to, int) and self.find(chat_id, reply_to) is None and not allow:
            raise bad_request("message to be replied not found")
        thread = p.get("message_thread_id")
        return Msg(
            message_id=self.new_message_id(),
            chat_id=chat_id,
            from_bot=True,
            text=text,
            user_id=self.bot_id,
            parse_mode=p.get("parse_mode"),
            reply_markup=p.get("reply_markup"),
            reply_to_message_id=reply_to if isinstance(reply_to, int) else None,
            thread_id=thread if isinstance(thread, int) else None,
        )

    def _editable(self, p: Params, missing: str) -> Msg:
        if "inline_message_id" in p:
            raise bad_request("inline messages are not supported by the fake")
        chat = self.chat(p.get("chat_id"))
        msg = self.find(chat["id"], int_param(p, "message_id"))
        if msg is None:
            raise bad_request(missing)
        if not msg.from_bot:
            raise bad_request("message can't be edited")
        return msg


_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


def _check_text(text: str, parse_mode: Any, limit: int, too_long: str) -> None:
    if parse_mode == "HTML":
        check_html(text)
        text = visible_text(text)
    if len(text) > limit:
        raise bad_request(too_long)


def _scope_key(p: Params) -> str:
    scope = p.get("scope") or {"type": "default"}
    return json.dumps([scope, p.get("language_code") or ""], sort_keys=True)


def member_json(status: str, user: dict[str, Any]) -> dict[str, Any]:
    """A ChatMember of ``status`` with every field PTB's subclass for it requires."""
    body: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        body["is_anonymous"] = False
    elif status == "administrator":
        body.update(can_be_edited=False, is_anonymous=False, **dict.fromkeys(ADMIN_RIGHTS, True))
    elif status == "kicked":
        body["until_date"] = 0
    elif status not in ("member", "left"):
        raise ApiError(400, f"Bad Request: the fake has no member status {status!r}")
    return body
