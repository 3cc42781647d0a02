"""Single-flight reads: shared by their callers, outliving a caller that gives up."""

from __future__ import annotations

import asyncio

from bot.exchanges.flight import Flights


async def test_a_caller_that_gives_up_leaves_the_read_running() -> None:
    """A waiter timing out (or cancelled) does not cancel the read: it lands for the others."""
    flights: Flights[str] = Flights()
    landed: list[str] = []
    release = asyncio.Event()

    async def read() -> None:
        await release.wait()
        landed.append("BTC")

    flights.start(["BTC"], read)
    await flights.wait(["BTC"], timeout_s=0.01)
    assert flights.flying("BTC") and not landed
    release.set()
    await flights.wait(["BTC", "ETH"])
    assert landed == ["BTC"] and not flights.flying("BTC")


async def test_join_raises_the_reads_error_to_every_caller() -> None:
    """Callers joining one failing read each see its error; ``wait`` never raises it."""
    flights: Flights[str] = Flights()

    async def read() -> None:
        await asyncio.sleep(0.01)
        raise LookupError("venue down")

    flights.start(["markets"], read)
    results = await asyncio.gather(
        flights.join("markets"), flights.join("markets"), return_exceptions=True
    )
    assert [type(r) for r in results] == [LookupError, LookupError]
    flights.start(["markets"], read)
    await flights.wait(["markets"])
    assert not flights.flying("markets")


async def test_close_cancels_the_reads_in_flight() -> None:
    """``close`` cancels every read still running (the hub is closing their instances)."""
    flights: Flights[str] = Flights()
    cancelled: list[bool] = []

    async def read() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    flights.start(["a", "b"], read)
    await asyncio.sleep(0)
    assert flights.flying("a")
    await flights.close()
    assert cancelled == [True]
    assert not flights.flying("a") and not flights.flying("b")
