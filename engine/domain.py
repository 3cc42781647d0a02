"""Application records the storage layer returns: users, linked accounts, stored snapshots.

Plain frozen dataclasses so every layer can hold them without importing storage. Times are
POSIX seconds (floats) passed in by the caller: the engine has no clock. Secrets never live
here: a linked account only says whether it has credentials, the ciphertext stays in storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AccountStatus(StrEnum):
    """Monitoring state of a linked account."""

    ACTIVE = "active"
    #: The venue rejected the credentials: not polled again until re-linked.
    AUTH_FAILED = "auth_failed"
    #: N consecutive polls failed: monitoring cannot see this account (still polled).
    BLIND = "blind"
    #: The owner paused monitoring.
    PAUSED = "paused"


class Platform(StrEnum):
    """Where a chat identity lives."""

    TELEGRAM = "telegram"
    DISCORD = "discord"
    CONSOLE = "console"


#: Between a chat id and a forum topic id in a recipient address ("-100123#42").
THREAD_SEPARATOR = "#"


def target(chat_id: str, thread_id: str | None) -> str:
    """The recipient address of a chat, or of one topic of a forum group (what the outbox,
    shares and digest subscriptions store as their chat id)."""
    return chat_id if not thread_id else f"{chat_id}{THREAD_SEPARATOR}{thread_id}"


def split_target(chat: str) -> tuple[str, str | None]:
    """Inverse of ``target``: (chat id, thread id or None)."""
    base, _, thread = chat.partition(THREAD_SEPARATOR)
    return base, thread or None


@dataclass(frozen=True)
class User:
    """A liqwatch user (one person, possibly reachable on several platforms)."""

    id: int
    name: str
    created_at: float


@dataclass(frozen=True)
class ChatIdentity:
    """A user's identity on one platform and the chat to reach them in privately."""

    user_id: int
    platform: Platform
    external_id: str
    chat_id: str | None


@dataclass(frozen=True)
class LinkedAccount:
    """An exchange account or public wallet a user watches."""

    id: int
    owner_id: int
    venue: str
    label: str
    status: AccountStatus
    #: Per-account poll interval; None means the global LIQWATCH_POLL_SECONDS.
    poll_s: float | None
    wallet_address: str | None
    has_credentials: bool
    consecutive_failures: int
    last_error: str | None
    last_polled_at: float | None
    created_at: float
    #: How often the running service polls it and why (``engine.cadence``); None until chosen.
    poll_band: str | None = None
    poll_every_s: float | None = None
    poll_reason: str | None = None


@dataclass(frozen=True)
class PositionSummary:
    """The few per-position figures kept over time (enough for digests and charts)."""

    symbol: str
    side: str
    contracts: float
    notional_usd: float | None
    mark_price: float | None
    liquidation_price: float | None
    distance_pct: float | None
    margin_mode: str
    #: For the digest's net delta and vega a day back (docs/risk.md#greeks): the underlying,
    #: "option"/"linear"/…, delta in coins and USD, vega in USD per vol point. Snapshots
    #: stored before these were kept read as "" and None (unknown).
    underlying: str = ""
    contract_type: str = ""
    delta_coin: float | None = None
    delta_usd: float | None = None
    vega_usd: float | None = None


@dataclass(frozen=True)
class AccountSnapshot:
    """One poll's result for one account, as stored."""

    id: int
    account_id: int
    taken_at: float
    equity_usd: float | None
    gross_exposure_usd: float | None
    net_exposure_usd: float | None
    effective_leverage: float | None
    margin_ratio: float | None
    positions: tuple[PositionSummary, ...]


@dataclass(frozen=True)
class SnapshotSummary:
    """One poll's result for one account, before storage gives it an id (see AccountSnapshot)."""

    account_id: int
    taken_at: float
    equity_usd: float | None
    gross_exposure_usd: float | None
    net_exposure_usd: float | None
    effective_leverage: float | None
    margin_ratio: float | None
    positions: tuple[PositionSummary, ...] = ()
