"""A simulated venue: the demo accounts' snapshots at the market's marks, shaped by real ccxt.

``fetch_snapshot`` returns what ``ExchangeHub.fetch_snapshot`` returns for a real venue: each
venue's raw payload (Binance fapi v3, Bybit v5, Hyperliquid clearinghouseState) is built from the
demo positions at the current marks, with the venue's own liquidation price from its published
formula, then run through ccxt's own parsers offline (markets set by hand, no HTTP). The engine
computes its liquidation price independently from the same raw fields, so the two must agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import ccxt.async_support as ccxt  # type: ignore[import-untyped]

from bot.demo import payloads
from bot.demo.accounts import DemoAccount
from bot.demo.market import VOLATILITY, Market, crash_log_move
from bot.demo.payloads import Leg, Raw
from bot.exchanges.budget import BudgetState
from bot.exchanges.errors import ExchangeFailure

#: Timestamps in the payloads: this fixed instant plus the demo's elapsed time.
DEMO_EPOCH_MS = 1_717_200_000_000


def funding_rate(elapsed_s: float) -> float:
    """Longs pay 0.01 % per interval when calm; shorts are paid as the crash flips it."""
    return 0.0001 if crash_log_move(elapsed_s) > -0.05 else -0.0003


class SimulatedVenue:
    """Serves ``fetch_snapshot`` for the demo accounts in place of ``ExchangeHub``.

    ``clock()`` is read once at construction (or ``start_s`` is given) and on every fetch; the
    difference is the elapsed demo time passed to ``market.marks``. Every account answers to
    its label; ``bind`` adds the key the monitor uses (the stored account id).
    """

    def __init__(
        self,
        market: Market,
        clock: Callable[[], float],
        accounts: Sequence[DemoAccount],
        *,
        start_s: float | None = None,
    ) -> None:
        self.market = market
        self.clock = clock
        self.start_s = clock() if start_s is None else start_s
        self.accounts = tuple(accounts)
        self._bound: dict[str, DemoAccount] = {a.label: a for a in self.accounts}
        self._parsers: dict[str, Any] = {}

    def bind(self, account_key: str | int, account: DemoAccount) -> None:
        """Answer ``fetch_snapshot(str(account_key), …)`` with ``account``."""
        if account not in self.accounts:
            raise ValueError(f"{account.label} is not one of this venue's demo accounts")
        self._bound[str(account_key)] = account

    def elapsed_s(self) -> float:
        """Demo seconds since the start (never negative)."""
        return max(self.clock() - self.start_s, 0.0)

    async def fetch_snapshot(
        self, account_key: str, venue: str, credentials: object
    ) -> dict[str, Any]:
        """One account's ``liqwatch analyze`` input at the current marks (credentials unused)."""
        account = self._bound.get(account_key)
        if account is None:
            raise ExchangeFailure("auth", f"{venue[:40]}: no demo account {account_key[:40]}")
        if venue != account.venue:
            raise ExchangeFailure(
                "exchange", f"demo account {account.label} is on {account.venue}, not {venue}"
            )
        return self.snapshot_at(account, self.elapsed_s())

    def snapshot_at(self, account: DemoAccount, elapsed_s: float) -> dict[str, Any]:
        """``account``'s snapshot ``elapsed_s`` seconds into the demo (no clock involved)."""
        marks = self.market.marks(elapsed_s)
        legs = [
            payloads.leg(account.venue, spec, marks[spec.underlying]) for spec in account.positions
        ]
        stamp_ms = DEMO_EPOCH_MS + round(elapsed_s * 1000.0)
        parser = self._parser(account.venue)
        build = _BUILDERS[account.venue]
        snapshot = build(parser, account, legs, stamp_ms)
        snapshot["volatility"] = {leg.symbol: VOLATILITY[leg.underlying] for leg in legs}
        snapshot["funding_rates"] = {leg.symbol: funding_rate(elapsed_s) for leg in legs}
        return snapshot

    async def validate(self, venue: str, credentials: object) -> list[str]:
        """Every demo account is valid: it is made up."""
        return []

    def account_keys(self) -> list[str]:
        """None: a simulated account holds no client and no key (nothing to close)."""
        return []

    def rest_use(self, venue: str) -> None:
        """None: a simulated venue spends no REST budget."""
        return None

    def budgets(self, venues: Iterable[str] | None = None) -> list[BudgetState]:
        """Empty: a simulated venue has no REST budget."""
        return []

    async def drop(self, account_key: str) -> None:
        """Forget an account key (the hub's unlink hook)."""
        self._bound.pop(account_key, None)

    async def close(self) -> None:
        """Close the parser instances (they never open a session, but ccxt expects it)."""
        parsers = list(self._parsers.values())
        self._parsers.clear()
        for parser in parsers:
            await parser.close()

    def _parser(self, venue: str) -> Any:
        parser = self._parsers.get(venue)
        if parser is None:
            parser = getattr(ccxt, venue)({"enableRateLimit": False})
            parser.set_markets(payloads.markets(venue))
            if venue == "binanceusdm":
                # What ccxt's load_leverage_brackets caches; parse_position_risk reads the MMR.
                parser.options["leverageBrackets"] = payloads.binance_bracket_cache()
            self._parsers[venue] = parser
        return parser


def _binance(parser: Any, account: DemoAccount, legs: list[Leg], stamp_ms: int) -> Raw:
    rows = payloads.binance_position_risk(account, legs, stamp_ms)
    symbols = {leg.market_id for leg in legs}
    brackets = [b for b in payloads.binance_brackets() if b["symbol"] in symbols]
    return {
        "exchange": account.venue,
        "positions": [parser.parse_position_risk(row) for row in rows],
        "balance": parser.parse_balance_custom(
            payloads.binance_account(account, legs, stamp_ms), "future"
        ),
        "leverage_tiers": parser.parse_leverage_tiers(brackets, None, "symbol"),
    }


def _bybit(parser: Any, account: DemoAccount, legs: list[Leg], stamp_ms: int) -> Raw:
    tiers = {
        leg.symbol: parser.parse_market_leverage_tiers(
            payloads.bybit_risk_limits(leg.market_id), parser.market(leg.symbol)
        )
        for leg in legs
    }
    return {
        "exchange": account.venue,
        "positions": [
            parser.parse_position(payloads.bybit_position(leg, stamp_ms)) for leg in legs
        ],
        "balance": parser.parse_balance(payloads.bybit_wallet(account, legs, stamp_ms)),
        "leverage_tiers": tiers,
    }


def _hyperliquid(parser: Any, account: DemoAccount, legs: list[Leg], stamp_ms: int) -> Raw:
    state = payloads.clearinghouse_state(account, legs, stamp_ms)
    # ccxt.hyperliquid builds its balance inline in fetch_balance (clearinghouseState branch).
    summary = state["marginSummary"]
    balance = {
        "info": state,
        "USDC": {
            "total": parser.safe_number(summary, "accountValue"),
            "used": parser.safe_number(summary, "totalMarginUsed"),
        },
        "timestamp": stamp_ms,
        "datetime": parser.iso8601(stamp_ms),
    }
    return {
        "exchange": account.venue,
        "positions": [parser.parse_position(entry) for entry in state["assetPositions"]],
        "balance": parser.safe_balance(balance),
        "leverage_tiers": {},
    }


_BUILDERS: dict[str, Callable[[Any, DemoAccount, list[Leg], int], Raw]] = {
    "binanceusdm": _binance,
    "bybit": _bybit,
    "hyperliquid": _hyperliquid,
}
