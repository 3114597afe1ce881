"""Effective settings: command-line option > environment > TOML file > default.

Every setting remembers where its value came from, so ``kagsync config`` can show it.
Each setting has a TOML key, an environment variable ``KAGSYNC_<KEY>``, a help text,
a default (one constant) and a strict parser: a value that cannot be used is refused
with a one-line :class:`~kagsync.errors.ConfigError` (exit 2) naming where it came from.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kagsync.errors import ConfigError, ValidationError
from kagsync.models import (
    DEFAULT_JOBS,
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_SYNC_STATUSES,
    DEFAULT_WATCH_INTERVAL,
    MAX_JOBS,
    STATUSES,
    Status,
)
from kagsync.values import parse_bool_text, parse_count, parse_number, quote

# -- defaults and limits of the newer settings ---------------------------------------
# TODO move to models: they belong beside DEFAULT_JOBS & co. in kagsync/models.py, the
# one home of each default. Until then this block is their one home.

_KIB = 1024
_MIB = 1024 * _KIB
_GIB = 1024 * _MIB
_DAY = 24 * 3600.0

# A new board with fewer than (1 - this) x the stored teams is held back as suspect.
DEFAULT_MAX_BOARD_SHRINK = 0.5
DEFAULT_MAX_DOWNLOAD_BYTES = 1 * _GIB
DEFAULT_DOWNLOAD_DEADLINE = 900.0
DEFAULT_MAX_UNCOMPRESSED_BYTES = 2 * _GIB
# Uncompressed size / compressed size of a leaderboard zip; CSV text rarely passes 20.
DEFAULT_MAX_COMPRESSION_RATIO = 100.0
DEFAULT_DETAILS_REFRESH = _DAY
DEFAULT_PRIVATE_CHECK_INTERVAL = 3600.0
DEFAULT_PRIVATE_WAIT = 30 * _DAY
DEFAULT_LOG_MAX_BYTES = 10 * _MIB
DEFAULT_LOG_BACKUPS = 3

# A week at most for the intervals of the watch loop and the lock wait: the watch loop
# schedules in whole seconds and backs off up to 8x. (Imported by kagsync.cli.running.)
MAX_SECONDS = 7 * _DAY
# Each other duration has its own ceiling: a private board may take weeks to appear.
MAX_DOWNLOAD_DEADLINE = _DAY
MAX_DETAILS_REFRESH = 365 * _DAY
MAX_PRIVATE_CHECK_INTERVAL = MAX_SECONDS
MAX_PRIVATE_WAIT = 365 * _DAY
# Byte caps: far above any Kaggle leaderboard, low enough to mean something.
MAX_SIZE_BYTES = 1024 * _GIB
MAX_LOG_MAX_BYTES = 1 * _GIB
# Backups from 1 (not 0: Python's RotatingFileHandler never rotates with 0 backups, so
# the log would grow without bound).
MAX_LOG_BACKUPS = 100
MAX_COMPRESSION_RATIO = 100_000.0

# -----------------------------------------------------------------------------------

CONFIG_ENV = "KAGSYNC_CONFIG"

# Each parser takes what a config file, the environment or the command line gave
# (untrusted, hence ``object``) and returns the value of its Settings field.
Parser = Callable[[object, str], object]


def default_data_dir(environ: Mapping[str, str]) -> Path:
    """The user's data directory for kagsync (XDG on Linux)."""
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "kagsync"


def default_config_path(environ: Mapping[str, str]) -> Path:
    """Where the settings file is looked for when ``KAGSYNC_CONFIG`` is not set."""
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "kagsync" / "config.toml"


def _plain(number: float) -> str:
    """A limit as people write it: 604800, not 604800.0 or 6.048e+05."""
    return str(int(number)) if float(number).is_integer() else repr(number)


