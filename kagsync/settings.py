"""Effective settings: command-line option > environment > TOML file > default.

Every setting remembers where its value came from, so ``kagsync config`` can show it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from kagsync.errors import ConfigError
from kagsync.models import (
    DEFAULT_JOBS,
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_SYNC_STATUSES,
    DEFAULT_WATCH_INTERVAL,
    MAX_JOBS,
    STATUSES,
    Status,
)

CONFIG_ENV = "KAGSYNC_CONFIG"

MAX_SECONDS = 7 * 24 * 3600.0


def default_data_dir(environ: Mapping[str, str]) -> Path:
    """The user's data directory for kagsync (XDG on Linux)."""
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "kagsync"


def default_config_path(environ: Mapping[str, str]) -> Path:
    """Where the settings file is looked for when ``KAGSYNC_CONFIG`` is not set."""
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "kagsync" / "config.toml"


def _parse_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}: expected true or false, got {value!r}")


def _parse_positive_float(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: expected a number of seconds, got {value!r}") from None
    # A week at most: the watch loop schedules in whole seconds and backs off up to 8x.
    if isinstance(value, bool) or not 0 < number <= MAX_SECONDS:
        raise ConfigError(
            f"{name}: expected a positive number of seconds up to {MAX_SECONDS:g}, got {value!r}"
        )
    return number


def _parse_jobs(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{name}: expected a whole number from 1 to {MAX_JOBS}, got {value!r}")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number from 1 to {MAX_JOBS}, got {value!r}") from None
    if not 1 <= number <= MAX_JOBS:
        raise ConfigError(f"{name}: expected a whole number from 1 to {MAX_JOBS}, got {value!r}")
    return number


def _parse_statuses(value: Any, name: str) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise ConfigError(f"{name}: expected a list of statuses, got {value!r}")
    statuses = tuple(str(item).strip() for item in items if str(item).strip())
    for status in statuses:
        if status not in STATUSES:
            raise ConfigError(
                f"{name}: unknown status {status!r} (choose from {', '.join(STATUSES)})"
            )
    return statuses


def _parse_path(value: Any, name: str) -> Path:
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        raise ConfigError(f"{name}: expected a path, got {value!r}")
    return Path(os.path.expanduser(str(value)))


@dataclass(frozen=True)
class _Spec:
    key: str
    env: str
    parse: Callable[[Any, str], Any]
    help: str


_SPECS: tuple[_Spec, ...] = (
    _Spec("db", "KAGSYNC_DB", _parse_path, "SQLite database file"),
    _Spec("auto_sync", "KAGSYNC_AUTO_SYNC", _parse_bool, "sync on add and on status change"),
    _Spec("sync_statuses", "KAGSYNC_SYNC_STATUSES", _parse_statuses, "statuses that are kept synced"),
    _Spec("watch_interval", "KAGSYNC_WATCH_INTERVAL", _parse_positive_float, "seconds between watch ticks"),
    _Spec("jobs", "KAGSYNC_JOBS", _parse_jobs, "parallel syncs"),
    _Spec("source", "KAGSYNC_SOURCE", _parse_path, "folder of <slug>.zip/.csv used instead of Kaggle"),
    _Spec("log_file", "KAGSYNC_LOG_FILE", _parse_path, "log file (default: beside the database)"),
    _Spec("follow_dates", "KAGSYNC_FOLLOW_DATES", _parse_bool, "watch moves statuses when start/end pass"),
    _Spec("lock_timeout", "KAGSYNC_LOCK_TIMEOUT", _parse_positive_float, "seconds to wait for another sync of the same competition"),
)

SETTING_KEYS = tuple(spec.key for spec in _SPECS)


@dataclass(frozen=True)
class Settings:
    """The effective settings of one kagsync invocation."""

    db: Path
    auto_sync: bool = True
    sync_statuses: tuple[Status, ...] = DEFAULT_SYNC_STATUSES
    watch_interval: float = DEFAULT_WATCH_INTERVAL
    jobs: int = DEFAULT_JOBS
    source: Path | None = None
    log_file: Path | None = None
    follow_dates: bool = True
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    config_path: Path | None = None
    origins: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def effective_log_file(self) -> Path:
        """The log file: the configured one, or ``<database name>.log`` beside the database."""
        if self.log_file is not None:
            return self.log_file
        beside = self.db.with_name(self.db.stem + ".log")
        return beside if beside != self.db else self.db.with_name(self.db.name + ".log")

    def describe(self) -> list[tuple[str, str, str, str]]:
        """(key, value, origin, meaning) for every setting, for ``kagsync config``."""
        rows = []
        for spec in _SPECS:
            value = getattr(self, spec.key)
            if spec.key == "log_file" and value is None:
                value = self.effective_log_file
            if isinstance(value, tuple):
                shown = ", ".join(value)
            elif isinstance(value, bool):
                shown = "true" if value else "false"
            elif value is None:
                shown = "(none)"
            else:
                shown = str(value)
            rows.append((spec.key, shown, self.origins.get(spec.key, "default"), spec.help))
        return rows


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read settings file ({exc.strerror})") from None
    # Accept both a flat file and one with a [kagsync] table.
    if isinstance(data.get("kagsync"), dict):
        data = {**{k: v for k, v in data.items() if k != "kagsync"}, **data["kagsync"]}
    unknown = sorted(set(data) - set(SETTING_KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(SETTING_KEYS)})"
        )
    return data


def load_settings(
    options: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve every setting from options, then environment, then file, then default.

    ``options`` holds command-line values; a value of None means "not given".
    """
    options = {k: v for k, v in (options or {}).items() if v is not None}
    environ = os.environ if environ is None else environ

    if environ.get(CONFIG_ENV):
        config_path: Path | None = Path(os.path.expanduser(environ[CONFIG_ENV]))
        if not config_path.is_file():
            raise ConfigError(f"{config_path}: settings file named by {CONFIG_ENV} does not exist")
        file_values = _read_config_file(config_path)
    else:
        config_path = default_config_path(environ)
        file_values = _read_config_file(config_path) if config_path.is_file() else {}
        if not file_values and not config_path.is_file():
            config_path = None

    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for spec in _SPECS:
        if spec.key in options:
            values[spec.key] = spec.parse(options[spec.key], f"option --{spec.key.replace('_', '-')}")
            origins[spec.key] = "option"
        elif environ.get(spec.env, "").strip():
            values[spec.key] = spec.parse(environ[spec.env], spec.env)
            origins[spec.key] = f"env {spec.env}"
        elif spec.key in file_values:
            values[spec.key] = spec.parse(file_values[spec.key], f"{config_path}: {spec.key}")
            origins[spec.key] = f"file {config_path}"
    if "db" not in values:
        values["db"] = default_data_dir(environ) / "kagsync.db"
    if values.get("log_file") is not None and Path(values["log_file"]).absolute() == Path(values["db"]).absolute():
        raise ConfigError(f"{values['log_file']}: the log file cannot be the database file")
    return Settings(**values, config_path=config_path, origins=origins)
