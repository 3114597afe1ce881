import contextlib
import os
import shutil
import sqlite3
import subprocess

import pytest

from kagsync import db as dbmod
from kagsync.errors import StoreError
from tests.cli_runner import invoke


def test_new_database_is_wal_with_foreign_keys_and_busy_timeout(db_path):
    database = dbmod.connect(db_path)
    conn = database.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 30000
    assert dbmod.schema_version(database) == dbmod.SCHEMA_VERSION


def test_full_schema(database):
    """Every schema change must be deliberate: this lists the whole schema."""
    tables = {
        name: [col.name for col in database.utils[name].columns]
        for name in database.utils.table_names()
        if name != "sqlite_sequence"
    }
    assert tables == {
        "events": ["id", "slug", "title", "description", "start", "end", "created_at", "updated_at"],
        "competitions": [
            "id",
            "slug",
            "title",
            "description",
            "status",
            "start",
            "end",
            "lower_is_better",
            "created_at",
            "updated_at",
            "last_synced_at",
            "last_attempt_at",
            "last_sync_status",
            "last_sync_error",
            "entry_count",
            "metric",
            "team_count",
            "max_team_size",
            "reward",
            "category",
            "merger_deadline",
            "details_fetched_at",
            "private_released_at",
            "private_synced_at",
            "user_fields",
            "private_checked_at",
            "direction_source",
            "details_failures",
            "details_retry_at",
        ],
        "entries": [
            "competition_id",
            "board",
            "team_id",
            "rank",
            "team_name",
            "score",
            "score_value",
            "last_submission",
            "submission_count",
            "members",
            "is_benchmark",
        ],
        "sync_runs": [
            "id",
            "competition_id",
            "board",
            "trigger",
            "source",
            "started_at",
            "finished_at",
            "status",
            "entries",
            "created",
            "updated",
            "removed",
            "top_score",
            "error",
            "error_kind",
            "pid",
            "content_digest",
        ],
        "entry_changes": [
            "run_id",
            "competition_id",
            "team_id",
            "kind",
            "team_name",
            "rank",
            "previous_rank",
            "score",
            "previous_score",
            "previous_team_name",
            "submission_count",
            "passive",
        ],
        "rank_frames": ["run_id", "competition_id", "board", "teams", "delta", "keyframe"],
        "roster_members": [
            "id",
            "event_id",
            "username",
            "name",
            "member_group",
            "extra",
            "created_at",
            "updated_at",
        ],
        "notify_targets": [
            "id",
            "name",
            "url",
            "format",
            "event_id",
            "kinds",
            "top_n",
            "member_move",
            "failing_ticks",
            "created_at",
        ],
        "notifications": [
            "id",
            "target_id",
            "change_key",
            "payload",
            "status",
            "attempts",
            "error",
            "created_at",
            "sent_at",
        ],
        "event_competitions": ["event_id", "competition_id", "weight", "added_at"],
    }
    assert database.utils.view_names() == ["entry_members"]
    fks = {(fk.table, fk.column, fk.other_table) for name in tables for fk in database.utils[name].foreign_keys}
    assert ("event_competitions", "event_id", "events") in fks
    assert ("event_competitions", "competition_id", "competitions") in fks
    assert ("entries", "competition_id", "competitions") in fks
    assert ("sync_runs", "competition_id", "competitions") in fks
    assert ("rank_frames", "run_id", "sync_runs") in fks


def test_migrates_an_existing_version_1_database_in_place(db_path):
    db_path.parent.mkdir(parents=True)
    old = dbmod.connect(db_path, migrate_schema=False)
    dbmod.migrate(old, target=1)
    old.conn.execute("INSERT INTO events (slug, title, created_at, updated_at) VALUES ('nn', 'NN', 't', 't')")
    old.conn.execute(
        "INSERT INTO competitions (slug, title, event_id, created_at, updated_at)"
        " VALUES ('titanic', 'Titanic', 1, 't', 't')"
    )
    old.conn.close()

    upgraded = dbmod.connect(db_path)
    assert dbmod.schema_version(upgraded) == dbmod.SCHEMA_VERSION
    row = upgraded.conn.execute(
        "SELECT c.slug, c.title, ec.event_id, ec.weight FROM competitions c JOIN event_competitions ec ON ec.competition_id = c.id"
    ).fetchone()
    assert row == ("titanic", "Titanic", 1, 1.0)
    assert "entries" in upgraded.utils.table_names()


