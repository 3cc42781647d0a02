"""Comparing two ``Analysis`` field by field (the book's against ``analyze``'s)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np

from engine.analysis import Analysis

RTOL = 1e-9


def close(got: Any, want: Any, what: str, *, atol: float = 0.0) -> None:
    """Equal to ``RTOL`` (NaN where NaN, inf where inf)."""
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=atol, err_msg=what)


def assert_same_analysis(got: Analysis, want: Analysis, *, atol: float = 1e-9) -> None:
    """Every figure of ``got`` equals ``want``'s to 1e-9 (relative; ``atol`` for values that
    cancel to about zero); names, keys, notes and formulas exactly."""
    for f in fields(Analysis):
        name = f.name
        a, b = getattr(got, name), getattr(want, name)
        if name == "snapshot":
            _same_snapshot(a, b, atol)
        elif name == "computed":
            close(a.price, b.price, "computed.price", atol=atol)
            np.testing.assert_array_equal(a.formula, b.formula)
            assert tuple(a.notes) == tuple(b.notes), (tuple(a.notes), tuple(b.notes))
        elif name == "portfolio":
            _same_portfolio(a, b, atol)
        elif name == "advice":
            assert a.target_pct == b.target_pct
            np.testing.assert_array_equal(a.needed, b.needed)
            for column in ("target_price", "margin_to_add", "reduce_qty", "reduce_fraction"):
                close(getattr(a, column), getattr(b, column), f"advice.{column}", atol=atol)
        elif name in ("greeks", "underlyings"):
            _same_greeks(a, b, name, atol)
        elif isinstance(a, np.ndarray):
            close(a, b, name, atol=atol)
        else:
            assert a == b, name


def _same_greeks(a: Any, b: Any, what: str, atol: float) -> None:
    """PositionGreeks or a tuple of UnderlyingGreeks: numbers close, names equal."""
    for x, y in zip(a, b, strict=True) if isinstance(a, tuple) else [(a, b)]:
        for f in fields(x):
            u, v = getattr(x, f.name), getattr(y, f.name)
            if isinstance(u, str):
                assert u == v, (what, f.name, u, v)
            else:
                close(u, v, f"{what}.{f.name}", atol=atol)


def _same_snapshot(a: Any, b: Any, atol: float) -> None:
    for column in ("mark", "venue_upnl", "venue_liq", "settle_usd", "qty", "entry"):
        close(getattr(a.positions, column), getattr(b.positions, column), column, atol=atol)
    for figures in ("margin_balance", "maintenance_margin", "usd_rate", "wallet_balance"):
        _same_dict(getattr(a.account, figures), getattr(b.account, figures), figures, atol)


def _same_portfolio(a: Any, b: Any, atol: float) -> None:
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, dict) or hasattr(x, "items"):
            _same_dict(x, y, f.name, atol)
        elif isinstance(x, tuple):
            assert x == y, (f.name, x, y)
        else:
            close(x, y, f"portfolio.{f.name}", atol=atol)


def _same_dict(a: Any, b: Any, what: str, atol: float) -> None:
    assert list(a) == list(b), (what, list(a), list(b))
    close([a[k] for k in a], [b[k] for k in b], what, atol=atol)
