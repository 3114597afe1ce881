"""Shared fixtures: an isolated home, database and CLI runner for every test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kagsync import db as dbmod
from kagsync.repository import Repository
from tests.cli_runner import invoke


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never read or write the real user's settings, data, or Kaggle credentials."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(home / ".kaggle"))
    monkeypatch.setenv("COLUMNS", "200")
    for name in (
        "KAGSYNC_DB",
        "KAGSYNC_CONFIG",
        "KAGSYNC_SOURCE",
        "KAGSYNC_AUTO_SYNC",
        "KAGSYNC_JOBS",
        "KAGSYNC_SYNC_STATUSES",
        "KAGSYNC_WATCH_INTERVAL",
        "KAGSYNC_LOG_FILE",
        "KAGSYNC_FOLLOW_DATES",
        "KAGSYNC_LOCK_TIMEOUT",
        "KAGSYNC_KAGGLE_ENDPOINT",
        "KAGGLE_USERNAME",
        "KAGGLE_KEY",
        "KAGGLE_API_TOKEN",
        "KAGGLE_API_ENVIRONMENT",
    ):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where this test's database lives."""
    return tmp_path / "data" / "kagsync.db"


@pytest.fixture
def database(db_path: Path):
    """An open, migrated database."""
    database = dbmod.connect(db_path)
    yield database
    database.conn.close()


@pytest.fixture
def repository(database) -> Repository:
    """A repository without a sync hook."""
    return Repository(database)


class RecordingHook:
    """A sync hook that records what it was asked to sync, downloads nothing, and marks
    each competition synced (as a successful sync would), so the sync rule sees it so."""

    def __init__(self, database=None) -> None:
        self.calls: list[list[tuple[str, str]]] = []
        self.database = database

    def __call__(self, due):
        self.calls.append([(competition.slug, trigger) for competition, trigger in due])
        if self.database is not None:
            for competition, _ in due:
                self.database.conn.execute(
                    "UPDATE competitions SET last_synced_at = '2026-01-01T00:00:00Z' WHERE id = ?", (competition.id,)
                )
        return []


@pytest.fixture
def hook(database) -> RecordingHook:
    """A recording sync hook."""
    return RecordingHook(database)


@pytest.fixture
def repo(database, hook) -> Repository:
    """A repository whose writes report their syncs to ``hook``."""
    return Repository(database, sync_hook=hook, sync_statuses=("ongoing",))


class Cli:
    """Runs kagsync commands against this test's database, like a user would."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> Any:
        return invoke(["--db", str(self.db_path), *args], input=input, env=env)

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def cli(db_path: Path) -> Cli:
    """Invoke the CLI on this test's database."""
    return Cli(db_path)
