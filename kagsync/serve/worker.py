"""The event pages' data, computed in a process of its own.

An event's standings over four 20,000-team boards (60,000 participants) take about a
second of pure Python each time a board changes. Computed in the server's process,
that second holds the interpreter while hundreds of viewers wait for cached pages.
Here one worker process (started with ``spawn``: nothing of the server is copied into
it) keeps its own read-only :class:`~kagsync.serve.data.Reader` and the standings it
computed lately, and sends back only the page asked for: one page of lines, a few
kilobytes. The big objects live and die in the worker, so the server's memory stays
flat however often the standings change.

A worker that dies (killed, out of memory) is started again on the next page; when it
cannot be, the page is computed in the server's process, as without a worker.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from kagsync.serve.data import Data, KeptStandings, Reader
from kagsync.serve.live import release_memory

log = logging.getLogger("kagsync.serve")

_reader: Reader | None = None


@dataclass(frozen=True)
class EventQuery:
    """What an event page asks of :meth:`~kagsync.serve.data.Reader.event`."""

    slug: str
    scheme: str | None = None
    everyone: bool = False
    group: str | None = None
    page: int = 1
    size: int | None = None


def event_data(reader: Reader, query: EventQuery) -> Data:
    """The event page's data, read in one read transaction of ``reader``.

    The cyclic garbage collector pauses meanwhile: the standings are tens of thousands
    of small objects without cycles (reference counting frees them), and a full
    collection over them would otherwise run again and again while they are made.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        with reader.reading():
            return reader.event(
                query.slug,
                scheme=query.scheme,
                everyone=query.everyone,
                group=query.group,
                page=query.page,
                size=query.size,
            )
    finally:
        if enabled:
            gc.enable()


def leave_the_terminal_to_the_server() -> None:
    """A child of the server: in a process group of its own, so that a terminal's Ctrl-C
    (sent to the whole foreground group) reaches only the server, which stops its
    children itself; and, on Linux, sent SIGTERM by the kernel when the server dies (a
    child never outlives it; elsewhere the caller has its own way)."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpgid(0, 0)
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _open(path: str) -> None:
    global _reader  # the worker process's one reader
    leave_the_terminal_to_the_server()
    # The standings it drops are handed back to the system before new ones are made:
    # the worker's memory stays that of one set of standings.
    _reader = Reader.open(path, KeptStandings(release=release_memory))


def _event(query: EventQuery) -> Data:
    if _reader is None:  # pragma: no cover -- the initializer opened it
        raise RuntimeError("the worker has no reader")
    return event_data(_reader, query)


def _ready() -> bool:
    return _reader is not None


class EventWorker:
    """One worker process computing event pages' data (thread-safe)."""

    def __init__(self, db: Path | str) -> None:
        self.db = str(db)
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self.closed = False

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self.closed:
                raise BrokenProcessPool("the worker is closed")
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_open,
                    initargs=(self.db,),
                )
            return self._pool

    def start(self) -> None:
        """Start the process now (and open its reader), so the first page does not wait."""
        self._executor().submit(_ready)

    def event(self, query: EventQuery) -> Data:
        """The event page's data, computed in the worker (once more in a new worker if
        the old one died; in this process when none can be started)."""
        for _ in range(2):
            pool = self._executor()
            try:
                return pool.submit(_event, query).result()
            except BrokenProcessPool:
                if self.closed:
                    raise
                log.warning("serve: the standings worker died; starting another")
                with self._lock:
                    if self._pool is pool:
                        self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
        raise BrokenProcessPool("the standings worker cannot be started")

    def pid(self) -> int | None:
        """The worker process's id, once it runs (for tests and benchmarks)."""
        pool = self._pool
        processes = getattr(pool, "_processes", None) or {}
        return next(iter(processes), None)

    def close(self) -> None:
        """Stop the worker process."""
        with self._lock:
            self.closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
