"""Crashes: kill -9 at random moments of a sync leaves a sound file and a whole board, old or
new, never half; a process that dies between a sync's commit and its notification pass
loses no change (issue 20)."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from kagsync import db as dbmod
from kagsync import notify
from kagsync.repository import Repository
from kagsync.sources import FileSource
from kagsync.sync import Syncer
from tests.boards import csv_c
from tests.kaggle_standin import build_leaderboard_zip, make_board
from tests.webhook_receiver import WebhookReceiver

ROOT = Path(__file__).resolve().parent.parent
TEAMS = 30_000


def kagsync(db_path: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "kagsync", "--db", str(db_path), *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def board(db_path: Path) -> list[tuple[int, int, str]]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(
            "SELECT team_id, rank, score FROM entries WHERE board = 'public' ORDER BY team_id"
        ).fetchall()
    finally:
        conn.close()


def runs(db_path: Path) -> list[str]:
    conn = sqlite3.connect(db_path)
    try:
        return [row[0] for row in conn.execute("SELECT status FROM sync_runs ORDER BY id")]
    finally:
        conn.close()


def test_killed_syncs_leave_a_sound_file_and_a_whole_board(tmp_path):
    boards = {}
    for name, seed in (("old", 1), ("new", 2)):
        path = tmp_path / f"{name}.zip"
        path.write_bytes(build_leaderboard_zip(make_board(TEAMS, seed=seed), slug="comp"))
        boards[name] = path
    db_path = tmp_path / "crash.db"
    database = dbmod.connect(db_path)
    Repository(database).add_competition("comp", sync=False)
    database.conn.close()
    assert kagsync(db_path, "sync", "comp", "--from", str(boards["old"])).wait(120) == 0
    stored = {"old": board(db_path)}
    started = time.monotonic()
    assert kagsync(db_path, "sync", "comp", "--from", str(boards["new"]), "--force").wait(120) == 0
    duration = time.monotonic() - started
    stored["new"] = board(db_path)
    assert stored["old"] != stored["new"]

    rng = random.Random(7)
    seen = set()
    for _ in range(6):
        # Each kill hits a sync towards the other board; the next one recovers what it left
        # (a hot journal, a run left running, a temporary folder) as any kagsync does.
        before = board(db_path)
        target = "old" if before == stored["new"] else "new"
        process = kagsync(db_path, "sync", "comp", "--from", str(boards[target]), "--force")
        time.sleep(rng.uniform(0.05, duration))
        process.kill()
        process.wait(30)
        conn = sqlite3.connect(db_path)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()
        after = board(db_path)
        assert after in (before, stored[target])  # one whole board, never half of each
        assert runs(db_path).count("running") <= 1  # the killed one's, until the next kagsync
        seen.add("old" if after == before else "new")
    # The next kagsync marks the killed runs interrupted and syncs normally.
    assert kagsync(db_path, "sync", "comp", "--from", str(boards["old"]), "--force").wait(120) == 0
    assert board(db_path) == stored["old"]
    assert set(runs(db_path)) <= {"ok", "interrupted"}
    assert seen  # each kill left one whole board


# -- a crash between a sync's commit and its notification pass ------------------------------

DATE = "2026-05-01 10:00:00"
BOARD_A = [(1, 1, "Alpha", DATE, "0.90", 1, "alice"), (2, 2, "Bravo", DATE, "0.80", 1, "bob")]
# Alpha falls to 0.1: Bravo leads without a change of its own (a passive change row).
BOARD_B = [(1, 2, "Bravo", DATE, "0.80", 1, "bob"), (2, 1, "Alpha", DATE, "0.10", 2, "alice")]
# A newcomer: the board moves again, so this sync writes a rank frame of its own.
BOARD_C = [*BOARD_B, (3, 3, "Charlie", DATE, "0.05", 1, "carol")]


def test_a_lead_taken_passively_is_announced_after_a_crash_before_the_notification_pass(
    db_path, database, repository, tmp_path
):
    comp = repository.add_competition("comp", sync=False).competition
    csv = tmp_path / "comp.csv"

    def sync(rows):
        # Syncer alone commits the board and records the run, and runs no notification
        # pass (the API runs it after the commit): exactly what a process leaves behind
        # when it dies between the two.
        csv.write_text(csv_c(rows), encoding="utf-8")
        outcome = Syncer(db_path, FileSource(csv)).sync(comp, "watch")
        assert outcome.ok, outcome.error

    with WebhookReceiver() as receiver:
        sync(BOARD_A)
        notify.add_target(database, receiver.url("/hook"), name="hook", fmt="json", kinds="leader")
        sync(BOARD_B)  # ... and the process dies here, before its pass
        sync(BOARD_C)  # the next process syncs again, then runs its pass
        report = notify.run_pass(database, budget=10)
        assert not report.failed, report.failed
        events = [event for request in receiver.received() for event in request.json["events"]]
    assert [(event["kind"], event["team_name"]) for event in events] == [("leader", "Bravo")]
    assert events[0]["text"].startswith("Bravo took the lead")
    # Every run was examined: the passive rows read by every target give way at the next sync.
    sync(BOARD_A)
    runs = [row[0] for row in database.conn.execute("SELECT id FROM sync_runs ORDER BY id")]
    passive = {row[0] for row in database.conn.execute("SELECT DISTINCT run_id FROM entry_changes WHERE passive")}
    assert passive == {runs[-1]}
