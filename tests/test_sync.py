"""The sync service against local files: storing, diffs, runs, failures, locking."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from kagsync.errors import SourceError, SyncBusyError
from kagsync.repository import Repository
from kagsync.sources import FileSource, FolderSource
from kagsync.sync import CompetitionLock, Syncer, lock_dir, named_lock
from kagsync.sync import apply as applymod
from tests.boards import BOARD_1, BOARD_2, csv_ab, csv_c, write_zip


def board(database, slug="comp"):
    return database.conn.execute(
        """SELECT team_id, rank, team_name, score, score_value, last_submission,
                  submission_count, members, is_benchmark
           FROM entries JOIN competitions c ON c.id = entries.competition_id
           WHERE c.slug = ? ORDER BY team_id""",
        (slug,),
    ).fetchall()


@pytest.fixture
def comp(repository):
    return repository.add_competition("comp", sync=False).competition


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Point tempfile at an empty folder, to see what a sync leaves behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def sync_file(db_path, comp, path, trigger="manual", **kwargs):
    return Syncer(db_path, FileSource(path), **kwargs).sync(comp, trigger)


def test_first_sync_stores_every_team_exactly(db_path, database, comp, tmp_path, private_tmp):
    path = write_zip(tmp_path / "b1.zip", csv_c(BOARD_1))
    outcome = sync_file(db_path, comp, path, trigger="add")
    assert outcome.ok, outcome.error
    assert (outcome.entries, outcome.created, outcome.updated, outcome.removed) == (4, 4, 0, 0)
    assert board(database) == [
        (101, 1, "Alpha", "0.91000", 0.91, "2026-05-01T10:00:00Z", 3, '["alice","bob"]', 0),
        (102, 2, 'Beta "B" Team', "0.90000", 0.9, "2026-05-01T11:00:00Z", 2, '["carol"]', 0),
        (103, 3, "Gamma, Inc", "0.80000", 0.8, "2026-05-02T09:30:00Z", 5, '["dave","erin","frank"]', 0),
        (999, 0, "Sample Benchmark", "0.85000", 0.85, "2026-04-01T00:00:00Z", 1, "[]", 1),
    ]
    run = database.conn.execute(
        "SELECT trigger, status, entries, created, updated, removed, top_score, source FROM sync_runs"
    ).fetchone()
    assert run[:7] == ("add", "ok", 4, 4, 0, 0, "0.91000")
    assert run[7].startswith("file:")
    c = Repository(database).get_competition("comp")
    assert (c.entry_count, c.last_sync_status) == (4, "ok")
    assert list(private_tmp.iterdir()) == []
    usernames = [
        r[0] for r in database.conn.execute("SELECT username FROM entry_members WHERE team_id = 103 ORDER BY username")
    ]
    assert usernames == ["dave", "erin", "frank"]


def test_identical_resync_writes_no_entry_rows(db_path, database, comp, tmp_path):
    path = write_zip(tmp_path / "b1.zip", csv_c(BOARD_1))
    sync_file(db_path, comp, path)
    database.conn.execute("CREATE TABLE writes (n INTEGER)")
    for event in ("INSERT", "UPDATE", "DELETE"):
        database.conn.execute(
            f"CREATE TRIGGER count_{event.lower()} AFTER {event} ON entries BEGIN INSERT INTO writes VALUES (1); END"
        )
    outcome = sync_file(db_path, comp, path)
    assert outcome.ok
    assert (outcome.created, outcome.updated, outcome.removed) == (0, 0, 0)
    assert database.conn.execute("SELECT count(*) FROM writes").fetchone()[0] == 0
    assert database.conn.execute("SELECT count(*) FROM entry_changes WHERE run_id = 2").fetchone()[0] == 0


def test_changed_board_is_diffed_and_change_records_kept(db_path, database, comp, tmp_path):
    sync_file(db_path, comp, write_zip(tmp_path / "b1.zip", csv_c(BOARD_1)))
    outcome = sync_file(db_path, comp, write_zip(tmp_path / "b2.zip", csv_c(BOARD_2)))
    assert (outcome.entries, outcome.created, outcome.updated, outcome.removed) == (4, 1, 2, 1)
    assert [row[0] for row in board(database)] == [101, 102, 104, 999]
    assert board(database)[0][2] == "Alpha Renamed"
    changes = database.conn.execute(
        """SELECT team_id, kind, rank, previous_rank, score, previous_score
           FROM entry_changes WHERE run_id = 2 ORDER BY team_id"""
    ).fetchall()
    assert changes == [
        (101, "changed", 2, 1, "0.91000", "0.91000"),
        (102, "changed", 1, 2, "0.92500", "0.90000"),
        (103, "removed", None, 3, None, "0.80000"),
        (104, "new", 3, None, "0.70000", None),
    ]


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"this is not a zip", "not a zip"),
        (None, "truncated"),
        ("nocsv", "no CSV"),
        ("badcsv", "line 3"),
    ],
)
def test_failed_sync_leaves_previous_board_byte_for_byte(
    db_path, database, comp, tmp_path, private_tmp, content, fragment
):
    good = write_zip(tmp_path / "b1.zip", csv_c(BOARD_1))
    sync_file(db_path, comp, good)
    before = board(database)
    bad = tmp_path / "bad.zip"
    if content is None:
        bad.write_bytes(write_zip(tmp_path / "big.zip", csv_c(BOARD_1 * 1)).read_bytes()[:-40])
    elif content == "nocsv":
        import zipfile

        with zipfile.ZipFile(bad, "w") as archive:
            archive.writestr("readme.txt", "hello")
    elif content == "badcsv":
        rows = list(BOARD_1)
        rows[1] = (2, "abc", "Beta", "2026-05-01 11:00:00", "0.9", 2, "carol")
        write_zip(bad, csv_c(rows))
    else:
        bad.write_bytes(content)
    outcome = sync_file(db_path, comp, bad)
    assert outcome.status == "failed"
    assert fragment in outcome.error
    assert board(database) == before
    last = database.conn.execute("SELECT status, error FROM sync_runs ORDER BY id DESC LIMIT 1").fetchone()
    assert last[0] == "failed" and fragment in last[1]
    c = Repository(database).get_competition("comp")
    assert (c.entry_count, c.last_sync_status) == (4, "failed")
    assert list(private_tmp.iterdir()) == []


def test_shapes_a_and_b_get_ranks_from_score_direction(db_path, database, repository, tmp_path):
    lower = repository.add_competition("rmse", lower_is_better=True, sync=False).competition
    path = tmp_path / "b.csv"
    path.write_text(
        csv_ab(
            [
                (1, "A", "2026-01-01 00:00:00", "0.30"),
                (2, "B", "2026-01-01 00:00:00", "0.10"),
                (3, "C", "2026-01-02 00:00:00", "0.20"),
            ]
        ),
        encoding="utf-8",
    )
    assert sync_file(db_path, lower, path).ok
    assert [row[:2] for row in board(database, "rmse")] == [(1, 3), (2, 1), (3, 2)]

    higher = repository.add_competition("f1", sync=False).competition
    history = tmp_path / "a.csv"
    history.write_text(
        csv_ab(
            [
                (1, "A", "2026-01-01 00:00:00", "0.50"),
                (2, "B", "2026-01-01 01:00:00", "0.60"),
                (1, "A", "2026-01-02 00:00:00", "0.70"),
            ]
        ),
        encoding="utf-8",
    )
    assert sync_file(db_path, higher, history).ok
    rows = board(database, "f1")
    assert [(r[0], r[1], r[3], r[6]) for r in rows] == [(1, 1, "0.70", 2), (2, 2, "0.60", 1)]


def test_folder_source(db_path, database, comp, tmp_path):
    folder = tmp_path / "boards"
    folder.mkdir()
    (folder / "comp.csv").write_text(csv_c(BOARD_1), encoding="utf-8")
    outcome = Syncer(db_path, FolderSource(folder)).sync(comp, "manual")
    assert outcome.ok and outcome.entries == 4
    missing = Syncer(db_path, FolderSource(tmp_path / "empty")).sync(comp, "manual")
    assert missing.status == "failed" and "does not exist" in missing.error


class InterruptingSource:
    """Writes a partial file, then is interrupted like Ctrl-C during a download."""

    def describe(self, slug):
        return "test"

    def fetch(self, slug, workdir, on_progress=None):
        (workdir / f"{slug}.zip.part").write_bytes(b"partial")
        raise KeyboardInterrupt


def test_ctrl_c_removes_the_temporary_folder_and_keeps_the_board(db_path, database, comp, tmp_path, private_tmp):
    sync_file(db_path, comp, write_zip(tmp_path / "b1.zip", csv_c(BOARD_1)))
    before = board(database)
    with pytest.raises(KeyboardInterrupt):
        Syncer(db_path, InterruptingSource()).sync(comp, "manual")
    assert list(private_tmp.iterdir()) == []
    assert board(database) == before
    # The claim was released: the next sync does not wait.
    assert sync_file(db_path, comp, write_zip(tmp_path / "b2.zip", csv_c(BOARD_2)), lock_timeout=0.5).ok


def test_second_sync_of_same_competition_waits_then_is_skipped(db_path, database, comp, tmp_path):
    holder = CompetitionLock(db_path, "comp")
    assert holder.acquire(0)
    try:
        outcome = sync_file(db_path, comp, write_zip(tmp_path / "b1.zip", csv_c(BOARD_1)), lock_timeout=0.3)
    finally:
        holder.release()
    assert outcome.status == "skipped"
    assert "still running" in outcome.error
    assert database.conn.execute("SELECT status FROM sync_runs").fetchone()[0] == "skipped"
    assert board(database) == []


def test_a_crashed_holders_claim_expires(db_path, comp, tmp_path):
    code = (
        "import sys, time; from pathlib import Path; from kagsync.sync import CompetitionLock;"
        f"lock = CompetitionLock(Path({str(db_path)!r}), 'comp'); assert lock.acquire(5);"
        "print('held', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert not CompetitionLock(db_path, "comp").acquire(0.2)
        holder.kill()
        holder.wait()
        lock = CompetitionLock(db_path, "comp")
        assert lock.acquire(2)
        lock.release()
    finally:
        if holder.poll() is None:
            holder.kill()


def test_a_named_lock_is_a_claim_of_its_own_that_no_competition_can_share(db_path, tmp_path):
    notify = named_lock(db_path, "notify")
    assert notify.path == lock_dir(db_path) / "_notify.lock"
    assert notify.acquire(0)
    try:
        assert not named_lock(db_path, "notify").acquire(0.2)  # another claimant waits, then gives up
        competition = CompetitionLock(db_path, "notify")  # a competition whose slug is the same name
        assert competition.acquire(0) and competition.path != notify.path
        competition.release()
    finally:
        notify.release()
    again = named_lock(db_path, "notify")
    assert again.acquire(0)
    again.release()
    for bad in ("", "../x", "Notify", "a/b", "_x"):
        with pytest.raises(ValueError, match="invalid lock name"):
            named_lock(db_path, bad)
    # Like a competition's, it never follows a link planted in the folder.
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (lock_dir(db_path) / "_watch.lock").symlink_to(victim)
    with pytest.raises(SyncBusyError, match="symbolic link"):
        named_lock(db_path, "watch").acquire(0)
    assert victim.read_text() == "precious\n"


def test_missing_file_source(db_path, comp, tmp_path):
    outcome = sync_file(db_path, comp, tmp_path / "nope.zip")
    assert outcome.status == "failed" and "no such leaderboard file" in outcome.error
    with pytest.raises(SourceError):
        FileSource(tmp_path / "x.txt").fetch("comp", tmp_path)


# -- hardening ----------------------------------------------------------------------


def test_a_header_only_board_is_held_and_the_stored_one_kept(db_path, database, comp, tmp_path, private_tmp):
    sync_file(db_path, comp, write_zip(tmp_path / "b1.zip", csv_c(BOARD_1)))
    stored = board(database)
    empty = write_zip(tmp_path / "empty.zip", csv_c([]))
    outcome = sync_file(db_path, comp, empty)
    assert (outcome.status, outcome.error_kind) == ("held", "suspect")
    assert "empty" in outcome.error and outcome.hint == "force"  # the CLI renders it as --force
    assert board(database) == stored
    row = database.query("SELECT status, error_kind FROM sync_runs ORDER BY id DESC LIMIT 1")[0]
    assert row == {"status": "held", "error_kind": "suspect"}
    forced = Syncer(db_path, FileSource(empty)).sync(comp, "manual", force=True)
    assert forced.ok and board(database) == []


def test_all_scores_equal_is_held(db_path, database, comp, tmp_path, private_tmp):
    sync_file(db_path, comp, write_zip(tmp_path / "b1.zip", csv_c(BOARD_1)))
    flat = [row[:4] + ("0.00000",) + row[5:] for row in BOARD_1]
    outcome = sync_file(db_path, comp, write_zip(tmp_path / "flat.zip", csv_c(flat)))
    assert outcome.status == "held" and "same score" in outcome.error


def test_a_board_never_lands_under_a_competition_added_after_its_own_was_removed(
    db_path, database, repository, tmp_path, private_tmp
):
    xcomp = repository.add_competition("xcomp", sync=False).competition
    path = write_zip(tmp_path / "b1.zip", csv_c(BOARD_1))

    class RemovingSource(FileSource):
        def fetch(self, slug, workdir, on_progress=None):
            repository.remove_competition("xcomp")
            repository.add_competition("ycomp", sync=False)
            return super().fetch(slug, workdir, on_progress)

    outcome = Syncer(db_path, RemovingSource(path)).sync(xcomp, "manual")
    assert (outcome.status, outcome.error_kind) == ("failed", "not_found")
    assert "removed during the sync" in outcome.error
    assert database.query("SELECT count(*) AS n FROM entries") == [{"n": 0}]
    assert repository.get_competition("ycomp").id != xcomp.id


def test_a_symlink_in_the_lock_folder_is_never_followed(db_path, database, comp, tmp_path, private_tmp):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    locks = db_path.with_name(db_path.name + ".locks")
    locks.mkdir()
    (locks / "comp.lock").symlink_to(victim)
    outcome = sync_file(db_path, comp, write_zip(tmp_path / "b1.zip", csv_c(BOARD_1)))
    assert outcome.status == "failed" and "symbolic link" in outcome.error
    assert victim.read_text() == "precious\n"


def test_runs_left_running_by_a_dead_process_are_marked_interrupted(db_path, database, comp, tmp_path, private_tmp):
    from kagsync.sync import recover_interrupted

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    database.conn.execute(
        "INSERT INTO sync_runs (competition_id, trigger, source, started_at, status, pid)"
        " VALUES (?, 'watch', 'kaggle', '2026-01-01T00:00:00Z', 'running', ?)",
        (comp.id, pid),
    )
    leftover = private_tmp / f"kagsync-{pid}-comp-abc"
    leftover.mkdir()
    (leftover / "comp.zip").write_bytes(b"x" * 100)
    mine = private_tmp / f"kagsync-{os.getpid()}-comp-def"
    mine.mkdir()
    assert recover_interrupted(database) == 1
    row = database.query("SELECT status, error_kind, finished_at FROM sync_runs")[0]
    assert row["status"] == "interrupted" and row["error_kind"] == "interrupted" and row["finished_at"]
    assert not leftover.exists() and mine.exists()


def test_every_attempt_is_a_run_written_running_first(db_path, database, comp, tmp_path, private_tmp):
    seen = []

    class Peeking(FileSource):
        def fetch(self, slug, workdir, on_progress=None):
            seen.extend(database.query("SELECT status, finished_at FROM sync_runs"))
            return super().fetch(slug, workdir, on_progress)

    outcome = Syncer(db_path, Peeking(write_zip(tmp_path / "b1.zip", csv_c(BOARD_1)))).sync(comp, "manual")
    assert outcome.ok
    assert seen == [{"status": "running", "finished_at": None}]
    assert database.query("SELECT status FROM sync_runs") == [{"status": "ok"}]


def test_an_abort_request_interrupts_a_running_sync_and_keeps_the_board(db_path, database, comp, tmp_path, private_tmp):
    from kagsync.sync import StopFlag

    sync_file(db_path, comp, write_zip(tmp_path / "b1.zip", csv_c(BOARD_1)))
    stored = board(database)
    stop = StopFlag()

    class Aborting(FileSource):
        def fetch(self, slug, workdir, on_progress=None):
            stop.request()
            stop.request()  # the second request aborts
            return super().fetch(slug, workdir, on_progress)

    outcome = Syncer(db_path, Aborting(write_zip(tmp_path / "b2.zip", csv_c(BOARD_2))), stop=stop).sync(comp, "manual")
    assert (outcome.status, outcome.error_kind) == ("interrupted", "interrupted")
    assert board(database) == stored
    assert list(private_tmp.iterdir()) == []


def test_parsing_reports_rows_read_to_the_observer(db_path, database, comp, tmp_path, private_tmp, monkeypatch):
    from tests.kaggle_standin import build_leaderboard_zip, make_board

    class Observer:
        def __init__(self):
            self.rows = []
            self.fractions = []

        def stage(self, slug, stage, detail=""):
            pass

        def download_progress(self, slug, received, total):
            pass

        def parse_progress(self, slug, rows, fraction):
            self.rows.append(rows)
            self.fractions.append(fraction)

    # Every 16,384 rows, one row in 512 measured; the same at an eighth of the size, in an
    # eighth of the time: every 2,048 rows, one in 64.
    assert (applymod._CHECK_EVERY_ROWS, applymod._SAMPLE_EVERY_ROWS) == (16384, 512)
    monkeypatch.setattr(applymod, "_CHECK_EVERY_ROWS", 2048)
    monkeypatch.setattr(applymod, "_SAMPLE_EVERY_ROWS", 64)
    path = tmp_path / "big.zip"
    path.write_bytes(build_leaderboard_zip(make_board(5_000, seed=3), slug="comp"))
    observer = Observer()
    assert Syncer(db_path, FileSource(path), observer=observer).sync(comp, "manual").ok
    assert observer.rows == [2048, 4096]
    # The estimated share of the file read: growing, about 2048/5000 then 4096/5000.
    first, second = observer.fractions
    assert abs(first - 2048 / 5000) < 0.15 and abs(second - 4096 / 5000) < 0.15 and first < second
