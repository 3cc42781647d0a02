"""Settings from the environment: defaults, validation that names the variable, .env files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError
from engine.probability import DEFAULT_TOUCH_MODEL, TouchModel


def test_defaults_are_documented_values() -> None:
    """Nothing set: ./liqwatch.db, 30 s polls, no master key, no URL prefix."""
    settings = Settings.from_env({})
    assert settings.db_path == Path("./liqwatch.db")
    assert settings.poll_s == 30.0 and settings.master_key is None
    assert settings.exchange_url_prefix is None
    assert settings.stream and settings.exchange_ws_url_prefix is None
    assert settings.push and settings.http_port is None and settings.http_host == "127.0.0.1"
    assert Settings.from_env({"LIQWATCH_HTTP_PORT": "9464"}).http_port == 9464


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"LIQWATCH_POLL_SECONDS": "0.5"}, "LIQWATCH_POLL_SECONDS"),
        ({"LIQWATCH_POLL_SECONDS": "often"}, "LIQWATCH_POLL_SECONDS"),
        ({"LIQWATCH_EXCHANGE_URL_PREFIX": "localhost:9"}, "LIQWATCH_EXCHANGE_URL_PREFIX"),
        ({"LIQWATCH_BLIND_AFTER": "0"}, "LIQWATCH_BLIND_AFTER"),
        ({"LIQWATCH_LOG_LEVEL": "LOUD"}, "LIQWATCH_LOG_LEVEL"),
        ({"LIQWATCH_TOUCH_MODEL": "normal"}, "LIQWATCH_TOUCH_MODEL"),
        ({"TELEGRAM_BOT_TOKEN": "not a token"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "123456:"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_API_URL": "api.telegram.org"}, "TELEGRAM_API_URL"),
        ({"LIQWATCH_STREAM": "sometimes"}, "LIQWATCH_STREAM"),
        ({"LIQWATCH_PUSH": "maybe"}, "LIQWATCH_PUSH"),
        ({"LIQWATCH_HTTP_PORT": "80000"}, "LIQWATCH_HTTP_PORT"),
        ({"LIQWATCH_HTTP_PORT": "http"}, "LIQWATCH_HTTP_PORT"),
        (
            {"LIQWATCH_EXCHANGE_WS_URL_PREFIX": "http://127.0.0.1:9"},
            "LIQWATCH_EXCHANGE_WS_URL_PREFIX",
        ),
    ],
)
def test_bad_values_fail_fast_naming_the_variable(env: dict[str, str], name: str) -> None:
    """Each malformed value raises a SettingsError whose message starts with its name."""
    with pytest.raises(SettingsError, match=f"^{name}"):
        Settings.from_env(env)


def test_missing_master_key_says_how_to_make_one() -> None:
    """require_master_key points at `liqwatch genkey`."""
    with pytest.raises(SettingsError, match="liqwatch genkey"):
        Settings.from_env({}).require_master_key()


def test_a_dotenv_file_fills_unset_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A .env in the working directory sets what the environment does not; env wins."""
    (tmp_path / ".env").write_text("# comment\nLIQWATCH_POLL_SECONDS=5\nLIQWATCH_DB='x.db'\n")
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"LIQWATCH_DB": "y.db"})
    assert settings.poll_s == 5.0 and settings.db_path == Path("y.db")


def test_telegram_token_is_a_secret_and_the_api_url_defaults_to_telegram() -> None:
    """The token never shows in a repr or an error; the URL is the Bot API server root."""
    token = "123456789:AAF-secret-part"
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": token})
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.telegram_token is not None and settings.telegram_token.reveal() == token
    assert "secret-part" not in repr(settings)
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"TELEGRAM_BOT_TOKEN": "123456789 AAF-secret-part"})
    assert "secret-part" not in str(caught.value)
    custom = Settings.from_env({"TELEGRAM_API_URL": "http://127.0.0.1:8081/"})
    assert custom.telegram_api_url == "http://127.0.0.1:8081"


@pytest.mark.parametrize(
    "name",
    [
        "LIQWATCH_OUTBOX_RETENTION_DAYS",
        "LIQWATCH_ALERT_RETENTION_DAYS",
        "LIQWATCH_SILENCE_RETENTION_DAYS",
        "LIQWATCH_CONNECT_CODE_RETENTION_DAYS",
    ],
)
def test_retention_periods_are_at_least_a_day_and_named_when_wrong(name: str) -> None:
    """Each retention period is read in days; below one day (the digest counts a day of
    alerts) or not a number, start-up stops naming the variable."""
    assert getattr(Settings.from_env({name: "45"}), _field(name)) == 45.0
    for bad in ("0.5", "forever"):
        with pytest.raises(SettingsError, match=f"^{name}"):
            Settings.from_env({name: bad})


def _field(name: str) -> str:
    """LIQWATCH_OUTBOX_RETENTION_DAYS → outbox_retention_days."""
    return name.removeprefix("LIQWATCH_").lower()


def test_streaming_is_on_by_default_and_can_be_turned_off() -> None:
    """LIQWATCH_STREAM=off polls only; the websocket prefix takes ws:// for a local server."""
    off = Settings.from_env({"LIQWATCH_STREAM": "off"})
    on = Settings.from_env({"LIQWATCH_EXCHANGE_WS_URL_PREFIX": "ws://127.0.0.1:9/"})
    assert not off.stream and on.stream
    assert on.exchange_ws_url_prefix == "ws://127.0.0.1:9"


def test_the_touch_model_is_the_calibrated_default_unless_gbm_is_asked_for() -> None:
    """LIQWATCH_TOUCH_MODEL: unset is the Student-t default (docs/calibration.md); ``gbm``
    (any case) brings back the Gaussian model."""
    assert Settings.from_env({}).touch_model is TouchModel.STUDENT_T is DEFAULT_TOUCH_MODEL
    assert Settings.from_env({"LIQWATCH_TOUCH_MODEL": " GBM "}).touch_model is TouchModel.GBM
    chosen = Settings.from_env({"LIQWATCH_TOUCH_MODEL": "student-t"}).touch_model
    assert chosen is TouchModel.STUDENT_T
