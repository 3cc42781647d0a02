"""The morning digest end to end: ``liqwatch run`` with python-telegram-bot and ccxt against the
fake Bot API and a fake venue serving real-shape payloads (Hyperliquid funding with the zero
hash, Binance income with commissions), one venue then failing.

A desk's group gets, for ``/digest now``: the text first, then the three charts as one album,
each message at least the group's 3 s apart (README: one message every 3 s per group); the
day's figures equal what the test recomputes from the payloads it gave the venue; every chart
shows marks on day one; and once Hyperliquid fails, its figures are marked stale.
"""

from __future__ import annotations

import asyncio
import io
import re
import time

import numpy as np
import pytest
from PIL import Image

from bot.digest.charts import EQUITY_COLOUR, LONG_COLOUR, SEVERITY_COLOURS
from bot.telegram.channel import GROUP_INTERVAL_S
from tests.bot.telegram.conftest import App
from tests.engine.normalise.payloads import hyperliquid as ph
from tests.fakes.telegram.model import Call, Msg

pytestmark = pytest.mark.slow

ANN = 1001
DESK = -1001234567890
KEY, SECRET = "KEY-digest-binance-0001", "SECRET-digest-binance-abcdef"
H_MS = 3_600_000
BTC = "BTC/USDT:USDT"


def _flows(app: App, now_ms: int) -> dict[str, dict[str, float]]:
    """The day's flows given to the venue, summed per account and kind as the digest must
    (realised PnL and funding; a Binance commission is no realised PnL, and older flows are
    outside the day)."""
    ex = app.exchange
    ex.add_account("binanceusdm", api_key=KEY, secret=SECRET)
    ex.add_wallet(ph.ADDRESS)
    binance = [("realised", 120.5, 5), ("realised", -20.25, 3), ("funding", -3.5, 8),
               ("funding", 1.25, 1), ("commission", -4.75, 3),
               ("transfer", 500.0, 6)]  # fmt: skip
    for kind, amount, hours in binance:
        ex.add_flow(KEY, kind, BTC, amount, now_ms - hours * H_MS)  # type: ignore[arg-type]
    ex.add_flow(KEY, "realised", BTC, 999.0, now_ms - 30 * H_MS)  # yesterday
    # Hyperliquid sends every funding payment with the hash 0x00…0: four payments, one hash.
    hl_funding = [-0.75, -0.5, 0.25, -1.0]
    for n, amount in enumerate(hl_funding):
        ex.add_flow(ph.ADDRESS, "funding", "SOL/USDC:USDC", amount, now_ms - (n + 1) * H_MS)
    ex.add_flow(ph.ADDRESS, "realised", "SOL/USDC:USDC", 31.5, now_ms - 2 * H_MS)
    # A fill's fee on Hyperliquid (an opening fill: no closedPnl).
    ex.add_flow(ph.ADDRESS, "commission", "SOL/USDC:USDC", -0.35, now_ms - 3 * H_MS)
    return {
        "binance": {
            "realised": sum(a for k, a, _ in binance if k == "realised"),
            "funding": sum(a for k, a, _ in binance if k == "funding"),
            "fee": sum(a for k, a, _ in binance if k == "commission"),
        },
        "hl": {"realised": 31.5, "funding": sum(hl_funding), "fee": -0.35},
    }


async def _setup(app: App) -> tuple[str, str]:
    """Ann links a Binance key and watches a Hyperliquid wallet, and shares both with the
    desk's group; the labels of the two accounts."""
    tg = app.telegram
    chat = tg.private_chat(ANN, "Ann")
    linked = await app.reply(chat, f"/link binanceusdm {KEY} {SECRET}", "Linked binanceusdm")
    watched = await app.reply(chat, f"/watch hyperliquid {ph.ADDRESS}", "as ")
    labels = [re.search(r'as "([^"]+)"', m.plain) for m in (linked, watched)]
    assert labels[0] and labels[1], (linked.plain, watched.plain)
    desk = tg.group(DESK, "Desk")
    tg.set_member(DESK, ANN, "administrator")
    for label in labels:
        assert label is not None
        await app.reply(desk, f"/share {label[1]}", "shared with this chat", user_id=ANN)
    return labels[0][1], labels[1][1]


async def _digest(app: App, after: int) -> tuple[Msg, list[Msg], list[Call]]:
    """Ask the desk for /digest now; its text message, its album and the calls that sent them
    (every digest call to the group from ``after`` on)."""
    tg = app.telegram
    await app.reply(tg.chats[DESK], "/digest now", "Building the digest", user_id=ANN)

    def album() -> list[Msg] | None:
        photos = [m for m in tg.bot_messages(DESK) if m.photo and m.message_id > after]
        return photos if len(photos) == 3 else None

    photos = await tg.wait_for(album, timeout=90)
    text = next(
        m for m in tg.bot_messages(DESK) if m.message_id > after and m.plain.startswith("Digest")
    )
    return text, photos, _sent(app)


def _sent(app: App) -> list[Call]:
    """The notifier's digest messages to the desk so far (not the commands' direct replies,
    such as "Building the digest"), in order."""
    return [
        c
        for c in app.telegram.calls
        if c.chat_id == DESK
        and c.status == 200
        and (
            c.method in ("sendMediaGroup", "sendPhoto")
            or str(c.params.get("text", "")).startswith("<b>Digest")
        )
    ]


def _row(text: str, label: str, header: str) -> list[str]:
    """The cells of ``label``'s row in the table under ``header``."""
    table = text.split(header, 1)[1]
    line = next(line for line in table.splitlines() if line.startswith(f"{label} "))
    return line[len(label) :].split()


def _usd(cell: str) -> float:
    return float(cell.replace(",", "").rstrip("x%"))


