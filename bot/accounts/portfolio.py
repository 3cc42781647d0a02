"""Portfolio use cases: /positions, /risk and /stress, answered from the monitor's latest view."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.accounts.service import AccountService
from bot.errors import UserError
from engine.analysis import Analysis
from engine.domain import LinkedAccount
from engine.stress import Stress, stress
from engine.stress_grid import StressGrid, stress_grid
from engine.stress_options import VolShock


@dataclass(frozen=True)
class AccountAnalysis:
    """One account and the engine's latest analysis of it (None until its first poll)."""

    account: LinkedAccount
    analysis: Analysis | None


@dataclass(frozen=True)
class AccountStress:
    """One account, its latest analysis and that analysis under a price shock."""

    account: LinkedAccount
    analysis: Analysis
    result: Stress


@dataclass(frozen=True)
class AccountGrid:
    """One account and its spot × vol stress grid."""

    account: LinkedAccount
    analysis: Analysis
    grid: StressGrid


class PortfolioService:
    """Reads the analyses the monitor keeps in memory; never calls a venue on a chat command."""

    def __init__(self, accounts: AccountService, latest: Mapping[int, Analysis]) -> None:
        self.accounts, self.latest = accounts, latest

    async def views(self, owner_id: int, ref: str | None = None) -> list[AccountAnalysis]:
        """One account (by label or id) or all of the owner's."""
        if ref is not None:
            found = [await self.accounts.find(owner_id, ref)]
        else:
            found = await self.accounts.list(owner_id)
        if not found:
            raise UserError("You have no linked accounts yet: /link or /watch one.")
        return self.views_of(found)

    def views_of(self, accounts: Sequence[LinkedAccount]) -> list[AccountAnalysis]:
        """These accounts with their latest analyses (the caller checked who may see them)."""
        return [AccountAnalysis(a, self.latest.get(a.id)) for a in accounts]

    async def stress(
        self, owner_id: int, asset: str | None, shock_pct: float
    ) -> list[AccountStress]:
        """Every analyzed account of the owner under a ±shock on one underlying (or all)."""
        return self.stress_of(await self.accounts.list(owner_id), asset, shock_pct)

    def stress_of(
        self,
        accounts: Sequence[LinkedAccount],
        asset: str | None,
        shock_pct: float,
        vol_shock: VolShock | None = None,
    ) -> list[AccountStress]:
        """These accounts under a ±shock on one underlying (or all), and on volatility."""
        underlying = asset.upper() if asset else None
        return [
            AccountStress(account, analysis, stress(
                analysis.snapshot, analysis.portfolio, analysis.liquidation_price,
                shock_pct=shock_pct, underlying=underlying, vol_shock=vol_shock,
            ))
            for account, analysis in self._shockable(accounts, underlying)
        ]  # fmt: skip

    def grid_of(self, accounts: Sequence[LinkedAccount], asset: str | None) -> list[AccountGrid]:
        """These accounts' spot × vol stress grids on one underlying (or all)."""
        underlying = asset.upper() if asset else None
        return [
            AccountGrid(account, analysis, stress_grid(
                analysis.snapshot, analysis.portfolio, analysis.liquidation_price,
                underlying=underlying,
            ))
            for account, analysis in self._shockable(accounts, underlying)
        ]  # fmt: skip

    def _shockable(
        self, accounts: Sequence[LinkedAccount], underlying: str | None
    ) -> list[tuple[LinkedAccount, Analysis]]:
        """The analyzed accounts holding ``underlying`` (any, when None); a sentence if none."""
        if not accounts:
            raise UserError("You have no linked accounts yet: /link or /watch one.")
        out = [
            (view.account, view.analysis)
            for view in self.views_of(accounts)
            if view.analysis is not None
            and (
                underlying is None
                or underlying in view.analysis.snapshot.positions.underlying.names
            )
        ]
        if not out:
            target = f"any {underlying} position" if underlying else "an analyzed position"
            raise UserError(f"None of these accounts has {target} yet.")
        return out
