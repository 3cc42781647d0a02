"""The console's command handler: a line of text in, a plain-text reply out.

Thin: parse with the shared grammar (``bot.commands``), call a service, render. The Telegram
and Discord adapters follow the same shape with their own renderers.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from bot import commands as cmd
from bot.alerting import AlertService
from bot.console import replies
from bot.errors import UserError
from bot.portfolio import PortfolioService
from bot.services import AccountService
from engine.domain import Platform

log = logging.getLogger(__name__)


@dataclass
class ConsoleSession:
    """One person at the prompt: their user id and chat, and the services they use."""

    owner_id: int
    chat_id: str
    accounts: AccountService
    alerts: AlertService
    portfolio: PortfolioService

    async def handle(self, text: str) -> str:
        """Answer one line; a ``UserError`` becomes its sentence, anything else a reference."""
        try:
            return await self._dispatch(cmd.parse(text))
        except UserError as exc:
            return str(exc)
        except Exception:
            ref = uuid.uuid4().hex[:8]
            log.exception("console command failed (ref %s)", ref)
            return f"Something went wrong (ref {ref})."

    async def _dispatch(self, command: cmd.Command) -> str:  # noqa: C901 - one arm per command
        owner = self.owner_id
        match command:
            case cmd.Start() | cmd.Help():
                return cmd.help_text(getattr(command, "command", None))
            case cmd.Accounts():
                return replies.accounts(await self.accounts.list(owner))
            case cmd.Positions(account=ref) | cmd.Risk(account=ref):
                return replies.positions(await self.portfolio.views(owner, ref))
            case cmd.Stress(asset=asset, shock_pct=pct):
                return replies.stress(await self.portfolio.stress(owner, asset, pct))
            case cmd.Alerts():
                rules = await self.alerts.list_rules(owner)
                return replies.alerts(rules, await self.alerts.live(owner))
            case cmd.AlertAdd(spec=spec):
                view = await self.alerts.add_rule(owner, spec)
                return f"Added rule {view.rule.id}: {view.text}"
            case cmd.AlertChange(action=action, rule_id=rule_id):
                view = await self.alerts.change_rule(owner, action.value, rule_id)
                return f"Rule {rule_id} {action.value}: {view.text}"
            case cmd.Ack(alert_id=alert_id):
                return replies.acked(await self.alerts.acknowledge(owner, alert_id))
            case cmd.Snooze(alert_id=alert_id, duration_s=duration):
                ids = await self.alerts.snooze(owner, alert_id, duration)
                return replies.snoozed(ids, duration)
            case cmd.Why(alert_id=alert_id):
                return replies.why(await self.alerts.why(owner, alert_id))
            case cmd.Silence(matchers=matchers, duration_s=duration):
                silence = await self.alerts.silence(owner, matchers, duration)
                return replies.silences([silence])
            case cmd.SilenceList():
                return replies.silences(await self.alerts.silences(owner))
            case cmd.SilenceRm(silence_id=silence_id):
                await self.alerts.unsilence(owner, silence_id)
                return f"Silence {silence_id} lifted."
            case cmd.Quiet(hours=hours):
                await self.alerts.quiet(Platform.CONSOLE, self.chat_id, hours)
                if hours is None:
                    return "Quiet hours off."
                critical = "critical still goes through" if hours.allow_critical else "all held"
                return f"Quiet hours {hours.start}-{hours.end} {hours.tz} ({critical})."
            case cmd.Unlink(account=ref):
                gone = await self.accounts.unlink(owner, ref)
                return f"Unlinked {gone.label}."
        raise UserError(f"/{command.name} is not available in the console; try /help.")
