"""The redaction filter: a secret logged by anyone (message, arguments, traceback) is masked."""

from __future__ import annotations

import io
import logging

import pytest

from bot.security.redact import MASK, Redact

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


def test_a_percent_sign_in_a_traceback_cannot_leak_the_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A traceback with ``%`` next to format arguments once broke formatting, and logging then
    printed the raw record (bot token included) to stderr: the formatted text is redacted."""
    logger, out = _logger()
    try:
        raise RuntimeError(f"100% failed at /bot{TOKEN}/getUpdates (%s %d)")
    except RuntimeError:
        logger.exception("poll of %s failed after %d tries", "telegram", 3)
    text, errors = out.getvalue(), capsys.readouterr().err
    assert TOKEN not in text and TOKEN not in errors
    assert "--- Logging error ---" not in errors
    assert "poll of telegram failed after 3 tries" in text and "100% failed" in text


def test_a_bad_format_string_does_not_print_its_arguments() -> None:
    """A caller's mismatched arguments are dropped, not dumped with the secret in them."""
    logger, out = _logger()
    logger.error("only one placeholder %s", TOKEN, "extra")
    text = out.getvalue()
    assert TOKEN not in text and "unformattable" in text
