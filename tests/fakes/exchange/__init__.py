"""A fake derivatives exchange for the real ccxt stack: every venue behind one local server."""

from tests.fakes.exchange.base import Account, Reply, Request
from tests.fakes.exchange.server import FakeExchange

__all__ = ["Account", "FakeExchange", "Reply", "Request"]
