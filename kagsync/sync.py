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

import contextlib
import errno
import hashlib
import logging
import os
import shutil
import sqlite3
import struct
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kagsync import db as dbmod
from kagsync import history
from kagsync.db import Database
from kagsync.errors import (
    CompetitionRemovedError,
    KagsyncError,
    LeaderboardFormatError,
    SourceError,
    StoreError,
    SuspectBoardError,
    SyncBusyError,
    SyncInterruptedError,
)
from kagsync.leaderboard import (
    DEFAULT_MAX_COMPRESSION_RATIO,
    DEFAULT_MAX_UNCOMPRESSED_BYTES,
    iter_leaderboard_rows,
    open_leaderboard_file,
)
from kagsync.models import (
    DEFAULT_JOBS,
    DEFAULT_LOCK_TIMEOUT,
    TRIGGERS,
    Board,
    Competition,
    ErrorKind,
    RunStatus,
    SyncOutcome,
    Trigger,
)
from kagsync.sources import LeaderboardSource, PrivateBoardSource
from kagsync.values import now_iso

if TYPE_CHECKING:
    import filelock

log = logging.getLogger("kagsync.sync")

# Temporary folders are named kagsync-<pid>-<slug>-XXXX, so the next kagsync can tell
# which belong to a process that was killed and remove them.
TEMP_PREFIX = "kagsync-"

NOT_STARTED = "not started: stopping"
"""The error of a queued sync that a stop request kept from starting."""

DEFAULT_MAX_BOARD_SHRINK = 0.5

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
class StopFlag:
    """Asks running and queued syncs to stop; safe to set from a signal handler.

    The first :meth:`request` stops queued syncs from starting and lets running ones
    finish; the second also aborts the running ones at their next check (each
    download chunk, every few thousand parsed rows, before the write).
    """

    stopping: bool = False
    aborting: bool = False

    def request(self) -> None:
        """Stop on the first call, abort on the second."""
        if self.stopping:
            self.aborting = True
        self.stopping = True

    def check(self) -> None:
        """Raise :class:`SyncInterruptedError` once an abort was requested."""
        if self.aborting:
            raise SyncInterruptedError("sync aborted: kagsync was interrupted")


@dataclass(frozen=True)
class SyncLimits:
    """What a sync accepts before it holds a board back as suspect."""

    max_board_shrink: float = DEFAULT_MAX_BOARD_SHRINK
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES
    max_compression_ratio: float = DEFAULT_MAX_COMPRESSION_RATIO


class SyncObserver(Protocol):
    """Receives progress for display; every method may be called from worker threads."""

    def stage(self, slug: str, stage: str, detail: str = "") -> None:
        """stage: queued, waiting, downloading, parsing, writing, ok, failed, skipped."""
        ...

    def download_progress(self, slug: str, received: int, total: int | None) -> None:
        """Bytes received so far for a download."""
        ...

    def parse_progress(self, slug: str, rows: int, fraction: float | None) -> None:
        """Rows parsed so far (every 16,384 rows); ``fraction`` of the file when known."""
        ...


class _SilentObserver:
    def stage(self, slug: str, stage: str, detail: str = "") -> None:
        pass

    def download_progress(self, slug: str, received: int, total: int | None) -> None:
        pass

    def parse_progress(self, slug: str, rows: int, fraction: float | None) -> None:
        pass


# -- the per-competition claim ------------------------------------------------


class CompetitionLock:
    """An exclusive claim on one competition's sync, shared by every process.

    It is a :class:`filelock.FileLock` on ``<database>.locks/<slug>.lock`` (``flock`` on
    POSIX, ``LockFileEx`` on Windows): the operating system releases it when its holder
    exits or crashes, so a dead holder's claim can never outlive it, and two syncs in
    one process (threads) exclude each other too, since each lock object opens its own
    file. The folder is created private (0700); filelock (4.3 and later) opens the file
    without following a symlink and without truncating, so a link planted in the folder
    cannot make kagsync overwrite another file.
    """

    POLL_SECONDS = 0.1

    def __init__(self, db_path: Path, slug: str) -> None:
        self.path = lock_dir(db_path) / f"{slug}.lock"
        self._lock: filelock.BaseFileLock | None = None

    def acquire(
        self,
        timeout: float,
        on_wait: Callable[[], None] | None = None,
        stop: StopFlag | None = None,
    ) -> bool:
        """Take the claim, waiting up to ``timeout`` seconds; False when it stayed taken.

        A stop request while waiting raises :class:`SyncInterruptedError`.
        """
        import filelock  # imported by syncs only: it costs ~40 ms that other commands skip

        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.path.is_symlink():
            raise SyncBusyError(f"{self.path}: is a symbolic link; remove it (kagsync never follows one)")
        if self.path.exists() and not self.path.is_file():
            raise SyncBusyError(f"{self.path}: is not a regular file; remove it")
        lock = filelock.FileLock(str(self.path), thread_local=False)
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                lock.acquire(timeout=0)
            except filelock.Timeout:
                if stop is not None and stop.stopping:
                    raise SyncInterruptedError(
                        "interrupted while waiting for another sync of this competition"
                    ) from None
                if time.monotonic() >= deadline:
                    return False
                if not waited and on_wait is not None:
                    on_wait()
                waited = True
                time.sleep(self.POLL_SECONDS)
                continue
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise SyncBusyError(
                        f"{self.path}: is a symbolic link; remove it (kagsync never follows one)"
                    ) from None
                raise SyncBusyError(f"{self.path}: cannot open the lock file ({exc.strerror})") from None
            self._lock = lock
            return True

    def release(self) -> None:
        """Give the claim back."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def lock_dir(db_path: Path) -> Path:
    """The folder of per-competition lock files beside the database."""
    return db_path.with_name(db_path.name + ".locks")


# -- writing a board ----------------------------------------------------------


PARSER_VERSION = 1
"""Part of each applied board's content key (``sync_runs.content_digest``): bump it
whenever the same file would now be parsed into different rows, so that a board
downloaded unchanged is parsed again once after an upgrade."""


@dataclass
class BoardChanges:
    """Counts of one board write."""

    entries: int
    created: int
    updated: int
    removed: int
    top_score: str | None


class _Timings:
    """Wall-clock seconds of a sync's stages, logged at its end (the benchmark reads them)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._clock = time.perf_counter()

    def lap(self, stage: str) -> None:
        """Close ``stage``: the time since the previous lap is added to it."""
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._clock
        self._clock = now

    def text(self) -> str:
        return ", ".join(f"{stage} {seconds:.3f} s" for stage, seconds in self.seconds.items())


# Page caches of the sync connection (it is closed after one sync). The board is
# staged in file order (appended: little cache needed) and sorted once by TeamId, with
# the main cache's size as the sorter's working memory; after that every pass reads
# in sequence. A million-team sync stays near 110-140 MB.
_STAGING_CACHE_KIB = 16 * 1024
_KEYED_CACHE_KIB = 40 * 1024
_MAIN_CACHE_KIB = 32 * 1024
# For a re-sync, a CSV of at most this many bytes is staged straight into a table
# keyed by TeamId (it fits the cache: no sort needed later); a bigger one, and any
# first sync, is appended and sorted once, which is faster (see _key_staging).
_KEYED_STAGING_BYTES = 24 << 20