def test_migration_is_idempotent(db_path):
    dbmod.connect(db_path).conn.close()
    again = dbmod.connect(db_path)
    assert dbmod.migrate(again) == dbmod.SCHEMA_VERSION


def test_not_an_sqlite_file(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError, match="is not a kagsync database or is damaged"):
        dbmod.connect(path)
    assert path.read_text().startswith("these are my notes")


def test_cannot_create(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create"):
        dbmod.connect(blocker / "sub" / "kagsync.db")


def test_directory_is_refused(tmp_path):
    with pytest.raises(StoreError, match="is a directory"):
        dbmod.connect(tmp_path)


def test_newer_schema_is_refused(db_path):
    database = dbmod.connect(db_path)
    database.conn.execute(f"PRAGMA user_version = {dbmod.SCHEMA_VERSION + 1}")
    database.conn.close()
    with pytest.raises(StoreError, match="newer"):
        dbmod.connect(db_path)


def test_write_transaction_rolls_back_on_error(database):
    with pytest.raises(sqlite3.IntegrityError):
        with dbmod.write_transaction(database):
            database.conn.execute(
                "INSERT INTO events (slug, title, created_at, updated_at) VALUES ('a', 'A', 't', 't')"
            )
            database.conn.execute(
                "INSERT INTO events (slug, title, created_at, updated_at) VALUES ('a', 'A', 't', 't')"
            )
    assert database.conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0


def test_version_3_database_with_boards_and_runs_is_upgraded_keeping_every_row(db_path):
    """Migration 4 rebuilds competitions, sync_runs and entries: nothing may be lost or cascade away."""
    db_path.parent.mkdir(parents=True)
    old = dbmod.connect(db_path, migrate_schema=False)
    dbmod.migrate(old, target=3)
    conn = old.conn
    conn.execute(
        "INSERT INTO competitions (slug, title, created_at, updated_at, last_synced_at, last_sync_status, entry_count)"
        " VALUES ('titanic', 'Titanic', 't', 't', '2025-01-02T00:00:00Z', 'failed', 2)"
    )
    conn.execute(
        "INSERT INTO sync_runs (competition_id, trigger, source, started_at, finished_at, status, entries)"
        " VALUES (1, 'add', 'folder:x', '2025-01-01T00:00:00Z', '2025-01-01T00:00:01Z', 'ok', 2)"
    )
    conn.execute(
        "INSERT INTO sync_runs (competition_id, trigger, source, started_at, finished_at, status, error)"
        " VALUES (1, 'watch', 'kaggle', '2025-01-02T00:00:00Z', '2025-01-02T00:00:00Z', 'failed', 'http 500')"
    )
    for team in (1, 2):
        conn.execute(
            "INSERT INTO entries (competition_id, team_id, rank, team_name, score, submission_count)"
            " VALUES (1, ?, ?, 'T', '0.5', 1)",
            (team, team),
        )
        conn.execute(
            "INSERT INTO entry_changes (run_id, competition_id, team_id, kind, team_name, rank, score)"
            " VALUES (1, 1, ?, 'new', 'T', ?, '0.5')",
            (team, team),
        )
    conn.close()

    upgraded = dbmod.connect(db_path)
    rows = upgraded.query("SELECT board, team_id FROM entries ORDER BY team_id")
    assert rows == [{"board": "public", "team_id": 1}, {"board": "public", "team_id": 2}]
    # Migration 8: the 'new' records of a board's first sync became its keyframe.
    assert upgraded.query("SELECT count(*) AS n FROM entry_changes") == [{"n": 0}]
    assert upgraded.query("SELECT run_id, teams FROM rank_frames") == [{"run_id": 1, "teams": 2}]
    competition = upgraded.query("SELECT last_synced_at, last_attempt_at, last_sync_status FROM competitions")[0]
    # last_synced_at now means the last successful sync; the old value was the last attempt.
    assert competition == {
        "last_synced_at": "2025-01-01T00:00:01Z",
        "last_attempt_at": "2025-01-02T00:00:00Z",
        "last_sync_status": "failed",
    }
    kinds = upgraded.query("SELECT status, error_kind, board FROM sync_runs ORDER BY id")
    assert kinds == [
        {"status": "ok", "error_kind": None, "board": "public"},
        {"status": "failed", "error_kind": "internal", "board": "public"},
    ]
    assert upgraded.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_ids_are_never_reused(database):
    """A removed competition's id never comes back, so a late sync cannot land in a new one."""
    now = "2025-01-01T00:00:00Z"
    database.conn.execute(
        "INSERT INTO competitions (slug, title, created_at, updated_at) VALUES ('x', 'X', ?, ?)", (now, now)
    )
    database.conn.execute("DELETE FROM competitions WHERE slug = 'x'")
    database.conn.execute(
        "INSERT INTO competitions (slug, title, created_at, updated_at) VALUES ('y', 'Y', ?, ?)", (now, now)
    )
    assert database.query("SELECT id FROM competitions") == [{"id": 2}]


def test_foreign_sqlite_file_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "other.db"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE notes (body TEXT)")
    other.commit()
    other.close()
    for mode in ("read", "write", "create"):
        with pytest.raises(StoreError, match="is not a kagsync database"):
            dbmod.connect(path, mode=mode)
    tables = sqlite3.connect(path).execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == [("notes",)]


def test_missing_database_is_an_error_unless_creating(tmp_path):
    path = tmp_path / "typo" / "x.db"
    for mode in ("read", "write"):
        with pytest.raises(StoreError, match="no kagsync database at"):
            dbmod.connect(path, mode=mode)
    assert not path.parent.exists()


def test_read_mode_never_migrates(db_path):
    db_path.parent.mkdir(parents=True)
    old = dbmod.connect(db_path, migrate_schema=False)
    dbmod.migrate(old, target=3)
    old.conn.close()
    with pytest.raises(StoreError, match="run any write command to upgrade"):
        dbmod.connect(db_path, mode="read")
    reader = sqlite3.connect(db_path)
    assert reader.execute("PRAGMA user_version").fetchone()[0] == 3


def test_read_mode_cannot_write(database):
    reader = dbmod.connect(database.path, mode="read")
    assert reader.readonly
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.conn.execute("INSERT INTO events (slug, title, created_at, updated_at) VALUES ('a', 'A', 't', 't')")


def test_version_6_links_and_weights_become_event_competitions_and_ids_stay_unused(db_path):
    db_path.parent.mkdir(parents=True)
    old = dbmod.connect(db_path, migrate_schema=False)
    dbmod.migrate(old, target=6)
    conn = old.conn
    conn.execute("INSERT INTO events (slug, title, created_at, updated_at) VALUES ('night', 'Night', 't', 't')")
    for slug, event, weight in (("a", 1, 2.5), ("b", None, 1.0), ("gone", 1, 1.0)):
        conn.execute(
            "INSERT INTO competitions (slug, title, event_id, weight, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 't', 't')",
            (slug, slug, event, weight),
        )
    conn.execute("DELETE FROM competitions WHERE slug = 'gone'")  # its id (3) must never come back
    conn.close()
    upgraded = dbmod.connect(db_path)
    links = upgraded.query("SELECT event_id, competition_id, weight FROM event_competitions ORDER BY competition_id")
    assert links == [{"event_id": 1, "competition_id": 1, "weight": 2.5}]
    now = "2026-01-01T00:00:00Z"
    upgraded.conn.execute(
        "INSERT INTO competitions (slug, title, created_at, updated_at) VALUES ('c', 'c', ?, ?)", (now, now)
    )
    assert upgraded.query("SELECT id FROM competitions WHERE slug = 'c'") == [{"id": 4}]


# -- files that are not kagsync's, empty, read-only; full folders (issue 20 items 8, 9) ----


def test_foreign_file_keeps_its_bytes_and_journal_mode_when_refused(tmp_path, cli):
    path = tmp_path / "o.db"
    other = sqlite3.connect(path)
    other.execute("create table t(x)")
    other.commit()
    other.close()
    before = path.read_bytes()
    for mode in ("write", "create"):
        with pytest.raises(StoreError, match="is not a kagsync database"):
            dbmod.connect(path, mode=mode)
    result = invoke(["--db", str(path), "event", "add", "x"])
    assert result.exit_code == 1 and "is not a kagsync database" in result.stderr
    assert path.read_bytes() == before  # byte 18/19 would say 2 (WAL) had the mode been switched
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("o.db")) == ["o.db"]


