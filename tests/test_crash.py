"""kill -9 at random moments of a sync: the file stays sound, the board is old or new, never half."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.kaggle_standin import build_leaderboard_zip, make_board

ROOT = Path(__file__).resolve().parent.parent
TEAMS = 30_000


def kagsync(db_path: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "kagsync", "--db", str(db_path), *args], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def board(db_path: Path) -> list[tuple[int, int, str]]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT team_id, rank, score FROM entries WHERE board = 'public' ORDER BY team_id").fetchall()
    finally:
        conn.close()


def test_killed_syncs_leave_a_sound_file_and_a_whole_board(tmp_path):
    old_rows = make_board(TEAMS, seed=1)
    new_rows = make_board(TEAMS, seed=2)
    old_zip, new_zip = tmp_path / "old.zip", tmp_path / "new.zip"
    old_zip.write_bytes(build_leaderboard_zip(old_rows, slug="comp"))
    new_zip.write_bytes(build_leaderboard_zip(new_rows, slug="comp"))
    db_path = tmp_path / "crash.db"
    assert kagsync(db_path, "--offline", "competition", "add", "comp", "--no-sync").wait(60) == 0
    assert kagsync(db_path, "sync", "comp", "--from", str(old_zip)).wait(120) == 0
    old = board(db_path)
    started = time.monotonic()
    assert kagsync(db_path, "sync", "comp", "--from", str(new_zip), "--force").wait(120) == 0
    duration = time.monotonic() - started
    new = board(db_path)
    assert old != new
    assert kagsync(db_path, "sync", "comp", "--from", str(old_zip), "--force").wait(120) == 0

    rng = random.Random(7)
    seen = set()
    for attempt in range(6):
        target = new_zip if attempt % 2 == 0 else old_zip
        before = board(db_path)
        process = kagsync(db_path, "sync", "comp", "--from", str(target), "--force")
        time.sleep(rng.uniform(0.05, duration))
        process.kill()
        process.wait(30)
        conn = sqlite3.connect(db_path)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()
        after = board(db_path)
        assert after in (before, new if target == new_zip else old)
        seen.add("old" if after == before else "new")
        # The next kagsync marks the killed run interrupted and syncs normally.
        assert kagsync(db_path, "sync", "comp", "--from", str(old_zip), "--force").wait(120) == 0
        assert board(db_path) == old
        conn = sqlite3.connect(db_path)
        assert conn.execute("SELECT count(*) FROM sync_runs WHERE status = 'running'").fetchone() == (0,)
        conn.close()
    assert seen  # each kill left one whole board
