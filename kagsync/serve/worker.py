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


WORKERS = 2


class EventWorker:
    """Worker processes computing event pages' data (thread-safe).

    Two, so that the standings of a commit landing while the previous one's are being
    computed start at once on the other core instead of waiting (the change feed
    prepares at most two versions at a time). A page goes to the worker that finished
    last when it is free (it holds the freshest standings: the JSON after the HTML is
    then a lookup), else to a free one.
    """

    def __init__(self, db: Path | str, workers: int = WORKERS) -> None:
        self.db = str(db)
        self._lock = threading.Lock()
        self._pools: list[ProcessPoolExecutor | None] = [None] * max(1, workers)
        self._busy = [0] * len(self._pools)
        self._last = 0
        self.closed = False

    def _executor(self, index: int) -> ProcessPoolExecutor:
        pool = self._pools[index]
        if pool is None:
            pool = self._pools[index] = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_open,
                initargs=(self.db,),
            )
        return pool

    def _take(self) -> tuple[int, ProcessPoolExecutor]:
        with self._lock:
            if self.closed:
                raise BrokenProcessPool("the worker is closed")
            order = [self._last, *(i for i in range(len(self._pools)) if i != self._last)]
            index = min(order, key=lambda i: self._busy[i])  # the first of the least busy
            self._busy[index] += 1
            return index, self._executor(index)

    def _done(self, index: int, pool: ProcessPoolExecutor, *, broken: bool) -> None:
        with self._lock:
            self._busy[index] -= 1
            if not broken:
                self._last = index
            elif self._pools[index] is pool:
                self._pools[index] = None
        if broken:
            pool.shutdown(wait=False, cancel_futures=True)

    def start(self) -> None:
        """Start the processes now (and open their readers), so the first page does not wait."""
        with self._lock:
            pools = [self._executor(i) for i in range(len(self._pools))]
        for pool in pools:
            pool.submit(_ready)

    def event(self, query: EventQuery) -> Data:
        """The event page's data, computed in a worker (in a new worker if the old one
        died; raises :class:`BrokenProcessPool` when none can be started)."""
        for _ in range(2):
            index, pool = self._take()
            try:
                data = pool.submit(_event, query).result()
            except BrokenProcessPool:
                self._done(index, pool, broken=True)
                if self.closed:
                    raise
                log.warning("serve: a standings worker died; starting another")
                continue
            except BaseException:
                self._done(index, pool, broken=False)
                raise
            self._done(index, pool, broken=False)
            return data
        raise BrokenProcessPool("the standings worker cannot be started")

    def pids(self) -> list[int]:
        """The ids of the worker processes started so far, each asked in its turn (for tests)."""
        with self._lock:
            pools = [pool for pool in self._pools if pool is not None]
        return [pool.submit(os.getpid).result() for pool in pools]

    def close(self) -> None:
        """Stop the worker processes."""
        with self._lock:
            self.closed = True
            pools, self._pools = self._pools, [None] * len(self._pools)
        for pool in pools:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
