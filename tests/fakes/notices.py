"""Builders of notices and outbox messages with sensible defaults, for tests and benchmarks."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

from engine.alerts.events import (
    AlertItem,
    AlertNotice,
    AlertStatus,
    NoticeKind,
    OpsNotice,
    Reason,
)
from engine.alerts.rules import Kind, Op, Severity
from engine.domain import Platform
from storage.outbox import NewMessage

NOW = 1_700_000_000.0
_keys = itertools.count(1)


def item(alert_id: int = 12, **overrides: Any) -> AlertItem:
    """A firing critical liquidation-distance alert on BTC long: 3.1% away, threshold 5%."""
    base = AlertItem(
        alert_id=alert_id,
        rule_id=1,
        kind=Kind.LIQ,
        op=Op.BELOW,
        threshold=5.0,
        severity=Severity.CRITICAL,
        status=AlertStatus.FIRING,
        reason=Reason.FIRST,
        symbol="BTC/USDT:USDT",
        side="long",
        value=3.1,
        worst=2.4,
        since=NOW - 240.0,
    )
    return replace(base, **overrides)


def alert_notice(*items: AlertItem, **overrides: Any) -> AlertNotice:
    """One account's grouped notice (one default item when none is given)."""
    chosen = items or (item(),)
    base = AlertNotice(
        account_id=7,
        account_label="main",
        venue="binanceusdm",
        at=NOW,
        severity=max((i.severity for i in chosen), key=lambda s: s.rank),
        items=chosen,
    )
    return replace(base, **overrides)


def ops_notice(kind: NoticeKind = NoticeKind.HEARTBEAT, **overrides: Any) -> OpsNotice:
    base = OpsNotice(kind=kind, at=NOW, severity=Severity.INFO, accounts=3)
    return replace(base, **overrides)


def message(
    chat_id: str = "100",
    severity: Severity = Severity.WARNING,
    *,
    platform: Platform = Platform.TELEGRAM,
    key: str | None = None,
    owner_id: int | None = None,
    notice: AlertNotice | OpsNotice | None = None,
) -> NewMessage:
    """An outbox message for one chat; a fresh dedup key unless ``key`` is given."""
    return NewMessage(
        dedup_key=key or f"test-{next(_keys)}",
        owner_id=owner_id,
        platform=platform,
        chat_id=chat_id,
        severity=severity,
        notice=notice or ops_notice(severity=severity),
    )
