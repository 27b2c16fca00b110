"""Settings: secrets from the environment only, clear one-line errors, no token in reprs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


def test_defaults_use_sqlite_under_data_and_no_chat_platform() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///data/storywatch.db"
    assert settings.telegram_bot_token is None and not settings.runs_slack()


def test_a_bad_value_names_the_key_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYWATCH_POLL_INTERVAL_MINUTES", "soon")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert "poll_interval_minutes" in str(err.value) and "\n" not in str(err.value)


def test_tokens_never_appear_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:very-secret-token")
    settings = load_settings()
    assert settings.telegram_bot_token is not None
    assert "very-secret-token" not in repr(settings) and "very-secret-token" not in str(settings)


def test_config_file_then_environment_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "custom.toml"
    config.write_text('max_rules_per_chat = 7\n[[feeds]]\nurl = "https://example.org/rss"\n')
    monkeypatch.setenv("STORYWATCH_CONFIG", str(config))
    assert load_settings().max_rules_per_chat == 7
    monkeypatch.setenv("STORYWATCH_MAX_RULES_PER_CHAT", "9")
    settings = load_settings()
    assert settings.max_rules_per_chat == 9 and settings.feeds[0].url == "https://example.org/rss"


def test_postgres_urls_get_the_async_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example/app")
    assert load_settings().database_url == "postgresql+asyncpg://u@db.example/app"
    monkeypatch.setenv("DATABASE_URL", "mysql://nope")
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        load_settings()


def test_a_missing_config_file_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYWATCH_CONFIG", "/nonexistent/storywatch.toml")
    with pytest.raises(SettingsError, match="no such file"):
        load_settings()


def test_an_unknown_key_in_the_config_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "typo.toml"
    config.write_text("pol_interval_minutes = 5\n")
    monkeypatch.setenv("STORYWATCH_CONFIG", str(config))
    with pytest.raises(SettingsError, match="pol_interval_minutes"):
        load_settings()


def test_push_is_off_without_a_public_url_and_on_with_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_settings()
    assert not settings.pushes() and settings.websub_port == 8090
    assert settings.push_poll_hours == 3
    monkeypatch.setenv("STORYWATCH_PUBLIC_BASE_URL", "https://bot.example.org/")
    settings = load_settings()
    assert settings.pushes() and settings.public_base_url == "https://bot.example.org"
    monkeypatch.setenv("STORYWATCH_PUBLIC_BASE_URL", "bot.example.org")
    with pytest.raises(SettingsError, match="public_base_url"):
        load_settings()


def test_a_public_url_without_a_host_or_a_floor_above_the_ceiling_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value, key in (
        ("STORYWATCH_PUBLIC_BASE_URL", "https://", "public_base_url"),
        ("STORYWATCH_POLL_FLOOR_MINUTES", "90", "poll_floor_minutes"),
    ):
        with monkeypatch.context() as env:
            env.setenv(name, value)
            with pytest.raises(SettingsError) as err:
                load_settings()
            assert key in str(err.value) and "\n" not in str(err.value)
