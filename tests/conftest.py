"""Shared test configuration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ccxt.async_support.base.exchange import Exchange


@pytest.fixture(autouse=True, scope="session")
def _no_tls_drain_on_close() -> Iterator[None]:
    """ccxt's ``close()`` sleeps ``timeout_on_exit`` (250 ms) so that TLS transports can drain;
    the fakes serve plain HTTP on 127.0.0.1, where there is nothing to drain, and every hub a
    test closes would otherwise wait it out (a quarter of a second per test, minutes in all).
    Subprocesses (``python -m bot …``) keep ccxt's default."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Exchange, "timeout_on_exit", 0)
        yield
