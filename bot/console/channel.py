"""The console ``Channel``: prints each notice to a text stream (the demo's "chat")."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TextIO

from bot.delivery.channel import Outgoing
from bot.errors import DeliveryError
from bot.render.notices import render
from engine.alerts.rules import Severity
from engine.domain import Platform

_RESET = "\x1b[0m"
_COLORS = {Severity.CRITICAL: "\x1b[1;31m", Severity.WARNING: "\x1b[33m", Severity.INFO: "\x1b[36m"}


class ConsoleChannel:
    """Writes to ``stream`` (stdout by default); no rate limit, message ids ``console-N``."""

    platform = Platform.CONSOLE

    def __init__(self, stream: TextIO | None = None, *, color: bool = False) -> None:
        self._stream = sys.stdout if stream is None else stream
        self._color = color
        self._count = 0

    def min_interval_s(self, chat_id: str) -> float:
        return 0.0

    async def send(self, message: Outgoing) -> str | None:
        """Print the rendered notice; a closed stream is a permanent failure."""
        self._count += 1
        ref = f"console-{self._count}"
        try:
            self._stream.write(self.format(message, ref) + "\n")
            self._stream.flush()
        except (OSError, ValueError) as exc:  # ValueError: write to a closed file
            raise DeliveryError(f"console output failed: {exc}", retryable=False) from exc
        return ref

    def format(self, message: Outgoing, ref: str) -> str:
        """The printed block: time and message id, the rendering, what it follows up."""
        stamp = datetime.fromtimestamp(message.notice.at).strftime("%H:%M:%S")
        text = render(message.notice)
        if message.related_refs:
            text += f"\n  (follows {', '.join(message.related_refs)})"
        head, _, rest = text.partition("\n")
        if self._color:
            head = f"{_COLORS[message.severity]}{head}{_RESET}"
        block = f"[{stamp} {ref}] {head}"
        return f"{block}\n{rest}" if rest else block
