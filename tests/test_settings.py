from pathlib import Path

import pytest

from kagsync import models
from kagsync import settings as settings_module
from kagsync.errors import ConfigError
from kagsync.settings import SETTING_KEYS, Settings, load_settings
from tests.cli_runner import invoke


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


# -- strict parsing, new settings ------------------------------------------------------

NEW_SETTINGS = {
    # key: (default, an accepted value, the value it gives, a refused value)
    "max_board_shrink": (0.5, "0.25", 0.25, "1.5"),
    "max_download_bytes": (1024**3, "5000000", 5_000_000, "1.5"),
    "download_deadline": (900.0, "60", 60.0, "0"),
    "max_uncompressed_bytes": (2 * 1024**3, "1048576", 1_048_576, "-1"),
    "max_compression_ratio": (100.0, "250", 250.0, "0.5"),
    "details_refresh": (86400.0, "3600", 3600.0, "nan"),
    "private_check_interval": (3600.0, "600", 600.0, "inf"),
    "private_wait": (2_592_000.0, "5184000", 5_184_000.0, "1e12"),
    "log_max_bytes": (10 * 1024**2, "2048", 2048, "ten"),
    "log_backups": (3, "7", 7, "0"),
}


def test_config_file_that_is_not_utf8_is_one_config_error(tmp_path):
    config = tmp_path / "config.toml"
    config.write_bytes(b'db = "/data/caf\xe9.db"\n')
    with pytest.raises(ConfigError, match="not UTF-8") as raised:
        load_settings({}, environ={"KAGSYNC_CONFIG": str(config)})
    assert str(config) in str(raised.value)
    assert "\n" not in str(raised.value)
    assert raised.value.exit_code == 2


def test_defaults_come_from_models():
    settings = Settings(db=Path("/x.db"))
    assert settings.lock_timeout == models.DEFAULT_LOCK_TIMEOUT
    assert settings.jobs == models.DEFAULT_JOBS
    assert settings.watch_interval == models.DEFAULT_WATCH_INTERVAL
    assert settings.sync_statuses == models.DEFAULT_SYNC_STATUSES


@pytest.mark.parametrize("key", sorted(NEW_SETTINGS))
def test_new_setting_default_env_and_file(tmp_path, key):
    default, given, value, refused = NEW_SETTINGS[key]
    assert key in SETTING_KEYS
    assert getattr(load_settings({}, environ={"HOME": "/nonexistent"}), key) == default
    # The default lives in one constant, DEFAULT_<KEY>.
    assert getattr(settings_module, f"DEFAULT_{key.upper()}") == default
    env = f"KAGSYNC_{key.upper()}"
    from_env = load_settings({}, environ={env: given, "HOME": "/nonexistent"})
    assert getattr(from_env, key) == value
    assert type(getattr(from_env, key)) is type(default)
    rows = {row[0]: row for row in from_env.describe()}
    assert rows[key][2] == f"env {env}"
    assert rows[key][3]  # a meaning for `kagsync config`
    with pytest.raises(ConfigError, match=env):
        load_settings({}, environ={env: refused, "HOME": "/nonexistent"})
    config = tmp_path / "config.toml"
    config.write_text(f"[kagsync]\n{key} = {given}\n")
    assert getattr(load_settings({}, environ={"KAGSYNC_CONFIG": str(config)}), key) == value
    assert getattr(load_settings({key: given}, environ={"HOME": "/nonexistent"}), key) == value


def test_private_wait_of_30_days_is_not_refused_by_the_week_limit_of_other_intervals():
    assert load_settings({}, environ={"KAGSYNC_PRIVATE_WAIT": "2592000", "HOME": "/n"}).private_wait == 2_592_000
    with pytest.raises(ConfigError, match="KAGSYNC_WATCH_INTERVAL"):
        load_settings({}, environ={"KAGSYNC_WATCH_INTERVAL": "2592000", "HOME": "/n"})


