"""The database: connection settings, the schema and its migrations.

This module owns the schema. Each migration upgrades an existing database in place;
``PRAGMA user_version`` records how far a file has been migrated.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from kagsync.errors import Hint, StoreError

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
    # 4: ids that are never reused (AUTOINCREMENT), so a sync that outlives its
    # competition can never write into a new one that got the same id; the last
    # attempt kept apart from the last success; typed run errors and the run's life
    # cycle (running -> ok/failed/skipped/held/interrupted); a board per competition
    # and board kind (the public one, and Kaggle's private one after close); the
    # competition's details as Kaggle gives them. Tables are rebuilt the way SQLite
    # documents (create, copy, drop, rename) with foreign keys off.
    """
    CREATE TABLE competitions_v4 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        slug TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        description TEXT,
        event_id INTEGER REFERENCES events(id),
        status TEXT NOT NULL DEFAULT 'upcoming'
            CHECK (status IN ('upcoming', 'ongoing', 'completed')),
        start TEXT,
        "end" TEXT,
        lower_is_better INTEGER NOT NULL DEFAULT 0,
        weight REAL NOT NULL DEFAULT 1.0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_synced_at TEXT,
        last_attempt_at TEXT,
        last_sync_status TEXT,
        last_sync_error TEXT,
        entry_count INTEGER,
        metric TEXT,
        team_count INTEGER,
        max_team_size INTEGER,
        reward TEXT,
        category TEXT,
        merger_deadline TEXT,
        details_fetched_at TEXT,
        private_released_at TEXT,
        private_synced_at TEXT
    );
    INSERT INTO competitions_v4 (id, slug, title, description, event_id, status, start, "end",
        lower_is_better, weight, created_at, updated_at, last_synced_at, last_attempt_at,
        last_sync_status, last_sync_error, entry_count)
    SELECT id, slug, title, description, event_id, status, start, "end", lower_is_better, weight,
        created_at, updated_at,
        (SELECT max(r.finished_at) FROM sync_runs r WHERE r.competition_id = c.id AND r.status = 'ok'),
        last_synced_at, last_sync_status, last_sync_error, entry_count
    FROM competitions c;
    DROP TABLE competitions;
    ALTER TABLE competitions_v4 RENAME TO competitions;
    CREATE INDEX competitions_event_id ON competitions(event_id);
    CREATE INDEX competitions_status ON competitions(status);
    CREATE TABLE sync_runs_v4 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        competition_id INTEGER NOT NULL REFERENCES competitions(id) ON DELETE CASCADE,
        board TEXT NOT NULL DEFAULT 'public' CHECK (board IN ('public', 'private')),
        trigger TEXT NOT NULL,
        source TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL
            CHECK (status IN ('running', 'ok', 'failed', 'skipped', 'held', 'interrupted')),
        entries INTEGER,
        created INTEGER,
        updated INTEGER,
        removed INTEGER,
        top_score TEXT,
        error TEXT,
        error_kind TEXT,
        pid INTEGER,
        content_digest TEXT
    );
    INSERT INTO sync_runs_v4 (id, competition_id, trigger, source, started_at, finished_at, status,
        entries, created, updated, removed, top_score, error, error_kind)
    SELECT id, competition_id, trigger, source, started_at, finished_at, status, entries, created,
        updated, removed, top_score, error,
        CASE status WHEN 'failed' THEN 'internal' WHEN 'skipped' THEN 'busy' END
    FROM sync_runs;
    DROP TABLE sync_runs;
    ALTER TABLE sync_runs_v4 RENAME TO sync_runs;
    CREATE INDEX sync_runs_competition ON sync_runs(competition_id, board, id);
    CREATE INDEX sync_runs_running ON sync_runs(status) WHERE status = 'running';
    CREATE TABLE entries_v4 (
        competition_id INTEGER NOT NULL REFERENCES competitions(id) ON DELETE CASCADE,
        board TEXT NOT NULL DEFAULT 'public' CHECK (board IN ('public', 'private')),
        team_id INTEGER NOT NULL,
        rank INTEGER NOT NULL,
        team_name TEXT NOT NULL,
        score TEXT NOT NULL,
        score_value REAL,
        last_submission TEXT,
        submission_count INTEGER NOT NULL,
        members TEXT NOT NULL DEFAULT '[]',
        is_benchmark INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (competition_id, board, team_id)
    ) WITHOUT ROWID;
    INSERT INTO entries_v4 (competition_id, board, team_id, rank, team_name, score, score_value,
        last_submission, submission_count, members, is_benchmark)
    SELECT competition_id, 'public', team_id, rank, team_name, score, score_value,
        last_submission, submission_count, members, is_benchmark
    FROM entries;
    DROP VIEW entry_members;
    DROP TABLE entries;
    ALTER TABLE entries_v4 RENAME TO entries;
    CREATE INDEX entries_rank ON entries(competition_id, board, rank);
    CREATE VIEW entry_members AS
        SELECT entries.competition_id, entries.board, entries.team_id, entries.team_name,
               json_each.value AS username
        FROM entries, json_each(entries.members);
    """,
    # 5: which competition fields the user set (a refresh from Kaggle updates only the
    # others); an event's roster of members; notification targets and the delivery
    # record that makes each change announced once.
    """
    ALTER TABLE competitions ADD COLUMN user_fields TEXT NOT NULL DEFAULT '[]';
    CREATE TABLE roster_members (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        username TEXT NOT NULL COLLATE NOCASE,
        name TEXT,
        member_group TEXT,
        extra TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (event_id, username)
    );
    CREATE TABLE notify_targets (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        url TEXT NOT NULL,
        format TEXT NOT NULL CHECK (format IN ('slack', 'discord', 'json', 'apprise')),
        event_id INTEGER REFERENCES events(id) ON DELETE CASCADE,
        kinds TEXT NOT NULL,
        top_n INTEGER NOT NULL DEFAULT 10,
        member_move INTEGER NOT NULL DEFAULT 5,
        failing_ticks INTEGER NOT NULL DEFAULT 3,
        created_at TEXT NOT NULL
    );
    CREATE TABLE notifications (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        target_id INTEGER NOT NULL REFERENCES notify_targets(id) ON DELETE CASCADE,
        change_key TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        UNIQUE (target_id, change_key)
    );
    CREATE INDEX notifications_pending ON notifications(status) WHERE status != 'sent';
    """,
    # 6: when the private board was last looked for, so that `watch --once` from cron
    # asks Kaggle at most once per private_check_interval.
    """
    ALTER TABLE competitions ADD COLUMN private_checked_at TEXT;
    """,
    # 7: a competition belongs to any number of events (a practice night and a league,
    # one per semester), with a weight per event. Every existing link and weight is
    # kept; competitions lose their single event_id and weight columns.
    """
    CREATE TABLE event_competitions (
        event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        competition_id INTEGER NOT NULL REFERENCES competitions(id) ON DELETE CASCADE,
        weight REAL NOT NULL DEFAULT 1.0,
        added_at TEXT NOT NULL,
        PRIMARY KEY (event_id, competition_id)
    ) WITHOUT ROWID;
    INSERT INTO event_competitions (event_id, competition_id, weight, added_at)
        SELECT event_id, id, weight, created_at FROM competitions WHERE event_id IS NOT NULL;
    CREATE INDEX event_competitions_competition ON event_competitions(competition_id);
    CREATE TABLE competitions_v7 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        slug TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        description TEXT,
        status TEXT NOT NULL DEFAULT 'upcoming'
            CHECK (status IN ('upcoming', 'ongoing', 'completed')),
        start TEXT,
        "end" TEXT,
        lower_is_better INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_synced_at TEXT,
        last_attempt_at TEXT,
        last_sync_status TEXT,
        last_sync_error TEXT,
        entry_count INTEGER,
        metric TEXT,
        team_count INTEGER,
        max_team_size INTEGER,
        reward TEXT,
        category TEXT,
        merger_deadline TEXT,
        details_fetched_at TEXT,
        private_released_at TEXT,
        private_synced_at TEXT,
        user_fields TEXT NOT NULL DEFAULT '[]',
        private_checked_at TEXT
    );
    INSERT INTO competitions_v7 (id, slug, title, description, status, start, "end", lower_is_better,
        created_at, updated_at, last_synced_at, last_attempt_at, last_sync_status, last_sync_error,
        entry_count, metric, team_count, max_team_size, reward, category, merger_deadline,
        details_fetched_at, private_released_at, private_synced_at, user_fields, private_checked_at)
    SELECT id, slug, title, description, status, start, "end", lower_is_better, created_at, updated_at,
        last_synced_at, last_attempt_at, last_sync_status, last_sync_error, entry_count, metric,
        team_count, max_team_size, reward, category, merger_deadline, details_fetched_at,
        private_released_at, private_synced_at, user_fields, private_checked_at
    FROM competitions;
    -- Keep AUTOINCREMENT's memory: an id used by a removed competition is never reused.
    INSERT INTO sqlite_sequence (name, seq)
        SELECT 'competitions_v7', seq FROM sqlite_sequence WHERE name = 'competitions'
        AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'competitions_v7');
    UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'competitions'), 0))
        WHERE name = 'competitions_v7';
    DROP TABLE competitions;
    ALTER TABLE competitions_v7 RENAME TO competitions;
    CREATE INDEX competitions_status ON competitions(status);
    """,
    # 8: history that costs what changed (see kagsync/history.py). entry_changes keeps
    # what a team did itself (appeared after the board's first sync, left, changed its
    # score, name or submission count), with its previous name; every rank, including
    # those that moved only because others passed, is kept in rank_frames. Rows of
    # teams that only moved (passive = 1) are kept for each board's latest run only,
    # for notifications. Existing change records are converted by replaying them
    # (_convert_history, run next).
    """
    ALTER TABLE entry_changes ADD COLUMN previous_team_name TEXT;
    ALTER TABLE entry_changes ADD COLUMN submission_count INTEGER;
    ALTER TABLE entry_changes ADD COLUMN passive INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE rank_frames (
        run_id INTEGER PRIMARY KEY REFERENCES sync_runs(id) ON DELETE CASCADE,
        competition_id INTEGER NOT NULL REFERENCES competitions(id) ON DELETE CASCADE,
        board TEXT NOT NULL CHECK (board IN ('public', 'private')),
        teams INTEGER NOT NULL,
        delta BLOB,
        keyframe BLOB,
        CHECK (delta IS NOT NULL OR keyframe IS NOT NULL)
    );
    CREATE INDEX rank_frames_board ON rank_frames(competition_id, board, run_id);
    """,
    # 9: where a board's direction came from ('user', 'metric', 'file order', 'default'),
    # and when Kaggle's details may be asked for again after a failed fetch (a back-off
    # per competition, so a stalled GetCompetition never delays a board sync).
    """
    ALTER TABLE competitions ADD COLUMN direction_source TEXT;
    ALTER TABLE competitions ADD COLUMN details_failures INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE competitions ADD COLUMN details_retry_at TEXT;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


