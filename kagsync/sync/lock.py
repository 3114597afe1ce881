"""Who may write what: the claim on a sync, the stop request, and what dead processes left.

* :class:`Lock` is an exclusive claim shared by every process, a file beside the
  database. :class:`CompetitionLock` is the claim on one competition's sync;
  :func:`named_lock` gives any other kagsync task (the notification pass, for one) a
  claim of its own by name, in the same folder, that can never be a competition's.
* :class:`StopFlag` asks running and queued syncs to stop (Ctrl-C, SIGTERM).
* :func:`recover_interrupted` marks the runs of processes that died mid-sync and removes
  their temporary folders; a dead holder's lock needs nothing: the system released it.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kagsync import db as dbmod
from kagsync.db import Database
from kagsync.errors import SyncBusyError, SyncInterruptedError
from kagsync.values import now_iso

if TYPE_CHECKING:
    import filelock

log = logging.getLogger("kagsync.sync")

# Temporary folders are named kagsync-<pid>-<slug>-XXXX, so the next kagsync can tell
# which belong to a process that was killed and remove them.
TEMP_PREFIX = "kagsync-"


# -- claims ---------------------------------------------------------------------


class Lock:
    """An exclusive claim on one lock file, shared by every process.

    It is a :class:`filelock.FileLock` (``flock`` on POSIX, ``LockFileEx`` on Windows):
    the operating system releases it when its holder exits or crashes, so a dead
    holder's claim can never outlive it, and two claims in one process (threads)
    exclude each other too, since each lock object opens its own file. The folder is
    created private (0700); filelock (4.3 and later) opens the file without following a
    symlink and without truncating, so a link planted in the folder cannot make kagsync
    overwrite another file.

    Make one with :class:`CompetitionLock` (a competition's sync) or :func:`named_lock`
    (any other task), not with a path of your own.
    """

    POLL_SECONDS = 0.1

    def __init__(self, path: Path, *, holder: str) -> None:
        self.path = path
        self.holder = holder
        """Who holds it, for the message of a wait that was interrupted."""
        self._lock: filelock.BaseFileLock | None = None

    def acquire(
        self,
        timeout: float,
        on_wait: Callable[[], None] | None = None,
        stop: StopFlag | None = None,
    ) -> bool:
        """Take the claim, waiting up to ``timeout`` seconds; False when it stayed taken.

        A stop request while waiting raises :class:`SyncInterruptedError`; a lock path
        that is a symbolic link or not a regular file raises :class:`SyncBusyError`.
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
                    raise SyncInterruptedError(f"interrupted while waiting for {self.holder}") from None
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


class CompetitionLock(Lock):
    """The claim on one competition's sync: ``<database>.locks/<slug>.lock``."""

    def __init__(self, db_path: Path, slug: str) -> None:
        super().__init__(lock_dir(db_path) / f"{slug}.lock", holder="another sync of this competition")


_LOCK_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def named_lock(db_path: Path, name: str) -> Lock:
    """The claim of a kagsync task other than a competition's sync, by name.

    Its file is ``<database>.locks/_<name>.lock``: competition slugs never start with
    ``_``, so it can never be a competition's lock. It behaves as a
    :class:`CompetitionLock` does (released when its holder dies, no symlink followed).
    For example, the notification pass sends under ``named_lock(db_path, "notify")``::

        lock = named_lock(database.path, "notify")
        if lock.acquire(timeout=5.0):
            try:
                ...
            finally:
                lock.release()

    ``name``: lower-case letters, digits, ``_`` and ``-`` (a ValueError otherwise).
    """
    if not _LOCK_NAME.fullmatch(name):
        raise ValueError(f"invalid lock name {name!r}")
    return Lock(lock_dir(db_path) / f"_{name}.lock", holder=f"another kagsync's {name}")


def lock_dir(db_path: Path) -> Path:
    """The folder of lock files beside the database."""
    return db_path.with_name(db_path.name + ".locks")


# -- stopping -------------------------------------------------------------------


@dataclass
class StopFlag:
    """Asks running and queued syncs to stop; safe to set from a signal handler.

    The first :meth:`request` stops queued syncs from starting and lets running ones
    finish; the second also aborts the running ones at their next check (each
    download chunk, every few thousand parsed rows, before the write).
    """

    stopping: bool = False
    aborting: bool = False
    # Set with the first request: ends Kaggle retry waits and details calls at once.
    event: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)

    def request(self) -> None:
        """Stop on the first call, abort on the second."""
        if self.stopping:
            self.aborting = True
        self.stopping = True
        self.event.set()

    def check(self) -> None:
        """Raise :class:`SyncInterruptedError` once an abort was requested."""
        if self.aborting:
            raise SyncInterruptedError("sync aborted: kagsync was interrupted")


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
