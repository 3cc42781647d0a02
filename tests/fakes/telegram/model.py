"""Records of the fake Bot API: calls, messages, errors, and decoding of request parameters."""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

#: A chat (or the private chat of a user) in Bot API JSON shape: ``{"id": ..., "type": ...}``.
ChatRef = dict[str, Any]

#: Fields PTB sends as JSON strings inside form data; the fake parses them back to objects.
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "commands",
        "scope",
        "allowed_updates",
        "media",
    }
)
#: Scalars that arrive url-encoded as text; decoded so tests compare ints, not strings.
INT_FIELDS = frozenset(
    {
        "chat_id",
        "user_id",
        "message_id",
        "message_thread_id",
        "reply_to_message_id",
        "offset",
        "limit",
        "cache_time",
    }
)
BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "allow_sending_without_reply",
        "show_alert",
        "drop_pending_updates",
        "has_spoiler",
        "disable_web_page_preview",
    }
)
#: Default descriptions Telegram uses for an error status when a test gives none.
DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class ApiError(Exception):
    """A Bot API error reply: ``{"ok": false, "error_code", "description", "parameters"}``."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        # PTB raises RetryAfter only when parameters.retry_after is present, so omit it otherwise.
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


@dataclass
class Call:
    """One request to the fake, with its decoded parameters and the status it was answered."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    status: int = 200
    done: float | None = None  # monotonic time the answer was ready (long polls hold this)

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    def brief(self) -> str:
        """One line for failure dumps: method, status and the interesting parameters."""
        shown = {k: v for k, v in self.params.items() if not isinstance(v, bytes)}
        text = json.dumps(shown, default=str, ensure_ascii=False)
        return f"{self.method} -> {self.status} {text[:160]}"


@dataclass
class Msg:
    """A message in a chat as it stands now; bot messages reflect later edits and deletions."""

    message_id: int
    chat_id: int
    from_bot: bool
    text: str | None
    user_id: int
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    thread_id: int | None = None
    photo: bytes | None = None
    file_id: str | None = None  # set on photo messages (uploaded or re-sent by file_id)
    media_group_id: str | None = None  # shared by the messages of one album
    deleted: bool = False
    edits: int = 0
    sent_at: float = field(default_factory=time.monotonic)
    date: int = field(default_factory=lambda: int(time.time()))

    @property
    def plain(self) -> str:
        """The text as a user sees it: HTML tags stripped and entities unescaped."""
        if self.text is None:
            return ""
        return visible_text(self.text) if self.parse_mode == "HTML" else self.text


def decode_params(raw: dict[str, Any]) -> dict[str, Any]:
    """Turns url-encoded or multipart values into the types a JSON body would have carried."""
    params: dict[str, Any] = {}
    for key, value in raw.items():
        params[key] = _decode(key, value) if isinstance(value, str) else value
    return params


def _decode(key: str, value: str) -> Any:
    try:
        if key in JSON_FIELDS:
            return json.loads(value)
        if key in INT_FIELDS:
            return int(value)
    except ValueError:
        return value  # e.g. chat_id "@channel": left as sent, the handler decides
    if key in BOOL_FIELDS:
        return value.lower() == "true"
    return value


def int_param(params: dict[str, Any], key: str) -> int:
    """A required integer parameter, or the 400 Telegram answers when it is missing."""
    value = params.get(key)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise bad_request(f"{key} is empty" if value is None else f"invalid {key} specified")


_TAG = re.compile(r"<[^>]*>")


def visible_text(source: str) -> str:
    """HTML-mode text with tags removed and entities resolved (what Telegram length-checks)."""
    return html.unescape(_TAG.sub("", source))


def utf16_len(text: str) -> int:
    """Entity offsets and lengths are counted in UTF-16 code units by the Bot API."""
    return len(text.encode("utf-16-le")) // 2