_SAMPLE_EVERY_ROWS = 1 << 9
_CHECK_EVERY_ROWS = 1 << 14

# SQLite's primary result codes for "disk full" and "I/O error".
_SQLITE_FULL = 13
_SQLITE_IOERR = 10


class _ParseProgress:
    """Rows parsed so far, with an estimate of the share of the file they make.

    The parser does not say how many bytes it has read: the share is estimated from the
    size of the CSV and the mean size of the rows seen at each report (one row in
    16,384, so the hot loop pays nothing).
    """

    def __init__(self, slug: str, path: Path, report: Callable[[str, int, float | None], None]) -> None:
        self.slug = slug
        self.report = report
        self.total = _csv_bytes(path)
        self.sampled = 0
        self.sample_bytes = 0

    def sample(self, row: tuple[object, ...]) -> None:
        """Measure one row: about its text in the file (its fields, not the float kagsync
        adds nor the JSON brackets around the members, joined by commas, the date quoted)."""
        rank, team_id, name, score, _, last, count, members, _ = row
        self.sample_bytes += (
            len(str(rank))
            + len(str(team_id))
            + len(str(name))
            + len(str(score))
            + len(str(last or ""))
            + 2
            + len(str(count))
            + max(0, len(str(members)) - 2)
            + 7
        )
        self.sampled += 1

    def __call__(self, rows: int) -> None:
        fraction = None
        if self.total and self.sampled:
            fraction = min(0.99, rows * (self.sample_bytes / self.sampled) / self.total)
        self.report(self.slug, rows, fraction)


def _csv_bytes(path: Path) -> int | None:
    """The size of the leaderboard's CSV text (inside its zip, for a zip), or None."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                sizes = [info.file_size for info in archive.infolist() if info.filename.lower().endswith(".csv")]
            return max(sizes) if sizes else None
        return path.stat().st_size
    except (OSError, zipfile.BadZipFile):
        return None


def _checked(
    rows: Iterable[tuple[object, ...]],
    stop: StopFlag | None,
    progress: _ParseProgress | None = None,
) -> Iterator[tuple[object, ...]]:
    """The rows, with an abort check (and a progress report) every few thousand: a big
    board parses for seconds. One row in 512 is measured for the progress estimate."""
    if stop is None and progress is None:
        yield from rows
        return
    for number, row in enumerate(rows):
        if not number & (_SAMPLE_EVERY_ROWS - 1):
            if progress is not None:
                progress.sample(row)
            if not number & (_CHECK_EVERY_ROWS - 1):
                if stop is not None:
                    stop.check()
                if progress is not None and number:
                    progress(number)
        yield row


def sqlite_temp_dir() -> str:
    """The folder where SQLite puts its temporary files (as its Unix VFS picks it)."""
    for candidate in (os.environ.get("SQLITE_TMPDIR"), os.environ.get("TMPDIR"), "/var/tmp", "/usr/tmp", "/tmp"):
        if candidate and os.path.isdir(candidate) and os.access(candidate, os.W_OK | os.X_OK):
            return candidate
    return "."


def _storage_error(exc: sqlite3.Error, where: str) -> KagsyncError | None:
    """A one-line error for a full or failing disk, or None for any other SQLite error.

    ``where``: ``temp`` (the staging copy, in SQLite's temporary folder) or a database path.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    full = primary == _SQLITE_FULL or "database or disk is full" in text
    failing = primary == _SQLITE_IOERR or "disk I/O error" in text
    if not (full or failing):
        return None
    if where == "temp":
        folder = sqlite_temp_dir()
        if full:
            return StoreError(
                f"disk full: the temporary copy of the board does not fit in {folder} "
                "(set SQLITE_TMPDIR or TMPDIR to a folder with more room); the stored board is unchanged"
            )
        return StoreError(
            f"cannot write the temporary copy of the board in {folder} ({text}); the stored board is unchanged"
        )
    folder = str(Path(where).parent)
    if full:
        return StoreError(f"disk full: cannot write the database in {folder}; the stored board is unchanged")
    return StoreError(f"cannot write the database in {folder} ({text}); the stored board is unchanged")


_STAGING_TABLE = """CREATE TEMP TABLE staging_entries (
    {key}, rank INTEGER NOT NULL, team_name TEXT NOT NULL,
    score TEXT NOT NULL, score_value REAL, last_submission TEXT,
    submission_count INTEGER NOT NULL, members TEXT NOT NULL, is_benchmark INTEGER NOT NULL
)"""


def _stage_entries(
    conn: sqlite3.Connection,
    path: Path,
    *,
    lower_is_better: bool,
    stop: StopFlag | None = None,
    limits: SyncLimits | None = None,
    progress: _ParseProgress | None = None,
    keyed: bool = False,
) -> int:
    """Parse the file into TEMP.staging_entries; returns the number of teams.

    ``keyed``: into a table keyed by TeamId (the order of ``entries``' key, for the
    diff); else appended in file order, which is about twice as fast at a million
    teams (TeamIds are random in the file: a keyed insert then misses the cache on
    nearly every row and spills to the temporary file); such rows are sorted once,
    when they are written or diffed. A full temporary folder is a one-line
    :class:`StoreError`; nothing in the shared database has changed then.
    """
    conn.execute(f"PRAGMA temp.cache_size = -{_KEYED_CACHE_KIB if keyed else _STAGING_CACHE_KIB}")
    conn.execute(f"PRAGMA main.cache_size = -{_MAIN_CACHE_KIB}")
    conn.execute("DROP TABLE IF EXISTS temp.staging_entries")
    conn.execute(_STAGING_TABLE.format(key="team_id INTEGER PRIMARY KEY" if keyed else "team_id INTEGER NOT NULL"))
    limits = limits or SyncLimits()
    # Only the temp schema is written here, so this transaction takes no lock on the
    # shared database: other processes keep writing while a big board is parsed.
    with _parsing_turn(stop):
        conn.execute("BEGIN")
        try:
            # Plain tuples of exact ints/floats/strings: sqlite3 binds them without its
            # per-value adapter lookup (see iter_leaderboard_rows).
            conn.executemany(
                "INSERT INTO temp.staging_entries (rank, team_id, team_name, score, score_value,"
                " last_submission, submission_count, members, is_benchmark)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _checked(
                    iter_leaderboard_rows(
                        path,
                        lower_is_better=lower_is_better,
                        max_uncompressed_bytes=limits.max_uncompressed_bytes,
                        max_compression_ratio=limits.max_compression_ratio,
                    ),
                    stop,
                    progress,
                ),
            )
            conn.execute("COMMIT")
        except BaseException as exc:
            # SQLite rolls back by itself after some errors (a full disk among them):
            # a second ROLLBACK would fail with "no transaction is active" and hide why.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.IntegrityError):
                raise LeaderboardFormatError(f"{path.name}: the same TeamId appears twice") from None
            if isinstance(exc, sqlite3.Error):
                problem = _storage_error(exc, "temp")
                if problem is not None:
                    raise problem from None
            raise
    return int(conn.execute("SELECT count(*) FROM temp.staging_entries").fetchone()[0])