def test_an_empty_file_is_no_database_except_to_a_command_that_creates_one(tmp_path, cli):
    path = tmp_path / "empty.db"
    path.touch()
    for mode in ("read", "write"):
        with pytest.raises(StoreError, match=r"no kagsync database at .*\(the file is empty\)"):
            dbmod.connect(path, mode=mode)
    for args in (["sync", "--all-active", "--source", str(tmp_path)], ["competition", "list"]):
        result = invoke(["--db", str(path), *args])
        assert result.exit_code == 1 and "the file is empty" in result.stderr, result.output
        assert len(result.stderr.strip().splitlines()) == 1
    assert path.stat().st_size == 0  # `sync` left it as it was
    assert invoke(["--db", str(path), "event", "add", "night"]).exit_code == 0
    assert dbmod.schema_version(dbmod.connect(path, mode="read")) == dbmod.SCHEMA_VERSION


@pytest.fixture
def read_only_file(tmp_path):
    """Make a file read-only for this process: immutable when we can (root), else mode 0444."""
    made: list = []

    def make(path):
        if os.geteuid() == 0:
            if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)], check=False).returncode:
                pytest.skip("running as root without chattr +i: a read-only file cannot be made")
            made.append(path)
        else:
            path.chmod(0o444)

    yield make
    for path in made:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_a_read_only_database_is_one_line_database_error(db_path, cli, read_only_file):
    assert cli("event", "add", "night").exit_code == 0
    read_only_file(db_path)
    with pytest.raises(StoreError, match="read-only"):
        dbmod.connect(db_path, mode="write")
    for args in (["event", "add", "other"], ["sync", "--all-active", "--source", str(db_path.parent)]):
        result = cli(*args)
        assert result.exit_code == 1, result.output
        assert "read-only" in result.stderr and "unexpected error" not in result.output
        assert len(result.stderr.strip().splitlines()) == 1
    assert cli("event", "list").exit_code == 0  # reading still works


