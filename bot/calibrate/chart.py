"""The reliability diagram: observed touch frequency against the predicted probability."""

from __future__ import annotations

from typing import Any

from bot.digest.chart_base import (
    EQUITY_COLOUR,
    FONT_PT,
    GRID,
    LEVERAGE_COLOUR,
    TEXT,
    new_figure,
    note,
    png,
    set_title,
)

#: Error bars are two block standard errors: about 95 % if the bucket's trials were unbiased.
BARS_SE = 2.0


def reliability_png(report: dict[str, Any]) -> bytes:
    """Both spans of the report's model on one diagram, the diagonal for perfect calibration."""
    fig, ax = new_figure()
    ax.plot([0, 100], [0, 100], color=GRID, linewidth=1.5, zorder=1, label="perfectly calibrated")
    for (span, colour), marker in zip(
        (("fit", EQUITY_COLOUR), ("held_out", LEVERAGE_COLOUR)), ("o", "s"), strict=True
    ):
        rows = [r for r in report["spans"][span]["table"] if r["count"]]
        x = [100.0 * r["predicted"] for r in rows]
        y = [100.0 * r["observed"] for r in rows]
        err = [100.0 * BARS_SE * r["se_block"] for r in rows]
        part = report["spans"][span]
        brier = part["brier"][report["model"]]["score"]
        label = (
            f"{span.replace('_', '-')} {part['from'][:10]} … {part['to'][:10]}, Brier {brier:.4f}"
        )
        ax.errorbar(
            x, y, yerr=err, fmt=marker, color=colour, markersize=4, capsize=2, label=label,
            zorder=3,
        )  # fmt: skip
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_xlabel("predicted touch probability (%)", fontsize=FONT_PT, color=TEXT)
    ax.set_ylabel("observed frequency (%)", fontsize=FONT_PT, color=TEXT)
    ax.grid(color=GRID, linewidth=0.5)
    model = report["model"] + (f" ν={report['nu']:g}" if report.get("nu") else "")
    set_title(ax, f"{report['symbol']}: touch within {report['horizon_hours']:g} h, {model}")
    ax.legend(loc="lower right", fontsize=FONT_PT - 2, frameon=False)
    note(ax, f"bars: ±{BARS_SE:g} SE (blocks of one horizon)")
    return png(fig)
