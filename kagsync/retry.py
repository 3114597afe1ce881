"""The one home for waiting politely: ``Retry-After``, back-off, deadlines, and stopping.

A remote service that says "try again later" gets a wait, but a wait must never
outlive what the caller allowed: every call has an overall :class:`Deadline`, a
server's ``Retry-After`` is capped, and a ``stop`` event (set by the first Ctrl-C or
SIGTERM) ends any wait at once. urllib3's ``Retry`` is not used for this on purpose:
it sleeps inside the request with no way to be woken, so a SIGTERM would wait for it.

Public API:

- :func:`retry_after` -- seconds from a ``Retry-After`` header (seconds or HTTP date).
- :func:`backoff` -- 1, 2, 4... seconds for the n-th attempt, capped.
- :class:`Deadline` -- an overall time budget on the monotonic clock.
- :func:`wait` -- sleep, unless the stop event is set or the deadline comes first.

Standard library only; cheap to import.
"""

from __future__ import annotations

import email.utils
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["MAX_BACKOFF", "MAX_RETRY_AFTER", "Deadline", "backoff", "retry_after", "wait"]

MAX_RETRY_AFTER = 120.0
"""Default cap on a server's ``Retry-After``, in seconds."""
MAX_BACKOFF = 60.0
"""Cap on the exponential back-off (1, 2, 4, ... s)."""
POLL_SECONDS = 0.05
"""How often a wait looks at the stop event.

The event is polled with :meth:`threading.Event.is_set` (which takes no lock) rather
than waited on: a signal handler setting the event in the main thread while the main
thread itself sat inside ``Event.wait()`` holding the event's lock would deadlock."""


def retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value, or None if absent or unreadable.

    The value is either seconds (``"7"``, ``"1.5"``) or an HTTP date, which is counted
    from ``now`` (default: the current UTC time). Negative waits become 0; NaN and
    infinities are unreadable. Not capped: the caller decides what is too long.
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def backoff(attempt: int, cap: float | None = None) -> float:
    """The wait after failed attempt number ``attempt`` (1-based): 1, 2, 4... s, capped
    at ``cap`` (default :data:`MAX_BACKOFF`, read at call time)."""
    return min(2.0 ** max(attempt - 1, 0), MAX_BACKOFF if cap is None else cap)


class Deadline:
    """An overall time budget of ``seconds`` from now (None: no limit), on the monotonic clock."""

    def __init__(self, seconds: float | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        if seconds is not None and not seconds > 0:  # also refuses NaN
            raise ValueError("a deadline must be a positive number of seconds")
        self.seconds = seconds if seconds is None or math.isfinite(seconds) else None
        self._clock = clock
        self._started = clock()

    def remaining(self) -> float | None:
        """Seconds left (may be negative), or None without a limit."""
        if self.seconds is None:
            return None
        return self.seconds - (self._clock() - self._started)

    def expired(self) -> bool:
        """True once the budget is spent."""
        remaining = self.remaining()
        return remaining is not None and remaining <= 0

    def fits(self, seconds: float) -> bool:
        """Whether waiting ``seconds`` still leaves time to try again."""
        remaining = self.remaining()
        return remaining is None or seconds < remaining


def wait(
    seconds: float,
    *,
    stop: threading.Event | None = None,
    deadline: Deadline | None = None,
    sleep: Callable[[float], None] | None = None,
) -> bool:
    """Wait ``seconds``; True if the whole wait passed, False if cut short.

    The wait ends early, returning False, as soon as ``stop`` is set or ``deadline``
    runs out (it never runs past it). ``sleep``, when given, replaces the clock for
    tests: it is called once with the whole wait and the stop event is checked before
    and after.
    """
    if stop is not None and stop.is_set():
        return False
    if deadline is not None:
        remaining = deadline.remaining()
        if remaining is not None and remaining < seconds:
            return False
    if sleep is not None:
        sleep(seconds)
        return not (stop is not None and stop.is_set())
    end = time.monotonic() + max(seconds, 0.0)
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return True
        time.sleep(min(left, POLL_SECONDS))
        if stop is not None and stop.is_set():
            return False
