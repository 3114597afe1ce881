"""The database: connection settings, the schema and its migrations.

This module owns the schema. Each migration upgrades an existing database in place;
``PRAGMA user_version`` records how far a file has been migrated.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from kagsync.errors import StoreError

if TYPE_CHECKING:
    import sqlite_utils

# Cron, `watch` and a person may all write at once; SQLite serialises writers and a
# waiting writer retries for this long before "database is locked".
BUSY_TIMEOUT_SECONDS = 60.0

MIGRATIONS: tuple[str, ...] = (
    # 1: events and competitions.
    """
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        slug TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        description TEXT,
        start TEXT,
        "end" TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE competitions (
        id INTEGER PRIMARY KEY,
        slug TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        description TEXT,
        event_id INTEGER REFERENCES events(id),
        status TEXT NOT NULL DEFAULT 'upcoming'
            CHECK (status IN ('upcoming', 'ongoing', 'completed')),
        start TEXT,
        "end" TEXT,
        lower_is_better INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_synced_at TEXT,
        last_sync_status TEXT,
        last_sync_error TEXT,
        entry_count INTEGER
    );
    CREATE INDEX competitions_event_id ON competitions(event_id);
    CREATE INDEX competitions_status ON competitions(status);
    """,
    # 2: leaderboards, sync runs and the change records that history is built from.
    """
    CREATE TABLE entries (
        competition_id INTEGER NOT NULL REFERENCES competitions(id) ON DELETE CASCADE,
        team_id INTEGER NOT NULL,
        rank INTEGER NOT NULL,
        team_name TEXT NOT NULL,
        score TEXT NOT NULL,
        score_value REAL,
        last_submission TEXT,
        submission_count INTEGER NOT NULL,
        members TEXT NOT NULL DEFAULT '[]',
        is_benchmark INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (competition_id, team_id)
    ) WITHOUT ROWID;
    CREATE INDEX entries_rank ON entries(competition_id, rank);
    CREATE TABLE sync_runs (
        id INTEGER PRIMARY KEY,
        competition_id INTEGER NOT NULL REFERENCES competitions(id) ON DELETE CASCADE,
        trigger TEXT NOT NULL,
        source TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'skipped')),
        entries INTEGER,
        created INTEGER,
        updated INTEGER,
        removed INTEGER,
        top_score TEXT,
        error TEXT
    );
    CREATE INDEX sync_runs_competition ON sync_runs(competition_id, id);
    CREATE TABLE entry_changes (
        run_id INTEGER NOT NULL REFERENCES sync_runs(id) ON DELETE CASCADE,
        competition_id INTEGER NOT NULL REFERENCES competitions(id) ON DELETE CASCADE,
        team_id INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('new', 'changed', 'removed')),
        team_name TEXT NOT NULL,
        rank INTEGER,
        previous_rank INTEGER,
        score TEXT,
        previous_score TEXT,
        PRIMARY KEY (run_id, team_id)
    ) WITHOUT ROWID;
    CREATE INDEX entry_changes_team ON entry_changes(competition_id, team_id, run_id);
    CREATE VIEW entry_members AS
        SELECT entries.competition_id, entries.team_id, entries.team_name,
               json_each.value AS username
        FROM entries, json_each(entries.members);
    """,
    # 3: per-competition weight for event standings.
    """
    ALTER TABLE competitions ADD COLUMN weight REAL NOT NULL DEFAULT 1.0;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


class Database:
    """An open kagsync database: ``conn`` is the sqlite3 connection.

    sqlite-utils is reached through :attr:`utils` (or any of its ``Database``
    attributes, e.g. ``db["entries"].count``). It is imported on first use only: it
    costs about 0.1 s, which commands such as ``competition list`` do not need to pay.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @cached_property
    def utils(self) -> "sqlite_utils.Database":
        """An ``sqlite_utils.Database`` over the same connection."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.utils, name)

    def __getitem__(self, table: str) -> Any:
        return self.utils[table]

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """One write transaction, taken at once with BEGIN IMMEDIATE.

    A deferred transaction that later upgrades to a writer can fail with "database
    is locked" without waiting; IMMEDIATE takes the write lock up front and lets the
    busy timeout do the waiting.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        db.conn.execute("COMMIT")


def connect(path: Path | str, *, migrate_schema: bool = True) -> Database:
    """Open (creating if needed) the kagsync database at ``path``, migrated to the latest schema."""
    path = Path(path)
    if path.is_dir():
        raise StoreError(f"{path}: is a directory, not an SQLite database file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{path}: cannot create the database's folder ({exc.strerror})") from None
    try:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (see write_transaction).
        conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the database ({exc})") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode.lower() != "wal":
            # WAL lets readers (sqlite3, Datasette, pandas) read while kagsync writes.
            # It is stored in the file, so this runs once per database.
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as exc:
        conn.close()
        if "not a database" in str(exc) or "malformed" in str(exc):
            raise StoreError(f"{path}: not an SQLite database") from None
        raise StoreError(f"{path}: cannot open the database ({exc})") from None
    db = Database(conn, path)
    if migrate_schema:
        try:
            migrate(db)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{path}: cannot prepare the database ({exc})") from None
    return db


def schema_version(db: Database) -> int:
    """The migration level recorded in the file."""
    return int(db.conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: Database, *, target: int = SCHEMA_VERSION) -> int:
    """Apply pending migrations up to ``target``; return the resulting version.

    Safe when several processes start at once: the version is read again inside the
    write transaction, so each migration runs exactly once.
    """
    if schema_version(db) > SCHEMA_VERSION:
        raise StoreError(
            f"database schema version {schema_version(db)} is newer than this kagsync "
            f"understands ({SCHEMA_VERSION}); upgrade kagsync"
        )
    if schema_version(db) >= target:
        return schema_version(db)
    with write_transaction(db):
        version = schema_version(db)
        while version < target:
            for statement in _split_statements(MIGRATIONS[version]):
                db.conn.execute(statement)
            version += 1
            db.conn.execute(f"PRAGMA user_version = {version}")
    return version


def _split_statements(script: str) -> list[str]:
    # executescript() would COMMIT our transaction first; run statement by statement.
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