def _marks(png: bytes, colour: str) -> int:
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(rgb - target).sum(axis=2) <= 12).sum())


async def test_the_desk_digest_is_paced_counted_and_marks_stale_figures(app: App) -> None:
    now_ms = int(time.time() * 1000)
    expected = _flows(app, now_ms)
    binance, hl = await _setup(app)
    tg = app.telegram
    await _wait_polled(app)  # both accounts polled: the digest has their figures

    text, photos, calls = await _digest(app, after=0)
    body = text.plain

    # Paced: the text first, then one album (three photos in one sendMediaGroup call), each
    # message at least the group's interval after the one before.
    assert [c.method for c in calls] == ["sendMessage", "sendMediaGroup"]
    assert calls[1].at - calls[0].at >= GROUP_INTERVAL_S - 0.05
    assert {m.media_group_id for m in photos} == {photos[0].media_group_id} != {None}
    assert text.message_id < min(m.message_id for m in photos)

    # The day per account, as recomputed from what the venue was given (USDT and USDC are
    # dollars): realised, funding and trading fees (Binance's COMMISSION income, Hyperliquid's
    # fill fees); a Binance TRANSFER is no PnL.
    header = "PnL 24h USD"
    for label, key in ((binance, "binance"), (hl, "hl")):
        cells = _row(body, label, header)
        assert _usd(cells[0]) == pytest.approx(expected[key]["realised"], abs=0.005), cells
        assert _usd(cells[1]) == pytest.approx(expected[key]["funding"], abs=0.005), cells
        assert _usd(cells[2]) == pytest.approx(expected[key]["fee"], abs=0.005), cells
    booked = sum(sum(v.values()) for v in expected.values())
    assert f"Day in USD: {booked:+,.2f} booked" in body
    assert "Realised PnL, 24 h: +31.50 USDC · " in body  # the per-currency detail stays
    fees = f"paid {-expected['hl']['fee']:.2f} USDC · paid {-expected['binance']['fee']:.2f} USDT"
    assert f"Fees, 24 h: {fees}" in body  # Hyperliquid's fill fees, Binance's COMMISSION

    # The wallet's line from its clearinghouseState: the engine's equity is the cross account
    # value (engine/normalise/hyperliquid.py: isolated margin sits with its positions), and
    # the unrealised PnL is every position's.
    state = ph.clearinghouse_state()
    cells = _row(body, f"{hl} hyperliquid", "Accounts")
    cross_value = float(state["crossMarginSummary"]["accountValue"])
    assert _usd(cells[0]) == pytest.approx(cross_value, abs=1)
    assert _usd(cells[2]) == pytest.approx(sum(a.upnl for a in ph.ASSETS), abs=1)
    assert "SOL (USDC)" in body and "/USDC:USDC" not in body.split("Realised PnL")[0]

    # The example's SOL long is 5.99 % from liquidation: the default 10 % warning is open.
    assert re.search(rf"  warning  {binance} SOL-PERP long liq since \d\d:\d\d", body)

    # Day one: every chart shows marks; the equity chart's one hourly point as a marker.
    by_title = {m.plain: m.photo or b"" for m in photos}
    assert _marks(by_title["Exposure by underlying"], LONG_COLOUR) > 500
    ladder = by_title["Distance to liquidation"]
    assert max(_marks(ladder, SEVERITY_COLOURS[s]) for s in ("critical", "warning")) > 500
    assert _marks(by_title["Equity and leverage, 30 days"], EQUITY_COLOUR) > 40
    assert "stale" not in body

    # Hyperliquid starts failing: the wallet goes blind and its last figures are marked.
    app.exchange.fail("hyperliquid", status=503, body="Service Unavailable", times=100_000)
    chat = tg.chats[ANN]
    for _ in range(60):
        listed = await app.reply(chat, "/accounts", hl)
        if "blind" in listed.plain:
            break
        await asyncio.sleep(1.0)  # two failed polls in a row make it blind (conftest)
    else:
        raise AssertionError(f"the wallet never went blind: {listed.plain}")
    last = max(m.message_id for m in tg.bot_messages(DESK))
    text, photos, calls = await _digest(app, after=last)
    body = text.plain
    assert len(calls) == 4
    assert body.splitlines()[1].startswith(f"⚠ Totals include stale figures: {hl} (as of ")
    assert re.search(rf"{hl} hyperliquid .*\n    stale: as of \d\d:\d\d, \d+ min old", body)
    # Open alerts: the wallet's SOL is past the 5 % critical level (and so the 10 % warning
    # too): listed once, at its loudest, with the account-level blind alert.
    assert re.search(rf"  critical {hl} SOL \(USDC\) long liq since", body)
    assert body.count(f"{hl} SOL (USDC) long liq since") == 1
    assert re.search(rf"  warning  {hl} account blind since", body)
    lines = body.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(f"{binance} binanceusdm"))
    assert "stale" not in lines[at + 1]  # Binance still answers: its figures are current

    # Two digests, four messages from the notifier: never two closer than the group's pace.
    gaps = np.diff([c.at for c in calls])
    assert (gaps >= GROUP_INTERVAL_S - 0.05).all(), gaps


async def _wait_polled(app: App) -> None:
    """Until /positions in Ann's chat shows both accounts' positions (both polled once)."""
    chat, shown = app.telegram.chats[ANN], ""
    for _ in range(40):
        before = len(app.telegram.bot_messages(ANN))
        await app.reply(chat, "/positions", "")
        await asyncio.sleep(0.5)  # a long answer comes in several messages
        shown = "\n".join(m.plain for m in app.telegram.bot_messages(ANN)[before:])
        if shown.count("BTC") >= 2:  # both accounts hold BTC
            return
    raise AssertionError(f"the accounts were never polled: {shown}")
