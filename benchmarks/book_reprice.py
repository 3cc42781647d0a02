"""Re-pricing a book of many accounts at streamed marks: per-account ``analyze`` vs the book.

Run: ``PYTHONPATH=. .venv/bin/python -m benchmarks.book_reprice [--accounts 200000]``

One synthetic book (``benchmarks.synthetic.synthetic_book``: Binance USDⓈ-M and COIN-M and
Hyperliquid accounts, five positions each, half cross, half isolated, Binance's brackets) is
priced three ways in one process:

(a) today's path, per account: ``analyze(with_marks(snapshot, marks))`` for every account;
(b) the book's whole-book pass: ``Book.reprice(marks, whole=True)``;
(c) a tick on the symbols held by about 1 % of the book's positions: ``Book.reprice(tick)``,
    beside (a) for just those accounts.

Every figure of (b) and (c) is compared with (a) (1e-9) before any time is printed. Building
the book (once per process, then once per poll and account) is timed but is not a tick.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

from benchmarks.synthetic import synthetic_book
from engine.analysis import COLUMNS, Analysis, analyze
from engine.book import Book, Repriced
from engine.normalise import Snapshot
from engine.reprice import with_marks

MOVE = 1.005


def _best(fn: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _timed(fn: Callable[[], object]) -> tuple[object, float]:
    gc.collect()
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def marks_of(snapshots: Sequence[Snapshot], factor: float) -> dict[str, float]:
    """Every symbol of the book at ``factor`` × the first mark it was seen at."""
    out: dict[str, float] = {}
    for snapshot in snapshots:
        p = snapshot.positions
        for symbol, mark in zip(p.symbol, p.mark.tolist(), strict=True):
            out.setdefault(symbol, mark * factor)
    return out


def one_percent(snapshots: Sequence[Snapshot]) -> tuple[list[str], list[int]]:
    """The least-held symbols whose holders own about 1 % of the positions, and the holders."""
    holders: dict[str, list[int]] = {}
    for k, snapshot in enumerate(snapshots):
        for symbol in snapshot.positions.symbol.names:
            holders.setdefault(symbol, []).append(k)
    total = sum(len(s.positions) for s in snapshots)
    chosen: list[str] = []
    touched: set[int] = set()
    for symbol in sorted(holders, key=lambda s: len(holders[s])):
        rows = sum(len(snapshots[k].positions) for k in touched | set(holders[symbol]))
        if rows > 0.01 * total:
            break
        chosen.append(symbol)
        touched |= set(holders[symbol])
    return chosen, sorted(touched)


def check(repriced: Repriced, want: Sequence[Analysis], accounts: Sequence[int]) -> None:
    """Every per-position column and every account total of the book equals (a)'s."""
    assert repriced.accounts.tolist() == list(accounts), "accounts differ"
    for name in ("liquidation_price", *COLUMNS):
        expected = np.concatenate([getattr(a, name) for a in want])
        np.testing.assert_allclose(repriced.column(name), expected, rtol=1e-9, err_msg=name)
    pairs = (
        (repriced.priced.price, [a.computed.price for a in want]),
        (repriced.upnl, [a.upnl for a in want]),
    )
    for got, parts in pairs:
        np.testing.assert_allclose(got, np.concatenate(parts), rtol=1e-9, atol=1e-9)
    for name in ("margin_ratio", "equity_usd", "effective_leverage", "gross_exposure_usd"):
        expected = np.array([getattr(a.portfolio, name) for a in want])
        np.testing.assert_allclose(getattr(repriced, name), expected, rtol=1e-9, err_msg=name)


def most_held(snapshots: Sequence[Snapshot]) -> tuple[str, list[int]]:
    """The symbol most accounts hold (BTC on the busiest venue), and its holders."""
    holders: dict[str, list[int]] = {}
    for k, snapshot in enumerate(snapshots):
        for symbol in snapshot.positions.symbol.names:
            holders.setdefault(symbol, []).append(k)
    symbol = max(holders, key=lambda s: len(holders[s]))
    return symbol, holders[symbol]