def _convert_history(conn: sqlite3.Connection) -> None:
    """Migration 8's data step: rebuild every board's history in the new form.

    Each board's ok runs are replayed in order from their change records (which held
    every rank change): the ranks after each run become its frame; records of a rank
    that moved only because others passed are dropped, as are the 'new' records of a
    board's first sync (its keyframe lists those teams); a record whose team changed
    its name gets the previous one. The stored board is the truth for the ranks after
    the last run.
    """
    boards = conn.execute(
        "SELECT DISTINCT competition_id, board FROM sync_runs WHERE status = 'ok' ORDER BY competition_id, board"
    ).fetchall()
    for competition_id, board in boards:
        _convert_board(conn, competition_id, board)


# An entry_changes row as _convert_board reads it: team_id, kind, team_name, rank,
# score, previous_score (rank is NULL only for a 'removed' record).
_ChangeRecord = tuple[int, str, str, int | None, str | None, str | None]


def _convert_board(conn: sqlite3.Connection, competition_id: int, board: str) -> None:  # noqa: C901
    from kagsync import history  # only an old database's migration needs it

    runs = [
        row[0]
        for row in conn.execute(
            "SELECT id FROM sync_runs WHERE competition_id = ? AND board = ? AND status = 'ok' ORDER BY id",
            (competition_id, board),
        )
    ]
    records: dict[int, list[_ChangeRecord]] = {}
    for row in conn.execute(
        """SELECT ch.run_id, ch.team_id, ch.kind, ch.team_name, ch.rank, ch.score, ch.previous_score
           FROM entry_changes ch JOIN sync_runs r ON r.id = ch.run_id
           WHERE ch.competition_id = ? AND r.board = ? ORDER BY ch.run_id, ch.team_id""",
        (competition_id, board),
    ):
        records.setdefault(row[0], []).append(row[1:])
    stored = dict(
        conn.execute(
            "SELECT team_id, rank FROM entries WHERE competition_id = ? AND board = ?", (competition_id, board)
        )
    )
    state: dict[int, int] = {}
    names: dict[int, str] = {}
    drop: list[tuple[int, int]] = []
    moved_only: dict[int, list[tuple[int, int]]] = {}
    renamed: list[tuple[str, int, int]] = []
    last_frame = 0
    since_keyframe = keyframe_size = deltas = 0
    for index, run_id in enumerate(runs):
        was_empty = not state
        after = dict(state)
        movers: list[int] = []
        for team_id, kind, name, rank, score, previous_score in records.get(run_id, []):
            if kind == "removed":
                after.pop(team_id, None)
                if names.get(team_id) not in (None, name):
                    renamed.append((names[team_id], run_id, team_id))
                names[team_id] = name
                continue
            assert rank is not None, (run_id, team_id)  # a new or changed record has its rank
            after[team_id] = rank
            previous_name = names.get(team_id)
            names[team_id] = name
            if kind == "new":
                if was_empty:
                    drop.append((run_id, team_id))
                continue
            if score != previous_score:
                movers.append(team_id)
            if previous_name is not None and previous_name != name:
                renamed.append((previous_name, run_id, team_id))
            elif score == previous_score:
                moved_only.setdefault(run_id, []).append((run_id, team_id))
        if index == len(runs) - 1:
            after = stored
        if after == state:
            continue
        added = {team: rank for team, rank in after.items() if team not in state}
        removed = {team: rank for team, rank in state.items() if team not in after}
        moved = {team: (state[team], rank) for team, rank in after.items() if team in state and state[team] != rank}
        before = state

        def old_order(lo: int, hi: int, before: dict[int, int] = before) -> list[tuple[int, int]]:
            return [(team, rank) for rank, team in sorted((r, t) for t, r in before.items() if lo <= r <= hi)]

        delta = None
        if not was_empty:
            delta = history.encode_delta(
                history.build_delta(
                    added=added,
                    removed=removed,
                    moved=moved,
                    movers=movers,
                    old_order=old_order,
                )
            )
        keyframe = None
        if after and (
            delta is None or deltas + 1 >= history.KEYFRAME_MAX_DELTAS or since_keyframe + len(delta) >= keyframe_size
        ):
            keyframe = history.encode_keyframe(sorted(after.items()))
            since_keyframe, keyframe_size, deltas = 0, len(keyframe), 0
        elif delta is not None:
            since_keyframe += len(delta)
            deltas += 1
        conn.execute(
            "INSERT INTO rank_frames (run_id, competition_id, board, teams, delta, keyframe) VALUES (?, ?, ?, ?, ?, ?)",
            (run_id, competition_id, board, len(after), delta, keyframe),
        )
        state = after
        last_frame = run_id
    # A rename that no record saw (the team's rank and score never changed after it):
    # its last record, even a dropped one, is the only witness of its earlier name.
    stored_names = dict(
        conn.execute(
            "SELECT team_id, team_name FROM entries WHERE competition_id = ? AND board = ?", (competition_id, board)
        )
    )
    last_record = {team_id: run_id for run_id, rows in records.items() for team_id, *_ in rows}
    witnesses = {
        (last_record[team], team)
        for team, name in stored_names.items()
        if team in last_record and names.get(team) not in (None, name)
    }
    drop = [key for key in drop if key not in witnesses]
    moved_only = {run: [key for key in rows if key not in witnesses] for run, rows in moved_only.items()}
    listened = conn.execute("SELECT 1 FROM notify_targets LIMIT 1").fetchone() is not None
    for run_id, rows in moved_only.items():
        if run_id == last_frame and listened:
            conn.executemany("UPDATE entry_changes SET passive = 1 WHERE run_id = ? AND team_id = ?", rows)
        else:
            drop.extend(rows)
    conn.executemany("DELETE FROM entry_changes WHERE run_id = ? AND team_id = ?", drop)
    conn.executemany("UPDATE entry_changes SET previous_team_name = ? WHERE run_id = ? AND team_id = ?", renamed)


