"""/stress and the stress form of /chart, each as its records, its parser and its spec:
``/stress BTC -10%``, ``/stress BTC -10% vol +20%``, ``/stress -5%`` (every underlying),
``/stress grid [BTC]`` and ``/chart stress [BTC]`` (docs/stress.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.chat.commands.spec import READ, Arg, Command, CommandSpec, Line, Subcommand
from bot.chat.commands.words import Args, quoted
from engine.stress_options import VolShock

_ASSET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_NUMBER = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_PCT = re.compile(rf"(?P<n>{_NUMBER})%?")
_VOL = re.compile(rf"(?P<n>{_NUMBER})(?P<unit>%|pts?)?", re.IGNORECASE)
#: "- 10 %", "+20 pt": a unit typed apart from its number still belongs to it.
_UNIT_APART = re.compile(r"\s+(%|pts?\b)", re.IGNORECASE)
#: Beyond ±1000 (% or vol points) is a typo rather than a scenario.
LIMIT = 1000.0


@dataclass(frozen=True)
class StressTest(Command):
    """Shock ``asset`` (None: every underlying) by ``shock_pct`` (−10.0 is a 10 % drop) and,
    if given, implied volatility by ``vol``."""

    asset: str | None
    shock_pct: float
    vol: VolShock | None = None


@dataclass(frozen=True)
class ShowStressGrid(Command):
    """The spot × vol grid of equity changes, for ``asset`` (None: every underlying)."""

    asset: str | None = None


@dataclass(frozen=True)
class ShowStressChart(Command):
    """/chart stress [asset]: the grid as a heat map."""

    asset: str | None = None


def asset(line: Line, word: str) -> str:
    """An underlying like BTC, upper-cased, or a refusal."""
    if _ASSET.fullmatch(word) is None or not any(c.isalpha() for c in word):
        line.fail(f"{quoted(word)} is not an asset like BTC.")
    return word.upper()


def _words(line: Line) -> Args:
    return _UNIT_APART.sub(r"\1", line.raw).split()


def _stress(line: Line) -> Command:
    words = _words(line)
    verb = words[0].lower() if words else ""
    if verb == "grid":
        rest = line.arity(0, 1, words[1:])
        return ShowStressGrid(asset(line, rest[0]) if rest else None)
    if verb == "shock":  # Discord's subcommand: its required price move comes first
        words = words[1:]
        if len(words) >= 2 and words[1].lower() != "vol" and _VOL.fullmatch(words[1]) is None:
            words[0], words[1] = words[1], words[0]
    lowered = [w.lower() for w in words]
    vol = None
    if "vol" in lowered:
        at = lowered.index("vol")
        vol = _vol(line, words[at + 1 :])
        words = words[:at]
    elif _bare_vol(words):
        vol = _vol(line, words[-1:])  # the vol shock without its keyword (Discord's option)
        words = words[:-1]
    args = line.arity(1, 2, words)
    shock_pct = _price_move(line, args[-1])
    return StressTest(asset(line, args[0]) if len(args) == 2 else None, shock_pct, vol)


def _bare_vol(words: Args) -> bool:
    """Whether the last word is a vol shock given without "vol": a number after the price
    move (``BTC -10% +20%``, ``-10% +20pt``)."""
    if _VOL.fullmatch(words[-1] if words else "") is None:
        return False
    return len(words) == 3 or (len(words) == 2 and _PCT.fullmatch(words[0]) is not None)


def _price_move(line: Line, word: str) -> float:
    match = _PCT.fullmatch(word)
    if match is None:
        line.fail(f"{quoted(word)} is not a price move like -10%.")
    shock_pct = float(match["n"])
    # −100 % puts every price at zero; beyond +1000 % is a typo rather than a scenario.
    if not -100.0 < shock_pct <= LIMIT or shock_pct == 0.0:
        line.fail("The price move must be a non-zero percentage above -100 and up to 1000.")
    return shock_pct


def _vol(line: Line, words: Args) -> VolShock:
    """``+20%`` (relative: σ·1.2) or ``+20pt`` (vol points: σ + 0.20)."""
    if len(words) != 1:
        line.fail("Give one vol shock after 'vol', like vol +20% or vol +20pt.")
    match = _VOL.fullmatch(words[0])
    if match is None:
        line.fail(f"{quoted(words[0])} is not a vol shock like +20% or +20pt.")
    if match["unit"] is None:
        line.fail(
            f"{quoted(words[0])} needs a unit: {match['n']}% (relative) or {match['n']}pt "
            "(vol points)."
        )
    shock = VolShock(float(match["n"]), points=match["unit"] != "%")
    problem = shock.problem()
    if problem is not None:
        line.fail(problem[0].upper() + problem[1:])
    if abs(shock.value) > LIMIT:
        line.fail(f"The vol shock must be within ±{LIMIT:g}.")
    return shock


#: Discord lists required options first: /stress shock <shock> [asset] [vol].
_SHOCK = (
    Arg("shock", "Price move in percent, e.g. -10%"),
    Arg("asset", "e.g. BTC (all if empty)", required=False),
    Arg("vol", "Vol shock: +20% (relative) or +5pt (vol points)", required=False, keyword="vol"),
)

STRESS = CommandSpec(
    "stress",
    "What a price (and vol) move would do to your positions, or the grid of them",
    "/stress [asset] <±pct> [vol ±N%|±Npt] or /stress grid [asset]",
    _stress,
    {StressTest: READ, ShowStressGrid: READ},
    args=_SHOCK,
    subcommands=(
        Subcommand("shock", "What a price (and vol) move would do to your positions", _SHOCK),
        Subcommand(
            "grid",
            "Equity change over spot -20..+20% x vol -30..+30%",
            (Arg("asset", "e.g. BTC (all if empty)", required=False),),
        ),
    ),
    example="/stress BTC -10% vol +20%",
    missing="Give the price move in percent, and optionally the asset.",
    more=(
        "vol +20% raises every implied volatility by a fifth (50% becomes 60%); vol +20pt "
        "adds 20 points (50% becomes 70%). Options are re-priced in full (Black-76)."
    ),
)
