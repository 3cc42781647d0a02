"""The application's error hierarchy: what is safe to show a user, and what says retry."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix, with a plain-text message safe to show as is."""


class DeliveryError(Exception):
    """A channel could not deliver a message; ``retryable`` says whether to try again.

    ``chat_gone`` (permanent errors only) says the chat itself is unreachable for good — the
    bot was blocked or kicked, the chat deleted — so it must not be targeted again. Without it
    only this message is dead-lettered (e.g. one the platform refuses as too long).
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after_s: float | None = None,
        chat_gone: bool = False,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.chat_gone = chat_gone and not retryable
        #: The platform said when to come back (Telegram ``retry_after``, Discord 429).
        self.retry_after_s = retry_after_s