def _parse_bool(value: object, name: str) -> bool:
    # TOML gives a real boolean; env vars, options and TOML strings go through the one
    # vocabulary of kagsync.values (TOML integers 0/1 too, as before).
    if isinstance(value, bool):
        return value
    try:
        return parse_bool_text(value if isinstance(value, str) else repr(value), name=name)
    except ValidationError as exc:
        raise ConfigError(str(exc)) from None


def _number(value: object, name: str, expected: str) -> float:
    """A finite number, or a ConfigError saying what was ``expected``."""
    try:
        return parse_number(value, name=name)
    except ValidationError:
        raise ConfigError(f"{name}: expected {expected}, got {quote(value)}") from None


def _seconds(maximum: float) -> Parser:
    """A parser of a positive number of seconds up to ``maximum``."""

    def parse(value: object, name: str) -> float:
        expected = f"a positive number of seconds up to {_plain(maximum)}"
        number = _number(value, name, expected)
        if not 0 < number <= maximum:
            raise ConfigError(f"{name}: expected {expected}, got {quote(value)}")
        return number

    return parse


def _fraction(value: object, name: str) -> float:
    expected = "a number above 0 and at most 1 (a fraction)"
    number = _number(value, name, expected)
    if not 0 < number <= 1:
        raise ConfigError(f"{name}: expected {expected}, got {quote(value)}")
    return number


def _ratio(value: object, name: str) -> float:
    expected = f"a number from 1 to {_plain(MAX_COMPRESSION_RATIO)}"
    number = _number(value, name, expected)
    if not 1 <= number <= MAX_COMPRESSION_RATIO:
        raise ConfigError(f"{name}: expected {expected}, got {quote(value)}")
    return number


def _whole(maximum: int) -> Parser:
    """A parser of a whole number from 1 to ``maximum`` (no floats, even 2.0; no booleans)."""

    def parse(value: object, name: str) -> int:
        try:
            return parse_count(value, name=name, maximum=maximum)
        except ValidationError as exc:
            raise ConfigError(str(exc)) from None

    return parse


