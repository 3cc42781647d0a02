"""The real discord.py 2.7 client against the fake Discord REST API and gateway."""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import discord
import pytest
import yarl
from discord import app_commands

from tests.fakes.discord import FakeDiscord

GUILD, CHANNEL, OTHER_CHANNEL = 700001, 800001, 800002
ANN, BOB = 111, 222
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fk:
        monkeypatch.setattr(discord.http.Route, "BASE", f"{fk.url}/api/v10")
        monkeypatch.setattr(
            discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fk.ws_url)
        )
        fk.user(ANN, "ann")
        fk.user(BOB, "bob")
        fk.guild(GUILD, "Desk", channels=[CHANNEL, OTHER_CHANNEL], owner_id=ANN)
        yield fk


class Bot:
    """A ``discord.Client`` with a command tree, started as a task on the test's loop."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self.client)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.client.start(self.fake.token))
        ready = asyncio.create_task(self.client.wait_until_ready())
        done, _ = await asyncio.wait({ready, self.task}, timeout=10, return_when="FIRST_COMPLETED")
        if self.task in done:
            ready.cancel()
            self.task.result()  # raises the login/connect failure
        assert ready in done, "client never became ready"

    async def stop(self) -> None:
        await self.client.close()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self.task, 5)


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[Bot]:
    b = Bot(fake)
    yield b
    await b.stop()


async def test_login_ready_and_guild(fake: FakeDiscord, bot: Bot) -> None:
    await bot.start()
    assert fake.identified.is_set() and fake.ready_sent.is_set()
    assert bot.client.user is not None and bot.client.user.id == fake.bot_user_id
    assert bot.client.application_id == fake.app_id
    guild = bot.client.get_guild(GUILD)
    assert guild is not None and guild.name == "Desk"
    assert {c.id for c in guild.text_channels} == {CHANNEL, OTHER_CHANNEL}
    paths = [c.path for c in fake.calls]
    assert paths[:2] == ["/users/@me", "/oauth2/applications/@me"]


async def test_slash_in_dm_round_trip(fake: FakeDiscord, bot: Bot) -> None:
    seen: list[tuple[int, str]] = []

    @bot.tree.command(description="Say hi")
    async def hello(interaction: discord.Interaction, word: str) -> None:
        seen.append((interaction.user.id, word))
        await interaction.response.send_message("hi", ephemeral=False)

    await bot.start()
    iid = fake.slash(ANN, "hello", {"word": "yo"})
    first = await fake.wait_for(lambda: fake.responses(iid))
    assert seen == [(ANN, "yo")]
    assert first[0].kind == "callback" and first[0].type == 4
    assert first[0].content == "hi" and not first[0].ephemeral
    assert [m.content for m in fake.channel_messages(fake.dm_channel_of(ANN))] == ["hi"]


def add_commands(tree: app_commands.CommandTree, seen: list[Any]) -> None:
    """``/hello word`` and ``/alerts list coin [limit]`` with autocomplete on ``coin``."""

    @tree.command(description="Say hi")
    async def hello(interaction: discord.Interaction, word: str) -> None:
        seen.append(("hello", interaction.user.id, word))
        await interaction.response.send_message("hi", ephemeral=interaction.guild is not None)

    alerts = app_commands.Group(name="alerts", description="Alerts")

    @alerts.command(name="list", description="List alerts")
    async def list_(interaction: discord.Interaction, coin: str, limit: int = 5) -> None:
        perms = interaction.permissions
        seen.append(("list", coin, limit, interaction.guild_id, perms.manage_guild))
        await interaction.response.defer(thinking=True)
        await interaction.followup.send(f"{coin} x{limit}", embed=discord.Embed(title=coin))
        await interaction.edit_original_response(content="listed")

    @list_.autocomplete("coin")
    async def coin_choices(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        coins = ["BTC", "BCH", "ETH"]
        return [app_commands.Choice(name=c, value=c) for c in coins if c.startswith(current)]

    tree.add_command(alerts)


async def test_sync_global_and_guild_then_commands_resolve(fake: FakeDiscord, bot: Bot) -> None:
    seen: list[Any] = []
    add_commands(bot.tree, seen)
    await bot.start()
    synced = await bot.tree.sync()
    assert {c.name for c in synced} == {"hello", "alerts"}
    assert {c["name"] for c in fake.synced_commands["global"]} == {"hello", "alerts"}
    alerts = next(c for c in fake.synced_commands["global"] if c["name"] == "alerts")
    assert alerts["options"][0]["type"] == 1 and alerts["options"][0]["name"] == "list"
    assert [o["name"] for o in alerts["options"][0]["options"]] == ["coin", "limit"]

    bot.tree.copy_global_to(guild=discord.Object(GUILD))
    guild_synced = await bot.tree.sync(guild=discord.Object(GUILD))
    assert {c.name for c in guild_synced} == {"hello", "alerts"}
    assert fake.synced_commands[str(GUILD)][0]["guild_id"] == str(GUILD)
    put = [c for c in fake.calls if c.method == "PUT"]
    assert [c.path for c in put] == [
        f"/applications/{fake.app_id}/commands",
        f"/applications/{fake.app_id}/guilds/{GUILD}/commands",
    ]

    # /hello in the guild is answered ephemerally: flags 64, not visible in the channel.
    iid = fake.slash(ANN, "hello", {"word": "gm"}, guild_id=GUILD, channel_id=CHANNEL)
    (cb,) = await fake.wait_for(lambda: fake.responses(iid))
    assert cb.type == 4 and cb.flags == 64 and cb.ephemeral and cb.content == "hi"
    assert fake.channel_messages(CHANNEL) == []

    # defer + followup + edit of @original, with member permissions carried in the interaction.
    fake.set_permissions(GUILD, ANN, 1 << 5)
    iid = fake.slash(ANN, "alerts", {"coin": "BTC", "limit": 3}, subcommand="list", guild_id=GUILD)
    rs = await fake.wait_for(lambda: len(fake.responses(iid)) >= 3 and fake.responses(iid))
    assert [(r.kind, r.type) for r in rs] == [
        ("callback", 5),
        ("followup", None),
        ("edit_original", None),
    ]
    assert rs[1].content == "BTC x3" and rs[1].embeds[0]["title"] == "BTC"
    assert ("list", "BTC", 3, GUILD, True) in seen
    assert [m.content for m in fake.channel_messages(CHANNEL)] == ["listed", "BTC x3"]


async def test_autocomplete_returns_choices(fake: FakeDiscord, bot: Bot) -> None:
    add_commands(bot.tree, [])
    await bot.start()
    await bot.tree.sync()
    iid = fake.autocomplete(ANN, "alerts", "coin", "B", subcommand="list")
    (cb,) = await fake.wait_for(lambda: fake.responses(iid))
    assert cb.type == 8
    assert cb.choices == [{"name": "BTC", "value": "BTC"}, {"name": "BCH", "value": "BCH"}]


class Confirm(discord.ui.View):
    def __init__(self, timeout: float | None = 30) -> None:
        super().__init__(timeout=timeout)
        self.clicked: list[int] = []

    @discord.ui.button(label="OK", custom_id="confirm:ok", style=discord.ButtonStyle.green)
    async def ok(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        self.clicked.append(interaction.user.id)
        await interaction.response.edit_message(content="confirmed", view=None)


async def test_button_click_edits_message_in_guild_and_dm(fake: FakeDiscord, bot: Bot) -> None:
    await bot.start()
    channel = await bot.client.fetch_channel(CHANNEL)
    assert isinstance(channel, discord.TextChannel)
    view = Confirm()
    msg = await channel.send("confirm?", view=view)
    (sent,) = fake.channel_messages(CHANNEL)
    assert sent.id == msg.id and sent.custom_ids == ["confirm:ok"]
    iid = fake.click(ANN, CHANNEL, msg.id, "confirm:ok")
    (cb,) = await fake.wait_for(lambda: fake.responses(iid))
    assert view.clicked == [ANN]
    assert cb.type == 7 and cb.content == "confirmed" and cb.components == []
    (after,) = fake.channel_messages(CHANNEL)
    assert after.content == "confirmed" and after.components == [] and after.edits == 1

    dm = await (await bot.client.fetch_user(BOB)).create_dm()
    assert dm.id == fake.dm_channel_of(BOB)
    dm_view = Confirm()
    dm_msg = await dm.send("sure?", view=dm_view)
    iid = fake.click(BOB, dm.id, dm_msg.id, "confirm:ok")
    (cb,) = await fake.wait_for(lambda: fake.responses(iid))
    assert dm_view.clicked == [BOB] and cb.type == 7
    assert fake.channel_messages(dm.id)[0].content == "confirmed"


async def test_persistent_view_gets_clicks_on_old_messages(fake: FakeDiscord, bot: Bot) -> None:
    # A message a previous run of the bot sent, with the persistent button on it.
    old = fake.new_message(
        CHANNEL,
        {
            "content": "old",
            "components": [
                {
                    "type": 1,
                    "components": [
                        {"type": 2, "style": 3, "label": "OK", "custom_id": "confirm:ok"}
                    ],
                }
            ],
        },
        {},
    )
    view = Confirm(timeout=None)
    bot.client.add_view(view)
    await bot.start()
    iid = fake.click(BOB, CHANNEL, old.id, "confirm:ok")
    (cb,) = await fake.wait_for(lambda: fake.responses(iid))
    assert view.clicked == [BOB] and cb.type == 7
    assert fake.message(old.id).content == "confirmed"  # type: ignore[union-attr]


async def test_reply_reference_and_embed_with_attached_chart(fake: FakeDiscord, bot: Bot) -> None:
    await bot.start()
    channel = await bot.client.fetch_channel(CHANNEL)
    assert isinstance(channel, discord.TextChannel)
    first = await channel.send("alert")
    reply = await channel.send("follow-up", reference=first)
    assert reply.reference is not None and reply.reference.message_id == first.id
    assert fake.channel_messages(CHANNEL)[1].message_reference["message_id"] == str(first.id)  # type: ignore[index]

    embed = discord.Embed(title="Chart")
    embed.set_image(url="attachment://chart.png")
    msg = await channel.send(embed=embed, file=discord.File(io.BytesIO(PNG), "chart.png"))
    call = fake.calls[-1]
    assert call.files == {"chart.png": PNG}
    assert call.json["embeds"][0]["image"]["url"] == "attachment://chart.png"
    assert msg.attachments[0].filename == "chart.png" and msg.attachments[0].size == len(PNG)
    assert fake.channel_messages(CHANNEL)[2].files == {"chart.png": PNG}


async def test_several_files_in_one_message_and_the_limits(fake: FakeDiscord, bot: Bot) -> None:
    """``files=`` uploads each file as ``files[n]`` of one multipart request: one message with
    every attachment; an embed showing a file that was not uploaded, or 11 files, is a 400."""
    await bot.start()
    channel = await bot.client.fetch_channel(CHANNEL)
    assert isinstance(channel, discord.TextChannel)
    names = ["a.png", "b.png", "c.png"]
    embeds = [discord.Embed(title=n).set_image(url=f"attachment://{n}") for n in names]
    files = [discord.File(io.BytesIO(PNG + n.encode()), n) for n in names]
    msg = await channel.send(embeds=embeds, files=files)
    assert sorted(a.filename for a in msg.attachments) == names
    assert fake.channel_messages(CHANNEL)[-1].files == {n: PNG + n.encode() for n in names}
    with pytest.raises(discord.HTTPException, match="no file uploaded"):
        await channel.send(embeds=embeds, files=files[:1])
    with pytest.raises(discord.HTTPException, match="10 or fewer"):
        await channel.send(files=[discord.File(io.BytesIO(PNG), f"{n}.png") for n in range(11)])
    assert len(fake.channel_messages(CHANNEL)) == 1


async def test_interaction_answer_with_file_is_multipart(fake: FakeDiscord, bot: Bot) -> None:
    @bot.tree.command(description="Chart")
    async def chart(interaction: discord.Interaction) -> None:
        embed = discord.Embed(title="BTC").set_image(url="attachment://chart.png")
        await interaction.response.send_message(
            embed=embed, file=discord.File(io.BytesIO(PNG), "chart.png")
        )

    await bot.start()
    iid = fake.slash(ANN, "chart")
    (cb,) = await fake.wait_for(lambda: fake.responses(iid))
    assert cb.type == 4 and cb.files == {"chart.png": PNG}
    assert cb.embeds[0]["image"]["url"] == "attachment://chart.png"


async def test_429_is_retried_and_403_raises(fake: FakeDiscord, bot: Bot) -> None:
    await bot.start()
    channel = await bot.client.fetch_channel(CHANNEL)
    assert isinstance(channel, discord.TextChannel)
    fake.fail("POST", r"/channels/\d+/messages", status=429, retry_after=0.3)
    await channel.send("after a wait")
    posts = [c for c in fake.calls if c.method == "POST"]
    assert [c.status for c in posts] == [429, 200]
    assert posts[1].at - posts[0].at >= 0.3

    fake.fail("POST", r"/channels/\d+/messages", status=403)
    with pytest.raises(discord.Forbidden) as err:
        await channel.send("nope")
    assert err.value.code == 50001
    dm = await (await bot.client.fetch_user(BOB)).create_dm()
    fake.fail("POST", r"/channels/\d+/messages", status=403)
    with pytest.raises(discord.Forbidden) as err:
        await dm.send("nope")
    assert err.value.code == 50007


async def test_429_on_interaction_callback_is_retried(fake: FakeDiscord, bot: Bot) -> None:
    seen: list[Any] = []
    add_commands(bot.tree, seen)
    await bot.start()
    fake.fail("POST", r"/interactions/\d+/[^/]+/callback", status=429, retry_after=0.2)
    iid = fake.slash(ANN, "hello", {"word": "x"})
    (cb,) = await fake.wait_for(lambda: fake.responses(iid))
    assert cb.type == 4
    statuses = [c.status for c in fake.calls if c.path.endswith("/callback")]
    assert statuses == [429, 200]


async def test_heartbeats_are_acked(fake: FakeDiscord, bot: Bot) -> None:
    fake.heartbeat_interval_ms = 150
    await bot.start()
    await fake.wait_for(lambda: fake.heartbeats >= 2, timeout=30)
    # Finite once the client has seen an ACK (it is inf before). No upper bound: on a loaded
    # CI machine a heartbeat round trip can take seconds, which says nothing about the fake.
    await fake.wait_for(lambda: math.isfinite(bot.client.latency), timeout=30)


async def test_wrong_token_fails_login(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.default())
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()
    assert fake.calls[-1].status == 401


async def test_guild_added_after_ready_is_dispatched(fake: FakeDiscord, bot: Bot) -> None:
    joined: list[int] = []
    bot.client.event(_on_guild_join(joined))
    await bot.start()
    fake.guild(700002, "Second", channels=[800003])
    await fake.wait_for(lambda: bot.client.get_guild(700002))
    assert bot.client.get_guild(700002).name == "Second"  # type: ignore[union-attr]
    await fake.wait_for(lambda: joined == [700002])


def _on_guild_join(joined: list[int]) -> Callable[[discord.Guild], Awaitable[None]]:
    async def on_guild_join(guild: discord.Guild) -> None:
        joined.append(guild.id)

    return on_guild_join
