"""The full-leaderboard download: ``DownloadLeaderboard`` streamed into a file.

The body is streamed to a hidden temp file beside the target and renamed over it only
when complete, so a reader never sees half a file and a failure leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from kagsync.errors import DownloadLimitError, KaggleError, SourceError
from kagsync.kaggle.auth import KaggleCredentials
from kagsync.kaggle.http import (
    CHUNK_SIZE,
    BrokenOff,
    Op,
    Reply,
    Session,
    content_length,
    kaggle_message,
    open_session,
    os_reason,
    size_text,
)

if TYPE_CHECKING:
    import requests

__all__ = ["DEFAULT_DEADLINE", "DEFAULT_MAX_BYTES", "download_leaderboard"]

DEFAULT_MAX_BYTES = 1 << 30
"""Default size cap of a leaderboard download: 1 GiB. The biggest real boards are well
under 1 MB zipped; the cap only stops a broken or hostile server from filling the disk."""
DEFAULT_DEADLINE = 900.0
"""Default overall seconds for one leaderboard download, retries and waits included."""


def download_leaderboard(
    slug: str,
    dest_dir: Path,
    *,
    credentials: KaggleCredentials | None = None,
    endpoint: str | None = None,
    max_attempts: int = 4,
    sleep: Callable[[float], None] | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    deadline: float = DEFAULT_DEADLINE,
    stop: threading.Event | None = None,
) -> Path:
    """Download the full-leaderboard zip of competition ``slug``; return ``dest_dir/<slug>.zip``.

    ``POST {base}/competitions.CompetitionApiService/DownloadLeaderboard`` with the JSON
    body ``{"competitionName": slug}``, where ``base`` is ``https://api.kaggle.com/v1``
    or, when ``endpoint`` (default: ``$KAGSYNC_KAGGLE_ENDPOINT``) is given,
    ``{endpoint}/api/v1``. After a competition closes this is still the *public* board
    (see :func:`kagsync.kaggle.board.fetch_private_board`).

    The body is streamed to a hidden temp file in ``dest_dir`` (created if missing) and
    renamed over ``<slug>.zip`` only when complete. ``on_progress(bytes_so_far,
    total_or_None)`` is called after each chunk (and with 0 at the start of each
    attempt); a retried download starts again from 0.

    Retries, up to ``max_attempts`` requests in all: 429 waits ``Retry-After`` (capped
    at 120 s) or else 1, 2, 4... s; 5xx, connection failures, timeouts (connect 10 s,
    read 60 s) and a body cut short wait 1, 2, 4... s (or ``Retry-After``). ``sleep``
    replaces the waiting (tests); ``stop``, once set, ends a wait at once
    (SyncInterruptedError) but lets a transfer in flight finish.

    Limits: ``max_bytes`` caps the file (checked against ``Content-Length`` before
    reading, and while streaming); ``deadline`` caps the seconds the whole call may take,
    retries and waits included -- a server trickling bytes forever is cut off when it
    passes. A retry wait that would pass the deadline is not waited: the last failure
    is raised instead (so a 429 stays a KaggleRateLimitError).

    Raises (all one-line, without the key, token or any URL holding credentials):
        CredentialsError, KaggleAuthError (401), KaggleForbiddenError (403, rules not
        accepted), KaggleNotFoundError (404), KaggleError (other 4xx),
        KaggleRateLimitError / KaggleServerError / KaggleConnectionError (after every
        attempt), DownloadLimitError (size cap or deadline), SourceError (cannot write
        into ``dest_dir``), ValidationError (not a plausible slug),
        SyncInterruptedError (``stop`` set during a wait).
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise ValueError("max_bytes must be a positive number of bytes")
    if not deadline > 0:  # also refuses NaN
        raise ValueError("deadline must be a positive number of seconds")
    with open_session(
        slug,
        credentials=credentials,
        endpoint=endpoint,
        max_attempts=max_attempts,
        sleep=sleep,
        deadline=deadline if math.isfinite(deadline) else None,
        stop=stop,
    ) as session:
        dest_dir = Path(dest_dir)
        target = dest_dir / f"{slug}.zip"
        try:
            dest_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SourceError(f"Cannot create download folder {dest_dir} ({os_reason(exc)}).") from None
        op = Op("DownloadLeaderboard", f"the leaderboard download of '{slug}'", leaderboard=True)

        def handle(reply: Reply) -> Path:
            assert reply.response is not None
            if "application/json" in (reply.headers.get("Content-Type") or "").lower():
                reply.body = next(reply.response.iter_content(chunk_size=16 * 1024), b"")
                detail = kaggle_message(reply, session.scrub)
                raise KaggleError(
                    session.scrub(
                        f"Kaggle answered the leaderboard download of '{slug}' with JSON instead of a file "
                        f"(HTTP {reply.status}{': ' + detail if detail else ''})."
                    )
                )
            return _stream_to_file(session, reply.response, target, on_progress, max_bytes)

        return session.call(op, {"competitionName": slug}, handle, stream=True)


