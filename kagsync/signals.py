"""The one home of SIGINT/SIGTERM handling: a stop flag set in three steps.

Both a sync run by the API (:meth:`kagsync.api.Kagsync.interruptible`) and the watch
loop (:func:`kagsync.watch.stop_on_signals`) install their handlers here:

1. the first signal asks to stop (``request``: queued syncs are not started, running
   ones finish; the watch loop ends after its tick);
2. the second aborts the running syncs at their next check (``request`` again);
3. the third raises KeyboardInterrupt in the main thread at once.

Outside the main thread, where handlers cannot be installed, nothing is installed.
The previous handlers are restored on exit.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Protocol

__all__ = ["SIGNALS", "interruptible"]

SIGNALS: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)


class Stoppable(Protocol):
    """What a handler sets: :class:`kagsync.sync.StopFlag` is one."""

    @property
    def aborting(self) -> bool:
        """True once a second stop was asked for."""
        ...

    def request(self) -> None:
        """Stop on the first call, abort on the second."""
        ...


@contextmanager
def interruptible(
    stop: Stoppable, *, request: Callable[[], None] | None = None, signals: Sequence[int] = SIGNALS
) -> Iterator[None]:
    """While inside, each SIGINT/SIGTERM calls ``request`` (default: ``stop.request``)
    until ``stop`` is aborting; the next one raises KeyboardInterrupt.

    ``request`` must be safe in a signal handler (quick, no locks a thread may hold):
    the watch loop passes its ``stop``, which also tells its observer.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    ask = request or stop.request

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.aborting:
            raise KeyboardInterrupt
        ask()

    previous: dict[int, Callable[[int, FrameType | None], object] | int | None] = {}
    try:
        for number in signals:
            previous[number] = signal.signal(number, handler)
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old if old is not None else signal.SIG_DFL)
