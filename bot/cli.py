"""The `liqwatch` command line: parses arguments and hands each sub-command its settings."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.errors import UserError
from storage.errors import StorageError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="liqwatch",
        description="Watch leveraged crypto-derivatives positions and warn before liquidation.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    analyze = sub.add_parser(
        "analyze", help="print the engine's view of one account snapshot (ccxt unified JSON)"
    )
    analyze.add_argument("file", type=Path, help="snapshot JSON file (schema in the README)")
    analyze.add_argument("--json", action="store_true", help="print JSON instead of a table")
    analyze.add_argument(
        "--shock", type=float, metavar="PCT", help="also stress-test: move prices by PCT percent"
    )
    analyze.add_argument(
        "--asset",
        metavar="COIN",
        help="with --shock or --grid: move only this underlying (all by default)",
    )
    analyze.add_argument(
        "--vol",
        metavar="PCT",
        help="with --shock: also shock implied volatility, 20 = +20%% relative, 5pt = +5 points",
    )
    analyze.add_argument(
        "--grid", action="store_true", help="also the spot -20..+20%% x vol -30..+30%% grid"
    )
    sub.add_parser("run", help="run the monitor: poll every linked account (the Procfile worker)")
    _demo(sub.add_parser("demo", help="the whole pipeline on a simulated venue, in the console"))
    sub.add_parser("genkey", help="print a new master key for LIQWATCH_MASTER_KEY")
    sub.add_parser(
        "rotate-key",
        help="re-encrypt every credential from LIQWATCH_MASTER_KEY to LIQWATCH_NEW_MASTER_KEY",
    )
    _accounts(sub.add_parser("accounts", help="link, list and remove accounts on the server"))
    move = sub.add_parser(
        "migrate-db", help="copy a SQLite database into an empty PostgreSQL one (docs/storage.md)"
    )
    move.add_argument("--from", dest="source", required=True, help="the SQLite file")
    move.add_argument("--to", dest="target", required=True, help="postgresql://user@host/db")
    _calibrate(
        sub.add_parser(
            "calibrate", help="does a predicted touch probability come true that often? (history)"
        )
    )
    _backtest(sub.add_parser("backtest", help="replay a position over candles through the alerts"))
    _candles(sub.add_parser("candles", help="price history: fetch candles into the local cache"))
    return parser


def _candles(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    fetch = sub.add_parser("fetch", help="page a venue's candles into LIQWATCH_CANDLES_DIR")
    fetch.add_argument("venue", help="ccxt exchange id, e.g. binanceusdm")
    fetch.add_argument("symbol", help="the market, e.g. BTC/USDT:USDT")
    fetch.add_argument("--timeframe", default="1h", help="1m, 5m, 15m or 1h (default 1h)")
    fetch.add_argument("--since", help="first candle date (UTC), e.g. 2022-01-01")
    fetch.add_argument("--until", help="candles before this date (default: now)")
    fetch.add_argument("--price", default="last", help="last (trades, default) or mark")
    fetch.add_argument("--file", type=Path, help="import this CSV into the cache instead")


def _run_candles(args: argparse.Namespace) -> str:
    from bot.candles.command import fetch_command
    from bot.settings import Settings

    settings = Settings.from_env()
    return fetch_command(
        settings.candles_dir, args.venue, args.symbol, args.timeframe, since=args.since,
        until=args.until, file=args.file, price=args.price,
        url_prefix=settings.exchange_url_prefix,
    )  # fmt: skip


def _backtest(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--position", help='"BTC/USDT:USDT long 2.5 @ 60000 10x isolated"')
    parser.add_argument("--account", type=Path, help="replay this stored account (analyze's JSON)")
    parser.add_argument(
        "--candles", action="append", help="CSV (or SYMBOL=CSV, repeated); default: the cache"
    )
    parser.add_argument("--timeframe", help="the cache's 1m, 5m, 15m or 1h (default: finest)")
    parser.add_argument("--venue", default="binanceusdm", help="whose formulas and tiers")
    parser.add_argument("--rules", default="default", help="default, or a file of rules")
    parser.add_argument("--from", dest="from_", help="start date (UTC), e.g. 2022-01-01")
    parser.add_argument("--to", help="end date (UTC, exclusive)")
    parser.add_argument("--poll", default="stream", help="30s, 5m …, or stream (default)")
    parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON")
    parser.add_argument("--chart", type=Path, help="also write a PNG chart here")
    parser.add_argument("--sweep", action="store_true", help="a position opened at every start")
    parser.add_argument("--every", default="1h", help="with --sweep: start spacing (1h)")
    parser.add_argument("--hold", default="7d", help="with --sweep: hold each up to (7d)")
    parser.add_argument("--lead", default="10m", help="with --sweep: warned at least (10m)")


def _run_backtest(args: argparse.Namespace) -> str:
    from bot.backtest.run import Options, backtest
    from bot.settings import Settings

    names = Options.__dataclass_fields__
    given = {k: v for k, v in vars(args).items() if k in names}
    return backtest(Options(**given, cache_dir=Settings.from_env().candles_dir))


def _calibrate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("symbol", help="the market, e.g. BTC/USDT:USDT (a label with --candles)")
    parser.add_argument("--horizon", default="24h", help="touch within this long (default 24h)")
    parser.add_argument("--candles", type=Path, help="timestamp_ms,open,high,low,close,volume CSV")
    parser.add_argument("--venue", default="binanceusdm", help="the cache's venue (no --candles)")
    parser.add_argument("--timeframe", help="the cache's 1m, 5m, 15m or 1h (default: finest)")
    parser.add_argument("--model", default=None, help="gbm or student-t (default: the product's)")
    parser.add_argument("--nu", type=float, help="the Student-t model's ν (default: the product's)")
    parser.add_argument("--fit-nu", action="store_true", help="fit ν on the fitting span")
    parser.add_argument("--from", dest="start", help="first candle date (UTC), e.g. 2020-01-01")
    parser.add_argument("--to", dest="end", help="candles before this date (UTC)")
    parser.add_argument("--split", help="the held-out span starts here (default: at 60 %%)")
    parser.add_argument("--step", type=int, help="candles between two starts (default: 1 h)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--chart", type=Path, help="write the reliability diagram (PNG) here")


def _run_calibrate(args: argparse.Namespace) -> str:
    import json

    from bot.calibrate.chart import reliability_png
    from bot.calibrate.run import Options, calibrate
    from bot.calibrate.text import report_text
    from bot.candles.load import candle_source
    from bot.settings import Settings
    from engine.probability import DEFAULT_TOUCH_MODEL

    candles = candle_source(
        args.candles, cache_dir=Settings.from_env().candles_dir, venue=args.venue,
        symbol=args.symbol.upper(), timeframe=args.timeframe,
    )  # fmt: skip
    report = calibrate(
        Options(
            symbol=args.symbol, horizon=args.horizon, candles=candles,
            model=args.model or DEFAULT_TOUCH_MODEL.value, nu=args.nu, fit_nu=args.fit_nu,
            start=args.start, end=args.end, split=args.split, step=args.step,
        )
    )  # fmt: skip
    if args.chart is not None:
        try:
            args.chart.write_bytes(reliability_png(report))
        except OSError as exc:
            raise UserError(f"--chart {args.chart}: cannot write it ({exc.strerror}).") from None
    return json.dumps(report, indent=2) if args.json else report_text(report)


def _accounts(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = sub.add_parser(
        "add",
        help="link a team account (API key from LIQWATCH_API_KEY / LIQWATCH_API_SECRET "
        "[/ LIQWATCH_API_PASSPHRASE] or a hidden prompt; --address for a wallet)",
    )
    add.add_argument("venue", help="ccxt exchange id, e.g. binanceusdm, bybit, hyperliquid")
    add.add_argument("--label", help="a short name (default: the venue)")
    add.add_argument("--address", help="public wallet address (Hyperliquid): read-only tracking")
    add.add_argument("--poll-seconds", type=float, help="this account's poll interval")
    sub.add_parser("list", help="every linked account with its status")
    for action, what in (
        ("remove", "remove an account and its history"),
        ("pause", "stop polling an account (its history and rules stay)"),
        ("resume", "poll a paused account again"),
    ):
        one = sub.add_parser(action, help=what)
        one.add_argument("id", type=int, help="the account id from `liqwatch accounts list`")


def _analyze(args: argparse.Namespace) -> str:
    from bot.analysis.analyze import analyze_file

    if args.asset and args.shock is None and not args.grid:
        raise UserError("--asset needs --shock PCT or --grid (the moves to apply to that asset)")
    return analyze_file(
        args.file, as_json=args.json, shock_pct=args.shock, asset=args.asset, vol=args.vol,
        grid=args.grid,
    )  # fmt: skip


def _demo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    parser.add_argument("--seed", type=int, default=7, help="the simulated market's seed")
    parser.add_argument("--poll", type=float, default=2.0, metavar="S", help="poll interval")
    parser.add_argument("--db", type=Path, help="keep the database in this file (default: temp)")
    parser.add_argument("--transcript", type=Path, help="append delivered messages as JSON lines")


def _run_demo(args: argparse.Namespace) -> str:
    from bot.demo.run import DemoOptions, demo
    from bot.runtime import app

    if args.duration is not None and args.duration <= 0:
        raise UserError("--duration must be a positive number of seconds")
    if args.poll < 0.5:
        raise UserError("--poll must be at least 0.5 seconds")
    options = DemoOptions(
        duration_s=args.duration,
        seed=args.seed,
        poll_s=args.poll,
        db=args.db,
        transcript=args.transcript,
        interactive=sys.stdin.isatty(),
    )
    # A slow machine makes APScheduler skip 1-2 s polls: worth a log line in production,
    # noise on top of the demo's own story.
    app.configure_logging("WARNING", timestamps=False, scheduler=logging.ERROR)
    asyncio.run(demo(options))
    return ""


def _run() -> str:
    from bot.runtime import app
    from bot.settings import Settings

    settings = Settings.from_env()
    settings.require_master_key()
    app.configure_logging(settings.log_level)
    status = asyncio.run(app.run(settings))
    if status:
        raise SystemExit(status)
    return ""


def _operator(args: argparse.Namespace) -> str:
    from bot.ops import operator
    from bot.settings import Settings

    if args.command == "genkey":
        return operator.genkey()
    if args.command == "migrate-db":
        from bot.ops.migrate_db import migrate_db

        return asyncio.run(migrate_db(args.source, args.target))
    settings = Settings.from_env()
    if args.command == "rotate-key":
        new_key = os.environ.get("LIQWATCH_NEW_MASTER_KEY", "").strip() or None
        return asyncio.run(operator.rotate_key(settings, new_key))
    if args.action == "add":
        return asyncio.run(
            operator.accounts_add(settings, args.venue, args.label, args.address, args.poll_seconds)
        )
    if args.action == "list":
        return asyncio.run(operator.accounts_list(settings))
    if args.action in ("pause", "resume"):
        return asyncio.run(
            operator.accounts_pause(settings, args.id, paused=args.action == "pause")
        )
    return asyncio.run(operator.accounts_remove(settings, args.id))


def _joined_shock(argv: Sequence[str]) -> list[str]:
    """``--shock -inf`` as ``--shock=-inf``: argparse takes a value starting with "-" that is
    not a plain number (-inf, -nan, -1e3) for an option and answers with its usage text."""
    out = list(argv)
    for i, word in enumerate(out[:-1]):
        if word == "--shock" and out[i + 1].startswith("-"):
            try:
                float(out[i + 1])
            except ValueError:
                continue
            out[i : i + 2] = [f"--shock={out[i + 1]}"]
            break
    # ``--vol -20pt`` / ``--vol -20%`` likewise (its value is a number with a unit).
    for i, word in enumerate(out[:-1]):
        if word == "--vol" and re.match(r"-[0-9.]", out[i + 1]):
            out[i : i + 2] = [f"--vol={out[i + 1]}"]
            break
    return out


_COMMANDS: dict[str, Callable[[argparse.Namespace], str]] = {
    "analyze": _analyze,
    "run": lambda args: _run(),
    "demo": _run_demo,
    "calibrate": _run_calibrate,
    "backtest": _run_backtest,
    "candles": _run_candles,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and `python -m bot`; returns the exit status."""
    args = _parser().parse_args(_joined_shock(sys.argv[1:] if argv is None else argv))
    try:
        output = _COMMANDS.get(args.command, _operator)(args)
    except (UserError, StorageError) as exc:
        # Both carry one sentence naming the problem (a storage error: the file and what to
        # do); the traceback would only bury it.
        print(f"liqwatch: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    if output:
        try:
            print(output)
        except BrokenPipeError:  # `liqwatch analyze … | head`: the reader left, not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