class _Watchdog:
    """Cuts a response's connection when the deadline passes.

    A server trickling a byte now and then keeps every single read under the read
    timeout, and requests blocks until a whole chunk has arrived: only a timer in
    another thread can stop that. Shutting the socket down (reached through urllib3's
    public ``connection.sock`` or ``fileno()``) wakes the blocked read, which then fails
    like a connection cut short.
    """

    def __init__(self, response: requests.Response, seconds: float | None) -> None:
        self.fired = False
        self._response = response
        self._timer: threading.Timer | None = None
        if seconds is not None:
            self._timer = threading.Timer(max(seconds, 0.0), self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        raw = self._response.raw
        # A kept-alive connection still holds its socket (urllib3 2.x: raw.connection).
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
                return
        # A connection closing after the reply handed its socket to the response: shut
        # a duplicate descriptor down (that shuts the connection; closing it does not).
        with contextlib.suppress(Exception):
            duplicate = socket.socket(fileno=os.dup(raw.fileno()))
            try:
                duplicate.shutdown(socket.SHUT_RDWR)
                return
            finally:
                duplicate.close()
        with contextlib.suppress(Exception):  # last resort (the chunk loop checks the time too)
            self._response.close()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _stream_to_file(
    session: Session,
    response: requests.Response,
    target: Path,
    on_progress: Callable[[int, int | None], None] | None,
    max_bytes: int,
) -> Path:
    """Write the body into a temp file beside ``target``, then rename it into place."""
    import requests

    total = content_length(response)
    if total is not None and total > max_bytes:
        raise _too_large(session, max_bytes, f"Kaggle announced {size_text(total)}")
    try:
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as exc:
        raise SourceError(f"Cannot write into download folder {target.parent} ({os_reason(exc)}).") from None
    tmp = Path(tmp_name)
    done = False
    watchdog = _Watchdog(response, session.deadline.remaining())
    received = 0
    try:
        with os.fdopen(fd, "wb") as out:
            if on_progress is not None:
                on_progress(0, total)
            try:
                for chunk in response.iter_content(chunk_size=CHUNK_SIZE):
                    if watchdog.fired or session.deadline.expired():
                        raise session.late(received)
                    received += len(chunk)
                    if received > max_bytes:
                        raise _too_large(session, max_bytes, f"more than {size_text(max_bytes)} received")
                    _write(out, chunk, target)
                    if on_progress is not None:
                        on_progress(received, total)
            except requests.RequestException as exc:
                if watchdog.fired or session.deadline.expired():
                    raise session.late(received) from None
                raise BrokenOff(exc) from None
            try:
                out.flush()
                os.fsync(out.fileno())
            except OSError as exc:
                raise SourceError(f"Cannot write {target} ({os_reason(exc)}).") from None
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise SourceError(f"Cannot save {target} ({os_reason(exc)}).") from None
        done = True
        return target
    finally:
        watchdog.cancel()
        if not done:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _write(out: BinaryIO, chunk: bytes, target: Path) -> None:
    try:
        out.write(chunk)
    except OSError as exc:
        raise SourceError(f"Cannot write {target} ({os_reason(exc)}).") from None


def _too_large(session: Session, max_bytes: int, how: str) -> DownloadLimitError:
    return DownloadLimitError(
        session.scrub(
            f"The leaderboard download of '{session.slug}' is larger than its {size_text(max_bytes)} cap "
            f"({how}): nothing was saved; raise the cap if the board is really that big."
        )
    )
