"""`liqwatch demo` without a terminal plays the scripted scenario and exits cleanly."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
async def test_headless_demo_shows_warning_critical_and_resolved() -> None:
    """The real process prints a warning, then a critical alert, then resolved messages for
    both, and a summary where every queued message was delivered; exit status 0."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo", "--duration", "50",
        cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 180)  # a 50 s demo, loaded
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = out.decode()
    assert proc.returncode == 0, err.decode()[-2000:]
    warning = text.index("WARNING — desk-binance")
    critical = text.index("CRITICAL — desk-binance")
    assert warning < critical < text.index("RESOLVED #", critical)
    assert text.count("RESOLVED #") >= 2
    summary = text.strip().splitlines()[-1]
    queued, delivered = summary.split(", ")[1].split()[0], summary.split(", ")[2].split()[0]
    assert summary.startswith("demo over:") and queued == delivered
    assert "Traceback" not in err.decode()