def test_full_folder_blames_the_database_folder_on_one_file_system(tmp_path):
    (tmp_path / "tmp").mkdir()
    assert dbmod.full_folder(str(tmp_path), str(tmp_path / "tmp")) == str(tmp_path)


@pytest.fixture
def full_tmpfs(tmp_path):
    """A tiny file system, filled up (needs the right to mount, as root in a container)."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True, check=False
    ).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        with contextlib.suppress(OSError), open(folder / "fill", "wb") as handle:
            handle.write(b"\0" * 1024 * 1024)
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_a_full_temporary_folder_is_blamed_for_a_full_disk_during_the_write(tmp_path, full_tmpfs, monkeypatch):
    from kagsync.sync import apply as syncmod

    monkeypatch.setenv("SQLITE_TMPDIR", str(full_tmpfs))
    assert dbmod.full_folder(str(tmp_path), str(full_tmpfs)) == str(full_tmpfs)
    error = syncmod._storage_error(sqlite3.OperationalError("database or disk is full"), str(tmp_path / "k.db"))
    assert str(full_tmpfs) in str(error) and "SQLITE_TMPDIR" in str(error)


def test_an_invocation_closes_its_database_connection(cli, db_path):
    # The CLI runs in-process here (as in a notebook): when a command is done, nothing
    # may hold the file, or switching its journal mode would find it locked.
    assert cli("event", "add", "Night").exit_code == 0
    assert cli("event", "list").exit_code == 0
    with contextlib.closing(sqlite3.connect(db_path, timeout=0)) as conn:
        assert conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
