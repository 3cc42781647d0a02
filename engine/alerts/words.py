"""The words alert phrases share: kinds, severities, symbols, labels, and quoting user text."""

from __future__ import annotations

import re

from engine.alerts.rules import Kind, Severity

KIND_WORDS = {**{k.value: k for k in Kind}, "auth_failed": Kind.AUTH}
SEVERITIES = frozenset(s.value for s in Severity)
#: A base coin ("BTC") or a unified market ("BTC/USDT:USDT").
BASE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
MARKET = re.compile(r"[A-Za-z0-9._-]{1,32}/[A-Za-z0-9._-]{1,32}(?::[A-Za-z0-9._-]{1,32})?")
LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")


def quoted(text: str) -> str:
    """User text quoted in an error, cut short: a pasted paragraph must not flood the chat."""
    return f"'{text}'" if len(text) <= 32 else f"'{text[:31]}…'"