_PARSING = threading.Lock()


@contextlib.contextmanager
def _parsing_turn(stop: StopFlag | None) -> Iterator[None]:
    """One parse at a time in a process. Parsing is Python holding the GIL, and the
    staging insert gives the GIL up and takes it back for every row: two threads
    parsing at once hand it back and forth, which cost twice the CPU (and more wall
    time on two cores) than taking turns. Downloads and the SQL of other syncs still
    run beside a parse."""
    while not _PARSING.acquire(timeout=0.1):
        if stop is not None:
            stop.check()
    try:
        yield
    finally:
        _PARSING.release()


_DIFFERS = " OR ".join(f"entries.{col} IS NOT excluded.{col}" for col in _ENTRY_COLUMNS[1:])
_STAGED_DIFFERS = " OR ".join(f"e.{col} IS NOT s.{col}" for col in _ENTRY_COLUMNS[1:])
_COLUMNS = ", ".join(_ENTRY_COLUMNS)
_S_COLUMNS = ", ".join(f"s.{col}" for col in _ENTRY_COLUMNS)
_ASSIGNMENTS = ", ".join(f"{col} = excluded.{col}" for col in _ENTRY_COLUMNS[1:])


@dataclass
class _Plan:
    """What applying the staged board will write, prepared before the write lock."""

    first: bool
    """Nothing stored: every staged team is inserted, no diff, no change records."""
    entries: int
    created: int = 0
    delta: bytes | None = None
    keyframe: bytes | None = None
    frame: bool = False
    passive: bool = False
    """Write rows for teams that only moved (notification targets exist to read them)."""


