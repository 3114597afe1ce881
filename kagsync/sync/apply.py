"""Apply a downloaded board: parse it into staging, check it, diff it, write it once.

1. :func:`_stage_entries` parses the file, streaming, into a TEMP staging table (the
   temp schema is private to the connection: no lock on the shared database); a bad
   file stops here and nothing shared has changed;
2. :func:`_suspect_reason` and :func:`_check_still_public` hold back a board that
   would wipe a good one;
3. :func:`_prepare_board` diffs the staged board against the stored one, still outside
   any write lock;
4. :func:`_write_board`, inside the caller's ``BEGIN IMMEDIATE`` transaction, writes
   the change records, deletes teams that left, upserts new and changed teams
   (identical rows are not written) and the rank frame.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kagsync import db as dbmod
from kagsync import history
from kagsync.errors import KagsyncError, LeaderboardFormatError, StoreError, SuspectBoardError
from kagsync.leaderboard import (
    DEFAULT_MAX_COMPRESSION_RATIO,
    DEFAULT_MAX_UNCOMPRESSED_BYTES,
    LeaderboardInfo,
    iter_leaderboard_rows,
)
from kagsync.models import Board, Competition
from kagsync.sources import LeaderboardSource, PrivateBoardSource
from kagsync.sync.lock import StopFlag
from kagsync.values import now_iso

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


@dataclass(frozen=True)
class SyncLimits:
    """What a sync accepts before it holds a board back as suspect."""

    max_board_shrink: float = DEFAULT_MAX_BOARD_SHRINK
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES
    max_compression_ratio: float = DEFAULT_MAX_COMPRESSION_RATIO


@dataclass
class BoardChanges:
    """Counts of one board write."""

    entries: int
    created: int
    updated: int
    removed: int
    top_score: str | None


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
    if where == "temp" or (
        full and dbmod.full_folder(str(Path(where).parent), sqlite_temp_dir()) != str(Path(where).parent)
    ):
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
    from_file_order: bool = False,
    info: LeaderboardInfo | None = None,
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
                        from_file_order=from_file_order,
                        info=info,
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
        # Teams that only moved because others passed them, marked passive, when
        # notification targets exist to read them (kept until all of them have, see
        # _forget_read_passive_rows).
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
            _forget_read_passive_rows(conn, competition_id, board, run_id)
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


# The run each notification target has examined up to, as kagsync.notify stores it: a
# ``notifications`` row with change_key 'cursor' and payload {"run_id": N}. A target
# without a readable one has examined nothing (0), as notify reads it.
_NOTIFY_CURSORS = """SELECT min(coalesce((
        SELECT CASE WHEN json_valid(n.payload) THEN
                   CASE WHEN json_type(n.payload, '$.run_id') = 'integer' THEN json_extract(n.payload, '$.run_id') END
               END
        FROM notifications n WHERE n.target_id = t.id AND n.change_key = 'cursor'), 0))
    FROM notify_targets t"""


def _forget_read_passive_rows(conn: sqlite3.Connection, competition_id: int, board: Board, run_id: int) -> None:
    """Delete the board's passive change rows that every notification target has read.

    Passive rows (teams that only moved because others passed them) exist for the
    notification pass alone: it finds "took the lead" in them when the new leader
    did nothing itself. A row stays until every target's cursor has passed its run,
    however many syncs come first: a process that died between a sync's commit and
    its notification pass must not lose that run's news to the next sync. With no
    target, nobody will ever read them (a target added later starts from the runs
    stored then). The caller holds the write transaction, so no pass moves a cursor
    meanwhile.
    """
    cursor = conn.execute(_NOTIFY_CURSORS).fetchone()[0]
    read_up_to = run_id if cursor is None else min(int(cursor), run_id)
    # Passive rows belong to runs with a rank frame: walk those, by the frames' index.
    conn.execute(
        """DELETE FROM entry_changes WHERE passive AND run_id IN (
               SELECT run_id FROM rank_frames
               WHERE competition_id = :cid AND board = :board AND run_id <= :read)""",
        {"cid": competition_id, "board": board, "read": read_up_to},
    )


def _drop_staging(conn: sqlite3.Connection) -> None:
    for name in ("staging_entries", "staging_diff", "staging_removed", "staging_changes", "staging_passive"):
        conn.execute(f"DROP TABLE IF EXISTS temp.{name}")


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


def _check_still_public(conn: sqlite3.Connection, source: LeaderboardSource, competition: Competition) -> None:
    """After the deadline, hold a download that is not Kaggle's public board.

    ``DownloadLeaderboard`` serves the public board, also after close (kaggle-cli
    issue 731), but Kaggle said it wants its calls consistent: a later download may
    be the private board. Storing that as the public board would corrupt the
    shake-up, so it is compared with the paged public view first.
    """
    if not isinstance(source, PrivateBoardSource) or competition.end is None:
        return
    if competition.end > now_iso():
        return
    expected = source.public_top(competition.slug)
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
