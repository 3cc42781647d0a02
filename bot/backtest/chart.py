"""The backtest chart: the price the alerts saw, the liquidation level and every notice."""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from engine.alerts.rules import Severity
from engine.backtest import Outcome
from engine.types import FloatArray

COLOURS = {Severity.INFO: "#2f6db5", Severity.WARNING: "#e0a100", Severity.CRITICAL: "#d64545"}


def _dt(seconds: float) -> float:
    """Matplotlib's date number: days since its epoch, 1970-01-01 UTC."""
    return seconds / 86400.0


def draw(path: Path, times: FloatArray, marks: FloatArray, outcome: Outcome, title: str) -> None:
    """Write a PNG (900x600 px, as the digest charts) of the replay."""
    figure = Figure(figsize=(6.0, 4.0), dpi=150, facecolor="#f7f7f7")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.xaxis_date()
    ax.plot([_dt(t) for t in times.tolist()], marks.tolist(), color="#2f6db5", lw=0.8, label="mark")
    ax.axhline(outcome.liquidation_price, color="#222222", ls="--", lw=0.8, label="liquidation")
    for notice in outcome.notices:
        colour = "#2e9d5b" if notice.resolved_only else COLOURS[notice.severity]
        ax.axvline(_dt(notice.at), color=colour, lw=0.6, alpha=0.7)
    if outcome.liquidated_at is not None:
        ax.axvline(_dt(outcome.liquidated_at), color="#000000", lw=1.2, label="touched")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="best")
    ax.tick_params(labelsize=8)
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, facecolor=figure.get_facecolor())
