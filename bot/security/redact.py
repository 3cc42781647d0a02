"""A logging filter that blanks known secrets out of every record, whoever logged it.

Our own code never logs a secret; this is the belt to those braces for third-party libraries
(an HTTP client that logs a URL with a bot token in it, an exception that quotes a request).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

MASK = "**********"


class Redact(logging.Filter):
    """Replaces each secret in the formatted message (and traceback) with ``MASK``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Short strings would blank ordinary words: only real secrets are long.
        self.secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message by its cleaned, fully formatted text (traceback
        included). The format arguments go too: a ``%`` in a traceback appended to a format
        string would make logging fail and print the raw record, secrets and all."""
        if not self.secrets:
            return True
        try:
            text = record.getMessage()
        except Exception:  # a caller's bad format string must not leak its arguments
            text = f"{record.msg} (unformattable log arguments dropped)"
        if record.exc_info and record.exc_info[1] is not None:
            text = f"{text}\n{logging.Formatter().formatException(record.exc_info)}"
        elif record.exc_text:
            text = f"{text}\n{record.exc_text}"
        record.msg, record.args = self._clean(text), None
        record.exc_info, record.exc_text = None, None
        return True


def install(secrets: Iterable[str]) -> Redact:
    """Add the filter to every handler of the root logger (records propagate through them)."""
    redact = Redact(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
    return redact
