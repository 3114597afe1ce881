"""The one change check behind every live page.

A single task asks SQLite, ten times a second, whether anything was committed
(``PRAGMA data_version`` on a read-only connection of its own: no table is read).
When the answer changes it first has the pages that viewers have open rendered for
the new state (``prepare``: off the request path, once each), then bumps
:attr:`ChangeFeed.version` and wakes every open event stream at once. The viewers'
reloads that follow are cache hits. However many viewers there are, the database does
one check, and each page is rendered once per version (see :class:`PageCache`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import logging
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger("kagsync.serve")

POLL_SECONDS = 0.1
HEARTBEAT_SECONDS = 15.0
# When the open streams fall to half of their peak (of at least RELEASE_VIEWERS), the
# memory of the closed connections is given back RELEASE_DELAY seconds after the last left.
RELEASE_VIEWERS = 20
RELEASE_DELAY = 1.0
# Versions prepared at once at most: a commit landing while one is prepared starts the
# next at once (the standings on the other core), instead of waiting for it.
PREPARING = 2
# The longest a new version waits for its pages: then it is announced anyway (the
# renders still running are shared by the viewers who ask).
PREPARE_SECONDS = 10.0


class ChangeFeed:
    """Watches ``check`` (returns a number that changes on every commit) and wakes waiters.

    ``prepare(version)``, when given, is awaited before a new version is announced:
    the pages of that version are made ready meanwhile. A commit landing while one
    version is prepared starts the next at once; commits landing while two are make
    one version together, prepared as soon as one of the two is announced.
    """

    def __init__(
        self,
        check: Callable[[], int],
        *,
        interval: float = POLL_SECONDS,
        prepare: Callable[[int], Awaitable[object]] | None = None,
    ) -> None:
        self.check = check
        self.interval = interval
        self.prepare = prepare
        self.version = 0
        # When the data of the current version were checked (seconds since the epoch):
        # every commit before then is in its pages. Sent with each version as a comment
        # (``: as of T``), which browsers ignore and measuring tools can read.
        self.as_of = time.time()
        self._checked = self.as_of
        self.closed = False
        self._last: int | None = None
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._next = 0  # the last version being prepared or announced
        self._as_of: dict[int, float] = {}  # when the data of each version being prepared were checked
        self._preparing: set[asyncio.Task[None]] = set()
        self.streams = 0
        self._peak = 0
        self._release: asyncio.TimerHandle | None = None

    def _committed(self) -> bool:
        """Check once: True when something was committed since the last check."""
        checked = time.time()
        value = self.check()
        if self._last is None:
            self._last = value
            return False
        if value == self._last:
            return False
        self._last = value
        self._checked = checked
        return True

    def announce(self, version: int | None = None) -> None:
        """A new version (by default the next): every open stream hears of it."""
        self.version = self.version + 1 if version is None else version
        self._next = max(self._next, self.version)
        self.as_of = self._checked if version is None else self._as_of.pop(version, self._checked)
        woken, self._changed = self._changed, asyncio.Event()
        woken.set()

    def poll(self) -> bool:
        """Check once; True (and a new version, announced at once) when something was committed."""
        if not self._committed():
            return False
        self.announce()
        return True

    @property
    def preparing(self) -> int:
        """The newest version being prepared (the current one when none is)."""
        return max(self._next, self.version)

    def advance(self) -> bool:
        """Check once (unless PREPARING versions are being prepared already: later commits
        then make one version together); on a commit, start preparing the next version,
        announced when its pages are ready (or at once without ``prepare``)."""
        if len(self._preparing) >= PREPARING or not self._committed():
            return False
        if self.prepare is None:
            self.announce()
            return True
        self._next += 1
        self._as_of[self._next] = self._checked
        task = asyncio.get_running_loop().create_task(self._prepared(self._next, self.prepare))
        self._preparing.add(task)
        task.add_done_callback(self._preparing.discard)
        return True

    async def _prepared(self, version: int, prepare: Callable[[int], Awaitable[object]]) -> None:
        started = time.monotonic()
        try:
            await asyncio.wait_for(asyncio.shield(prepare(version)), timeout=PREPARE_SECONDS)
        except TimeoutError:
            log.warning("serve: pages took over %g s to render; announcing the change anyway", PREPARE_SECONDS)
        except Exception:  # a page that fails to render is rendered (and fails) on request
            log.exception("serve: preparing the pages of a new version failed")
        log.debug("serve: version %d ready in %.2f s", version, time.monotonic() - started)
        if version > self.version and not self.closed:
            self.announce(version)  # unless a newer version was ready first
        self._as_of = {v: t for v, t in self._as_of.items() if v > self.version}

    async def run(self) -> None:
        """Poll until closed; a failed check (the file briefly unreadable) is logged and retried."""
        while not self.closed:
            try:
                self.advance()
            except Exception as error:  # noqa: BLE001 -- the feed outlives a bad moment of the file
                log.warning("serve: change check failed: %s", type(error).__name__)
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        """Start polling in the running event loop."""
        self._changed = asyncio.Event()
        self.as_of = time.time()
        with contextlib.suppress(Exception):
            self._last = self.check()
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        """Stop polling and end every open stream."""
        self.close()
        tasks = [*self._preparing, *([self._task] if self._task is not None else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None

    def close(self) -> None:
        """End every open stream soon (safe from a signal handler in the loop's thread)."""
        self.closed = True
        self._changed.set()

    async def stream(self, *, heartbeat: float = HEARTBEAT_SECONDS) -> AsyncIterator[str]:
        """Server-Sent Events: the current version at once, then each new one; comments
        as a heartbeat (so proxies keep the connection open)."""
        self.streams += 1
        self._peak = max(self._peak, self.streams)
        try:
            yield f"retry: 2000\n{self._event()}"
            while not self.closed:
                changed = self._changed
                try:
                    await asyncio.wait_for(changed.wait(), timeout=heartbeat)
                except TimeoutError:
                    yield ": still here\n\n"
                    continue
                if self.closed:
                    break
                yield self._event()
        finally:
            self.streams -= 1
            self._left()

    def _event(self) -> str:
        return f": as of {self.as_of:.3f}\nevent: version\ndata: {self.version}\n\n"

    def _left(self) -> None:
        """When most viewers have gone, give their connections' memory back (once the
        leaving has stopped for RELEASE_DELAY seconds)."""
        if self._peak < RELEASE_VIEWERS or self.streams > self._peak // 2:
            return
        if self._release is not None:
            self._release.cancel()
        with contextlib.suppress(RuntimeError):  # no running loop: nothing to give back
            self._release = asyncio.get_running_loop().call_later(RELEASE_DELAY, self._released)

    def _released(self) -> None:
        self._release = None
        self._peak = self.streams
        release_memory()


def release_memory() -> None:
    """Collect the garbage of closed connections (cycles wait for a full collection) and
    hand the freed memory back to the system (glibc's ``malloc_trim``; elsewhere only
    the collection): the server's memory stays flat as viewers come and go."""
    gc.collect()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None).malloc_trim(0)


@dataclass(frozen=True)
class CachedPage:
    """A rendered response body with its type and ETag."""

    body: bytes
    media_type: str
    etag: str
    status: int = 200


def etag_of(body: bytes) -> str:
    """A strong ETag: a hash of the exact bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


class PageCache:
    """Rendered pages by URL, each the newest version rendered: one render per page per
    database state, and no more pages kept than there are URLs asked for (at most
    ``size``, the least recently used going first), however often the data change.

    Thread-safe. A page rendered for a newer version also answers for an older one
    (it can only be fresher).
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._pages: OrderedDict[str, tuple[int, CachedPage]] = OrderedDict()
        self._lock = threading.Lock()
        self.renders = 0

    def get(self, version: int, key: str) -> CachedPage | None:
        """The page rendered for this version (or a newer one), if any."""
        with self._lock:
            found = self._pages.get(key)
            if found is None or found[0] < version:
                return None
            self._pages.move_to_end(key)
            return found[1]

    def put(self, version: int, key: str, page: CachedPage) -> None:
        """Keep a rendered page (unless a newer version of it is kept already)."""
        with self._lock:
            self.renders += 1
            found = self._pages.get(key)
            if found is not None and found[0] > version:
                return
            self._pages[key] = (version, page)
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)
