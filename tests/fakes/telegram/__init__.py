"""A fake Telegram Bot API for the real python-telegram-bot: chats, users, faults, records."""

from tests.fakes.telegram.model import ApiError, Call, ChatRef, Msg
from tests.fakes.telegram.server import FakeTelegram

__all__ = ["ApiError", "Call", "ChatRef", "FakeTelegram", "Msg"]