def run(accounts: int, repeats: int) -> None:
    """Build the book, check the paths agree, print their times."""
    print(f"$ PYTHONPATH=. .venv/bin/python -m benchmarks.book_reprice {' '.join(sys.argv[1:])}")
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    snapshots, sigma = synthetic_book(accounts, seed=accounts)
    marks = marks_of(snapshots, MOVE)
    want, per_account_s = _timed(
        lambda: [analyze(with_marks(s, marks), volatility=sigma) for s in snapshots]
    )
    assert isinstance(want, list)
    book, build_s = _timed(lambda: Book.build(snapshots, volatility=sigma))
    assert isinstance(book, Book)
    check(book.reprice(marks, whole=True), want, range(len(snapshots)))
    # Every position moves on each pass: there and back again.
    there = {s: m * 1.001 for s, m in marks.items()}
    whole_s = _best(lambda: [book.reprice(m, whole=True) for m in (there, marks)], repeats) / 2
    state = [a.snapshot for a in want]
    tick = _tick(book, snapshots, state, marks, sigma, repeats)
    btc = _btc_tick(book, snapshots, state, marks, sigma, repeats)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    n = sum(len(s.positions) for s in snapshots)
    print(f"book: {len(snapshots):,} accounts, {n:,} positions; all figures agree to 1e-9")
    print(f"build the book (once, then per poll)  {build_s * 1e3:10.1f} ms")
    print(f"(a) per-account with_marks+analyze    {per_account_s * 1e3:10.1f} ms   whole book")
    print(
        f"(b) book, whole-book pass             {whole_s * 1e3:10.1f} ms   "
        f"{per_account_s / whole_s:6.1f}x (a)"
    )
    print(tick)
    print(btc)


def _tick(
    book: Book,
    snapshots: Sequence[Snapshot],
    state: list[Snapshot],
    marks: dict[str, float],
    sigma: dict[str, float],
    repeats: int,
) -> str:
    """(c): the least-held symbols up to 1 % of the positions, checked, timed, beside today."""
    symbols, holders = one_percent(snapshots)
    ticks = [{s: marks[s] * f for s in symbols} for f in (1.001, 1.0)]
    for tick in ticks:
        repriced = book.reprice(tick)
        for k in holders:
            state[k] = with_marks(state[k], tick)
        check(repriced, [analyze(state[k], volatility=sigma) for k in holders], holders)
    tick_s = _best(lambda: [book.reprice(t) for t in ticks], repeats) / len(ticks)
    today = _best(
        lambda: [analyze(with_marks(state[k], ticks[0]), volatility=sigma) for k in holders], 1
    )
    rows = sum(len(snapshots[k].positions) for k in holders)
    share = rows / sum(len(s.positions) for s in snapshots)
    return (
        f"(c) book, tick on {len(symbols)} symbol(s)          {tick_s * 1e3:10.2f} ms   "
        f"{rows:,} positions ({share:.2%}), {len(holders):,} accounts; "
        f"today (a) for them {today * 1e3:.1f} ms ({today / tick_s:.0f}x)"
    )


def _btc_tick(
    book: Book,
    snapshots: Sequence[Snapshot],
    state: list[Snapshot],
    marks: dict[str, float],
    sigma: dict[str, float],
    repeats: int,
) -> str:
    """(d): the most-held symbol; every holder checked on the first tick, then timed."""
    symbol, holders = most_held(snapshots)
    ticks = [{symbol: marks[symbol] * f} for f in (1.001, 1.0)]
    repriced = book.reprice(ticks[0])
    sample = holders[:: max(1, len(holders) // 2_000)]
    for k in holders:
        state[k] = with_marks(state[k], ticks[0])
    got = [repriced.analysis(k) for k in sample]
    for a, k in zip(got, sample, strict=True):
        check_one(a, analyze(state[k], volatility=sigma))
    book.reprice(ticks[1])
    tick_s = _best(lambda: [book.reprice(t) for t in ticks], repeats) / len(ticks)
    rows = sum(len(snapshots[k].positions) for k in holders)
    return (
        f"(d) book, tick on {symbol:<18}{tick_s * 1e3:10.2f} ms   "
        f"{rows:,} positions, {len(holders):,} accounts"
    )


def check_one(got: Analysis, want: Analysis) -> None:
    """One account's analysis from the book equals ``analyze``'s (every column, 1e-9)."""
    for name in ("liquidation_price", *COLUMNS):
        np.testing.assert_allclose(getattr(got, name), getattr(want, name), rtol=1e-9)
    np.testing.assert_allclose(got.portfolio.margin_ratio, want.portfolio.margin_ratio, 1e-9)


def main() -> None:
    """Parse the book's size and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    run(args.accounts, args.repeats)


if __name__ == "__main__":
    main()
