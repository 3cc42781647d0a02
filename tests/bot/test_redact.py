"""The redaction filter: a secret logged by anyone (message, arguments, traceback) is masked."""

from __future__ import annotations

import io
import logging

from bot.redact import MASK, Redact

TOKEN = "123456789:AAF-very-secret-token"


def _logger() -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(Redact([TOKEN, "short"]))
    logger = logging.getLogger(f"test.redact.{id(out)}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, out


def test_a_secret_in_the_message_its_arguments_or_a_traceback_is_masked() -> None:
    logger, out = _logger()
    logger.info("POST https://api.telegram.org/bot%s/getMe", TOKEN)
    logger.warning(f"plain {TOKEN} in the text")
    try:
        raise RuntimeError(f"request to /bot{TOKEN}/sendMessage failed")
    except RuntimeError:
        logger.exception("send failed")
    text = out.getvalue()
    assert TOKEN not in text
    assert text.count(MASK) == 3 and "RuntimeError" in text and "send failed" in text


def test_short_strings_are_not_treated_as_secrets() -> None:
    """A short "secret" would blank ordinary words: only long ones are masked."""
    logger, out = _logger()
    logger.info("a short word stays")
    assert out.getvalue().strip() == "a short word stays"
