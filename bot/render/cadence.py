"""How often an account is polled and why, in one line (``engine.cadence``'s choice)."""

from __future__ import annotations

from engine.domain import LinkedAccount


def line(account: LinkedAccount) -> str | None:
    """ "polled every 5s (near: an alert is live)", or None before the service chose a band."""
    if account.poll_band is None or account.poll_every_s is None:
        return None
    reason = f": {account.poll_reason}" if account.poll_reason else ""
    return f"polled every {account.poll_every_s:g}s ({account.poll_band}{reason})"
