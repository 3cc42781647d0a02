"""A fake ``Channel``: records what it was asked to send, fails and stalls on cue."""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.delivery.channel import Outgoing
from bot.errors import DeliveryError
from engine.domain import Platform


def transient(message: str = "timed out") -> DeliveryError:
    return DeliveryError(message, retryable=True)


def permanent(
    message: str = "Forbidden: bot was blocked by the user", *, chat_gone: bool = True
) -> DeliveryError:
    return DeliveryError(message, retryable=False, chat_gone=chat_gone)


def rate_limited(retry_after_s: float) -> DeliveryError:
    return DeliveryError(
        f"Flood control exceeded. Retry in {retry_after_s:g} seconds",
        retryable=True,
        retry_after_s=retry_after_s,
    )


@dataclass(frozen=True)
class Delivery:
    """One call to ``send`` (at: when it began) or one success (at: when it finished)."""

    at: float
    chat_id: str
    dedup_key: str
    message: Outgoing


class FakeChannel:
    """Implements ``bot.delivery.channel.Channel``; ``sent`` holds the deliveries that succeeded.

    Script it per chat: ``fail(chat, *errors)`` makes the next calls raise those errors in
    order, ``fail_always(chat, error)`` makes every call raise, ``latency(chat, s)`` makes a
    send take s seconds of the injected sleep, ``hold(chat)`` stalls sends until released.
    """

    def __init__(
        self,
        platform: Platform = Platform.TELEGRAM,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        interval_s: float = 0.0,
    ) -> None:
        self.platform = platform
        self._clock = clock
        self._sleep = sleep
        self._interval_s = interval_s
        self._intervals: dict[str, float] = {}
        self._scripts: defaultdict[str, deque[BaseException]] = defaultdict(deque)
        self._always: dict[str, BaseException] = {}
        self._latency: dict[str, float] = {}
        self._holds: dict[str, asyncio.Event] = {}
        self.calls: list[Delivery] = []
        self.sent: list[Delivery] = []
        self._changed = asyncio.Condition()

    # --- scripting --------------------------------------------------------------------------

    def set_interval(self, chat_id: str, seconds: float) -> None:
        self._intervals[chat_id] = seconds

    def fail(self, chat_id: str, *errors: BaseException) -> None:
        self._scripts[chat_id].extend(errors)

    def fail_always(self, chat_id: str, error: BaseException) -> None:
        self._always[chat_id] = error

    def latency(self, chat_id: str, seconds: float) -> None:
        self._latency[chat_id] = seconds

    def hold(self, chat_id: str) -> asyncio.Event:
        """Sends to this chat wait until the returned event is set."""
        return self._holds.setdefault(chat_id, asyncio.Event())

    # --- reading ----------------------------------------------------------------------------

    def sent_to(self, chat_id: str) -> list[Delivery]:
        return [d for d in self.sent if d.chat_id == chat_id]

    def calls_to(self, chat_id: str) -> list[Delivery]:
        return [d for d in self.calls if d.chat_id == chat_id]

    async def wait_sent(self, count: int) -> None:
        """Until at least ``count`` sends have succeeded."""
        async with self._changed:
            await self._changed.wait_for(lambda: len(self.sent) >= count)

    # --- the Channel protocol ---------------------------------------------------------------

    def min_interval_s(self, chat_id: str) -> float:
        return self._intervals.get(chat_id, self._interval_s)

    async def send(self, message: Outgoing) -> str | None:
        delivery = Delivery(self._clock(), message.chat_id, message.dedup_key, message)
        self.calls.append(delivery)
        if message.chat_id in self._holds:
            await self._holds[message.chat_id].wait()
        if message.chat_id in self._latency:
            await self._sleep(self._latency[message.chat_id])
        script = self._scripts[message.chat_id]
        if script:
            raise script.popleft()
        if message.chat_id in self._always:
            raise self._always[message.chat_id]
        self.sent.append(Delivery(self._clock(), message.chat_id, message.dedup_key, message))
        async with self._changed:
            self._changed.notify_all()
        return f"{self.platform}-{len(self.sent)}"