# Steps that need more than SQL, run right after the migration of the same number.
_DATA_STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {8: _convert_history}


OpenMode = Literal["read", "write", "create"]


class Database:
    """An open kagsync database.

    ``conn`` is the sqlite3 connection; :attr:`utils` is an ``sqlite_utils.Database``
    over that same connection, imported on first use only: it costs about 0.1 s,
    which commands such as ``competition list`` do not need to pay. ``readonly`` is
    True for a connection opened by a read command.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, *, readonly: bool = False) -> None:
        self.conn = conn
        self.path = path
        self.readonly = readonly

    @cached_property
    def utils(self) -> sqlite_utils.Database:
        """An ``sqlite_utils.Database`` over the same connection."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    # Untyped values (not object) on purpose: this is the one generic boundary between
    # SQL and Python types (sqlite3 itself leaves its rows untyped), and each caller reads
    # the columns of its own query into a typed value (Competition.from_row, a TypedDict).
    def query(self, sql: str, params: Sequence[object] | Mapping[str, object] = ()) -> list[dict[str, Any]]:
        """Rows of a query as dicts keyed by column name."""
        cursor = self.conn.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

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


def _damaged(path: Path, exc: BaseException) -> StoreError:
    return StoreError(f"{path}: is not a kagsync database or is damaged: {exc}")


