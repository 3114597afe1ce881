"""Ctrl-C and SIGTERM during a multi-competition sync, with real processes and the stand-in.

The first signal stops starting queued syncs; the second aborts running ones; every
attempt is a run; temporary folders are removed; the stored boards stay whole.
"""

# The imported pytest fixture `kaggle_standin` is "redefined" by each test parameter.
# ruff: noqa: F811

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from kagsync import db as dbmod
from kagsync.repository import Repository
from tests.kaggle_standin import build_leaderboard_zip, kaggle_standin, make_board  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
SLUGS = ("alpha", "beta", "gamma")


def start(db_path: Path, tmp: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "TMPDIR": str(tmp)}
    return subprocess.Popen(
        [sys.executable, "-m", "kagsync", "--db", str(db_path), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def runs(db_path: Path) -> list[tuple[str, str, str | None]]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(
            "SELECT c.slug, r.status, r.error_kind FROM sync_runs r JOIN competitions c ON c.id = r.competition_id ORDER BY r.id"
        ).fetchall()
    finally:
        conn.close()


def prepare(kaggle_standin, db_path: Path, tmp: Path) -> None:
    # Added in this process (a CLI process per competition cost 2 s a test): what is
    # tested is the sync's process, below.
    database = dbmod.connect(db_path)
    try:
        for slug in SLUGS:
            kaggle_standin.serve_zip(slug, build_leaderboard_zip(make_board(50, seed=len(slug)), slug=slug))
            Repository(database).add_competition(slug, sync=False)
    finally:
        database.conn.close()


def wait_until(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_first_ctrl_c_starts_no_queued_sync_and_lets_the_running_one_finish(kaggle_standin, db_path, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    prepare(kaggle_standin, db_path, tmp)
    kaggle_standin.set_delay("alpha", 1.5)
    process = start(db_path, tmp, "sync", *SLUGS, "--jobs", "1")
    assert wait_until(lambda: kaggle_standin.in_flight("alpha") == 1)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "Exception ignored" not in err
    assert runs(db_path) == [("alpha", "ok", None)]  # the queued ones were never attempted
    assert kaggle_standin.download_count("beta") == kaggle_standin.download_count("gamma") == 0
    assert list(tmp.iterdir()) == []


def test_second_signal_aborts_the_running_syncs_and_records_them(kaggle_standin, db_path, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    prepare(kaggle_standin, db_path, tmp)
    for slug in SLUGS:
        kaggle_standin.set_delay(slug, 3.0)
    process = start(db_path, tmp, "sync", *SLUGS, "--jobs", "2")
    assert wait_until(lambda: kaggle_standin.in_flight("alpha") + kaggle_standin.in_flight("beta") == 2)
    process.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    recorded = runs(db_path)
    assert sorted(recorded) == [("alpha", "interrupted", "interrupted"), ("beta", "interrupted", "interrupted")]
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*) FROM entries").fetchone() == (0,)  # nothing half-applied
    conn.close()
    assert list(tmp.iterdir()) == []


def test_a_killed_sync_is_marked_interrupted_by_the_next_kagsync(kaggle_standin, db_path, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    prepare(kaggle_standin, db_path, tmp)
    kaggle_standin.set_delay("alpha", 5.0)
    process = start(db_path, tmp, "sync", "alpha")
    assert wait_until(lambda: kaggle_standin.in_flight("alpha") == 1)
    process.kill()
    process.wait(timeout=30)
    assert runs(db_path) == [("alpha", "running", None)]
    assert list(tmp.iterdir())  # kill -9 leaves its temporary folder
    kaggle_standin.set_delay("alpha", 0)
    again = start(db_path, tmp, "sync", "beta")
    assert again.wait(timeout=60) == 0, again.communicate()
    assert runs(db_path)[:1] == [("alpha", "interrupted", "interrupted")]
    assert list(tmp.iterdir()) == []
