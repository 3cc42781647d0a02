"""Each account's poll interval, from how close it is to trouble (``engine.cadence``).

After every successful poll the account's band is chosen again from its analysis and what the
alert stage's evaluation said (its warning distance, a live alert); between polls, a streamed
mark that brings an account near its warning level moves it to the near band at once, so its
positions are read within seconds instead of at its old, slower interval. Moving to a slower
band waits for a poll: a mark bouncing off a boundary must not thrash the schedule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from bot.exchanges import Priority
from bot.monitor.book import Moved
from engine.analysis import Analysis
from engine.cadence import (
    DEFAULT_WARN_PCT,
    AlertHint,
    Band,
    Bands,
    Cadence,
    Fit,
    Risk,
    cadence,
    closest,
    fit,
)
from engine.domain import LinkedAccount

_RANK = {Band.NEAR: 0, Band.MIDDLE: 1, Band.FAR: 2}
_PRIORITY = {Band.NEAR: Priority.NEAR, Band.MIDDLE: Priority.MIDDLE, Band.FAR: Priority.FAR}


class Hints(Protocol):
    """The alert stage's last word on an account (``bot.alerting.stage.AlertPipeline``)."""

    def hint(self, account_id: int) -> AlertHint | None: ...


class _NoHints:
    def hint(self, account_id: int) -> AlertHint | None:
        return None


@dataclass(frozen=True)
class Quickened:
    """An account a streamed mark brought near: poll it now, then every ``cadence.every_s``."""

    account_id: int
    cadence: Cadence


