"""Venues through ccxt: one client per account, shared public data, failures as states.
May import: engine, bot.errors.
"""

import logging

from bot.exchanges.budget import Budgets, BudgetState, Priority, priority
from bot.exchanges.credentials import Credentials
from bot.exchanges.errors import ExchangeFailure, FailureKind, LinkRefused
from bot.exchanges.hub import ExchangeHub
from bot.exchanges.meter import RestUse
from bot.exchanges.port import AccountReader
from bot.exchanges.urls import apply_prefix, rewrite
from bot.exchanges.venues import TESTED

__all__ = [
    "TESTED",
    "AccountReader",
    "BudgetState",
    "Budgets",
    "Credentials",
    "ExchangeFailure",
    "ExchangeHub",
    "FailureKind",
    "LinkRefused",
    "Priority",
    "RestUse",
    "apply_prefix",
    "priority",
    "rewrite",
]

# ccxt logs every request with its headers (API keys included) at DEBUG: whatever level the
# application runs at, those records must never be emitted.
logging.getLogger("ccxt").setLevel(logging.WARNING)
