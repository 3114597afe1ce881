"""Sync one competition's leaderboard: claim, fetch, parse, write once, record, release.

The order matters:

1. claim the competition (one sync per competition across processes);
2. fetch the file from the source into a private temporary folder — no database
   lock is held during a download;
3. parse it, streaming, into a TEMP staging table (the temp schema is private to the
   connection, so this takes no lock on the shared database either); a bad file stops
   here and nothing in the shared database has changed;
4. in ONE ``BEGIN IMMEDIATE`` transaction: write change records, delete teams that
   left, upsert new and changed teams (identical rows are not written), record the run;
5. remove the temporary folder and release the claim, whatever happened.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import sqlite3
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol, Sequence

from kagsync import db as dbmod
from kagsync.db import Database
from kagsync.errors import KagsyncError, LeaderboardFormatError, SyncBusyError
from kagsync.leaderboard import iter_leaderboard_rows
from kagsync.repository import Competition
from kagsync.sources import LeaderboardSource
from kagsync.values import now_iso

log = logging.getLogger("kagsync.sync")

TRIGGERS = ("add", "status", "manual", "import", "watch")

_ENTRY_COLUMNS = (
    "team_id",
    "rank",
    "team_name",
    "score",
    "score_value",
    "last_submission",
    "submission_count",
    "members",
    "is_benchmark",
)


@dataclass
class SyncOutcome:
    """What one sync attempt did."""

    slug: str
    trigger: str
    source: str
    status: str  # ok | failed | skipped
    started: str
    finished: str
    seconds: float
    entries: int | None = None
    created: int = 0
    updated: int = 0
    removed: int = 0
    previous_entries: int | None = None
    error: str | None = None
    run_id: int | None = None

    @property
    def ok(self) -> bool:
        """True when the board was synced."""
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


class SyncObserver(Protocol):
    """Receives progress for display; every method may be called from worker threads."""

    def stage(self, slug: str, stage: str, detail: str = "") -> None:
        """stage: queued, waiting, downloading, parsing, writing, ok, failed, skipped."""
        ...

    def download_progress(self, slug: str, received: int, total: int | None) -> None:
        """Bytes received so far for a download."""
        ...


class _SilentObserver:
    def stage(self, slug: str, stage: str, detail: str = "") -> None:
        pass

    def download_progress(self, slug: str, received: int, total: int | None) -> None:
        pass


# -- the per-competition claim ------------------------------------------------


class CompetitionLock:
    """An exclusive claim on one competition's sync, shared by every process.

    It is an ``flock`` on ``<database>.locks/<slug>.lock``: the kernel releases it
    when its holder exits or crashes, so a dead holder's claim can never outlive it,
    and two syncs in one process (threads) exclude each other too, since each opens
    its own file description.
    """

    POLL_SECONDS = 0.1

    def __init__(self, db_path: Path, slug: str) -> None:
        self.path = lock_dir(db_path) / f"{slug}.lock"
        self._fd: int | None = None

    def acquire(self, timeout: float, on_wait: Any = None) -> bool:
        """Take the claim, waiting up to ``timeout`` seconds; False when it stayed taken."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                if not waited and on_wait is not None:
                    on_wait()
                waited = True
                time.sleep(self.POLL_SECONDS)
                continue
            self._fd = fd
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return True

    def release(self) -> None:
        """Give the claim back."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def lock_dir(db_path: Path) -> Path:
    """The folder of per-competition lock files beside the database."""
    return db_path.with_name(db_path.name + ".locks")


# -- writing a board ----------------------------------------------------------


@dataclass
class BoardChanges:
    """Counts of one board write."""

    entries: int
    created: int
    updated: int
    removed: int
    top_score: str | None


# Page caches of the sync connection (it is closed after one sync). SQLite's default,
# 2 MB per schema, is far smaller than a big board: staging 100,000 teams in TeamId
# order (random in the file) then misses the cache on nearly every row, and so do the
# diff's lookups in ``entries``. Pages are allocated as they are used, so a small board
# costs no more than before; a million teams stay well under 300 MB of RSS.
_STAGING_CACHE_KIB = 64 * 1024
_MAIN_CACHE_KIB = 64 * 1024


def _stage_entries(conn: sqlite3.Connection, path: Path, *, lower_is_better: bool) -> int:
    """Parse the file into TEMP.staging_entries; returns the number of teams."""
    conn.execute(f"PRAGMA temp.cache_size = -{_STAGING_CACHE_KIB}")
    conn.execute(f"PRAGMA main.cache_size = -{_MAIN_CACHE_KIB}")
    conn.execute("DROP TABLE IF EXISTS temp.staging_entries")
    conn.execute(
        """CREATE TEMP TABLE staging_entries (
            team_id INTEGER PRIMARY KEY, rank INTEGER NOT NULL, team_name TEXT NOT NULL,
            score TEXT NOT NULL, score_value REAL, last_submission TEXT,
            submission_count INTEGER NOT NULL, members TEXT NOT NULL, is_benchmark INTEGER NOT NULL
        )"""
    )
    # Only the temp schema is written here, so this transaction takes no lock on the
    # shared database: other processes keep writing while a big board is parsed.
    conn.execute("BEGIN")
    try:
        # Plain tuples of exact ints/floats/strings: sqlite3 binds them without its
        # per-value adapter lookup (see iter_leaderboard_rows).
        conn.executemany(
            "INSERT INTO temp.staging_entries (rank, team_id, team_name, score, score_value,"
            " last_submission, submission_count, members, is_benchmark)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            iter_leaderboard_rows(path, lower_is_better=lower_is_better),
        )
    except sqlite3.IntegrityError:
        conn.execute("ROLLBACK")
        raise LeaderboardFormatError(f"{path.name}: the same TeamId appears twice") from None
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return conn.execute("SELECT count(*) FROM temp.staging_entries").fetchone()[0]


_DIFFERS = " OR ".join(f"entries.{col} IS NOT excluded.{col}" for col in _ENTRY_COLUMNS[1:])
_STAGED_DIFFERS = " OR ".join(f"e.{col} IS NOT s.{col}" for col in _ENTRY_COLUMNS[1:])
_COLUMNS = ", ".join(_ENTRY_COLUMNS)
_S_COLUMNS = ", ".join(f"s.{col}" for col in _ENTRY_COLUMNS)
_ASSIGNMENTS = ", ".join(f"{col} = excluded.{col}" for col in _ENTRY_COLUMNS[1:])


def _write_board(conn: sqlite3.Connection, competition_id: int, run_id: int) -> BoardChanges:
    """Apply TEMP.staging_entries to the competition's board; caller holds the transaction.

    Staged rows are visited in TeamId order (the staging table's key), the order of
    ``entries``' and ``entry_changes``' keys, so their B-trees are filled or read in
    sequence. A first sync writes every team once plus its 'new' change record. A
    re-sync makes one pass comparing every staged team with its stored row and keeps
    only the new or different ones (TEMP.staging_diff); the change records and the
    upsert then touch those rows alone, so an identical board writes no entry row.
    """
    params = {"cid": competition_id, "run": run_id}
    stored = conn.execute(
        "SELECT 1 FROM entries WHERE competition_id = :cid LIMIT 1", params
    ).fetchone()
    if stored is None:
        # Nothing stored yet: every staged team is new; nothing to compare or remove.
        created = conn.execute(
            """INSERT INTO entry_changes (run_id, competition_id, team_id, kind, team_name,
                                          rank, score)
               SELECT :run, :cid, team_id, 'new', team_name, rank, score
               FROM temp.staging_entries""",
            params,
        ).rowcount
        conn.execute(
            f"""INSERT INTO entries (competition_id, {_COLUMNS})
                SELECT :cid, {_COLUMNS} FROM temp.staging_entries""",
            params,
        )
        updated = removed = 0
    else:
        conn.execute("DROP TABLE IF EXISTS temp.staging_diff")
        # New teams (no stored row) and teams whose stored row differs in any column,
        # with the stored rank and score the change records need.
        conn.execute(
            f"""CREATE TEMP TABLE staging_diff AS
                SELECT s.team_id AS team_id, e.team_id IS NULL AS is_new,
                       e.rank AS previous_rank, e.score AS previous_score
                FROM temp.staging_entries s
                LEFT JOIN entries e ON e.competition_id = :cid AND e.team_id = s.team_id
                WHERE e.team_id IS NULL OR {_STAGED_DIFFERS}""",
            params,
        )
        conn.execute(
            """INSERT INTO entry_changes (run_id, competition_id, team_id, kind, team_name,
                                          rank, previous_rank, score, previous_score)
               SELECT :run, :cid, s.team_id, CASE WHEN d.is_new THEN 'new' ELSE 'changed' END,
                      s.team_name, s.rank, d.previous_rank, s.score, d.previous_score
               FROM temp.staging_diff d CROSS JOIN temp.staging_entries s
               WHERE s.team_id = d.team_id
                 AND (d.is_new OR d.previous_rank IS NOT s.rank OR d.previous_score IS NOT s.score)""",
            params,
        )
        created = conn.execute(
            "SELECT count(*) FROM temp.staging_diff WHERE is_new"
        ).fetchone()[0]
        conn.execute(
            """INSERT INTO entry_changes (run_id, competition_id, team_id, kind, team_name,
                                          previous_rank, previous_score)
               SELECT :run, :cid, e.team_id, 'removed', e.team_name, e.rank, e.score
               FROM entries e
               WHERE e.competition_id = :cid
                 AND NOT EXISTS (SELECT 1 FROM temp.staging_entries s WHERE s.team_id = e.team_id)""",
            params,
        )
        # The teams just recorded as removed: this run's own change records, found by
        # their key instead of a second pass over the board.
        removed = conn.execute(
            """DELETE FROM entries WHERE competition_id = :cid AND team_id IN
                   (SELECT team_id FROM entry_changes WHERE run_id = :run AND kind = 'removed')""",
            params,
        ).rowcount
        # "WHERE ..." rather than "JOIN ... ON": SQLite's parser would read ON CONFLICT
        # as a join constraint. DO UPDATE ... WHERE stays as a guard: only differing
        # rows are in staging_diff anyway.
        upserted = conn.execute(
            f"""INSERT INTO entries (competition_id, {_COLUMNS})
                SELECT :cid, {_S_COLUMNS}
                FROM temp.staging_diff d CROSS JOIN temp.staging_entries s
                WHERE s.team_id = d.team_id
                ON CONFLICT (competition_id, team_id) DO UPDATE SET {_ASSIGNMENTS}
                WHERE {_DIFFERS}""",
            params,
        ).rowcount
        updated = upserted - created
        conn.execute("DROP TABLE temp.staging_diff")
    entries = conn.execute("SELECT count(*) FROM temp.staging_entries").fetchone()[0]
    # The board now equals the staged rows: its rank index finds the top at once.
    top = conn.execute(
        """SELECT score FROM entries WHERE competition_id = :cid AND rank >= 1
           ORDER BY rank, team_id LIMIT 1""",
        params,
    ).fetchone()
    return BoardChanges(entries, created, updated, removed, top[0] if top else None)


# -- the sync service ---------------------------------------------------------


@dataclass
class _Attempt:
    """One sync attempt in progress: what its run record and outcome are made of."""

    competition: Competition
    trigger: str
    source: str
    started_at: str
    clock: float

    @property
    def slug(self) -> str:
        return self.competition.slug

    def outcome(self, status: str, finished_at: str, **details: Any) -> SyncOutcome:
        """The outcome of this attempt, timed from its start."""
        return SyncOutcome(
            slug=self.slug, trigger=self.trigger, source=self.source, status=status,
            started=self.started_at, finished=finished_at,
            seconds=time.monotonic() - self.clock, **details,
        )


class Syncer:
    """Syncs competitions from one source into one database file.

    Each sync opens its own connection, so syncs of different competitions run in
    parallel threads (``sync_many``) and in parallel processes alike.
    """

    def __init__(
        self,
        db_path: Path,
        source: LeaderboardSource,
        *,
        lock_timeout: float = 300.0,
        observer: SyncObserver | None = None,
        jobs: int = 4,
    ) -> None:
        self.db_path = Path(db_path)
        self.source = source
        self.lock_timeout = lock_timeout
        self.observer = observer or _SilentObserver()
        self.jobs = jobs

    def __call__(self, due: Sequence[tuple[Competition, str]]) -> list[SyncOutcome]:
        """The repository's sync hook."""
        return self.sync_many(due)

    def sync_many(
        self, due: Sequence[tuple[Competition, str]], *, jobs: int | None = None
    ) -> list[SyncOutcome]:
        """Sync several competitions, up to ``jobs`` at a time; outcomes in input order."""
        jobs = max(1, min(jobs or self.jobs, len(due) or 1))
        for competition, _ in due:
            self.observer.stage(competition.slug, "queued")
            log.info("%s: queued", competition.slug)
        if jobs == 1 or len(due) <= 1:
            return [self.sync(competition, trigger) for competition, trigger in due]
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="kagsync-sync") as pool:
            futures = [pool.submit(self.sync, c, t) for c, t in due]
            return [future.result() for future in futures]

    def sync(self, competition: Competition, trigger: str) -> SyncOutcome:
        """Sync one competition; never raises for a sync problem, returns the outcome."""
        if trigger not in TRIGGERS:
            raise ValueError(f"unknown sync trigger {trigger!r}")
        slug = competition.slug
        attempt = _Attempt(competition, trigger, self.source.describe(slug), now_iso(), time.monotonic())
        log.info("%s: sync started (trigger %s, source %s)", slug, trigger, attempt.source)
        claim = CompetitionLock(self.db_path, slug)

        def waiting() -> None:
            self.observer.stage(slug, "waiting", "another sync of this competition is running")
            log.info("%s: waiting for another sync of this competition to finish", slug)

        if not claim.acquire(self.lock_timeout, on_wait=waiting):
            error = SyncBusyError(
                f"another sync of {slug!r} was still running after {self.lock_timeout:g} s"
            )
            return self._record_failure(attempt, error, "skipped")
        workdir = Path(tempfile.mkdtemp(prefix=f"kagsync-{slug}-"))
        try:
            return self._sync_claimed(attempt, workdir)
        except KagsyncError as error:
            return self._record_failure(attempt, error)
        except Exception as error:  # a bug must not take down watch or a parallel import
            log.exception("%s: unexpected error", slug)
            wrapped = KagsyncError(f"unexpected error: {type(error).__name__}: {error}")
            return self._record_failure(attempt, wrapped)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            claim.release()

    def _sync_claimed(self, attempt: _Attempt, workdir: Path) -> SyncOutcome:
        slug = attempt.slug
        self.observer.stage(slug, "downloading", attempt.source)
        log.info("%s: downloading from %s", slug, attempt.source)
        path = self.source.fetch(
            slug, workdir, lambda got, total: self.observer.download_progress(slug, got, total)
        )
        self.observer.stage(slug, "parsing", path.name)
        with _connection(self.db_path) as database:
            conn = database.conn
            # The competition may have been edited (direction) since it was queued.
            row = conn.execute(
                "SELECT id, lower_is_better, entry_count FROM competitions WHERE slug = ?", (slug,)
            ).fetchone()
            if row is None:
                raise KagsyncError(f"competition {slug!r} was removed before its sync finished")
            competition_id, lower_is_better, previous = row
            count = _stage_entries(conn, path, lower_is_better=bool(lower_is_better))
            log.info("%s: downloaded %d entries", slug, count)
            self.observer.stage(slug, "writing", f"{count} entries")
            try:
                with dbmod.write_transaction(database):
                    finished_at = now_iso()
                    run_id = conn.execute(
                        """INSERT INTO sync_runs (competition_id, trigger, source, started_at,
                               finished_at, status) VALUES (?, ?, ?, ?, ?, 'ok')""",
                        (competition_id, attempt.trigger, attempt.source, attempt.started_at, finished_at),
                    ).lastrowid
                    changes = _write_board(conn, competition_id, run_id)
                    conn.execute(
                        """UPDATE sync_runs SET entries = ?, created = ?, updated = ?, removed = ?,
                               top_score = ? WHERE id = ?""",
                        (changes.entries, changes.created, changes.updated, changes.removed,
                         changes.top_score, run_id),
                    )
                    conn.execute(
                        """UPDATE competitions SET last_synced_at = ?, last_sync_status = 'ok',
                               last_sync_error = NULL, entry_count = ? WHERE id = ?""",
                        (finished_at, changes.entries, competition_id),
                    )
            finally:
                conn.execute("DROP TABLE IF EXISTS temp.staging_entries")
        log.info(
            "%s: database update created=%d updated=%d removed=%d",
            slug, changes.created, changes.updated, changes.removed,
        )
        outcome = attempt.outcome(
            "ok", finished_at, entries=changes.entries, created=changes.created,
            updated=changes.updated, removed=changes.removed, previous_entries=previous,
            run_id=run_id,
        )
        log.info("%s: sync complete, %d entries in %.2f s", slug, changes.entries, outcome.seconds)
        self.observer.stage(slug, "ok", f"{changes.entries} entries")
        return outcome

    def _record_failure(self, attempt: _Attempt, error: KagsyncError, status: str = "failed") -> SyncOutcome:
        slug = attempt.slug
        message = str(error)
        finished_at = now_iso()
        run_id = None
        try:
            with _connection(self.db_path) as database, dbmod.write_transaction(database):
                row = database.conn.execute(
                    "SELECT id FROM competitions WHERE slug = ?", (slug,)
                ).fetchone()
                if row is not None:
                    run_id = database.conn.execute(
                        """INSERT INTO sync_runs (competition_id, trigger, source, started_at,
                               finished_at, status, error) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                        (row[0], attempt.trigger, attempt.source, attempt.started_at, finished_at,
                         status, message),
                    ).lastrowid
                    database.conn.execute(
                        """UPDATE competitions SET last_synced_at = ?, last_sync_status = ?,
                               last_sync_error = ? WHERE id = ?""",
                        (finished_at, status, message, row[0]),
                    )
        except (KagsyncError, sqlite3.Error) as record_error:
            log.error("%s: could not record the failed run: %s", slug, record_error)
        log.warning("%s: sync %s: %s", slug, status, message)
        self.observer.stage(slug, status, message)
        return attempt.outcome(
            status, finished_at, error=message, previous_entries=attempt.competition.entries,
            run_id=run_id,
        )


class _connection:
    """A short-lived connection for one sync (threads never share connections)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.database: Database | None = None

    def __enter__(self) -> Database:
        self.database = dbmod.connect(self.db_path)
        return self.database

    def __exit__(self, *exc: object) -> None:
        if self.database is not None:
            self.database.conn.close()