def connect(path: Path | str, *, mode: OpenMode = "create", migrate_schema: bool = True) -> Database:
    """Open the kagsync database at ``path``.

    ``mode``: ``create`` makes the file (and its folder) when missing and migrates it
    to the latest schema; ``write`` requires the file and migrates it; ``read`` opens
    it read-only, never migrates, and works on read-only media.
    """
    path = Path(path)
    if path.is_dir():
        raise StoreError(f"{path}: is a directory, not an SQLite database file")
    if mode != "create" and not path.exists():
        raise StoreError(f"no kagsync database at {path}", hint=Hint.NO_DATABASE)
    # An empty file holds no database (sqlite3 itself reads it as an empty one): a
    # command that creates the database makes it there; any other finds none.
    if mode != "create" and _is_empty_file(path):
        raise StoreError(f"no kagsync database at {path} (the file is empty)", hint=Hint.NO_DATABASE)
    if mode == "read":
        return _connect_readonly(path)
    if path.exists() and not os.access(path, os.W_OK):
        # SQLite would quietly open it read-only, and the first write would fail
        # deep inside a command; an immutable file (chattr +i) is refused here too.
        raise StoreError(f"{path}: the database file is read-only (cannot write it)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{path}: cannot create the database's folder ({exc.strerror})") from None
    try:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (see write_transaction).
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the database ({exc})") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        database = Database(conn, path)
        # Before anything is written: another program's file must be left byte for
        # byte as it was, journal mode included.
        _check_kagsync_file(database)
        mode_now = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode_now.lower() != "wal":
            # WAL lets readers (sqlite3, Datasette, pandas) read while kagsync writes.
            # It is stored in the file, so this runs once per database.
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as exc:
        conn.close()
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            raise StoreError(f"{path}: cannot open the database ({exc})") from None
        raise _damaged(path, exc) from None
    except StoreError:
        conn.close()
        raise
    if migrate_schema:
        try:
            migrate(database)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{path}: cannot prepare the database ({exc})") from None
    return database


