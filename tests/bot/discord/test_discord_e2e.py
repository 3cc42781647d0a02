"""End to end: `liqwatch run`'s composition root with the real discord.py client (and, in the
last test, python-telegram-bot at the same time) against the fake Discord and the fake
exchange: slash commands, ephemeral answers in a guild, an alert in the user's DM with buttons,
Acknowledge editing it, the resolved message replying to it."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import discord
import pytest
import yarl

from bot.runtime.app import run
from bot.security.vault import generate_key
from bot.settings import Settings
from tests.engine.normalise.payloads.hyperliquid import ADDRESS, Asset
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.model import Response, SentMessage
from tests.fakes.exchange import FakeExchange
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.slow

SOL = "SOL/USDC:USDC"
ANN = 5001
GUILD, DESK_CHANNEL = 7001, 7101
#: An isolated SOL long; Hyperliquid's isolated liquidation price is fixed by entry and
#: margin: (entry − margin/size) / (1 − MMR) = (150 − 15) / 0.975.
OTHER_ADDRESS = "0x3333333333333333333333333333333333333333"
LIQ = (150.0 - 1500.0 / 100.0) / (1 - 1 / 40)


def _mark(distance_pct: float) -> float:
    return LIQ / (1 - distance_pct / 100)


@dataclass
class World:
    exchange: FakeExchange
    discord: FakeDiscord
    telegram: FakeTelegram | None
    stop: asyncio.Event


@pytest.fixture
async def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> AsyncIterator[World]:
    with_telegram = bool(getattr(request, "param", False))
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    monkeypatch.chdir(tmp_path)
    async with FakeExchange() as exchange, FakeDiscord() as fake, FakeTelegram() as telegram:
        sol = Asset("SOL", 100.0, 150.0, _mark(30.0), 10, 40, isolated_margin=1500.0)
        exchange.add_wallet(ADDRESS, positions=(sol,))
        fake.user(ANN, "ann")
        fake.guild(GUILD, "Desk", channels=[DESK_CHANNEL])
        env = {
            "LIQWATCH_DB": str(tmp_path / "liqwatch.db"),
            "LIQWATCH_MASTER_KEY": generate_key(),
            "LIQWATCH_POLL_SECONDS": "1",
            "LIQWATCH_POLL_BANDS": "off",  # these tests move REST marks between polls
            "LIQWATCH_EXCHANGE_URL_PREFIX": exchange.url,
            "DISCORD_BOT_TOKEN": fake.token,
            "DISCORD_API_URL": f"{fake.url}/api/v10",
            "DISCORD_GATEWAY_URL": fake.ws_url,
            "DISCORD_GUILD_IDS": str(GUILD),
        }
        if with_telegram:
            env |= {"TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_API_URL": telegram.url}
        stop = asyncio.Event()
        task = asyncio.create_task(run(Settings.from_env(env), stop=stop))
        try:
            await fake.wait_for(lambda: fake.synced_commands.get(str(GUILD)), timeout=40)
            # The fake is reached through this client's own URLs: discord.py's class-wide
            # ones still name Discord, for any other client in the process.
            assert discord.http.Route.BASE == "https://discord.com/api/v10"
            gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
            assert gateway == yarl.URL("wss://gateway.discord.gg/")
            if with_telegram:
                await telegram.wait_for(lambda: telegram.calls_to("getUpdates"), timeout=30)
            yield World(exchange, fake, telegram if with_telegram else None, stop)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=30)


async def _answer(fake: FakeDiscord, interaction: str, expect: str) -> Response:
    """The first follow-up (or message callback) of an interaction whose text holds ``expect``."""

    def found() -> Response | None:
        for r in fake.responses(interaction):
            text = (r.content or "") + " ".join(
                (e.get("title") or "") + (e.get("description") or "") for e in r.embeds
            )
            if expect in text:
                return r
        return None

    return await fake.wait_for(found, timeout=30)


def _text(message: SentMessage) -> str:
    return " ".join((e.get("title") or "") + (e.get("description") or "") for e in message.embeds)


async def _alert(fake: FakeDiscord, headline: str) -> SentMessage:
    dm = fake.dm_channel_of(ANN)
    return await fake.wait_for(
        lambda: next((m for m in fake.channel_messages(dm) if headline in _text(m)), None),
        timeout=40,
    )


async def _watch_and_wait_for_positions(fake: FakeDiscord) -> None:
    watched = fake.slash(ANN, "watch", {"venue": "hyperliquid", "address": ADDRESS})
    linked = await _answer(fake, watched, 'Linked hyperliquid wallet 0x1111…1111 as "hl-1111"')
    assert not linked.ephemeral  # a DM: answered normally
    assert fake.responses(watched)[0].type == 5  # deferred at once, answered in a follow-up


async def test_watch_positions_alert_ack_resolved(world: World) -> None:
    fake = world.discord
    await _watch_and_wait_for_positions(fake)

    # In a guild channel, the user's own positions come back ephemeral.
    answer = None
    for _ in range(30):
        asked = fake.slash(ANN, "positions", {}, guild_id=GUILD, channel_id=DESK_CHANNEL)
        answer = await _answer(fake, asked, "[hl-1111]")
        if SOL in str(answer.embeds):
            break
        await asyncio.sleep(0.5)
    assert answer is not None and answer.ephemeral and SOL in str(answer.embeds)
    assert not fake.channel_messages(DESK_CHANNEL)  # nothing public in the channel

    # The mark walks down: warning, then critical with buttons, in the DM.
    world.exchange.set_mark("hyperliquid", SOL, _mark(8.0))
    warning = await _alert(fake, "WARNING")
    assert warning.embeds[0]["color"] == 0xE67E22
    world.exchange.set_mark("hyperliquid", SOL, _mark(3.0))
    critical = await _alert(fake, "CRITICAL")
    ack = next(c for c in critical.custom_ids if c.startswith("ack:"))
    assert [c.split(":")[0] for c in critical.custom_ids] == ["ack", "snz", "pos"]

    # Acknowledge edits the alert message in place (interaction callback 7).
    clicked = fake.click(ANN, critical.channel_id, critical.id, ack)
    await fake.wait_for(lambda: "Acknowledged by" in str(critical.embeds), timeout=15)
    assert fake.responses(clicked)[0].type == 7
    assert [c.split(":")[0] for c in critical.custom_ids] == ["pos"]

    # Recovery: the resolved message replies to the critical alert.
    world.exchange.set_mark("hyperliquid", SOL, _mark(20.0))
    resolved = await _alert(fake, "RESOLVED")
    assert resolved.message_reference is not None
    assert int(resolved.message_reference["message_id"]) == critical.id
    assert resolved.embeds[0]["color"] == 0x2ECC71


async def test_link_in_a_guild_is_refused_ephemerally_without_echoing(world: World) -> None:
    fake = world.discord
    asked = fake.slash(
        ANN,
        "link",
        {"venue": "binanceusdm", "api_key": "KEY-guild-1234", "secret": "SECRET-guild-5678"},
        guild_id=GUILD,
        channel_id=DESK_CHANNEL,
    )
    refusal = await _answer(fake, asked, "private chat")
    assert refusal.ephemeral
    assert "deleted" not in str(refusal.embeds)  # Discord posted nothing, so nothing deleted
    everything = str([r.body for r in fake.responses(asked)])
    assert "SECRET-guild-5678" not in everything and "KEY-guild-1234" not in everything


async def test_sharing_needs_manage_channels(world: World) -> None:
    fake = world.discord
    await _watch_and_wait_for_positions(fake)
    asked = fake.slash(
        ANN, "share", {"account": "hl-1111"}, guild_id=GUILD, channel_id=DESK_CHANNEL
    )
    await _answer(fake, asked, "Only this chat's admins")
    fake.set_permissions(GUILD, ANN, 1 << 4)  # MANAGE_CHANNELS
    asked = fake.slash(
        ANN, "share", {"account": "hl-1111"}, guild_id=GUILD, channel_id=DESK_CHANNEL
    )
    await _answer(fake, asked, "is now shared with this chat")

    # Autocomplete offers the user's own labels (and venues where a venue is asked).
    typed = fake.autocomplete(
        ANN, "unshare", "account", "hl", guild_id=GUILD, channel_id=DESK_CHANNEL
    )
    choices = await fake.wait_for(lambda: (fake.responses(typed) or [None])[0], timeout=15)
    assert choices.type == 8 and [c["value"] for c in choices.choices or []] == ["hl-1111"]
    typed = fake.autocomplete(ANN, "watch", "venue", "hyper")
    venues = await fake.wait_for(lambda: (fake.responses(typed) or [None])[0], timeout=15)
    assert [c["value"] for c in venues.choices or []] == ["hyperliquid"]


@pytest.mark.parametrize("world", [True], indirect=True)
async def test_one_alert_reaches_telegram_and_discord(world: World) -> None:
    """One person on both platforms (/connect), one process, one alert: both chats get it."""
    fake, telegram = world.discord, world.telegram
    assert telegram is not None
    await _watch_and_wait_for_positions(fake)
    asked = fake.slash(ANN, "connect", {})
    code_reply = await _answer(fake, asked, "/connect ")
    text = str(code_reply.embeds)
    code = text.split("/connect ")[1].split()[0]
    chat = telegram.private_chat(9001, "Ann")
    telegram.send(chat, f"/connect {code}")
    await telegram.wait_for(
        lambda: any("Connected" in m.plain for m in telegram.bot_messages(9001)), timeout=20
    )
    # The Discord chat hears of the join, through the outbox, with how to undo it.
    told = await _alert(fake, "Telegram chat connected")
    assert "/connect remove telegram" in _text(told)
    world.exchange.set_mark("hyperliquid", SOL, _mark(3.0))
    on_discord = await _alert(fake, "CRITICAL")
    on_telegram = await telegram.wait_for(
        lambda: next(
            (m for m in telegram.bot_messages(9001) if m.plain.startswith("🔴 CRITICAL")), None
        ),
        timeout=40,
    )
    assert "#" in on_telegram.plain and _text(on_discord)
    alert_ids = {w for w in on_telegram.plain.split() if w.startswith("#")}
    assert alert_ids and all(a in _text(on_discord) for a in alert_ids)  # the same alert


def _png_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.size


@pytest.mark.parametrize("world", [True], indirect=True)
async def test_digest_with_charts_reaches_both_platforms(world: World) -> None:
    """/digest now in a Discord DM and in the connected Telegram chat: text plus three PNG
    charts on each; a subscription by a non-admin is refused; a group with no accounts gets
    'nothing to report'."""
    fake, telegram = world.discord, world.telegram
    assert telegram is not None
    await _watch_and_wait_for_positions(fake)
    await asyncio.sleep(2)  # a first poll, so the digest has figures

    asked = fake.slash(ANN, "digest", {"args": "now"})
    await _answer(fake, asked, "Building the digest")
    dm = fake.dm_channel_of(ANN)
    posted = await fake.wait_for(
        lambda: next((m for m in fake.channel_messages(dm) if m.files), None), timeout=60
    )
    assert sorted(posted.files) == ["equity.png", "exposure.png", "ladder.png"]
    assert all(_png_size(png)[0] == 900 for png in posted.files.values())
    assert posted.embeds[1]["image"]["url"] == "attachment://exposure.png"
    assert "Equity" in posted.embeds[0]["description"]

    code = str((await _answer(fake, fake.slash(ANN, "connect", {}), "/connect ")).embeds)
    chat = telegram.private_chat(9001, "Ann")
    telegram.send(chat, f"/connect {code.split('/connect ')[1].split()[0]}")
    await telegram.wait_for(
        lambda: any("Connected" in m.plain for m in telegram.bot_messages(9001)), timeout=20
    )
    telegram.send(chat, "/digest now")
    photos = await telegram.wait_for(
        lambda: (lambda p: p if len(p) == 3 else None)(
            [m for m in telegram.bot_messages(9001) if m.photo]
        ),
        timeout=60,
    )
    assert all(_png_size(m.photo or b"")[0] == 900 for m in photos)
    await telegram.wait_for(
        lambda: any(m.plain.startswith("Digest") for m in telegram.bot_messages(9001)),
        timeout=30,
    )

    # /chart on demand: one photo in Telegram, one attachment in an ephemeral Discord reply.
    before = len([m for m in telegram.bot_messages(9001) if m.photo])
    telegram.send(chat, "/chart ladder")
    await telegram.wait_for(
        lambda: len([m for m in telegram.bot_messages(9001) if m.photo]) == before + 1,
        timeout=60,
    )
    asked = fake.slash(ANN, "chart", {"kind": "equity"}, guild_id=GUILD, channel_id=DESK_CHANNEL)
    shown = await _answer(fake, asked, "Equity and leverage")
    assert shown.ephemeral and _png_size(shown.files["equity.png"])[0] == 900

    group = telegram.group(-100900, "Desk")
    telegram.set_member(-100900, 9002, "member")
    telegram.send(group, "/digest subscribe at 08:00", user_id=9002, first_name="Bob")
    await telegram.wait_for(
        lambda: any("Only this chat's admins" in m.plain for m in telegram.bot_messages(-100900)),
        timeout=20,
    )
    telegram.send(group, "/digest now", user_id=9002, first_name="Bob")
    await telegram.wait_for(
        lambda: any("Nothing to report" in m.plain for m in telegram.bot_messages(-100900)),
        timeout=40,
    )


@pytest.mark.parametrize("world", [True], indirect=True)
async def test_subscribed_digests_arrive_on_schedule_on_both_platforms(world: World) -> None:
    """Subscribed for the coming minute (UTC), a Discord DM and a Telegram chat each receive
    their digest when APScheduler fires inside the running app: text plus three charts, with
    the day's realised PnL and funding the venue reported."""
    fake, telegram = world.discord, world.telegram
    assert telegram is not None
    now_ms = int(time.time() * 1000)
    world.exchange.add_flow(ADDRESS, "funding", SOL, -0.75, now_ms - 7_200_000)
    world.exchange.add_flow(ADDRESS, "realised", SOL, 31.5, now_ms - 3_600_000)
    world.exchange.add_flow(ADDRESS, "realised", SOL, 500.0, now_ms - 30 * 3_600_000)  # old
    await _watch_and_wait_for_positions(fake)
    world.exchange.add_wallet(OTHER_ADDRESS)
    chat = telegram.private_chat(9101, "Tom")
    telegram.send(chat, f"/watch hyperliquid {OTHER_ADDRESS}")
    await telegram.wait_for(
        lambda: any("Linked hyperliquid" in m.plain for m in telegram.bot_messages(9101)),
        timeout=30,
    )
    # The first whole minute at least 15 s away: time to subscribe on both platforms, and a
    # wait of 15-75 s (it was 30-90 s).
    soon = datetime.now(UTC) + timedelta(seconds=15)
    due = soon.replace(second=0, microsecond=0) + timedelta(minutes=1)
    at = due.strftime("%H:%M")
    asked = fake.slash(ANN, "digest", {"args": f"subscribe at {at} UTC"})
    await _answer(fake, asked, f"Daily digest at {at} UTC")
    telegram.send(chat, f"/digest subscribe at {at} UTC")
    await telegram.wait_for(
        lambda: any(f"Daily digest at {at}" in m.plain for m in telegram.bot_messages(9101)),
        timeout=20,
    )
    dm = fake.dm_channel_of(ANN)
    posted = await fake.wait_for(
        lambda: next((m for m in fake.channel_messages(dm) if m.files), None), timeout=150
    )
    assert "Daily digest" in posted.embeds[0]["title"] and len(posted.files) == 3
    assert "Realised PnL, 24 h: +31.50 USDC" in _text(posted)
    assert "Funding, 24 h: paid 0.75 USDC" in _text(posted)
    photos = await telegram.wait_for(
        lambda: (lambda p: p if len(p) == 3 else None)(
            [m for m in telegram.bot_messages(9101) if m.photo]
        ),
        timeout=60,
    )
    assert all(_png_size(m.photo or b"")[0] == 900 for m in photos)
    # Tom's wallet had no flows: a quiet day read whole says "none", not "not available".
    await telegram.wait_for(
        lambda: any("Realised PnL, 24 h: none" in m.plain for m in telegram.bot_messages(9101)),
        timeout=30,
    )
    assert datetime.now(UTC) >= due.replace(second=0, microsecond=0)  # not before its time
