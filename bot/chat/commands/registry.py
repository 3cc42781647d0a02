"""A set of command specs, by word: it parses a message into one of their records, explains
them (/help) and says which spec, and which access, a parsed record comes under."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NoReturn

from bot.chat.commands.spec import Access, Command, CommandSpec, Line
from bot.chat.commands.words import cut
from bot.errors import UserError

_COMMAND = re.compile(r"\s*/?(?P<cmd>[^\s@/]+)(?:@\S*)?(?P<args>.*)", re.DOTALL)


def command_word(text: str) -> str | None:
    """The command a message names (``link`` for ``/link@Bot …``), lower-case; None if none.

    For what must be decided before parsing: a /link is handled as one even when malformed.
    """
    match = _COMMAND.fullmatch(text)
    return None if match is None else match["cmd"].lower()


class Registry:
    """The commands one bot understands, in menu order."""

    def __init__(self, specs: Iterable[CommandSpec]) -> None:
        self._specs: dict[str, CommandSpec] = {}
        self._forms: dict[type[Command], tuple[CommandSpec, Access]] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ValueError(f"/{spec.name} is specified twice")
            self._specs[spec.name] = spec
            for form, access in spec.forms.items():
                # A form two commands share (/alerts and /alert list) must be allowed alike.
                first = self._forms.setdefault(form, (spec, access))
                if first[1] != access:
                    raise ValueError(
                        f"{form.__name__} has two accesses: /{first[0].name}, /{spec.name}"
                    )

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def get(self, name: str) -> CommandSpec | None:
        return self._specs.get(name)

    def __getitem__(self, name: str) -> CommandSpec:
        return self._specs[name]

    def forms(self) -> set[type[Command]]:
        """Every record a message can parse to (each needs a handler)."""
        return set(self._forms)

    def form(self, command: Command) -> tuple[CommandSpec, Access]:
        """The spec a parsed record comes from (the first that lists it), and its access."""
        return self._forms[type(command)]

    def parse(self, text: str) -> Command:
        """A chat message as a ``Command``; ``UserError`` (message + usage line) when it is not
        one. Accepts ``/cmd@BotName`` (Telegram groups), any case, extra spaces, and no slash
        (the console)."""
        match = _COMMAND.fullmatch(text)
        if match is None:
            self._refuse("Send a command, like /positions.")
        spec = self._specs.get(match["cmd"].lower())
        if spec is None:
            self._refuse(f"There is no /{cut(match['cmd'].lower())} command.")
        return spec.parse(Line(spec, match["args"], self._specs.get))

    def help_text(self, command: str | None = None) -> str:
        """Plain text for /help: every command with its summary, or one command in detail."""
        if command is None:
            lines = [f"{spec.usage} — {spec.summary}" for spec in self]
            return "Commands:\n" + "\n".join(lines) + "\nSend /help <command> for details."
        spec = self._specs.get(command.lstrip("/").lower())
        if spec is None:
            self._refuse(f"There is no /{cut(command.lstrip('/').lower())} command.")
        return spec.help()

    def carries_secret(self, text: str) -> bool:
        """Whether a message names a command whose words are secrets (/link), even one that
        will not parse: such a message must not stay where others can read it."""
        spec = self._specs.get(command_word(text) or "")
        return spec is not None and spec.secret

    def usage_line(self, name: str) -> str:
        return self._specs[name].usage_line()

    def _refuse(self, problem: str) -> NoReturn:
        """An unknown command: the sentence, then how to ask for the list."""
        helper = self._specs.get("help")
        raise UserError(f"{problem}\n{helper.usage_line()}" if helper else problem)
