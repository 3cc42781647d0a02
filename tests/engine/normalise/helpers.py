"""Shortcuts for reading one normalised position or account in the venue reader tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.model import Account, Positions
from engine.normalise import normalise


def read(venue: str, *positions: Mapping[str, Any], balance: Any = None) -> Positions:
    """The normalised positions of ``positions`` on ``venue``."""
    return normalise(venue, list(positions), balance).positions


def account(venue: str, balance: Any) -> Account:
    """The normalised account of ``balance`` on ``venue``."""
    return normalise(venue, [], balance).account
