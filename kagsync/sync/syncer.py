"""Sync one competition's leaderboard: claim, fetch, parse, write once, record, release.

The order matters:

1. claim the competition (one sync per competition across processes, see
   :mod:`kagsync.sync.lock`);
2. fetch the file from the source into a private temporary folder — no database
   lock is held during a download;
3. tell an unchanged download by its content key (:mod:`kagsync.sync.fingerprint`):
   such a board is recorded as an ok run without being parsed;
4. parse it, streaming, into a TEMP staging table, check and diff it, then in ONE
   ``BEGIN IMMEDIATE`` transaction write it and record the run
   (:mod:`kagsync.sync.apply`);
5. remove the temporary folder and release the claim, whatever happened.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kagsync import db as dbmod
from kagsync.db import Database
from kagsync.errors import (
    CompetitionRemovedError,
    KagsyncError,
    SourceError,
    SuspectBoardError,
    SyncBusyError,
    SyncInterruptedError,
)
from kagsync.leaderboard import LeaderboardInfo
from kagsync.metrics import DirectionNote, DirectionSource, direction_origin, settle_direction
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
from kagsync.sync.apply import (
    _KEYED_STAGING_BYTES,
    BoardChanges,
    SyncLimits,
    _check_still_public,
    _drop_staging,
    _join_public_details,
    _ParseProgress,
    _parsing_turn,
    _prepare_board,
    _stage_entries,
    _storage_error,
    _suspect_reason,
    _write_board,
)
from kagsync.sync.fingerprint import (
    _csv_digest,
    _csv_size,
    _key_part,
    _member_part,
    _rekeyed,
    _same_crc,
    _stored_key,
    _zip_member_fingerprint,
    content_key,
)
from kagsync.sync.lock import TEMP_PREFIX, CompetitionLock, StopFlag
from kagsync.values import now_iso

log = logging.getLogger("kagsync.sync")

NOT_STARTED = "not started: stopping"
"""The error of a queued sync that a stop request kept from starting."""


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
    # The direction's origin as read before the parse (see kagsync.metrics), what the
    # parse found, and the note for a direction guessed anew (issue 19).
    direction_origin: DirectionSource | None = None
    parsed: LeaderboardInfo = field(default_factory=LeaderboardInfo)
    direction_note: DirectionNote | None = None

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
            direction_note=self.direction_note,
            **details,  # type: ignore[arg-type]
        )


def _settle_direction(conn: sqlite3.Connection, attempt: _Attempt, stored_lower: bool) -> None:
    """Store a direction guessed from a board without a rank column (in the board's
    write transaction) and keep the note for the outcome; see kagsync.metrics."""
    note = settle_direction(
        attempt.direction_origin,
        stored_lower,
        file_order=attempt.parsed.file_order_direction,
        ranked_lower=attempt.parsed.ranked_lower_is_better,
    )
    if note is not None:
        conn.execute(
            "UPDATE competitions SET lower_is_better = ?, direction_source = ? WHERE id = ?",
            (int(note.lower_is_better), note.source, attempt.competition.id),
        )
        attempt.direction_note = note


def _insert_running_run(conn: sqlite3.Connection, attempt: _Attempt) -> int | None:
    """Record the attempt as a ``running`` run (caller holds the write transaction)."""
    return conn.execute(
        """INSERT INTO sync_runs (competition_id, board, trigger, source, started_at, status, pid)
           VALUES (?, ?, ?, ?, ?, 'running', ?)""",
        (attempt.competition.id, attempt.board, attempt.trigger, attempt.source, attempt.started_at, os.getpid()),
    ).lastrowid


def _finish_ok(
    conn: sqlite3.Connection, attempt: _Attempt, finished_at: str, changes: BoardChanges, digest: str | None
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


def _commit_ok(
    database: Database,
    attempt: _Attempt,
    digest: str | None,
    write: Callable[[sqlite3.Connection], BoardChanges],
    stored_lower: bool | None = None,
) -> tuple[BoardChanges, str]:
    """In one write transaction: ``write`` the board and mark the run ok; returns the
    changes and when the run finished. A full or failing disk is a one-line error."""
    conn = database.conn
    try:
        with dbmod.write_transaction(database):
            # Checked inside the write: a competition removed (and maybe another
            # added) meanwhile must not receive this board. Ids are never reused.
            if not _still_stored(conn, attempt):
                raise CompetitionRemovedError(f"competition {attempt.slug!r} was removed during the sync")
            finished_at = now_iso()
            changes = write(conn)
            _finish_ok(conn, attempt, finished_at, changes, digest)
            if stored_lower is not None:
                _settle_direction(conn, attempt, stored_lower)
    except sqlite3.Error as exc:
        problem = _storage_error(exc, str(database.path))
        if problem is not None:
            raise problem from None
        raise
    return changes, finished_at


def _still_stored(conn: sqlite3.Connection, attempt: _Attempt) -> bool:
    """Whether the attempt's competition is still the stored one: id and slug both match
    (ids are never reused, so a removed competition is never mistaken for a new one)."""
    found = conn.execute(
        "SELECT 1 FROM competitions WHERE id = ? AND slug = ?", (attempt.competition.id, attempt.slug)
    ).fetchone()
    return found is not None


def _start_run(db_path: Path, attempt: _Attempt) -> None:
    """Write the run as ``running`` before any work, so that every attempt is recorded."""
    with _connection(db_path) as database, dbmod.write_transaction(database):
        conn = database.conn
        if not _still_stored(conn, attempt):
            raise CompetitionRemovedError(f"competition {attempt.slug!r} was removed before its sync started")
        attempt.run_id = _insert_running_run(conn, attempt)
        conn.execute(
            "UPDATE competitions SET last_attempt_at = ? WHERE id = ?", (attempt.started_at, attempt.competition.id)
        )


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
        return _in_parallel(due, jobs, lambda item: self.sync(item[0], item[1], force=force))

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
            _start_run(self.db_path, attempt)
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
                "SELECT lower_is_better, entry_count, direction_source, metric, user_fields FROM competitions"
                " WHERE id = ?",
                (competition_id,),
            ).fetchone()
            if row is None:
                raise CompetitionRemovedError(f"competition {slug!r} was removed during the sync")
            lower = bool(row[0])
            previous: int | None = row[1]
            attempt.direction_origin = direction_origin(row[2], user_set="lower_is_better" in row[4], metric=row[3])
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
        return self._succeeded(attempt, finished_at, changes, previous, timings)

    def _succeeded(
        self,
        attempt: _Attempt,
        finished_at: str,
        changes: BoardChanges,
        previous: int | None,
        timings: _Timings,
        note: str = "",
    ) -> SyncOutcome:
        """The ok outcome of a committed sync, logged and shown."""
        log.info("%s: timings: %s", attempt.slug, timings.text())
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
        log.info("%s: sync complete, %d entries in %.2f s", attempt.slug, changes.entries, outcome.seconds)
        self.observer.stage(attempt.slug, "ok", f"{changes.entries} entries{note}")
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
            run_id = attempt.run_id
            assert run_id is not None
            changes, finished_at = _commit_ok(
                database,
                attempt,
                _stored_key(key, member),
                lambda conn: _write_board(conn, competition_id, run_id, attempt.board, plan),
                stored_lower=lower,
            )
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
            from_file_order=attempt.direction_origin not in ("user", "metric"),
            info=attempt.parsed,
            stop=self.stop,
            limits=self.limits,
            keyed=keyed,
            progress=_ParseProgress(attempt.slug, path, report) if report is not None else None,
        )
        log.info("%s: downloaded %d entries", attempt.slug, count)
        if attempt.board == "private":
            _join_public_details(conn, competition_id)
        elif not force:
            _check_still_public(conn, self.source, attempt.competition)
        if not force:
            reason = _suspect_reason(conn, competition_id, attempt.board, count, self.limits.max_board_shrink)
            if reason is not None:
                # No flag advice here: the outcome's hint (FORCE or PRIVATE_FORCE) carries it.
                raise SuspectBoardError(f"held back: {reason}; the stored board is kept", subject=attempt.slug)
        self.stop.check()
        return count

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
        self.stop.check()
        self.observer.stage(slug, "writing", "unchanged")
        unchanged = BoardChanges(last[2] or 0, 0, 0, 0, last[3])
        changes, finished_at = _commit_ok(database, attempt, _stored_key(key, member), lambda conn: unchanged)
        timings.lap("write")
        log.info("%s: unchanged since run %d (same content): not parsed", slug, last[0])
        return self._succeeded(attempt, finished_at, changes, previous, timings, " (unchanged)")

    def _record_failure(self, attempt: _Attempt, error: KagsyncError, status: RunStatus = "failed") -> SyncOutcome:
        slug = attempt.slug
        message = str(error)
        kind: ErrorKind = error.kind
        finished_at = now_iso()
        try:
            _store_failure(self.db_path, attempt, status, message, kind, finished_at)
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


def _store_failure(
    db_path: Path, attempt: _Attempt, status: RunStatus, message: str, kind: ErrorKind, finished_at: str
) -> None:
    """Record the attempt's run as ended with ``status``, unless its competition is gone."""
    with _connection(db_path) as database, dbmod.write_transaction(database):
        conn = database.conn
        if not _still_stored(conn, attempt):
            attempt.run_id = None
            return
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


_Item = tuple[Competition, Trigger]


def _in_parallel(due: Sequence[_Item], jobs: int, sync: Callable[[_Item], SyncOutcome]) -> list[SyncOutcome]:
    """``sync`` each item on ``jobs`` daemon threads; outcomes in input order.

    The calling thread joins in short steps, so that Ctrl-C still reaches it; the first
    exception a worker raised is raised here.
    """
    outcomes: list[SyncOutcome | None] = [None] * len(due)
    queue = list(enumerate(due))
    lock = threading.Lock()
    failures: list[BaseException] = []

    def work() -> None:
        while True:
            with lock:
                if not queue:
                    return
                index, item = queue.pop(0)
            try:
                outcomes[index] = sync(item)
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
