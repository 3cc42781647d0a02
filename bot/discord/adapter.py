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
import contextvars
import inspect
import io
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from typing import Any, cast

import discord
import yarl
from discord import app_commands
from discord.webhook.async_ import async_context

from bot.chat import buttons
from bot.chat.commands import parse as cmd
from bot.chat.commands.spec import Arg, ArgType, Completion
from bot.chat.commands.words import VENUES
from bot.chat.context import ChatContext, Pressed, Reply
from bot.chat.conversation import Conversation, unexpected
from bot.discord import channel as dchannel
from bot.discord import render
from bot.discord.client import DiscordClient, Webhooks
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
        commands: cmd.Registry = cmd.COMMANDS,
    ) -> None:
        """``api_url`` and ``gateway_url`` put a rate-limit proxy (or the tests' fake) in front
        of Discord for this client only; ``commands`` are the slash commands (every command)."""
        self.token, self.api_url, self.guild_ids = token, api_url, guild_ids
        root = api_url.rstrip("/")
        self.client = DiscordClient(root, yarl.URL(gateway_url) if gateway_url else None)
        self._webhooks = Webhooks(root)
        self.tree = app_commands.CommandTree(self.client)
        self.channel = dchannel.DiscordChannel(self.client)
        self._conversation: Conversation | None = None
        self._task: asyncio.Task[None] | None = None
        self.client.event(self.on_interaction)
        register(self.tree, commands, self.run, self.completions())

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
        self._task = self._connect()
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
            task = self._task = self._connect()
        await asyncio.shield(task)  # cancelling serve (shutdown) leaves the socket to stop()
        error = None if task.cancelled() else task.exception()
        raise error or RuntimeError("Discord gateway connection ended")

    def _connect(self) -> asyncio.Task[None]:
        """The gateway connection, in a context whose interaction answers go to our API URL:
        discord.py sends those through the webhook adapter of the running context, and every
        task it starts for an interaction inherits this one's."""
        context = contextvars.copy_context()
        context.run(async_context.set, self._webhooks)
        connect = self.client.connect(reconnect=True)
        return asyncio.create_task(connect, name="discord", context=context)

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
        payload = str(data.get("custom_id", ""))
        if self._conversation is None:
            return
        try:
            pressed = await self._conversation.press(self.context(interaction), payload)
            await self._answer_button(interaction, pressed)
        except discord.DiscordException:
            log.warning("Discord button %r could not be answered", payload[:64], exc_info=True)

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
    def completions(self) -> dict[Completion, _Complete]:
        """What each kind of argument offers while it is typed."""
        return {
            Completion.ACCOUNTS: _choices(self.labels),
            Completion.ALERTS: _choices(self.alert_ids),
            Completion.VENUES: _choices(_venues),
        }

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
    rows = message.components if message else ()
    return buttons.outbox_id(
        getattr(item, "custom_id", None) for row in rows for item in getattr(row, "children", ())
    )


_Complete = Callable[
    [discord.Interaction[Any], str], Coroutine[Any, Any, list[app_commands.Choice[str]]]
]


def _choices(source: Callable[[discord.Interaction[Any], str], Awaitable[list[str]]]) -> _Complete:
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


def _word(arg: Arg, value: object) -> object:
    """An option's value as the text takes it: after its keyword, if it has one."""
    return value if value is None or arg.keyword is None else f"{arg.keyword} {value}"


def _text(*words: object) -> str:
    """A command line of the shared grammar from slash options (None options left out)."""
    return " ".join(str(w) for w in words if w is not None and str(w) != "")


# --- slash commands, read from the command specs -------------------------------------------
Run = Callable[[discord.Interaction[Any], str], Awaitable[None]]
_TYPES: dict[ArgType, type] = {ArgType.TEXT: str, ArgType.INTEGER: int}


def register(
    tree: app_commands.CommandTree[Any],
    commands: Iterable[cmd.CommandSpec],
    run: Run,
    complete: dict[Completion, _Complete],
) -> None:
    """One slash command per spec (a group of them where the spec has verbs), its options
    typed, with their choices and autocomplete; each runs as a line of the shared grammar."""
    for spec in commands:
        if not spec.subcommands:
            tree.add_command(
                _slash(spec.name, spec.summary, spec.args, f"/{spec.name}", run, complete)
            )
            continue
        group = app_commands.Group(name=spec.name, description=spec.summary[:100])
        for sub in spec.subcommands:
            line = f"/{spec.name} {sub.name}"
            group.add_command(_slash(sub.name, sub.description, sub.args, line, run, complete))
        tree.add_command(group)


def _slash(
    name: str,
    description: str,
    args: Sequence[Arg],
    line: str,
    run: Run,
    complete: dict[Completion, _Complete],
) -> app_commands.Command[Any, Any, None]:
    """A slash command whose options are ``args``: ``line`` followed by their values."""

    async def callback(interaction: discord.Interaction[Any], /, **options: Any) -> None:
        await run(interaction, _text(line, *(_word(arg, options.get(arg.name)) for arg in args)))

    # discord.py reads the options from the callback's signature, descriptions and choices
    # from attributes its decorators set.
    interaction = inspect.Parameter(
        "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
    )
    callback.__signature__ = inspect.Signature([interaction, *map(_option, args)])  # type: ignore[attr-defined]
    app_commands.describe(**{arg.name: arg.description[:100] for arg in args})(callback)
    choices = {
        arg.name: [app_commands.Choice(name=c, value=c) for c in arg.choices]
        for arg in args
        if arg.choices
    }
    if choices:
        app_commands.choices(**choices)(callback)
    command: app_commands.Command[Any, Any, None] = app_commands.Command(
        name=name, description=description[:100], callback=callback
    )
    for arg in args:
        if arg.complete is not None:
            command.autocomplete(arg.name)(complete[arg.complete])
    return command


def _option(arg: Arg) -> inspect.Parameter:
    kind = _TYPES[arg.type]
    return inspect.Parameter(
        arg.name,
        inspect.Parameter.KEYWORD_ONLY,
        annotation=kind if arg.required else kind | None,
        default=inspect.Parameter.empty if arg.required else None,
    )
