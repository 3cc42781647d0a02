"""`liqwatch backtest`: read the candles and the position, replay or sweep, render."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bot.backtest.account import replay_file
from bot.backtest.chart import draw
from bot.backtest.position import PositionSpec, parse_position, snapshot
from bot.backtest.single import replay_position
from bot.candles.dates import parse_day
from bot.candles.files import read_csv
from bot.candles.load import candle_files, candle_source
from bot.errors import UserError
from bot.render.notices import render
from engine.alerts.grammar import parse_rule
from engine.alerts.phrases import parse_duration
from engine.alerts.rules import Rule, Severity
from engine.backtest import (
    Outcome,
    Priced,
    adverse_path,
    as_rules,
    check_replayable,
    default_rules,
    poll_points,
    stream_points,
    sweep_points,
)
from engine.candles import Candles
from engine.errors import GrammarError
from engine.sweep import Summary, Unsupported, liq_levels, summarise, sweep


@dataclass(frozen=True)
class Options:
    """The command line, parsed."""

    position: str | None = None
    #: ``FILE`` or ``SYMBOL=FILE`` entries (``bot.candles.load.candle_files``).
    candles: Sequence[str] | None = None
    account: Path | None = None
    #: The candle cache read when ``--candles`` names no file for a symbol.
    cache_dir: Path = Path("candles")
    timeframe: str | None = None
    venue: str = "binanceusdm"
    rules: str = "default"
    from_: str | None = None
    to: str | None = None
    poll: str = "stream"
    as_json: bool = False
    chart: Path | None = None
    sweep: bool = False
    every: str = "1h"
    hold: str = "7d"
    lead: str = "10m"


def _seconds(text: str, what: str) -> float:
    try:
        return parse_duration(text)
    except GrammarError:
        raise UserError(f"{what} {text!r}: expected a duration like 30s, 10m, 1h or 7d.") from None


def _date(text: str | None, what: str) -> float | None:
    return None if text is None else parse_day(text, what) / 1000.0


def load_rules(choice: str) -> list[Rule]:
    """``default`` (what a new account gets) or a file of rules, one per line, ``#`` comments."""
    if choice == "default":
        return default_rules()
    path = Path(choice)
    if not path.is_file():
        raise UserError(f"--rules {choice}: not 'default' and no such file.")
    specs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            specs.append(parse_rule(text))
        except GrammarError as exc:
            raise UserError(f"{path.name} line {number}: {exc}") from None
    if not specs:
        raise UserError(f"{path.name}: no rules in the file.")
    try:
        check_replayable(specs)
    except Unsupported as exc:
        raise UserError(f"{path.name}: {exc}.") from None
    return as_rules(specs)


def _candles(opts: Options, symbol: str) -> Candles:
    """``--candles`` for this symbol, else the cache's (``bot.candles.load``)."""
    plain, by_symbol = candle_files(opts.candles)
    source = by_symbol.get(symbol, plain)
    return read_csv(
        candle_source(
            source,
            cache_dir=opts.cache_dir,
            venue=opts.venue,
            symbol=symbol,
            timeframe=opts.timeframe,
        )
    )


def _span(opts: Options, candles: Candles) -> tuple[float, float]:
    first, last = int(candles.ts_ms[0]) / 1000, candles.end_ms / 1000
    start = _date(opts.from_, "--from") or first
    end = _date(opts.to, "--to") or last
    start, end = max(start, first), min(end, last)
    if end <= start:
        raise UserError(
            f"empty range: the candles cover {_iso(first)} to {_iso(last)}, "
            f"nothing of it lies between --from and --to."
        )
    return start, end


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _poll(opts: Options) -> float | None:
    return None if opts.poll == "stream" else _seconds(opts.poll, "--poll")


def backtest(opts: Options) -> str:
    """The rendered result: one replay, or the sweep's table."""
    if opts.account is not None:
        return _account(opts)
    if opts.position is None:
        raise UserError('pass --position "SYMBOL long|short SIZE @ PRICE …" or --account FILE.')
    spec = parse_position(opts.position, venue=opts.venue)
    rules = load_rules(opts.rules)
    candles = _candles(opts, spec.symbol)
    start, end = _span(opts, candles)
    if opts.sweep:
        return _sweep(opts, spec, rules, candles, start, end)
    path = adverse_path(candles, spec.sign)
    poll = _poll(opts)
    t, x = stream_points(path, start, end) if poll is None else poll_points(path, start, end, poll)
    if not len(t):
        raise UserError("empty range: no candle falls between --from and --to.")
    outcome, _ = replay_position(
        spec, path, (t, x), rules, venue=opts.venue, start_s=start, end_s=end
    )
    if opts.chart is not None:
        draw(opts.chart, t, x, outcome, opts.position)
    doc = document(outcome)
    return json.dumps(doc, indent=2) if opts.as_json else _text(doc)


def _account(opts: Options) -> str:
    """``--account``: the stored account's positions, each over its own symbol's candles."""
    if opts.position is not None or opts.sweep or opts.chart is not None:
        raise UserError("--account replays a stored account: without --position, --sweep, --chart.")
    outcome = replay_file(
        opts.account or Path(),
        candle_files(opts.candles),
        load_rules(opts.rules),
        span=(_date(opts.from_, "--from"), _date(opts.to, "--to")),
        poll_s=_poll(opts),
        cache_dir=opts.cache_dir,
        timeframe=opts.timeframe,
    )
    doc = document(outcome)
    return json.dumps(doc, indent=2) if opts.as_json else _text(doc)