def _prepare_board(
    conn: sqlite3.Connection, competition_id: int, board: Board, entries: int, *, keyed: bool = False
) -> _Plan:
    """Diff the staged board against the stored one, outside any write transaction.

    This sync holds the competition's claim, so nothing else writes this board until
    it is applied (a removal of the competition is caught inside the write). Leaves
    TEMP.staging_diff (new and differing teams, with their stored values),
    TEMP.staging_removed and TEMP.staging_changes (the change records), and the rank
    frame in the plan. A first sync writes no change records: its keyframe says which
    teams the board started with.
    """
    params: dict[str, object] = {"cid": competition_id, "board": board}
    stored = conn.execute(
        "SELECT 1 FROM entries WHERE competition_id = :cid AND board = :board LIMIT 1", params
    ).fetchone()
    if stored is None:
        plan = _Plan(first=True, entries=entries, created=entries, frame=entries > 0)
        if plan.frame:  # in file order: no sort needed
            plan.keyframe = history.encode_keyframe(conn.execute("SELECT team_id, rank FROM temp.staging_entries"))
        return plan
    if not keyed:
        _key_staging(conn)
    for name in ("staging_diff", "staging_removed", "staging_changes", "staging_passive"):
        conn.execute(f"DROP TABLE IF EXISTS temp.{name}")
    passive = conn.execute("SELECT 1 FROM notify_targets LIMIT 1").fetchone() is not None
    conn.execute("BEGIN")
    try:
        # New teams (no stored row) and teams whose stored row differs in any column,
        # with the stored values the change records need.
        conn.execute(
            f"""CREATE TEMP TABLE staging_diff AS
                SELECT s.team_id AS team_id, e.team_id IS NULL AS is_new, e.rank AS previous_rank,
                       e.score AS previous_score, e.team_name AS previous_name,
                       e.submission_count AS previous_count
                FROM temp.staging_entries s
                LEFT JOIN entries e ON e.competition_id = :cid AND e.board = :board AND e.team_id = s.team_id
                WHERE e.team_id IS NULL OR {_STAGED_DIFFERS}""",
            params,
        )
        conn.execute(
            """CREATE TEMP TABLE staging_removed AS
               SELECT e.team_id AS team_id, e.rank AS rank, e.score AS score, e.team_name AS team_name
               FROM entries e
               WHERE e.competition_id = :cid AND e.board = :board
                 AND NOT EXISTS (SELECT 1 FROM temp.staging_entries s WHERE s.team_id = e.team_id)""",
            params,
        )
        # What each team did itself: appeared, or changed its score, name or submission
        # count; left. A rank that moved only because others passed is in the frame.
        conn.execute(
            """CREATE TEMP TABLE staging_changes AS
               SELECT s.team_id AS team_id, CASE WHEN d.is_new THEN 'new' ELSE 'changed' END AS kind,
                      s.team_name AS team_name,
                      CASE WHEN d.previous_name IS NOT s.team_name THEN d.previous_name END AS previous_team_name,
                      s.rank AS rank, d.previous_rank AS previous_rank, s.score AS score,
                      d.previous_score AS previous_score, s.submission_count AS submission_count
               FROM temp.staging_diff d CROSS JOIN temp.staging_entries s
               WHERE s.team_id = d.team_id
                 AND (d.is_new OR d.previous_score IS NOT s.score OR d.previous_name IS NOT s.team_name
                      OR d.previous_count IS NOT s.submission_count)
               UNION ALL
               SELECT team_id, 'removed', team_name, NULL, NULL, rank, NULL, score, NULL
               FROM temp.staging_removed"""
        )
        # Teams that only moved because others passed them: kept for this board's latest
        # run only, marked passive, when notification targets exist to read them.
        conn.execute(
            f"""CREATE TEMP TABLE staging_passive AS
               SELECT s.team_id AS team_id, s.team_name AS team_name, s.rank AS rank,
                      d.previous_rank AS previous_rank, s.score AS score, s.submission_count AS submission_count
               FROM temp.staging_diff d CROSS JOIN temp.staging_entries s
               WHERE s.team_id = d.team_id AND NOT d.is_new AND d.previous_rank IS NOT s.rank
                 AND d.previous_score IS s.score AND d.previous_name IS s.team_name
                 AND d.previous_count IS s.submission_count AND {int(passive)}"""
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    added = dict(
        conn.execute(
            "SELECT d.team_id, s.rank FROM temp.staging_diff d CROSS JOIN temp.staging_entries s"
            " WHERE s.team_id = d.team_id AND d.is_new"
        )
    )
    removed = dict(conn.execute("SELECT team_id, rank FROM temp.staging_removed"))
    moved: dict[int, tuple[int, int]] = {}
    movers: list[int] = []
    for team_id, before, after, own in conn.execute(
        """SELECT d.team_id, d.previous_rank, s.rank, d.previous_score IS NOT s.score
           FROM temp.staging_diff d CROSS JOIN temp.staging_entries s
           WHERE s.team_id = d.team_id AND NOT d.is_new AND d.previous_rank IS NOT s.rank"""
    ):
        moved[team_id] = (before, after)
        if own:
            movers.append(team_id)
    created = len(added)
    plan = _Plan(first=False, entries=entries, created=created)
    if not (added or removed or moved):
        return plan

    def old_order(lo: int, hi: int) -> Iterator[tuple[int, int]]:
        return conn.execute(
            """SELECT team_id, rank FROM entries WHERE competition_id = ? AND board = ?
               AND rank BETWEEN ? AND ? ORDER BY rank, team_id""",
            (competition_id, board, lo, hi),
        )

    delta = history.build_delta(added=added, removed=removed, moved=moved, movers=movers, old_order=old_order)
    plan.frame = True
    plan.passive = passive
    plan.delta = history.encode_delta(delta)
    if entries and history.keyframe_due(conn, competition_id, board, len(plan.delta)):
        plan.keyframe = history.encode_keyframe(
            conn.execute("SELECT team_id, rank FROM temp.staging_entries ORDER BY team_id")
        )
    return plan


def _key_staging(conn: sqlite3.Connection) -> None:
    """Copy the staged rows, sorted, into a table keyed by TeamId (the order of
    ``entries``' key): the diff then reads both in sequence. (At a million teams,
    append and sort: 13.4 s for a 1%-changed re-sync at 108 MB; inserting by TeamId
    while parsing: 16.1 s at 168 MB. At 20,000 the keyed insert is cheaper.)"""
    conn.execute("ALTER TABLE temp.staging_entries RENAME TO staging_unsorted")
    conn.execute(_STAGING_TABLE.format(key="team_id INTEGER PRIMARY KEY"))
    conn.execute("BEGIN")
    try:
        conn.execute(
            f"INSERT INTO temp.staging_entries ({_COLUMNS}) SELECT {_COLUMNS} FROM temp.staging_unsorted ORDER BY team_id"
        )
        conn.execute("DROP TABLE temp.staging_unsorted")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _write_board(conn: sqlite3.Connection, competition_id: int, run_id: int, board: Board, plan: _Plan) -> BoardChanges:
    """Apply the prepared board; the caller holds the write transaction.

    A first sync inserts every team in TeamId order, the order of ``entries``' key. A
    re-sync writes this run's change records, deletes the teams that left and upserts
    only the new or differing teams (TEMP.staging_diff): an identical board writes no
    entry row. The rank frame goes in last.
    """
    params: dict[str, object] = {"cid": competition_id, "run": run_id, "board": board}
    created = updated = removed = 0
    if plan.first:
        created = conn.execute(
            f"""INSERT INTO entries (competition_id, board, {_COLUMNS})
                SELECT :cid, :board, {_COLUMNS} FROM temp.staging_entries ORDER BY team_id""",
            params,
        ).rowcount
    else:
        conn.execute(
            """INSERT INTO entry_changes (run_id, competition_id, team_id, kind, team_name,
                   previous_team_name, rank, previous_rank, score, previous_score, submission_count)
               SELECT :run, :cid, team_id, kind, team_name, previous_team_name, rank, previous_rank,
                      score, previous_score, submission_count
               FROM temp.staging_changes ORDER BY team_id""",
            params,
        )
        if plan.frame:
            # The passive rows of the board's previous latest run give way to this run's.
            conn.execute(
                """DELETE FROM entry_changes WHERE passive AND run_id =
                       (SELECT max(run_id) FROM rank_frames WHERE competition_id = :cid AND board = :board)""",
                params,
            )
        if plan.frame and plan.passive:
            conn.execute(
                """INSERT INTO entry_changes (run_id, competition_id, team_id, kind, team_name, rank,
                       previous_rank, score, previous_score, submission_count, passive)
                   SELECT :run, :cid, team_id, 'changed', team_name, rank, previous_rank, score, score,
                          submission_count, 1
                   FROM temp.staging_passive ORDER BY team_id""",
                params,
            )
        removed = conn.execute(
            """DELETE FROM entries WHERE competition_id = :cid AND board = :board
                   AND team_id IN (SELECT team_id FROM temp.staging_removed)""",
            params,
        ).rowcount
        # "WHERE ..." rather than "JOIN ... ON": SQLite's parser would read ON CONFLICT
        # as a join constraint. DO UPDATE ... WHERE stays as a guard: only differing
        # rows are in staging_diff anyway.
        upserted = conn.execute(
            f"""INSERT INTO entries (competition_id, board, {_COLUMNS})
                SELECT :cid, :board, {_S_COLUMNS}
                FROM temp.staging_diff d CROSS JOIN temp.staging_entries s
                WHERE s.team_id = d.team_id
                ON CONFLICT (competition_id, board, team_id) DO UPDATE SET {_ASSIGNMENTS}
                WHERE {_DIFFERS}""",
            params,
        ).rowcount
        created = plan.created
        updated = upserted - created
    if plan.frame:
        conn.execute(
            """INSERT INTO rank_frames (run_id, competition_id, board, teams, delta, keyframe)
               VALUES (:run, :cid, :board, :teams, :delta, :keyframe)""",
            {**params, "teams": plan.entries, "delta": plan.delta, "keyframe": plan.keyframe},
        )
    # The board now equals the staged rows: its rank index finds the top at once.
    top = conn.execute(
        """SELECT score FROM entries WHERE competition_id = :cid AND board = :board AND rank >= 1
           ORDER BY rank, team_id LIMIT 1""",
        params,
    ).fetchone()
    return BoardChanges(plan.entries, created, updated, removed, top[0] if top else None)


def _drop_staging(conn: sqlite3.Connection) -> None:
    for name in ("staging_entries", "staging_diff", "staging_removed", "staging_changes", "staging_passive"):
        conn.execute(f"DROP TABLE IF EXISTS temp.{name}")


# -- the content key of a download ------------------------------------------------


def content_key(digest: str, lower_is_better: bool) -> str:
    """What makes two downloads parse into the same board: the CSV's SHA-256, the
    parser's version and the metric direction (shapes A and B rank by it)."""
    return f"sha256:{digest};parser:{PARSER_VERSION};{'lower' if lower_is_better else 'higher'}"


def _rekeyed(key: str | None, lower_is_better: bool) -> str | None:
    """The key of the same CSV under today's parser version and direction."""
    if not key or not key.startswith("sha256:"):
        return None
    return content_key(key.split(";", 1)[0][len("sha256:") :], lower_is_better)


def _key_part(stored: str | None) -> str | None:
    return stored.split(";member:", 1)[0] if stored else None


def _member_part(stored: str | None) -> str | None:
    return stored.split(";member:", 1)[1] if stored and ";member:" in stored else None


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # a zip member's local file header


def _zip_member_fingerprint(path: Path) -> str | None:
    """The zip's one CSV as its directory and compressed bytes give it, without
    decompressing: ``crc32/size/method/sha256 of the compressed bytes``.

    Equal fingerprints mean equal content (the same compressed bytes inflate to the
    same CSV), so an unchanged download is told at the cost of hashing the zip. Only
    an equal CRC and size with other compressed bytes needs the CSV's own digest.
    None for a plain CSV or a zip that is not one CSV (the CSV digest decides then).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = [
                info
                for info in archive.infolist()
                if info.filename.lower().endswith(".csv") and not info.filename.startswith("__MACOSX/")
            ]
            if len(members) != 1:
                return None
            info = members[0]
            with open(path, "rb") as raw:
                raw.seek(info.header_offset)
                header = _LOCAL_HEADER.unpack(raw.read(_LOCAL_HEADER.size))
                if header[0] != b"PK\x03\x04":
                    return None
                raw.seek(header[-2] + header[-1], os.SEEK_CUR)  # the name and extra fields
                digest = hashlib.sha256()
                left = info.compress_size
                while left > 0 and (chunk := raw.read(min(left, 1 << 20))):
                    digest.update(chunk)
                    left -= len(chunk)
    except (OSError, zipfile.BadZipFile, ValueError, NotImplementedError, EOFError, struct.error):
        return None
    return f"{info.CRC:08x}/{info.file_size}/{info.compress_type}/{digest.hexdigest()}"


def _csv_size(path: Path, member: str | None) -> int:
    """The CSV's size: a zip member's from its fingerprint, a plain file's own."""
    if member is not None:
        return int(member.split("/")[1])
    try:
        size = path.stat().st_size
    except OSError:
        return 0
    return size if not zipfile.is_zipfile(path) else size * 3  # an unusual zip: deflate ~3:1


def _same_crc(member: str | None, stored: str | None) -> bool:
    """Whether two fingerprints name the same CRC-32 and size (or cannot tell)."""
    if member is None or stored is None:
        return True
    return member.split("/")[:2] == stored.split("/")[:2]


def _csv_digest(path: Path, limits: SyncLimits) -> str | None:
    """SHA-256 of the CSV's bytes (a zip's leaderboard member, or the file itself);
    None when the file cannot be read (the parser then says why)."""
    try:
        _, stream = open_leaderboard_file(
            path,
            max_uncompressed_bytes=limits.max_uncompressed_bytes,
            max_compression_ratio=limits.max_compression_ratio,
        )
    except (OSError, KagsyncError, ValueError):
        return None
    digest = hashlib.sha256()
    try:
        with stream:
            binary = stream.buffer  # the CSV bytes under the text layer
            while chunk := binary.read(1 << 20):
                digest.update(chunk)
    except Exception:  # noqa: BLE001 - a damaged file: no key, the parser reports it
        return None
    return digest.hexdigest()


def _stored_key(key: str | None, member: str | None) -> str | None:
    """What ``sync_runs.content_digest`` holds: the content key, then the zip member's
    CRC-32 and size when the download was a zip."""
    if key is None:
        return None
    return f"{key};member:{member}" if member else key


def _join_public_details(conn: sqlite3.Connection, competition_id: int) -> None:
    """Give a private board the members and submission counts of the public one.

    Kaggle's paged private board has neither; a team keeps what its private file
    gave (members, counts) and gets the rest from its public row by team id.
    """
    conn.execute("BEGIN")
    conn.execute(
        """UPDATE temp.staging_entries SET
               members = CASE WHEN members = '[]' THEN coalesce(
                   (SELECT e.members FROM entries e WHERE e.competition_id = :cid AND e.board = 'public'
                    AND e.team_id = staging_entries.team_id), '[]') ELSE members END,
               submission_count = CASE WHEN submission_count = 0 THEN coalesce(
                   (SELECT e.submission_count FROM entries e WHERE e.competition_id = :cid AND e.board = 'public'
                    AND e.team_id = staging_entries.team_id), 0) ELSE submission_count END""",
        {"cid": competition_id},
    )
    conn.execute("COMMIT")


# -- suspect boards -------------------------------------------------------------


def _suspect_reason(
    conn: sqlite3.Connection, competition_id: int, board: Board, staged: int, max_shrink: float
) -> str | None:
    """Why a staged board should not replace the stored one, or None when it may.

    Kaggle has served empty boards and boards with one score for every team (kaggle-cli
    issue 584); a cut download can look like a shorter board. Each would wipe a good
    board, so such a board is held until ``sync --force`` applies it.
    """
    stored = int(
        conn.execute(
            "SELECT count(*) FROM entries WHERE competition_id = ? AND board = ?", (competition_id, board)
        ).fetchone()[0]
    )
    if stored == 0:
        return None
    if staged == 0:
        return f"the new board is empty while {stored:,} teams are stored"
    if staged < stored * (1 - max_shrink):
        return (
            f"the new board has {staged:,} teams, {stored - staged:,} fewer than the {stored:,} stored "
            f"(more than max_board_shrink = {max_shrink:g} of them)"
        )
    if staged > 1:
        new_scores = conn.execute("SELECT count(DISTINCT score) FROM temp.staging_entries WHERE rank > 0").fetchone()[0]
        if new_scores == 1:
            old_scores = conn.execute(
                "SELECT count(DISTINCT score) FROM entries WHERE competition_id = ? AND board = ? AND rank > 0",
                (competition_id, board),
            ).fetchone()[0]
            if old_scores > 1:
                return "every team of the new board has the same score, unlike the stored board"
    return None


# -- the sync service -------------------------------------------------------------


@dataclass
class _Attempt:
    """One sync attempt in progress: what its run record and outcome are made of."""

    competition: Competition
    trigger: Trigger
    source: str
    started_at: str
    clock: float
    board: Board = "public"
    run_id: int | None = None

    @property
    def slug(self) -> str:
        return self.competition.slug

    def outcome(self, status: RunStatus, finished_at: str, **details: object) -> SyncOutcome:
        """The outcome of this attempt, timed from its start."""
        return SyncOutcome(
            competition=self.slug,
            trigger=self.trigger,
            source=self.source,
            status=status,
            started_at=self.started_at,
            finished_at=finished_at,
            seconds=time.monotonic() - self.clock,
            run_id=self.run_id,
            board=self.board,
            **details,  # type: ignore[arg-type]
        )


def _insert_running_run(conn: sqlite3.Connection, attempt: _Attempt) -> int | None:
    """Record the attempt as a ``running`` run (caller holds the write transaction)."""
    return conn.execute(
        """INSERT INTO sync_runs (competition_id, board, trigger, source, started_at, status, pid)
           VALUES (?, ?, ?, ?, ?, 'running', ?)""",
        (attempt.competition.id, attempt.board, attempt.trigger, attempt.source, attempt.started_at, os.getpid()),
    ).lastrowid


class Syncer:
    """Syncs competitions from one source into one database file.

    Each sync opens its own connection, so syncs of different competitions run in
    parallel threads (``sync_many``) and in parallel processes alike. ``stop`` is
    shared with whoever handles Ctrl-C/SIGTERM (see :class:`StopFlag`).
    """

    def __init__(
        self,
        db_path: Path,
        source: LeaderboardSource,
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        observer: SyncObserver | None = None,
        jobs: int = DEFAULT_JOBS,
        limits: SyncLimits | None = None,
        stop: StopFlag | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        self.source = source
        self.lock_timeout = lock_timeout
        self.observer: SyncObserver = observer or _SilentObserver()
        self.jobs = jobs
        self.limits = limits or SyncLimits()
        self.stop = stop or StopFlag()

    def __call__(self, due: Sequence[tuple[Competition, Trigger]]) -> list[SyncOutcome]:
        """The repository's sync hook."""
        return self.sync_many(due)

    def sync_many(
        self, due: Sequence[tuple[Competition, Trigger]], *, jobs: int | None = None, force: bool = False
    ) -> list[SyncOutcome]:
        """Sync several competitions, up to ``jobs`` at a time; outcomes in input order.

        Workers are daemon threads: once an abort is requested the process can exit
        without waiting for a sync stuck in a network read (its run is then marked
        ``interrupted`` by the next kagsync that opens the database).
        """
        jobs = max(1, min(jobs or self.jobs, len(due) or 1))
        for competition, _ in due:
            self.observer.stage(competition.slug, "queued")
            log.info("%s: queued", competition.slug)
        if jobs == 1 or len(due) <= 1:
            return [self.sync(competition, trigger, force=force) for competition, trigger in due]
        outcomes: list[SyncOutcome | None] = [None] * len(due)
        queue = list(enumerate(due))
        lock = threading.Lock()
        failures: list[BaseException] = []

        def work() -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    index, (competition, trigger) = queue.pop(0)
                try:
                    outcomes[index] = self.sync(competition, trigger, force=force)
                except BaseException as error:  # noqa: BLE001  (re-raised in the calling thread)
                    failures.append(error)
                    return

        threads = [threading.Thread(target=work, name=f"kagsync-sync-{n}", daemon=True) for n in range(jobs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.1)
        if failures:
            raise failures[0]
        return [outcome for outcome in outcomes if outcome is not None]

    def sync(
        self, competition: Competition, trigger: Trigger, *, force: bool = False, board: Board = "public"
    ) -> SyncOutcome:
        """Sync one competition; never raises for a sync problem, returns the outcome.

        ``force`` applies a board that would be held back as suspect.
        """
        if trigger not in TRIGGERS:
            raise ValueError(f"unknown sync trigger {trigger!r}")
        slug = competition.slug
        attempt = _Attempt(competition, trigger, self.source.describe(slug), now_iso(), time.monotonic(), board)
        if self.stop.stopping:
            self.observer.stage(slug, "interrupted", "not started: stopping")
            log.info("%s: not started, stopping", slug)
            return attempt.outcome(
                "interrupted",
                attempt.started_at,
                error=NOT_STARTED,
                error_kind="interrupted",
                previous_entries=competition.entry_count,
            )
        log.info("%s: sync started (trigger %s, source %s)", slug, trigger, attempt.source)
        claim = CompetitionLock(self.db_path, slug)

        def waiting() -> None:
            self.observer.stage(slug, "waiting", "another sync of this competition is running")
            log.info("%s: waiting for another sync of this competition to finish", slug)

        workdir: Path | None = None
        claimed = False
        try:
            log.debug("%s: claiming %s (waiting up to %g s)", slug, claim.path, self.lock_timeout)
            claimed = claim.acquire(self.lock_timeout, on_wait=waiting, stop=self.stop)
            if not claimed:
                error = SyncBusyError(f"another sync of {slug!r} was still running after {self.lock_timeout:g} s")
                return self._record_failure(attempt, error, "skipped")
            self._start_run(attempt)
            workdir = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-{slug}-"))
            return self._sync_claimed(attempt, workdir, force=force)
        except SyncInterruptedError as error:
            return self._record_failure(attempt, error, "interrupted")
        except SuspectBoardError as error:
            return self._record_failure(attempt, error, "held")
        except KagsyncError as error:
            return self._record_failure(attempt, error)
        except KeyboardInterrupt:
            self._record_failure(attempt, SyncInterruptedError("sync interrupted (Ctrl-C)"), "interrupted")
            raise
        except Exception as error:  # a bug must not take down watch or a parallel import
            log.exception("%s: unexpected error", slug)
            wrapped = KagsyncError(f"unexpected error: {type(error).__name__} (details in the log)")
            return self._record_failure(attempt, wrapped)
        finally:
            if workdir is not None:
                shutil.rmtree(workdir, ignore_errors=True)
            if claimed:
                claim.release()

    def record_failure(self, competition: Competition, trigger: Trigger, error: KagsyncError) -> SyncOutcome:
        """Record a failed run for a competition that could not even start its sync.

        ``watch`` uses it so that a problem with one competition (a bad stored date,
        an unexpected error) is that competition's failed run, not the tick's.
        """
        attempt = _Attempt(competition, trigger, self.source.describe(competition.slug), now_iso(), time.monotonic())
        return self._record_failure(attempt, error)

    def _start_run(self, attempt: _Attempt) -> None:
        """Write the run as ``running`` before any work, so that every attempt is recorded."""
        with _connection(self.db_path) as database, dbmod.write_transaction(database):
            conn = database.conn
            row = conn.execute(
                "SELECT id FROM competitions WHERE id = ? AND slug = ?", (attempt.competition.id, attempt.slug)
            ).fetchone()
            if row is None:
                raise CompetitionRemovedError(f"competition {attempt.slug!r} was removed before its sync started")
            attempt.run_id = _insert_running_run(conn, attempt)
            conn.execute(
                "UPDATE competitions SET last_attempt_at = ? WHERE id = ?", (attempt.started_at, attempt.competition.id)
            )

    def _sync_claimed(self, attempt: _Attempt, workdir: Path, *, force: bool) -> SyncOutcome:
        slug = attempt.slug
        competition_id = attempt.competition.id
        timings = _Timings()
        path = self._fetch(attempt, workdir)
        timings.lap("download")
        self.stop.check()
        with _connection(self.db_path) as database:
            conn = database.conn
            # The competition may have been edited (direction) since it was queued.
            row = conn.execute(
                "SELECT lower_is_better, entry_count FROM competitions WHERE id = ?", (competition_id,)
            ).fetchone()
            if row is None:
                raise CompetitionRemovedError(f"competition {slug!r} was removed during the sync")
            lower = bool(row[0])
            previous: int | None = row[1]
            last = conn.execute(
                """SELECT id, content_digest, entries, top_score FROM sync_runs
                   WHERE competition_id = ? AND board = ? AND status = 'ok' ORDER BY id DESC LIMIT 1""",
                (competition_id, attempt.board),
            ).fetchone()
            member = _zip_member_fingerprint(path)
            key: str | None = None
            # The same content as the board applied last: nothing to parse. The same
            # compressed bytes are the same content; another CRC-32 or size is another
            # content; an equal CRC is confirmed by the CSV's SHA-256.
            if not force and attempt.board == "public" and last is not None and last[1]:
                stored_key, stored_member = _key_part(last[1]), _member_part(last[1])
                if member is not None and member == stored_member and stored_key == _rekeyed(stored_key, lower):
                    key = stored_key
                elif _same_crc(member, stored_member):
                    digest = _csv_digest(path, self.limits)
                    key = content_key(digest, lower) if digest else None
                timings.lap("digest")
                if key is not None and key == stored_key:
                    return self._record_unchanged(database, attempt, last, key, member, previous, timings)
            changes, finished_at = self._apply(
                database,
                attempt,
                path,
                lower=lower,
                force=force,
                key=key,
                member=member,
                timings=timings,
            )
        log.info(
            "%s: database update created=%d updated=%d removed=%d",
            slug,
            changes.created,
            changes.updated,
            changes.removed,
        )
        log.info("%s: timings: %s", slug, timings.text())
        outcome = attempt.outcome(
            "ok",
            finished_at,
            entries=changes.entries,
            created=changes.created,
            updated=changes.updated,
            removed=changes.removed,
            previous_entries=previous,
            top_score=changes.top_score,
        )
        log.info("%s: sync complete, %d entries in %.2f s", slug, changes.entries, outcome.seconds)
        self.observer.stage(slug, "ok", f"{changes.entries} entries")
        return outcome

    def _fetch(self, attempt: _Attempt, workdir: Path) -> Path:
        slug = attempt.slug
        self.observer.stage(slug, "downloading", attempt.source)
        log.info("%s: downloading from %s", slug, attempt.source)

        def progress(received: int, total: int | None) -> None:
            self.stop.check()
            self.observer.download_progress(slug, received, total)

        if attempt.board == "private":
            if not isinstance(self.source, PrivateBoardSource):
                raise SourceError(f"{attempt.source} cannot serve a private leaderboard")
            private = self.source.fetch_private(slug, workdir)
            if private is None:
                raise SourceError(f"the private leaderboard of {slug!r} is not released yet")
            return private
        return self.source.fetch(slug, workdir, progress)

    def _apply(
        self,
        database: Database,
        attempt: _Attempt,
        path: Path,
        *,
        lower: bool,
        force: bool,
        key: str | None,
        member: str | None,
        timings: _Timings,
    ) -> tuple[BoardChanges, str]:
        """Parse, check and diff the download outside any lock, then apply it in one write."""
        conn = database.conn
        slug = attempt.slug
        competition_id = attempt.competition.id
        # A first sync has nothing to diff: append, and sort once when writing.
        stored = conn.execute(
            "SELECT 1 FROM entries WHERE competition_id = ? AND board = ? LIMIT 1", (competition_id, attempt.board)
        ).fetchone()
        keyed = stored is not None and _csv_size(path, member) <= _KEYED_STAGING_BYTES
        if key is None:
            # Not beside the parse in a thread: the parse gives the GIL up and takes it
            # back for every row, and a second thread wanting it made a million-team
            # parse 40% slower than this inflate-and-hash costs on its own.
            digest = _csv_digest(path, self.limits)
            key = content_key(digest, lower) if digest else None
            timings.lap("digest")
        self.observer.stage(slug, "parsing", path.name)
        try:
            try:
                count = self._stage_checked(conn, attempt, path, lower=lower, force=force, keyed=keyed)
                timings.lap("parse")
                with _parsing_turn(self.stop):  # its Python loops over rows too
                    plan = _prepare_board(conn, competition_id, attempt.board, count, keyed=keyed)
                timings.lap("prepare")
            except sqlite3.Error as exc:
                problem = _storage_error(exc, "temp")
                if problem is not None:
                    raise problem from None
                raise
            self.stop.check()
            self.observer.stage(slug, "writing", f"{count} entries")
            try:
                with dbmod.write_transaction(database):
                    # Checked inside the write: a competition removed (and maybe another
                    # added) meanwhile must not receive this board. Ids are never reused.
                    if (
                        conn.execute(
                            "SELECT 1 FROM competitions WHERE id = ? AND slug = ?", (competition_id, slug)
                        ).fetchone()
                        is None
                    ):
                        raise CompetitionRemovedError(f"competition {slug!r} was removed during the sync")
                    finished_at = now_iso()
                    assert attempt.run_id is not None
                    changes = _write_board(conn, competition_id, attempt.run_id, attempt.board, plan)
                    self._finish_ok(conn, attempt, finished_at, changes, _stored_key(key, member))
            except sqlite3.Error as exc:
                problem = _storage_error(exc, str(self.db_path))
                if problem is not None:
                    raise problem from None
                raise
            timings.lap("write")
        finally:
            with contextlib.suppress(sqlite3.Error):
                _drop_staging(conn)
        return changes, finished_at

    def _stage_checked(
        self, conn: sqlite3.Connection, attempt: _Attempt, path: Path, *, lower: bool, force: bool, keyed: bool
    ) -> int:
        """Stage the file and hold it back if it looks suspect; returns the number of teams."""
        competition_id = attempt.competition.id
        # Observers written before parse progress existed simply do not get it.
        report = getattr(self.observer, "parse_progress", None)
        count = _stage_entries(
            conn,
            path,
            lower_is_better=lower,
            stop=self.stop,
            limits=self.limits,
            keyed=keyed,
            progress=_ParseProgress(attempt.slug, path, report) if report is not None else None,
        )
        log.info("%s: downloaded %d entries", attempt.slug, count)
        if attempt.board == "private":
            _join_public_details(conn, competition_id)
        elif not force:
            self._check_still_public(conn, attempt)
        if not force:
            reason = _suspect_reason(conn, competition_id, attempt.board, count, self.limits.max_board_shrink)
            if reason is not None:
                # No flag advice here: the outcome's hint (FORCE or PRIVATE_FORCE) carries it.
                raise SuspectBoardError(f"held back: {reason}; the stored board is kept", subject=attempt.slug)
        self.stop.check()
        return count

    def _finish_ok(
        self, conn: sqlite3.Connection, attempt: _Attempt, finished_at: str, changes: BoardChanges, digest: str | None
    ) -> None:
        """Mark the run ok and the competition synced; inside the write transaction."""
        conn.execute(
            """UPDATE sync_runs SET status = 'ok', finished_at = ?, entries = ?, created = ?,
                   updated = ?, removed = ?, top_score = ?, content_digest = ? WHERE id = ?""",
            (
                finished_at,
                changes.entries,
                changes.created,
                changes.updated,
                changes.removed,
                changes.top_score,
                digest,
                attempt.run_id,
            ),
        )
        if attempt.board == "private":
            conn.execute(
                """UPDATE competitions SET private_synced_at = ?,
                       private_released_at = coalesce(private_released_at, ?) WHERE id = ?""",
                (finished_at, finished_at, attempt.competition.id),
            )
        else:
            conn.execute(
                """UPDATE competitions SET last_synced_at = ?, last_sync_status = 'ok',
                       last_sync_error = NULL, entry_count = ? WHERE id = ?""",
                (finished_at, changes.entries, attempt.competition.id),
            )

    def _record_unchanged(
        self,
        database: Database,
        attempt: _Attempt,
        last: tuple[int, str, int | None, str | None],
        key: str,
        member: str | None,
        previous: int | None,
        timings: _Timings,
    ) -> SyncOutcome:
        """The download has the content of the board applied last: an ok run, no changes."""
        slug = attempt.slug
        conn = database.conn
        self.stop.check()
        self.observer.stage(slug, "writing", "unchanged")
        changes = BoardChanges(last[2] or 0, 0, 0, 0, last[3])
        try:
            with dbmod.write_transaction(database):
                if (
                    conn.execute(
                        "SELECT 1 FROM competitions WHERE id = ? AND slug = ?", (attempt.competition.id, slug)
                    ).fetchone()
                    is None
                ):
                    raise CompetitionRemovedError(f"competition {slug!r} was removed during the sync")
                finished_at = now_iso()
                self._finish_ok(conn, attempt, finished_at, changes, _stored_key(key, member))
        except sqlite3.Error as exc:
            problem = _storage_error(exc, str(self.db_path))
            if problem is not None:
                raise problem from None
            raise
        timings.lap("write")
        log.info("%s: unchanged since run %d (same content): not parsed", slug, last[0])
        log.info("%s: timings: %s", slug, timings.text())
        outcome = attempt.outcome(
            "ok",
            finished_at,
            entries=changes.entries,
            created=0,
            updated=0,
            removed=0,
            previous_entries=previous,
            top_score=changes.top_score,
        )
        log.info("%s: sync complete, %d entries in %.2f s", slug, changes.entries, outcome.seconds)
        self.observer.stage(slug, "ok", f"{changes.entries} entries (unchanged)")
        return outcome

    def _check_still_public(self, conn: sqlite3.Connection, attempt: _Attempt) -> None:
        """After the deadline, hold a download that is not Kaggle's public board.

        ``DownloadLeaderboard`` serves the public board, also after close (kaggle-cli
        issue 731), but Kaggle said it wants its calls consistent: a later download may
        be the private board. Storing that as the public board would corrupt the
        shake-up, so it is compared with the paged public view first.
        """
        competition = attempt.competition
        if not isinstance(self.source, PrivateBoardSource) or competition.end is None:
            return
        if competition.end > now_iso():
            return
        expected = self.source.public_top(attempt.slug)
        if not expected:
            return
        staged = [
            row[0]
            for row in conn.execute(
                "SELECT team_id FROM temp.staging_entries WHERE rank > 0 ORDER BY rank LIMIT ?", (len(expected),)
            )
        ]
        # The same board lists its teams in the same order in both calls.
        if staged != expected[: len(staged)]:
            raise SuspectBoardError(
                "held back: this download after the deadline does not match Kaggle's public board "
                "(it may be the private one); the stored public board is kept"
            )

    def _record_failure(self, attempt: _Attempt, error: KagsyncError, status: RunStatus = "failed") -> SyncOutcome:
        slug = attempt.slug
        message = str(error)
        kind: ErrorKind = error.kind
        finished_at = now_iso()
        try:
            with _connection(self.db_path) as database, dbmod.write_transaction(database):
                conn = database.conn
                exists = conn.execute(
                    "SELECT 1 FROM competitions WHERE id = ? AND slug = ?", (attempt.competition.id, slug)
                ).fetchone()
                if exists is not None:
                    if attempt.run_id is None:
                        attempt.run_id = _insert_running_run(conn, attempt)
                    conn.execute(
                        """UPDATE sync_runs SET status = ?, finished_at = ?, error = ?, error_kind = ?
                           WHERE id = ?""",
                        (status, finished_at, message, kind, attempt.run_id),
                    )
                    conn.execute(
                        """UPDATE competitions SET last_attempt_at = ?, last_sync_status = ?,
                               last_sync_error = ? WHERE id = ?""",
                        (finished_at, status, message, attempt.competition.id),
                    )
                else:
                    attempt.run_id = None
        except (KagsyncError, sqlite3.Error) as record_error:
            log.error("%s: could not record the failed run: %s", slug, record_error)
        log.warning("%s: sync %s: %s", slug, status, message)
        self.observer.stage(slug, status, message)
        return attempt.outcome(
            status,
            finished_at,
            error=message,
            error_kind=kind,
            previous_entries=attempt.competition.entry_count,
        )


class _connection:
    """A short-lived connection for one sync (threads never share connections)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.database: Database | None = None

    def __enter__(self) -> Database:
        self.database = dbmod.connect(self.db_path, mode="write")
        return self.database

    def __exit__(self, *exc: object) -> None:
        if self.database is not None:
            self.database.conn.close()


# -- after a crash -----------------------------------------------------------------


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs on this machine."""
    if os.name == "nt":
        return _alive_on_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    except OSError:
        return False
    return True


def _alive_on_windows(pid: int) -> bool:
    # os.kill(pid, 0) would *terminate* the process on Windows: ask the kernel instead.
    import ctypes

    synchronize, wait_timeout = 0x00100000, 0x00000102
    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
    handle = kernel32.OpenProcess(synchronize, False, pid)
    if not handle:
        return False
    try:
        return bool(kernel32.WaitForSingleObject(handle, 0) == wait_timeout)
    finally:
        kernel32.CloseHandle(handle)


def recover_interrupted(database: Database) -> int:
    """Mark runs left ``running`` by dead processes as ``interrupted``; remove their temp folders.

    Called by every kagsync that opens the database for writing. Returns the number
    of runs marked.
    """
    rows = database.conn.execute("SELECT id, pid, competition_id FROM sync_runs WHERE status = 'running'").fetchall()
    dead = [(run_id, competition_id) for run_id, pid, competition_id in rows if pid is None or not _alive(int(pid))]
    if dead:
        finished_at = now_iso()
        message = "interrupted: the process running this sync ended before it finished"
        with dbmod.write_transaction(database):
            for run_id, competition_id in dead:
                marked = database.conn.execute(
                    """UPDATE sync_runs SET status = 'interrupted', finished_at = ?, error = ?,
                           error_kind = 'interrupted' WHERE id = ? AND status = 'running'""",
                    (finished_at, message, run_id),
                ).rowcount
                if marked:
                    database.conn.execute(
                        """UPDATE competitions SET last_sync_status = 'interrupted', last_sync_error = ?
                           WHERE id = ? AND last_attempt_at IS NOT NULL""",
                        (message, competition_id),
                    )
        log.warning("marked %d run(s) of ended processes as interrupted", len(dead))
    _remove_dead_temp_folders()
    return len(dead)


def _remove_dead_temp_folders() -> None:
    base = Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for folder in base.glob(f"{TEMP_PREFIX}*-*"):
            pid_text = folder.name[len(TEMP_PREFIX) :].split("-", 1)[0]
            if pid_text.isascii() and pid_text.isdigit() and not _alive(int(pid_text)) and folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)
