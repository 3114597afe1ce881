import sqlite3

import pytest

from kagsync import db as dbmod
from kagsync.errors import StoreError


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
        name: [col.name for col in database[name].columns]
        for name in database.table_names()
    }
    assert tables == {
        "events": ["id", "slug", "title", "description", "start", "end", "created_at", "updated_at"],
        "competitions": [
            "id", "slug", "title", "description", "event_id", "status", "start", "end",
            "lower_is_better", "created_at", "updated_at", "last_synced_at", "last_sync_status",
            "last_sync_error", "entry_count", "weight",
        ],
        "entries": [
            "competition_id", "team_id", "rank", "team_name", "score", "score_value",
            "last_submission", "submission_count", "members", "is_benchmark",
        ],
        "sync_runs": [
            "id", "competition_id", "trigger", "source", "started_at", "finished_at", "status",
            "entries", "created", "updated", "removed", "top_score", "error",
        ],
        "entry_changes": [
            "run_id", "competition_id", "team_id", "kind", "team_name", "rank", "previous_rank",
            "score", "previous_score",
        ],
    }
    assert database.view_names() == ["entry_members"]
    fks = {(fk.table, fk.column, fk.other_table) for name in tables for fk in database[name].foreign_keys}
    assert ("competitions", "event_id", "events") in fks
    assert ("entries", "competition_id", "competitions") in fks
    assert ("sync_runs", "competition_id", "competitions") in fks


def test_migrates_an_existing_version_1_database_in_place(db_path):
    db_path.parent.mkdir(parents=True)
    old = dbmod.connect(db_path, migrate_schema=False)
    dbmod.migrate(old, target=1)
    old.conn.execute(
        "INSERT INTO events (slug, title, created_at, updated_at) VALUES ('nn', 'NN', 't', 't')"
    )
    old.conn.execute(
        "INSERT INTO competitions (slug, title, event_id, created_at, updated_at)"
        " VALUES ('titanic', 'Titanic', 1, 't', 't')"
    )
    old.conn.close()

    upgraded = dbmod.connect(db_path)
    assert dbmod.schema_version(upgraded) == dbmod.SCHEMA_VERSION
    row = upgraded.conn.execute("SELECT slug, title, event_id, weight FROM competitions").fetchone()
    assert row == ("titanic", "Titanic", 1, 1.0)
    assert "entries" in upgraded.table_names()


def test_migration_is_idempotent(db_path):
    dbmod.connect(db_path).conn.close()
    again = dbmod.connect(db_path)
    assert dbmod.migrate(again) == dbmod.SCHEMA_VERSION


def test_not_an_sqlite_file(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError, match="not an SQLite database"):
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
