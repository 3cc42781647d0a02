"""Real-time marks: one websocket client per venue following the held symbols, REST in its stead.
May import: engine, bot.errors, bot.exchanges, bot.delivery (the ops sink).
"""

from bot.stream.feed import OpsSink
from bot.stream.records import MarkTick, Source, State, VenueStatus
from bot.stream.streams import MarkStreams

__all__ = ["MarkStreams", "MarkTick", "OpsSink", "Source", "State", "VenueStatus"]
