"""The calibrate report as text: one reliability table per span, the Brier scores beneath."""

from __future__ import annotations

from typing import Any


def _pct(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{100.0 * x:.{digits}f}"


def report_text(report: dict[str, Any]) -> str:
    nu = ""
    if report["nu"] is not None:
        nu = f" (ν = {report['nu']:g}{', fitted' if report['nu_fitted'] else ''})"
    head = (
        f"{report['symbol']} · {report['candles']} ({report['timeframe']} candles) · touch "
        f"within {report['horizon_hours']:g} h · model {report['model']}{nu}"
    )
    lines = [head, ""]
    for name, span in report["spans"].items():
        title = "fitting span" if name == "fit" else "held-out span"
        lines.append(
            f"{title} {span['from']} … {span['to']}: {span['starts']:,} starts, "
            f"{span['trials']:,} trials"
        )
        lines.append("  predicted %    count   mean pred %   observed %   ±SE (block) %")
        for row in span["table"]:
            if not row["count"]:
                continue
            lo, hi = row["bucket"]
            lines.append(
                f"  {100 * lo:>4.0f}–{100 * hi:<4.0f}  {row['count']:>9,}   "
                f"{_pct(row['predicted'], 2):>10}   {_pct(row['observed'], 2):>10}   "
                f"{_pct(row['se_block'], 2):>8}"
            )
        briers = ", ".join(
            f"{model} {b['score']:.5f} (reliability {b['reliability']:.5f})"
            for model, b in span["brier"].items()
        )
        gap = span["brier_student_t_minus_gbm"]
        lines += [
            f"  Brier: {briers}",
            f"  student-t − gbm: {gap['mean']:+.5f} ± {gap['se']:.5f} (block SE)",
            "",
        ]
    return "\n".join(lines).rstrip()