@pytest.mark.parametrize(
    "env, value",
    [
        ("KAGSYNC_JOBS", "1_0"),  # int() reads 10
        ("KAGSYNC_JOBS", "٣"),  # int() reads 3
        ("KAGSYNC_JOBS", "3.0"),
        ("KAGSYNC_WATCH_INTERVAL", "6_0"),
        ("KAGSYNC_WATCH_INTERVAL", "٦٠"),
        ("KAGSYNC_LOCK_TIMEOUT", "nan"),
        ("KAGSYNC_MAX_DOWNLOAD_BYTES", "1e9"),
        ("KAGSYNC_MAX_DOWNLOAD_BYTES", "99999999999999999999999999999"),
        ("KAGSYNC_LOG_BACKUPS", "true"),
        ("KAGSYNC_MAX_BOARD_SHRINK", "0"),
    ],
)
def test_numbers_are_parsed_strictly(env, value):
    with pytest.raises(ConfigError, match=env) as raised:
        load_settings({}, environ={env: value, "HOME": "/nonexistent"})
    assert len(str(raised.value)) < 250


@pytest.mark.parametrize(
    "text, message",
    [
        ("jobs = true", "jobs: expected a whole number"),
        ("log_backups = 2.0", "log_backups: expected a whole number"),
        ("max_download_bytes = 1e9", "max_download_bytes: expected a whole number"),
        ("download_deadline = true", "download_deadline: expected a positive number of seconds"),
        ("max_board_shrink = [0.5]", "max_board_shrink: expected a number"),
        ("auto_sync = 1.0", "auto_sync: expected true or false"),
    ],
)
def test_toml_values_of_the_wrong_type(tmp_path, text, message):
    config = tmp_path / "config.toml"
    config.write_text(text + "\n")
    with pytest.raises(ConfigError, match=message):
        load_settings({}, environ={"KAGSYNC_CONFIG": str(config)})


@pytest.mark.parametrize("word, value", [("on", True), ("OFF", False), ("Yes", True), ("0", False), (" true ", True)])
def test_booleans_use_the_one_vocabulary(word, value):
    assert load_settings({}, environ={"KAGSYNC_FOLLOW_DATES": word, "HOME": "/n"}).follow_dates is value


def test_toml_numbers_and_whole_floats_for_seconds(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        "download_deadline = 120\nmax_board_shrink = 1\nmax_compression_ratio = 1_000\nlog_max_bytes = 1_048_576\n"
    )
    settings = load_settings({}, environ={"KAGSYNC_CONFIG": str(config)})
    assert settings.download_deadline == 120.0
    assert settings.max_board_shrink == 1.0
    assert settings.max_compression_ratio == 1000.0
    assert settings.log_max_bytes == 1_048_576


def test_describe_lists_every_setting_once():
    rows = load_settings({}, environ={"HOME": "/n"}).describe()
    assert [row[0] for row in rows] == list(SETTING_KEYS)
    assert all(isinstance(part, str) and part for row in rows for part in row)


@pytest.mark.parametrize("value", ["", ".", "..", "/"])
def test_db_that_names_no_file_is_one_config_error(value):
    with pytest.raises(ConfigError, match=r"^option --db: is empty or names a folder"):
        load_settings({"db": Path(value)}, environ={"HOME": "/nonexistent"})
    with pytest.raises(ConfigError, match=r"^KAGSYNC_DB: is empty or names a folder"):
        load_settings({}, environ={"KAGSYNC_DB": value or ".", "HOME": "/nonexistent"})


def test_empty_db_option_on_the_command_line_is_one_line_naming_db(cli):
    result = invoke(["--db", "", "event", "list"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "ValueError" not in result.output
    assert "--db" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    empty_log = invoke(["--db", str(cli.db_path), "--log-file", "", "event", "list"])
    assert empty_log.exit_code == 2 and "--log-file" in empty_log.stderr
