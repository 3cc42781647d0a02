"""One frozen Settings built from the environment, validated once, failing fast by name."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import UserError
from engine.cadence import Bands
from engine.domain import Platform
from engine.errors import EngineError
from engine.probability import DEFAULT_TOUCH_MODEL, TouchModel, touch_model

DEFAULT_DB = "./liqwatch.db"
DEFAULT_POLL_S = 30.0
DEFAULT_POLL_NEAR_S = 5.0
DEFAULT_POLL_FAR_S = 300.0
DEFAULT_SNAPSHOT_S = 300.0
DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org"
DEFAULT_DISCORD_API_URL = "https://discord.com/api/v10"
MIN_POLL_S = 1.0


class SettingsError(UserError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Secret:
    """A secret string that never shows itself in a repr, str or f-string."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        """The plaintext, for the one place that must use it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)


@dataclass(frozen=True)
class Settings:
    """Everything liqwatch reads from its environment (names are a documented contract)."""

    db_path: Path = Path(DEFAULT_DB)
    #: A PostgreSQL URL when LIQWATCH_DB is one (then ``db_path`` is unused).
    db_url: str | None = None
    master_key: Secret | None = None
    poll_s: float = DEFAULT_POLL_S
    #: Poll each account by how close it is to trouble (engine/cadence.py): near accounts
    #: every ``poll_near_s``, far ones every ``poll_far_s``, the rest every ``poll_s``.
    poll_bands: bool = True
    poll_near_s: float = DEFAULT_POLL_NEAR_S
    poll_far_s: float = DEFAULT_POLL_FAR_S
    #: A poll's snapshot is stored when the positions changed or this long after the last
    #: stored one (0: every poll).
    snapshot_s: float = DEFAULT_SNAPSHOT_S
    exchange_url_prefix: str | None = None
    #: The same for exchange websockets: wss://HOST/PATH → PREFIX/HOST/PATH.
    exchange_ws_url_prefix: str | None = None
    #: Follow marks over the venues' websockets (False: REST polls only).
    stream: bool = True
    #: Linked keys on venues that push position changes (Binance, OKX, Bybit) are followed
    #: over their private streams as well as polled (LIQWATCH_PUSH; needs LIQWATCH_STREAM).
    push: bool = True
    #: /metrics and /healthz on this port (LIQWATCH_HTTP_PORT; None: off, 0: any free port)
    #: and address (LIQWATCH_HTTP_HOST; loopback unless the operator opens it).
    http_port: int | None = None
    http_host: str = "127.0.0.1"
    #: On PostgreSQL: how long a worker's account leases last unless renewed (a killed
    #: worker's accounts go to the others within it; LIQWATCH_LEASE_SECONDS).
    lease_s: float = 15.0
    #: This worker's name among those sharing a PostgreSQL database (LIQWATCH_WORKER_ID;
    #: default "host:pid").
    worker_id: str | None = None
    blind_after: int = 5
    #: How the liquidation probability is modelled (LIQWATCH_TOUCH_MODEL: student-t, the
    #: calibrated default, or gbm; docs/calibration.md).
    touch_model: TouchModel = DEFAULT_TOUCH_MODEL
    retention_days: float = 90.0
    #: The candle cache `liqwatch candles fetch` fills and backtest/calibrate read
    #: (LIQWATCH_CANDLES_DIR; default: a candles/ directory next to the SQLite database).
    candles_dir: Path = Path("candles")
    log_level: str = "INFO"
    #: Where operator messages go ("telegram:<chat id>", "discord:<channel id>"); None: log only.
    ops_chat: tuple[Platform, str] | None = None
    #: "Still watching N accounts" to the ops chat this often; 0 disables it.
    heartbeat_s: float = 0.0
    #: The watchdog alerts the ops chat when no poll has finished for this long.
    stall_s: float = 300.0
    #: The watchdog alerts the ops chat when a message has waited this long to be sent.
    delivery_stall_s: float = 120.0
    #: Sent and dead-lettered messages are pruned this many days after they were queued.
    outbox_retention_days: float = 30.0
    #: Resolved alerts (and their decision log) are pruned this many days after resolving.
    alert_retention_days: float = 90.0
    #: Silences are pruned this many days after they ended.
    silence_retention_days: float = 30.0
    #: /connect codes are pruned this many days after they expired.
    connect_code_retention_days: float = 1.0
    #: Enables the Telegram adapter (from @BotFather).
    telegram_token: Secret | None = None
    #: The Bot API server root: requests go to {url}/bot{token}/{method}.
    telegram_api_url: str = DEFAULT_TELEGRAM_API_URL
    #: Enables the Discord adapter (Developer Portal → Bot → Token).
    discord_token: Secret | None = None
    #: Discord's REST root (or a rate-limit proxy in front of it).
    discord_api_url: str = DEFAULT_DISCORD_API_URL
    #: The gateway websocket, when not the one Discord names.
    discord_gateway_url: str | None = None
    #: Guilds whose slash commands are synced instantly (global sync takes up to an hour).
    discord_guild_ids: tuple[int, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate; a ``.env`` file in the working directory fills unset names."""
        merged = {**read_dotenv(Path(".env")), **(os.environ if env is None else env)}
        key = merged.get("LIQWATCH_MASTER_KEY", "").strip()
        telegram = merged.get("TELEGRAM_BOT_TOKEN", "").strip()
        discord = merged.get("DISCORD_BOT_TOKEN", "").strip()
        return cls(
            db_path=Path(_sqlite_path(merged)),
            db_url=_postgres_url(merged),
            master_key=Secret(key) if key else None,
            poll_s=_number(merged, "LIQWATCH_POLL_SECONDS", DEFAULT_POLL_S, minimum=MIN_POLL_S),
            poll_bands=_switch(merged, "LIQWATCH_POLL_BANDS", default=True),
            poll_near_s=_number(
                merged, "LIQWATCH_POLL_NEAR_SECONDS", DEFAULT_POLL_NEAR_S, minimum=MIN_POLL_S
            ),
            poll_far_s=_number(
                merged, "LIQWATCH_POLL_FAR_SECONDS", DEFAULT_POLL_FAR_S, minimum=MIN_POLL_S
            ),
            snapshot_s=_number(merged, "LIQWATCH_SNAPSHOT_SECONDS", DEFAULT_SNAPSHOT_S, minimum=0),
            exchange_url_prefix=_url(merged, "LIQWATCH_EXCHANGE_URL_PREFIX"),
            exchange_ws_url_prefix=_prefix(_ws_url(merged, "LIQWATCH_EXCHANGE_WS_URL_PREFIX")),
            stream=_switch(merged, "LIQWATCH_STREAM", default=True),
            push=_switch(merged, "LIQWATCH_PUSH", default=True),
            http_port=_port(merged, "LIQWATCH_HTTP_PORT"),
            http_host=merged.get("LIQWATCH_HTTP_HOST", "").strip() or "127.0.0.1",
            lease_s=_number(merged, "LIQWATCH_LEASE_SECONDS", 15.0, minimum=3),
            worker_id=merged.get("LIQWATCH_WORKER_ID", "").strip() or None,
            blind_after=int(_number(merged, "LIQWATCH_BLIND_AFTER", 5, minimum=1)),
            touch_model=_touch_model(merged.get("LIQWATCH_TOUCH_MODEL", "")),
            retention_days=_number(merged, "LIQWATCH_SNAPSHOT_RETENTION_DAYS", 90, minimum=1),
            candles_dir=_candles_dir(merged),
            log_level=_level(merged.get("LIQWATCH_LOG_LEVEL", "INFO")),
            ops_chat=_chat(merged, "LIQWATCH_OPS_CHAT"),
            heartbeat_s=_number(merged, "LIQWATCH_HEARTBEAT_SECONDS", 0, minimum=0),
            stall_s=_number(merged, "LIQWATCH_STALL_SECONDS", 300, minimum=10),
            delivery_stall_s=_number(merged, "LIQWATCH_DELIVERY_STALL_SECONDS", 120, minimum=10),
            **_retention(merged),
            telegram_token=Secret(_token(telegram, "TELEGRAM_BOT_TOKEN")) if telegram else None,
            telegram_api_url=_url(merged, "TELEGRAM_API_URL") or DEFAULT_TELEGRAM_API_URL,
            discord_token=Secret(_discord_token(discord)) if discord else None,
            discord_api_url=_url(merged, "DISCORD_API_URL") or DEFAULT_DISCORD_API_URL,
            discord_gateway_url=_ws_url(merged, "DISCORD_GATEWAY_URL"),
            discord_guild_ids=_ids(merged, "DISCORD_GUILD_IDS"),
        )

    @property
    def database(self) -> str:
        """What ``Database.open`` takes: the PostgreSQL URL, else the SQLite file's path."""
        return self.db_url or str(self.db_path)

    def bands(self) -> Bands | None:
        """The poll bands (None: every account at ``poll_s``); the middle band is ``poll_s``,
        and the near and far ones never cross it."""
        if not self.poll_bands:
            return None
        return Bands(
            near_s=min(self.poll_near_s, self.poll_s),
            middle_s=self.poll_s,
            far_s=max(self.poll_far_s, self.poll_s),
        )

    def require_master_key(self) -> Secret:
        """The master key, or the one clear line on how to make one."""
        if self.master_key is None:
            raise SettingsError(
                "LIQWATCH_MASTER_KEY is not set: create one with `liqwatch genkey` and export "
                "it (it encrypts the exchange API keys at rest)"
            )
        return self.master_key


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an optional .env file (comments and blank lines skipped)."""
    if not path.is_file():
        return {}
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if not text or text.startswith("#") or "=" not in text:
            continue
        name, _, value = text.removeprefix("export ").partition("=")
        out[name.strip()] = value.strip().strip("'\"")
    return out


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return float(default)
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not value >= minimum:
        raise SettingsError(f"{name} must be at least {minimum:g}, got {raw}")
    return value


def is_postgres(url: str) -> bool:
    """``LIQWATCH_DB`` names a PostgreSQL server (else it is a SQLite file's path)."""
    return url.startswith(("postgresql://", "postgres://"))


def _sqlite_path(env: Mapping[str, str]) -> str:
    raw = env.get("LIQWATCH_DB", "").strip()
    return DEFAULT_DB if not raw or is_postgres(raw) else raw


def _postgres_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("LIQWATCH_DB", "").strip()
    return raw if is_postgres(raw) else None


def _candles_dir(env: Mapping[str, str]) -> Path:
    raw = env.get("LIQWATCH_CANDLES_DIR", "").strip()
    return Path(raw) if raw else Path(_sqlite_path(env)).parent / "candles"


def _port(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name, "").strip()
    if not raw or raw.lower() == "off":
        return None
    if not raw.isdigit() or int(raw) > 65535:
        raise SettingsError(f"{name} must be a TCP port (0-65535) or off, got {raw!r}")
    return int(raw)


def _retention(env: Mapping[str, str]) -> dict[str, float]:
    """The retention periods in days (at least one: the digest counts a day of alerts)."""
    return {
        "outbox_retention_days": _number(env, "LIQWATCH_OUTBOX_RETENTION_DAYS", 30, minimum=1),
        "alert_retention_days": _number(env, "LIQWATCH_ALERT_RETENTION_DAYS", 90, minimum=1),
        "silence_retention_days": _number(env, "LIQWATCH_SILENCE_RETENTION_DAYS", 30, minimum=1),
        "connect_code_retention_days": _number(
            env, "LIQWATCH_CONNECT_CODE_RETENTION_DAYS", 1, minimum=1
        ),
    }


def _url(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must be an http(s) URL, got {raw!r}")
    return raw.rstrip("/")


def _token(raw: str, name: str) -> str:
    """A bot token as BotFather prints it: "<bot id>:<secret>" (the error never repeats it)."""
    bot_id, _, rest = raw.partition(":")
    if not bot_id.isdigit() or not rest or any(c.isspace() for c in raw):
        raise SettingsError(f"{name} does not look like a bot token (expected <digits>:<secret>)")
    return raw


def _discord_token(raw: str) -> str:
    """A bot token alone: no spaces, no "Bot " prefix (the error never repeats it)."""
    if any(c.isspace() for c in raw) or raw.lower().startswith("bot"):
        raise SettingsError("DISCORD_BOT_TOKEN does not look like a bot token")
    return raw


def _prefix(url: str | None) -> str | None:
    """A URL prefix without its trailing slash (the venue's host and path follow one)."""
    return None if url is None else url.rstrip("/")


def _switch(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("on", "true", "1", "yes"):
        return True
    if raw in ("off", "false", "0", "no"):
        return False
    raise SettingsError(f"{name} must be on or off, got {env[name]!r}")


def _ws_url(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.startswith(("ws://", "wss://")):
        raise SettingsError(f"{name} must be a ws(s):// URL, got {raw!r}")
    return raw


def _ids(env: Mapping[str, str], name: str) -> tuple[int, ...]:
    raw = env.get(name, "").replace(",", " ").split()
    if not all(word.isdigit() for word in raw):
        raise SettingsError(f"{name} must be guild ids separated by commas, got {env[name]!r}")
    return tuple(int(word) for word in raw)


def _touch_model(raw: str) -> TouchModel:
    if not raw.strip():
        return DEFAULT_TOUCH_MODEL
    try:
        return touch_model(raw)
    except EngineError:
        names = " or ".join(m.value for m in TouchModel)
        raise SettingsError(f"LIQWATCH_TOUCH_MODEL must be {names}, got {raw!r}") from None


def _level(raw: str) -> str:
    level = raw.strip().upper() or "INFO"
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(
            f"LIQWATCH_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {raw!r}"
        )
    return level


def _chat(env: Mapping[str, str], name: str) -> tuple[Platform, str] | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    platform, _, chat_id = raw.partition(":")
    try:
        return Platform(platform.strip().lower()), _nonempty(chat_id.strip(), name)
    except ValueError:
        raise SettingsError(
            f"{name} must look like telegram:<chat id> or discord:<channel id>, got {raw!r}"
        ) from None


def _nonempty(value: str, name: str) -> str:
    if not value:
        raise ValueError(name)
    return value
