"""What the notifier counts since start: for the demo, the benchmark and the metrics."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class NotifierStats:
    """Outcomes since start (for the demo, the benchmark and operators)."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    #: Database operations refused and retried (locked, disk full …).
    storage_errors: int = 0
    #: Outcomes per (platform, "sent" | "retried" | "dead"), for the metrics.
    by_platform: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: Rows per platform claimed over a lapsed lease (each may duplicate a message).
    redeliveries: Counter[str] = field(default_factory=Counter)

    def add(self, platform: str, sent: int = 0, retried: int = 0, dead: int = 0) -> None:
        self.sent, self.retried, self.dead = (
            self.sent + sent,
            self.retried + retried,
            self.dead + dead,
        )
        for outcome, n in (("sent", sent), ("retried", retried), ("dead", dead)):
            self.by_platform[(platform, outcome)] += n
