from pathlib import Path

import pytest

from kagsync.errors import ConfigError
from kagsync.settings import load_settings


def test_defaults(isolated_environment):
    settings = load_settings({}, environ={"HOME": str(isolated_environment)})
    assert settings.db == Path.home() / ".local" / "share" / "kagsync" / "kagsync.db"
    assert settings.auto_sync is True
    assert settings.sync_statuses == ("ongoing",)
    assert settings.watch_interval == 300
    assert settings.jobs == 4
    assert settings.effective_log_file == settings.db.with_name("kagsync.log")
    assert all(origin == "default" for _, _, origin, _ in settings.describe())


def test_precedence_option_over_env_over_file_over_default(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('jobs = 2\nwatch_interval = 60\nauto_sync = false\ndb = "/from/file.db"\n')
    environ = {"KAGSYNC_CONFIG": str(config), "KAGSYNC_JOBS": "3", "KAGSYNC_DB": "/from/env.db"}
    settings = load_settings({"db": "/from/option.db"}, environ=environ)
    assert settings.db == Path("/from/option.db")
    assert settings.jobs == 3
    assert settings.watch_interval == 60
    assert settings.auto_sync is False
    assert settings.sync_statuses == ("ongoing",)
    origins = {key: origin for key, _, origin, _ in settings.describe()}
    assert origins["db"] == "option"
    assert origins["jobs"] == "env KAGSYNC_JOBS"
    assert origins["watch_interval"] == f"file {config}"
    assert origins["sync_statuses"] == "default"


def test_default_config_file_location(isolated_environment, monkeypatch):
    config = isolated_environment / ".config" / "kagsync" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('sync_statuses = ["ongoing", "completed"]\n')
    settings = load_settings({})
    assert settings.sync_statuses == ("ongoing", "completed")
    assert settings.config_path == config


@pytest.mark.parametrize(
    "text, message",
    [
        ("jobs = ", "not valid TOML"),
        ("jobs = 0", "jobs: expected a whole number"),
        ('sync_statuses = ["running"]', "unknown status 'running'"),
        ("auto_sync = 3", "auto_sync: expected true or false"),
        ("colour = 1", "unknown setting 'colour'"),
        ("watch_interval = -5", "expected a positive number"),
    ],
)
def test_malformed_config_file(tmp_path, text, message):
    config = tmp_path / "config.toml"
    config.write_text(text + "\n")
    with pytest.raises(ConfigError, match=message) as raised:
        load_settings({}, environ={"KAGSYNC_CONFIG": str(config)})
    assert str(config) in str(raised.value)


def test_missing_named_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings({}, environ={"KAGSYNC_CONFIG": str(tmp_path / "nope.toml")})


def test_bad_env_value_names_the_variable():
    with pytest.raises(ConfigError, match="KAGSYNC_AUTO_SYNC"):
        load_settings({}, environ={"KAGSYNC_AUTO_SYNC": "maybe", "HOME": "/nonexistent"})


def test_default_log_file_never_is_the_database():
    settings = load_settings({"db": "/x/data.log"}, environ={"HOME": "/nonexistent"})
    assert settings.effective_log_file == Path("/x/data.log.log")
    assert load_settings({"db": "/x/demo.db"}, environ={"HOME": "/n"}).effective_log_file == Path("/x/demo.log")


@pytest.mark.parametrize("value", ["inf", "1e300", "0", "-1"])
def test_watch_interval_must_be_finite_and_positive(value):
    with pytest.raises(ConfigError, match="KAGSYNC_WATCH_INTERVAL"):
        load_settings({}, environ={"KAGSYNC_WATCH_INTERVAL": value, "HOME": "/nonexistent"})