class Cadences:
    """The band and interval of every polled account; ``bands`` None polls every account at
    its fixed interval (``LinkedAccount.poll_s`` or the monitor's), as before bands existed."""

    def __init__(self, bands: Bands | None, hints: Hints | None = None) -> None:
        self.bands = bands
        self.hints: Hints = hints or _NoHints()
        self._now: dict[int, Cadence] = {}
        self._venue: dict[int, str] = {}
        #: Each account's own interval (``--poll-seconds``), bounding its bands.
        self._fixed: dict[int, float | None] = {}
        #: The largest warning distance any account was chosen a band with (a cheap first cut
        #: of a tick's accounts before each one's own).
        self._max_warn = DEFAULT_WARN_PCT
        #: Per venue, the bands its REST budget can serve (``engine.cadence.fit``).
        self.fitted: dict[str, Fit] = {}

    def __getitem__(self, account_id: int) -> Cadence | None:
        return self._now.get(account_id)

    def priority(self, account: LinkedAccount) -> Priority:
        """Where the account's requests queue for its venue's budget: by its band; before its
        first poll since start, by the band the last run stored (so after a restart near
        accounts are read first); a new account's first poll right after near ones
        (``Priority.FIRST``: its risk is unknown until read); middle with bands off."""
        if self.bands is None:
            return Priority.MIDDLE
        now = self._now.get(account.id)
        if now is not None:
            return _PRIORITY[now.band]
        try:
            return _PRIORITY[Band(account.poll_band)] if account.poll_band else Priority.FIRST
        except ValueError:  # a band name this version does not know
            return Priority.FIRST

    def forget(self, account_id: int) -> None:
        self._now.pop(account_id, None)
        self._venue.pop(account_id, None)
        self._fixed.pop(account_id, None)

    def bands_of(self, venue: str) -> Bands | None:
        """The bands ``venue``'s budget can serve (stretched, or the configured ones)."""
        found = self.fitted.get(venue)
        return self.bands if found is None else found.bands

    def refit(self, costs: Callable[[str], tuple[float, float] | None]) -> list[tuple[str, Fit]]:
        """Fit each venue's bands to its budget (``costs(venue)``: one poll's cost and the
        budget a minute, in the venue's units; None: unknown, not fitted) for the accounts in
        each band now; the venues whose fit changed, with it."""
        if self.bands is None:
            return []
        counts: dict[str, dict[Band, int]] = {}
        for account_id, now in self._now.items():
            per = counts.setdefault(self._venue[account_id], {})
            per[now.band] = per.get(now.band, 0) + 1
        changed = []
        for venue, per in counts.items():
            known = costs(venue)
            if known is None:
                continue
            found = fit(self.bands, per, poll_cost=known[0], budget_per_min=known[1])
            if self.fitted.get(venue) != found:
                before = self.fitted.get(venue)
                self.fitted[venue] = found
                # A first fit that stretches nothing is no news.
                if (before.bands if before is not None else self.bands) != found.bands:
                    changed.append((venue, found))
        return changed

    def retime(self, venue: str) -> list[tuple[int, float]]:
        """After a refit: each account of ``venue`` whose band's interval changed, with the
        new interval (near ones too: the fit stretches them last, when they alone pass the
        budget's near share)."""
        bands = self.bands_of(venue)
        out = []
        for account_id, now in list(self._now.items()):
            if bands is None or self._venue.get(account_id) != venue:
                continue
            every = bands.every_s(now.band, self._fixed.get(account_id))
            if every != now.every_s:
                self._now[account_id] = Cadence(now.band, every, now.reason)
                out.append((account_id, every))
        return out

    def interval(self, account: LinkedAccount, default_s: float) -> float:
        """How often to poll ``account`` now: its current band's interval; at start, the band
        the last run stored; for a new account, the middle band."""
        if self.bands is None:
            return account.poll_s or default_s
        known = self._now.get(account.id)
        if known is not None:
            return known.every_s
        if account.poll_every_s is not None:
            return account.poll_every_s
        bands = self.bands_of(account.venue)
        assert bands is not None
        return bands.every_s(Band.MIDDLE, account.poll_s)

    def after_poll(self, account: LinkedAccount, analysis: Analysis) -> Cadence | None:
        """The account's band after a successful poll; None when bands are off or it did not
        change (nothing to store or reschedule)."""
        if self.bands is None:
            return None
        symbol, pct = closest(analysis.distance_pct, list(analysis.snapshot.positions.symbol))
        found = self._choose(account, symbol, pct)
        self._venue[account.id], self._fixed[account.id] = account.venue, account.poll_s
        before = self._now.get(account.id)
        self._now[account.id] = found  # the newest reason, for the next comparison
        # Only a new band or interval is stored and rescheduled: the reason quotes a distance
        # that moves with every poll, and is kept as of the band's choice.
        if account.poll_band == found.band and account.poll_every_s == found.every_s:
            return None
        if before is not None and (before.band, before.every_s) == (found.band, found.every_s):
            return None
        return found

    def quicken(
        self, moved: Moved, account_of: Callable[[int], LinkedAccount | None]
    ) -> list[Quickened]:
        """Accounts a re-pricing at streamed marks moved into a faster band than they are in."""
        if self.bands is None or not len(moved.accounts):
            return []
        repriced, out = moved.repriced, []
        distance = repriced.distance_pct
        finite = np.where(np.isfinite(distance), distance, np.inf)
        has = repriced.count > 0
        nearest = np.full(len(moved.accounts), np.inf)
        if has.any():
            nearest[has] = np.minimum.reduceat(finite, repriced.start[has])
        # A coarse cut with the largest warning distance seen, then each account's own.
        for k in np.flatnonzero(nearest < self.bands.near_factor * self._max_warn).tolist():
            account_id = int(moved.accounts[k])
            account, now = account_of(account_id), self._now.get(account_id)
            if account is None or (now is not None and now.band is Band.NEAR):
                continue
            hint = self.hints.hint(account_id)
            own = hint.warn_pct if hint is not None else None
            if nearest[k] >= self.bands.near_factor * (DEFAULT_WARN_PCT if own is None else own):
                continue
            rows = slice(int(repriced.start[k]), int(repriced.start[k] + repriced.count[k]))
            symbols = list(repriced.analysis(k).snapshot.positions.symbol)
            found = self._choose(account, *closest(distance[rows], symbols))
            if now is None or _RANK[found.band] < _RANK[now.band]:
                self._now[account_id] = found
                self._venue[account_id], self._fixed[account_id] = account.venue, account.poll_s
                out.append(Quickened(account_id, found))
        return out

    def _choose(self, account: LinkedAccount, symbol: str | None, pct: float) -> Cadence:
        bands = self.bands_of(account.venue)
        assert bands is not None
        hint = self.hints.hint(account.id) or AlertHint(None, False)
        if hint.warn_pct is not None:
            self._max_warn = max(self._max_warn, hint.warn_pct)
        risk = Risk(symbol, pct, hint.warn_pct, hint.alerting)
        return cadence(risk, bands, account.poll_s)
