"""A fake Discord REST API and gateway for the real discord.py client: world, faults, records."""

from tests.fakes.discord.model import ApiError, Call, Response, SentMessage
from tests.fakes.discord.server import FakeDiscord

__all__ = ["ApiError", "Call", "FakeDiscord", "Response", "SentMessage"]
