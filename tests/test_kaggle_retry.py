"""kagsync.retry: Retry-After, back-off, deadlines and waits that a stop event ends."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from kagsync import retry


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("7", 7.0),
        (" 1.5 ", 1.5),
        ("-3", 0.0),
        ("nan", None),
        ("inf", None),
        ("soon", None),
        ("Wed, 02 Dec 2026 18:00:30 GMT", 30.0),
        ("Wed, 02 Dec 2026 17:00:00 GMT", 0.0),
    ],
)
def test_retry_after(value, expected):
    now = datetime(2026, 12, 2, 18, 0, 0, tzinfo=UTC)
    assert retry.retry_after(value, now=now) == expected


def test_backoff_doubles_up_to_its_cap(monkeypatch):
    assert [retry.backoff(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert retry.backoff(30) == retry.MAX_BACKOFF
    monkeypatch.setattr(retry, "MAX_BACKOFF", 0.5)  # read at call time (tests shorten it)
    assert retry.backoff(3) == 0.5


def test_deadline():
    clock = [100.0]
    deadline = retry.Deadline(10, clock=lambda: clock[0])
    assert deadline.remaining() == 10 and deadline.fits(9.9) and not deadline.fits(10)
    clock[0] = 111
    assert deadline.expired() and deadline.remaining() == -1
    assert retry.Deadline(None).remaining() is None and not retry.Deadline(float("inf")).expired()
    for bad in (0, -1, float("nan")):
        with pytest.raises(ValueError):
            retry.Deadline(bad)


def test_wait_ends_at_once_when_stopped():
    stop = threading.Event()
    threading.Timer(0.1, stop.set).start()
    started = time.monotonic()
    assert retry.wait(30, stop=stop) is False
    assert time.monotonic() - started < 0.5
    assert retry.wait(30, stop=stop) is False  # already stopped: no wait at all


def test_wait_never_runs_past_the_deadline():
    started = time.monotonic()
    assert retry.wait(5, deadline=retry.Deadline(0.2)) is False
    assert time.monotonic() - started < 0.1
    assert retry.wait(0.05, deadline=retry.Deadline(5)) is True


def test_an_injected_sleep_gets_the_whole_wait():
    waits: list[float] = []
    assert retry.wait(3, sleep=waits.append) is True
    assert waits == [3]