def _is_empty_file(path: Path) -> bool:
    try:
        return path.stat().st_size == 0
    except OSError:
        return False


def full_folder(database_folder: str, temp_folder: str) -> str:
    """Of the database's folder and SQLite's temporary folder, the one a "disk full" came from.

    SQLite says only SQLITE_FULL, for the database and its temporary files alike
    (sorts, statement journals, temporary tables spill there during a write). The
    temporary folder is blamed when it is on another file system with less room
    left; on the same file system, the database's folder.
    """
    try:
        if os.stat(database_folder).st_dev == os.stat(temp_folder).st_dev:
            return database_folder
        if shutil.disk_usage(temp_folder).free < shutil.disk_usage(database_folder).free:
            return temp_folder
    except OSError:
        pass
    return database_folder


def _connect_readonly(path: Path) -> Database:
    uri = "file:" + quote(str(path.absolute())) + "?mode=ro"
    try:
        conn = sqlite3.connect(
            uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        # A WAL database on read-only media cannot create its -shm file, so mode=ro
        # fails there; immutable=1 reads the file as it is, without any locking.
        conn = sqlite3.connect(
            "file:" + quote(str(path.absolute())) + "?immutable=1",
            uri=True,
            isolation_level=None,
            check_same_thread=False,
        )
    except sqlite3.DatabaseError as exc:
        raise _damaged(path, exc) from None
    database = Database(conn, path, readonly=True)
    try:
        _check_kagsync_file(database)
        version = schema_version(database)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _damaged(path, exc) from None
    except StoreError:
        conn.close()
        raise
    if version < SCHEMA_VERSION:
        conn.close()
        raise StoreError(
            f"{path}: the database has schema version {version}, older than this kagsync's "
            f"({SCHEMA_VERSION}); run any write command to upgrade it"
        )
    if version > SCHEMA_VERSION:
        conn.close()
        raise StoreError(
            f"database schema version {version} is newer than this kagsync understands ({SCHEMA_VERSION}); upgrade kagsync"
        )
    return database


def _check_kagsync_file(database: Database) -> None:
    """Refuse an SQLite file that some other program made (or a damaged one)."""
    version = schema_version(database)
    tables = {row[0] for row in database.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if version == 0 and tables:
        raise StoreError(f"{database.path}: is not a kagsync database or is damaged: it holds other tables")
    if version > 0 and not {"events", "competitions"} <= tables:
        raise StoreError(f"{database.path}: is not a kagsync database or is damaged: its tables are missing")


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
    # Rebuilding a table drops the old one: with foreign keys on, that would cascade
    # into every board and run. The pragma cannot change inside a transaction.
    db.conn.execute("PRAGMA foreign_keys = OFF")
    try:
        with write_transaction(db):
            version = schema_version(db)
            while version < target:
                for statement in _split_statements(MIGRATIONS[version]):
                    db.conn.execute(statement)
                version += 1
                if version in _DATA_STEPS:
                    _DATA_STEPS[version](db.conn)
                db.conn.execute(f"PRAGMA user_version = {version}")
            problems = db.conn.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise StoreError(f"{db.path}: migration left {len(problems)} broken reference(s); nothing was changed")
    finally:
        db.conn.execute("PRAGMA foreign_keys = ON")
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
