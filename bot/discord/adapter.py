"""The Discord bot: slash commands and buttons in, ``Conversation`` replies out, on our loop.

Each slash command is rebuilt as the text of the shared grammar (``/positions main``) and
handed to ``Conversation``: Discord adds typed options, autocomplete and embeds, never its own
rules. Every interaction is deferred at once (Discord wants an answer within 3 s) and answered
with follow-ups; in a guild the answer is ephemeral (only the sender sees it), so a user's own
accounts may be shown there.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

import discord
import yarl
from discord import app_commands

from bot.chat.commands import parse as cmd
from bot.chat.commands.words import VENUES
from bot.chat.context import Action, ChatContext, Pressed, Reply
from bot.chat.conversation import Conversation, unexpected
from bot.discord import channel as dchannel
from bot.discord import render
from bot.errors import UserError
from bot.settings import SettingsError
from engine.domain import Platform

log = logging.getLogger(__name__)

#: What a member needs to change a channel's subscriptions and alerting.
_ADMIN_PERMISSIONS = ("administrator", "manage_guild", "manage_channels")
_AUTOCOMPLETE_MAX = 25


class DiscordAdapter:
    """Owns the discord.py client and its command tree: start with a ``Conversation``, stop."""

    def __init__(
        self,
        token: str,
        api_url: str,
        *,
        gateway_url: str | None = None,
        guild_ids: tuple[int, ...] = (),
    ) -> None:
        # discord.py reads these class attributes for every request and connection: this is
        # how a rate-limit proxy (or the tests' fake) is put in front of Discord.
        discord.http.Route.BASE = api_url.rstrip("/")
        if gateway_url:
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
        self.token, self.api_url, self.guild_ids = token, api_url, guild_ids
        intents = discord.Intents.default()
        self.client = discord.Client(intents=intents, guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self.client)
        self.channel = dchannel.DiscordChannel(self.client)
        self._conversation: Conversation | None = None
        self._task: asyncio.Task[None] | None = None
        self.client.event(self.on_interaction)
        _register(self)

    async def __aenter__(self) -> DiscordAdapter:
        """Log in (checks the token) so a wrong one fails at start-up, by name."""
        try:
            await self.client.login(self.token)
        except discord.LoginFailure:
            raise SettingsError(
                f"DISCORD_BOT_TOKEN was rejected by the Discord API at {self.api_url}: "
                "copy the bot token again from the Developer Portal"
            ) from None
        except (discord.HTTPException, OSError) as exc:
            raise SettingsError(
                f"cannot reach the Discord API at {self.api_url} (DISCORD_API_URL): {exc}"
            ) from None
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self, conversation: Conversation) -> None:
        """Connect to the gateway in the background, then sync the slash commands."""
        self._conversation = conversation
        self._task = asyncio.create_task(self.client.connect(reconnect=True), name="discord")
        await self.client.wait_until_ready()
        try:
            if self.guild_ids:
                for guild_id in self.guild_ids:
                    guild = discord.Object(id=guild_id)
                    self.tree.copy_global_to(guild=guild)
                    await self.tree.sync(guild=guild)
            else:
                await self.tree.sync()
        except discord.HTTPException as exc:  # commands stay as last synced: never fatal
            log.warning("Discord command sync failed: %s", exc)
        log.info("Discord bot %s connected", self.client.user)

    async def serve(self) -> None:
        """Hold the gateway connection until it ends for good. discord.py reconnects and
        resumes by itself; ``connect`` raises only on what it will not retry (a revoked
        token, a fatal close code). Called again, it logs in if it must and reconnects."""
        task = self._task
        if task is None or task.done():
            if self.client.is_closed():
                self.client.clear()
                await self.client.login(self.token)
            task = self._task = asyncio.create_task(
                self.client.connect(reconnect=True), name="discord"
            )
        await asyncio.shield(task)  # cancelling serve (shutdown) leaves the socket to stop()
        error = None if task.cancelled() else task.exception()
        raise error or RuntimeError("Discord gateway connection ended")

    async def stop(self) -> None:
        """Close the gateway and HTTP session (idempotent)."""
        if not self.client.is_closed():
            await self.client.close()
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # --- interactions ------------------------------------------------------------------------
    def context(self, interaction: discord.Interaction[Any]) -> ChatContext:
        user = interaction.user
        perms = interaction.permissions

        async def is_admin() -> bool:
            return any(getattr(perms, name, False) for name in _ADMIN_PERMISSIONS)

        private = interaction.guild_id is None
        return ChatContext(
            Platform.DISCORD,
            str(user.id),
            user.display_name,
            str(interaction.channel_id),
            private,
            None,
            is_admin,
            sees_own=not private,  # guild answers are ephemeral: only the sender sees them
        )

    async def run(self, interaction: discord.Interaction[Any], text: str) -> None:
        """Defer at once, answer with the conversation's reply (ephemeral in guilds)."""
        ephemeral = interaction.guild_id is not None
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        assert self._conversation is not None  # commands are only served after start()
        answer = await self._conversation.handle(self.context(interaction), text)
        await self._send(interaction, answer, ephemeral=ephemeral)

    async def _send(
        self, interaction: discord.Interaction[Any], answer: Reply, *, ephemeral: bool
    ) -> None:
        for image in answer.images:
            embed = discord.Embed(title=image.title, colour=render.NEUTRAL_COLOUR)
            embed.set_image(url=f"attachment://{image.name}")
            png = io.BytesIO(base64.b64decode(image.png_base64))
            await interaction.followup.send(
                embed=embed, file=discord.File(png, filename=image.name), ephemeral=ephemeral
            )
        if answer.images and answer.text in {i.title for i in answer.images}:
            return  # the embed title already says it
        for group in render.reply(answer):
            embeds = [discord.Embed.from_dict(e) for e in group]
            await interaction.followup.send(embeds=embeds, ephemeral=ephemeral)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Button clicks under alert messages (slash commands go through the tree)."""
        if interaction.type is not discord.InteractionType.component:
            return
        data = cast(dict[str, Any], interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        action, _, arg = custom_id.partition(":")
        if self._conversation is None:
            return
        try:
            pressed = await self._conversation.press(self.context(interaction), action, arg)
            await self._answer_button(interaction, pressed)
        except discord.DiscordException:
            log.warning("Discord button %s could not be answered", action, exc_info=True)

    async def _answer_button(self, interaction: discord.Interaction[Any], pressed: Pressed) -> None:
        if pressed.notice is not None:
            outbox_id = _outbox_id(interaction)
            await interaction.response.edit_message(
                embed=discord.Embed.from_dict(render.notice(pressed.notice, pressed.state)),
                view=dchannel.view(
                    pressed.actions, outbox_id=outbox_id, account_id=pressed.notice.account_id
                ),
            )
            return
        if pressed.reply is not None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await self._send(interaction, pressed.reply, ephemeral=True)
            return
        await interaction.response.send_message(pressed.toast, ephemeral=True)

    # --- autocomplete ------------------------------------------------------------------------
    async def labels(self, interaction: discord.Interaction[Any], current: str) -> list[str]:
        if self._conversation is None:
            return []
        owner = await self._conversation.user(self.context(interaction))
        found = await self._conversation.accounts.list(owner)
        return [a.label for a in found if current.lower() in a.label.lower()]

    async def alert_ids(self, interaction: discord.Interaction[Any], current: str) -> list[str]:
        if self._conversation is None:
            return []
        owner = await self._conversation.user(self.context(interaction))
        live = await self._conversation.alerts.live(owner)
        return [str(v.alert.id) for v in live if str(v.alert.id).startswith(current.lstrip("#"))]


def _outbox_id(interaction: discord.Interaction[Any]) -> int:
    """The outbox row behind an alert message, read back from its own buttons."""
    message = interaction.message
    for row in message.components if message else ():
        for item in getattr(row, "children", ()):
            action, _, arg = str(getattr(item, "custom_id", "") or "").partition(":")
            if action in (Action.ACK.value, Action.SNOOZE.value) and arg.isdigit():
                return int(arg)
    return 0


def _choices(
    source: Callable[[discord.Interaction[Any], str], Awaitable[list[str]]],
) -> Callable[[discord.Interaction[Any], str], Coroutine[Any, Any, list[app_commands.Choice[str]]]]:
    async def complete(
        interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        try:
            found = await source(interaction, current)
        except (UserError, discord.DiscordException):
            return []
        except Exception:
            unexpected("Discord autocomplete")
            return []
        return [app_commands.Choice(name=v, value=v) for v in found[:_AUTOCOMPLETE_MAX]]

    return complete


async def _venues(interaction: discord.Interaction[Any], current: str) -> list[str]:
    return [v for v in VENUES if current.lower() in v]


def _text(*words: object) -> str:
    """A command line of the shared grammar from slash options (None options left out)."""
    return " ".join(str(w) for w in words if w is not None and str(w) != "")


def _register(bot: DiscordAdapter) -> None:  # noqa: C901 - one block per command
    """The slash commands: the same set and names as the chat grammar."""
    tree, run = bot.tree, bot.run
    labels, alert_ids, venues = _choices(bot.labels), _choices(bot.alert_ids), _choices(_venues)

    def describe(name: str) -> str:
        return cmd.SUMMARY[name][:100]

    @tree.command(name="start", description=describe("start"))
    async def start(interaction: discord.Interaction[Any]) -> None:
        await run(interaction, "/start")

    @tree.command(name="help", description=describe("help"))
    @app_commands.describe(command="A command to explain")
    async def help_(interaction: discord.Interaction[Any], command: str | None = None) -> None:
        await run(interaction, _text("/help", command))

    @tree.command(name="link", description=describe("link"))
    @app_commands.describe(
        venue="ccxt id, e.g. binanceusdm", api_key="Read-only API key", secret="Its secret"
    )
    @app_commands.autocomplete(venue=venues)
    async def link(
        interaction: discord.Interaction[Any],
        venue: str,
        api_key: str,
        secret: str,
        passphrase: str | None = None,
    ) -> None:
        await run(interaction, _text("/link", venue, api_key, secret, passphrase))

    @tree.command(name="watch", description=describe("watch"))
    @app_commands.autocomplete(venue=venues)
    async def watch(interaction: discord.Interaction[Any], venue: str, address: str) -> None:
        await run(interaction, _text("/watch", venue, address))

    def account_command(name: str, required: bool) -> None:
        if required:

            async def with_account(interaction: discord.Interaction[Any], account: str) -> None:
                await run(interaction, _text(f"/{name}", account))

            callback = with_account
        else:

            async def optional(
                interaction: discord.Interaction[Any], account: str | None = None
            ) -> None:
                await run(interaction, _text(f"/{name}", account))

            callback = optional
        command: app_commands.Command[Any, Any, None] = app_commands.Command(
            name=name, description=describe(name), callback=callback
        )
        command.autocomplete("account")(labels)
        tree.add_command(command)

    for name in ("unlink", "share", "unshare"):
        account_command(name, True)
    for name in ("positions", "risk"):
        account_command(name, False)

    @tree.command(name="accounts", description=describe("accounts"))
    async def accounts(interaction: discord.Interaction[Any]) -> None:
        await run(interaction, "/accounts")

    @tree.command(name="stress", description=describe("stress"))
    @app_commands.describe(
        shock="Price move in percent, e.g. -10%", asset="e.g. BTC (all if empty)"
    )
    async def stress(
        interaction: discord.Interaction[Any], shock: str, asset: str | None = None
    ) -> None:
        await run(interaction, _text("/stress", asset, shock))

    @tree.command(name="alerts", description=describe("alerts"))
    async def alerts(interaction: discord.Interaction[Any]) -> None:
        await run(interaction, "/alerts")

    alert = app_commands.Group(name="alert", description=describe("alert"))

    @alert.command(name="add", description="Add a rule, e.g. liq<5% BTC critical")
    async def alert_add(interaction: discord.Interaction[Any], rule: str) -> None:
        await run(interaction, _text("/alert add", rule))

    for action in ("rm", "pause", "resume"):

        async def change(
            interaction: discord.Interaction[Any], rule_id: int, action: str = action
        ) -> None:
            await run(interaction, _text("/alert", action, rule_id))

        alert.add_command(
            app_commands.Command(
                name=action, description=f"{action} an alert rule by its number", callback=change
            )
        )
    tree.add_command(alert)

    @tree.command(name="ack", description=describe("ack"))
    @app_commands.autocomplete(alert=alert_ids)
    async def ack(interaction: discord.Interaction[Any], alert: str) -> None:
        await run(interaction, _text("/ack", alert))

    @tree.command(name="snooze", description=describe("snooze"))
    @app_commands.autocomplete(alert=alert_ids)
    async def snooze(interaction: discord.Interaction[Any], alert: str, duration: str) -> None:
        await run(interaction, _text("/snooze", alert, duration))

    @tree.command(name="quiet", description=describe("quiet"))
    @app_commands.describe(window="e.g. 22:00-07:00 Europe/Paris, or off")
    async def quiet(interaction: discord.Interaction[Any], window: str) -> None:
        await run(interaction, _text("/quiet", window))

    @tree.command(name="why", description=describe("why"))
    @app_commands.autocomplete(alert=alert_ids)
    async def why(interaction: discord.Interaction[Any], alert: str) -> None:
        await run(interaction, _text("/why", alert))

    @tree.command(name="silence", description=describe("silence"))
    @app_commands.describe(args="e.g. kind=liq symbol=BTC 2h · rm 3 · empty to list")
    async def silence(interaction: discord.Interaction[Any], args: str | None = None) -> None:
        await run(interaction, _text("/silence", args))

    @tree.command(name="chart", description=describe("chart"))
    @app_commands.choices(
        kind=[app_commands.Choice(name=k, value=k) for k in ("exposure", "ladder", "equity")]
    )
    @app_commands.autocomplete(account=labels)
    async def chart(
        interaction: discord.Interaction[Any], kind: str, account: str | None = None
    ) -> None:
        await run(interaction, _text("/chart", kind, account))

    @tree.command(name="connect", description=describe("connect"))
    @app_commands.describe(code="The code /connect gave you on the other platform, or list")
    async def connect(interaction: discord.Interaction[Any], code: str | None = None) -> None:
        await run(interaction, _text("/connect", code))

    @tree.command(name="digest", description=describe("digest"))
    async def digest(interaction: discord.Interaction[Any], args: str | None = None) -> None:
        await run(interaction, _text("/digest", args))
