"""The one change check behind every live page.

A single task asks SQLite, a few times a second, whether anything was committed
(``PRAGMA data_version`` on a read-only connection of its own: no table is read).
When the answer changes it bumps :attr:`ChangeFeed.version` and wakes every open
event stream at once. However many viewers there are, the database does one check.
The pages themselves are then rendered once per version and served from a cache
(see :class:`PageCache`), so a sync landing costs one render per distinct page.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

log = logging.getLogger("kagsync.serve")

POLL_SECONDS = 0.4
HEARTBEAT_SECONDS = 15.0


class ChangeFeed:
    """Watches ``check`` (returns a number that changes on every commit) and wakes waiters."""

    def __init__(self, check: Callable[[], int], *, interval: float = POLL_SECONDS) -> None:
        self.check = check
        self.interval = interval
        self.version = 0
        self.closed = False
        self._last: int | None = None
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def poll(self) -> bool:
        """Check once; True (and a new version) when something was committed since the last check."""
        value = self.check()
        if self._last is None:
            self._last = value
            return False
        if value == self._last:
            return False
        self._last = value
        self.version += 1
        woken, self._changed = self._changed, asyncio.Event()
        woken.set()
        return True

    async def run(self) -> None:
        """Poll until closed; a failed check (the file briefly unreadable) is logged and retried."""
        while not self.closed:
            try:
                self.poll()
            except Exception as error:  # noqa: BLE001 -- the feed outlives a bad moment of the file
                log.warning("serve: change check failed: %s", type(error).__name__)
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        """Start polling in the running event loop."""
        self._changed = asyncio.Event()
        with contextlib.suppress(Exception):
            self._last = self.check()
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        """Stop polling and end every open stream."""
        self.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def close(self) -> None:
        """End every open stream soon (safe from a signal handler in the loop's thread)."""
        self.closed = True
        self._changed.set()

    async def stream(self, *, heartbeat: float = HEARTBEAT_SECONDS) -> AsyncIterator[str]:
        """Server-Sent Events: the current version at once, then each new one; comments
        as a heartbeat (so proxies keep the connection open)."""
        yield f"retry: 2000\nevent: version\ndata: {self.version}\n\n"
        while not self.closed:
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), timeout=heartbeat)
            except TimeoutError:
                yield ": still here\n\n"
                continue
            if self.closed:
                break
            yield f"event: version\ndata: {self.version}\n\n"


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
    """Rendered pages by (version, URL): one render per page per database state.

    Thread-safe; keeps the ``size`` most recently used pages (older versions fall out
    as new ones are asked for).
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._pages: OrderedDict[tuple[int, str], CachedPage] = OrderedDict()
        self._lock = threading.Lock()
        self.renders = 0

    def get(self, version: int, key: str) -> CachedPage | None:
        """The page rendered for this version, if any."""
        with self._lock:
            page = self._pages.get((version, key))
            if page is not None:
                self._pages.move_to_end((version, key))
            return page

    def put(self, version: int, key: str, page: CachedPage) -> None:
        """Keep a rendered page."""
        with self._lock:
            self.renders += 1
            self._pages[(version, key)] = page
            self._pages.move_to_end((version, key))
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