def _parse_statuses(value: object, name: str) -> tuple[Status, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise ConfigError(f"{name}: expected a list of statuses, got {quote(value)}")
    statuses: list[Status] = []
    for text in (str(item).strip() for item in items):
        if not text:
            continue
        # The known spelling itself (not the text) is kept: that is what makes it a Status.
        status = next((known for known in STATUSES if known == text), None)
        if status is None:
            raise ConfigError(f"{name}: unknown status {text!r} (choose from {', '.join(STATUSES)})")
        statuses.append(status)
    return tuple(statuses)


def _parse_path(value: object, name: str) -> Path:
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        raise ConfigError(f"{name}: expected a path, got {quote(value)}")
    return Path(os.path.expanduser(str(value)))


def _parse_file_path(value: object, name: str) -> Path:
    """A path that must name a file: not empty, not ``.``, ``..`` or a root.

    The command line hands an empty ``--db ''`` over as ``Path('.')`` (pathlib's
    spelling of the empty path), so the emptiness is only visible as a missing name.
    """
    path = _parse_path(value, name)
    if path.name in ("", ".", ".."):
        raise ConfigError(f"{name}: is empty or names a folder ({quote(str(value))}); give a file name")
    return path


@dataclass(frozen=True)
class _Spec:
    key: str
    parse: Parser
    help: str

    @property
    def env(self) -> str:
        """The environment variable of the setting: always KAGSYNC_<KEY>."""
        return "KAGSYNC_" + self.key.upper()


_SPECS: tuple[_Spec, ...] = (
    _Spec("db", _parse_file_path, "SQLite database file"),
    _Spec("auto_sync", _parse_bool, "sync on add and on status change"),
    _Spec("sync_statuses", _parse_statuses, "statuses that are kept synced"),
    _Spec("watch_interval", _seconds(MAX_SECONDS), "seconds between watch ticks"),
    _Spec("jobs", _whole(MAX_JOBS), "parallel syncs"),
    _Spec("source", _parse_path, "folder of <slug>.zip/.csv used instead of Kaggle"),
    _Spec("log_file", _parse_file_path, "log file (default: beside the database)"),
    _Spec("follow_dates", _parse_bool, "watch moves statuses when start/end pass"),
    _Spec("lock_timeout", _seconds(MAX_SECONDS), "seconds to wait for another sync of the same competition"),
    _Spec(
        "max_board_shrink",
        _fraction,
        "hold a new board back as suspect when it loses more than this fraction of the stored teams",
    ),
    _Spec("max_download_bytes", _whole(MAX_SIZE_BYTES), "largest leaderboard download, in bytes"),
    _Spec("download_deadline", _seconds(MAX_DOWNLOAD_DEADLINE), "seconds one leaderboard download may take in all"),
    _Spec("max_uncompressed_bytes", _whole(MAX_SIZE_BYTES), "largest leaderboard once unzipped, in bytes"),
    _Spec("max_compression_ratio", _ratio, "refuse a zip that unpacks to more than this many times its size"),
    _Spec("details_refresh", _seconds(MAX_DETAILS_REFRESH), "seconds before a competition's details are fetched again"),
    _Spec(
        "private_check_interval",
        _seconds(MAX_PRIVATE_CHECK_INTERVAL),
        "seconds between checks for the private leaderboard of an ended competition",
    ),
    _Spec(
        "private_wait", _seconds(MAX_PRIVATE_WAIT), "seconds after the end to keep checking for the private leaderboard"
    ),
    _Spec("log_max_bytes", _whole(MAX_LOG_MAX_BYTES), "log file size, in bytes, at which it is rotated"),
    _Spec("log_backups", _whole(MAX_LOG_BACKUPS), "rotated log files kept"),
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
    max_board_shrink: float = DEFAULT_MAX_BOARD_SHRINK
    max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES
    download_deadline: float = DEFAULT_DOWNLOAD_DEADLINE
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES
    max_compression_ratio: float = DEFAULT_MAX_COMPRESSION_RATIO
    details_refresh: float = DEFAULT_DETAILS_REFRESH
    private_check_interval: float = DEFAULT_PRIVATE_CHECK_INTERVAL
    private_wait: float = DEFAULT_PRIVATE_WAIT
    log_max_bytes: int = DEFAULT_LOG_MAX_BYTES
    log_backups: int = DEFAULT_LOG_BACKUPS
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


def _read_config_file(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except UnicodeDecodeError as exc:
        # tomllib decodes the whole file as UTF-8 (TOML requires it) and lets this through.
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); save it as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read settings file ({exc.strerror})") from None
    # Accept both a flat file and one with a [kagsync] table.
    if isinstance(data.get("kagsync"), dict):
        data = {**{k: v for k, v in data.items() if k != "kagsync"}, **data["kagsync"]}
    unknown = sorted(set(data) - set(SETTING_KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(SETTING_KEYS)})")
    return data


def _config_file(environ: Mapping[str, str]) -> tuple[Path | None, dict[str, object]]:
    """The settings file in use (None when there is none) and its values."""
    if environ.get(CONFIG_ENV):
        named = Path(os.path.expanduser(environ[CONFIG_ENV]))
        if not named.is_file():
            raise ConfigError(f"{named}: settings file named by {CONFIG_ENV} does not exist")
        return named, _read_config_file(named)
    default = default_config_path(environ)
    if not default.is_file():
        return None, {}
    return default, _read_config_file(default)


def load_settings(
    options: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve every setting from options, then environment, then file, then default.

    ``options`` holds command-line values; a value of None means "not given".
    """
    options = {k: v for k, v in (options or {}).items() if v is not None}
    environ = os.environ if environ is None else environ
    config_path, file_values = _config_file(environ)

    # The one untyped spot: each value comes from its key's parser, whose return type is
    # that Settings field's type, but the _SPECS table (not the type system) holds that
    # link, so here the values go untyped into the dataclass constructor.
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