def document(outcome: Outcome) -> dict[str, Any]:
    """The ``backtest --json`` contract (README, next to ``analyze --json``); an account
    replay adds ``positions`` and ``liquidated_position``."""
    extra: dict[str, Any] = {}
    if outcome.positions:
        extra["positions"] = [
            {"symbol": symbol, "side": side, "liquidation_price": _num(liq)}
            for symbol, side, liq in outcome.positions
        ]
        extra["liquidated_position"] = outcome.liquidated
    return extra | {
        "liquidation_price": _num(outcome.liquidation_price),
        "liquidated_at": _iso(outcome.liquidated_at),
        "first_warning_lead_s": outcome.lead_s(Severity.WARNING),
        "first_critical_lead_s": outcome.lead_s(Severity.CRITICAL),
        "false_criticals": outcome.false_criticals,
        "evaluations": outcome.steps,
        "notices": [
            {
                "at": _iso(n.at),
                "severity": str(n.severity),
                "resolved": n.resolved_only,
                "text": render(n),
            }
            for n in outcome.notices
        ],
    }


def _num(value: float) -> float | None:
    """JSON has no NaN: an unknown price (an account not liquidated) is null."""
    return value if math.isfinite(value) else None


def _lead(seconds: float | None) -> str:
    return "none before the touch" if seconds is None else f"{seconds / 60:.0f} min before"


def _text(doc: dict[str, Any]) -> str:
    lines = [f"{n['at']}  {' / '.join(n['text'].splitlines()[1:])}" for n in doc["notices"]]
    for p in doc.get("positions", []):
        lines.append(f"{p['symbol']} {p['side']}: liquidation price {p['liquidation_price']:.6g}")
    if "positions" not in doc:
        lines.append(f"liquidation price {doc['liquidation_price']:.6g}")
    if doc["liquidated_at"] is None:
        lines.append("not liquidated")
    else:
        which = doc.get("liquidated_position")
        where = f" ({which} at {doc['liquidation_price']:.6g})" if which else ""
        lines.append(f"touched at {doc['liquidated_at']}{where}")
        lines.append(f"first warning: {_lead(doc['first_warning_lead_s'])}")
        lines.append(f"first critical: {_lead(doc['first_critical_lead_s'])}")
    lines.append(f"false criticals (resolved without liquidation): {doc['false_criticals']}")
    return "\n".join(lines)


def _sweep(
    opts: Options,
    spec: PositionSpec,
    rules: list[Rule],
    candles: Candles,
    start: float,
    end: float,
) -> str:
    every, hold = _seconds(opts.every, "--every"), _seconds(opts.hold, "--hold")
    lead = _seconds(opts.lead, "--lead")
    path = adverse_path(candles, spec.sign)
    reference = spec.entry or float(candles.open[0])
    priced = Priced(snapshot(spec, reference, taken_at_s=start).snapshot, spec.symbol)
    ratio = float(priced.at(reference).liquidation_price[0]) / reference
    count = max(math.ceil((end - start) / every), 0)
    starts = (start + every * np.arange(count)).astype(np.float64)
    variants = [("default", default_rules())]
    if opts.rules != "default":
        variants.append((opts.rules, rules))
    polls = ["stream"] + ([opts.poll] if opts.poll != "stream" else [])
    rows: list[tuple[str, str, Summary]] = []
    for name, chosen in variants:
        try:
            levels = liq_levels(chosen, liq_ratio=ratio, side=spec.sign)
        except Unsupported as exc:
            raise UserError(f"--sweep with --rules {name}: {exc}.") from None
        for mode in polls:
            poll = None if mode == "stream" else _seconds(mode, "--poll")
            points = sweep_points(path, start, end, poll)
            result = sweep(
                points, starts, hold_s=hold, side=spec.sign, liq_ratio=ratio, levels=levels
            )
            rows.append((name, mode, summarise(result, lead_s=lead)))
    if opts.as_json:
        return json.dumps([{"rules": r, "marks": m, **vars(s)} for r, m, s in rows], indent=2)
    return _sweep_text(rows, opts)


def _sweep_text(rows: list[tuple[str, str, Summary]], opts: Options) -> str:
    head = (
        f"{'rules':<10} {'marks':<7} {'starts':>7} {'liquidated':>10} "
        f"{'warned>=' + opts.lead:>12} {'critical>=' + opts.lead:>13} "
        f"{'median warn':>11} {'median crit':>11} {'false crit/mo':>13}"
    )
    lines = [head]
    for name, mode, s in rows:
        lines.append(
            f"{Path(name).name[:10]:<10} {mode:<7} {s.starts:>7} {s.liquidated:>10} "
            f"{s.warned_share:>12.1%} {s.critical_share:>13.1%} "
            f"{s.median_warning_lead_s / 60:>9.0f} m {s.median_critical_lead_s / 60:>9.0f} m "
            f"{s.false_criticals_per_month:>13.2f}"
        )
    return "\n".join(lines)
