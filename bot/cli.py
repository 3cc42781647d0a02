"""The `liqwatch` command line: the composition root for every sub-command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.errors import UserError


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
        "--shock",
        type=float,
        metavar="PCT",
        help="also stress-test: move prices by PCT percent (e.g. -10)",
    )
    analyze.add_argument(
        "--asset", metavar="COIN", help="with --shock: move only this underlying (default: all)"
    )
    sub.add_parser("run", help="run the monitor (needs the accounts/monitor issue: not built yet)")
    return parser


def _analyze(args: argparse.Namespace) -> int:
    from bot.analyze import analyze_file

    if args.asset and args.shock is None:
        raise UserError("--asset needs --shock PCT (the price move to apply to that asset)")
    output = analyze_file(args.file, as_json=args.json, shock_pct=args.shock, asset=args.asset)
    print(output)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and `python -m bot`; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "analyze":
            return _analyze(args)
        if args.command == "run":
            raise UserError(
                "liqwatch run: the monitor loop is not built yet; use `liqwatch analyze FILE`"
            )
    except UserError as exc:
        print(f"liqwatch: error: {exc}", file=sys.stderr)
        return 2
    return 1
