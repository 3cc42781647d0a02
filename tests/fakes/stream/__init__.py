"""A fake of the venues' public websocket streams for the real ccxt.pro: every venue's mark
channel behind one local server, in the venue's wire format."""

from tests.fakes.stream.base import Quote, Topic
from tests.fakes.stream.server import EVERY, Event, FakeStream

__all__ = ["EVERY", "Event", "FakeStream", "Quote", "Topic"]
