"""The watch loop: keep every active competition's leaderboard fresh, tick after tick.

A tick:

1. follows the dates (unless ``follow_dates`` is off): an ``upcoming`` competition
   whose start has passed becomes ``ongoing``; an ``ongoing`` one whose end has passed
   is marked for one final sync;
2. syncs, in parallel up to ``jobs``, every competition whose status is a sync status,
   plus those final syncs — each competition at most once per tick, trigger ``watch``;
3. marks ``completed`` the competitions whose final sync succeeded (a failed final
   sync leaves it ``ongoing``, so the next tick tries again);
4. works out the next interval: doubled after a tick that met rate limiting (up to
   ``max_backoff`` times the base interval), back to the base after a tick that did not.

Ticks run on a private :class:`schedule.Scheduler` in the calling thread, so they never
overlap: the next tick is scheduled when the previous one ends. A failing sync is
recorded (by :class:`~kagsync.sync.Syncer`) and retried on the next tick; any other
error in a tick (a bug, a database that stayed locked) is logged and reported, and the
loop goes on.

:meth:`Watcher.stop` (called by the handlers of :func:`stop_on_signals` on the first
SIGINT/SIGTERM) ends the loop cleanly: syncs already running finish (each either
writes its whole board or leaves the stored one untouched), queued ones are not
started, and :meth:`Watcher.run` returns. A second signal raises KeyboardInterrupt in
the main thread, which :meth:`Watcher.run` also treats as a stop.

This module prints nothing: progress goes to a :class:`WatchObserver` and to the
Syncer's :class:`~kagsync.sync.SyncObserver`, and to the ``kagsync.watch`` logger.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import schedule

from kagsync.errors import KagsyncError
from kagsync.final import PrivateCheck
from kagsync.models import BACKOFF_KINDS, Competition, SyncOutcome, Trigger, is_active
from kagsync.repository import Repository
from kagsync.signals import SIGNALS, interruptible
from kagsync.sync import NOT_STARTED, Syncer
from kagsync.values import format_time, now_iso, to_datetime

__all__ = [
    "MAX_BACKOFF",
    "TickReport",
    "Transition",
    "WatchObserver",
    "Watcher",
    "is_rate_limited",
    "stop_on_signals",
]

log = logging.getLogger("kagsync.watch")

MAX_BACKOFF = 8.0
"""After repeated rate limiting the interval grows up to this many times the base."""


def is_rate_limited(outcome: SyncOutcome) -> bool:
    """True when a sync failed with an error kind that calls for backing off (HTTP 429)."""
    return not outcome.ok and outcome.error_kind in BACKOFF_KINDS


@dataclass
class Transition:
    """A status change made by the watch because a date passed."""

    slug: str
    old: str
    new: str
    reason: str


@dataclass
class TickReport:
    """What one tick did."""

    number: int
    started: str
    seconds: float = 0.0
    due: list[str] = field(default_factory=list)
    outcomes: list[SyncOutcome] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    rate_limited: bool = False
    next_interval: float | None = None
    error: str | None = None
    exception: BaseException | None = field(default=None, repr=False)
    stopped: bool = False

    @property
    def ok(self) -> bool:
        """True when the tick ran and every sync succeeded."""
        return self.error is None and all(outcome.ok for outcome in self.outcomes)

    @property
    def failed(self) -> list[SyncOutcome]:
        """The outcomes that did not succeed."""
        return [outcome for outcome in self.outcomes if not outcome.ok]

    def summary(self) -> str:
        """One line, e.g. ``tick 3: 4 ok, 1 failed in 2.1 s``."""
        if self.error is not None:
            return f"tick {self.number}: error: {self.error}"
        if not self.due:
            return f"tick {self.number}: no active competitions"
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        parts = [f"{counts[s]} {s}" for s in ("ok", "failed", "skipped") if counts.get(s)]
        return f"tick {self.number}: {', '.join(parts) or 'nothing synced'} in {self.seconds:.1f} s"


class WatchObserver(Protocol):
    """Receives the watch's progress for display.

    ``tick_started``, ``transition`` and ``tick_finished`` are called from the thread
    running :meth:`Watcher.run`; ``stopping`` may be called from a signal handler and
    must return quickly.
    """

    def tick_started(self, number: int, competitions: Sequence[Competition]) -> None:
        """A tick is about to sync these competitions (possibly none)."""
        ...

    def transition(self, transition: Transition) -> None:
        """A date moved a competition's status."""
        ...

    def tick_finished(self, report: TickReport) -> None:
        """A tick ended (successfully or not)."""
        ...

    def stopping(self) -> None:
        """A stop was requested."""
        ...


class _SilentWatchObserver:
    def tick_started(self, number: int, competitions: Sequence[Competition]) -> None:
        pass

    def transition(self, transition: Transition) -> None:
        pass

    def tick_finished(self, report: TickReport) -> None:
        pass

    def stopping(self) -> None:
        pass


class FinalResults(Protocol):
    """What ``watch`` needs for final results (the public API implements it)."""

    def check_private(self, competition: Competition, trigger: Trigger = "manual") -> PrivateCheck:
        """Look for the private board; store it when released."""
        ...

    def private_check_is_due(self, competition: Competition, now: str) -> bool:
        """Whether to look for the private board now (at most once per interval)."""
        ...

    def refresh_details_if_due(self, competition: Competition, now: str) -> None:
        """Re-read Kaggle's details when a day has passed (deadlines move)."""
        ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Watcher:
    """Runs ticks every ``interval`` seconds until stopped.

    ``repository`` is used for reading competitions and changing statuses (from the
    thread calling :meth:`run`; its sync hook is not used); ``syncer`` does the syncs
    (its observer gets each sync's progress). ``jobs`` defaults to the syncer's.
    ``clock`` returns the current time (timezone-aware) for date transitions.
    """

    POLL_SECONDS = 0.1

    def __init__(
        self,
        repository: Repository,
        syncer: Syncer,
        *,
        interval: float,
        jobs: int | None = None,
        follow_dates: bool = True,
        observer: WatchObserver | None = None,
        max_backoff: float = MAX_BACKOFF,
        clock: Callable[[], datetime] = _utc_now,
        after_tick: Callable[[TickReport], None] | None = None,
        final: FinalResults | None = None,
    ) -> None:
        if not interval > 0:
            raise ValueError(f"interval must be positive, got {interval!r}")
        self.repository = repository
        self.syncer = syncer
        self.interval = float(interval)
        self.jobs = jobs or syncer.jobs
        self.follow_dates = follow_dates
        self.observer: WatchObserver = observer or _SilentWatchObserver()
        self.max_backoff = max(1.0, float(max_backoff))
        self.clock = clock
        self.after_tick = after_tick
        self.final = final
        self.ticks = 0
        self.last_report: TickReport | None = None
        self.in_tick = False
        self._factor = 1.0
        self._scheduler: schedule.Scheduler | None = None
        self._job: schedule.Job | None = None

    # -- state ----------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        """True once a stop was requested (the syncer's stop flag: one flag for both)."""
        return self.syncer.stop.stopping

    @property
    def current_interval(self) -> float:
        """The interval before the next tick: the base, times the rate-limit backoff."""
        return self.interval * self._factor

    def seconds_until_next_tick(self) -> float | None:
        """Seconds until the next tick starts; None while a tick runs or the loop is not running."""
        scheduler = self._scheduler
        if scheduler is None or self.in_tick:
            return None
        idle = scheduler.idle_seconds
        return None if idle is None else max(0.0, idle)

    def stop(self) -> None:
        """Ask the loop to end (thread- and signal-safe); a second call aborts running syncs."""
        first = not self.syncer.stop.stopping
        self.syncer.stop.request()
        if not first:
            log.info("watch: abort requested")
            return
        log.info("watch: stop requested")
        try:
            self.observer.stopping()
        except Exception:  # a display problem must not prevent stopping
            log.exception("watch: observer failed while stopping")

    # -- one tick -------------------------------------------------------------

    def tick(self) -> TickReport:
        """Run one tick now; never raises for a sync problem or a failed tick (see the report)."""
        self.ticks += 1
        report = TickReport(number=self.ticks, started=now_iso())
        clock = time.monotonic()
        self.in_tick = True
        try:
            self._tick(report)
        except Exception as error:
            if isinstance(error, KagsyncError):
                report.error = str(error)
                log.error("watch: tick %d failed: %s", report.number, error)
            else:
                report.error = f"unexpected error: {type(error).__name__}: {error}"
                log.exception("watch: tick %d failed", report.number)
            report.exception = error
        finally:
            self.in_tick = False
        report.seconds = time.monotonic() - clock
        report.rate_limited = any(is_rate_limited(outcome) for outcome in report.outcomes)
        if report.rate_limited:
            self._factor = min(self._factor * 2, self.max_backoff)
            log.warning(
                "watch: rate limited by Kaggle; next tick in %g s instead of %g s",
                self.current_interval,
                self.interval,
            )
        elif report.error is None:
            self._factor = 1.0
        report.next_interval = self.current_interval
        report.stopped = self.stopping
        self.last_report = report
        log.info("watch: %s", report.summary())
        if self.after_tick is not None:
            try:
                self.after_tick(report)
            except Exception:  # notifications must never end the loop
                log.exception("watch: after-tick work failed for tick %d", report.number)
        try:
            self.observer.tick_finished(report)
        except Exception:  # a display bug must not end the loop
            log.exception("watch: observer failed after tick %d", report.number)
        return report

    def _tick(self, report: TickReport) -> None:
        repository = self.repository
        ending: dict[str, Competition] = {}
        failed: dict[str, SyncOutcome] = {}
        now = self.clock()
        competitions_now = repository.list_competitions()
        if self.follow_dates:
            for competition in competitions_now:
                # One competition's problem (a bad stored date, a lock, a bug) is its own
                # failed run: the tick goes on with the others.
                try:
                    self._follow_dates(report, competition, now, ending)
                except Exception as error:  # noqa: BLE001
                    failed[competition.slug] = self._competition_failed(competition, error)
        due: dict[str, Competition] = {}
        if repository.sync_statuses:
            for competition in repository.list_competitions(status=repository.sync_statuses):
                if is_active(competition.status, repository.sync_statuses) and competition.slug not in failed:
                    due[competition.slug] = competition
        for slug, competition in ending.items():
            due.setdefault(slug, competition)
        competitions = sorted(due.values(), key=lambda c: c.slug)
        report.due = sorted([c.slug for c in competitions] + list(failed))
        self.observer.tick_started(report.number, competitions)
        report.outcomes = list(failed.values())
        if self.stopping:
            return
        if competitions:
            report.outcomes += self.syncer.sync_many([(c, "watch") for c in competitions], jobs=self.jobs)
        completed = self._finish_ending(report, ending, now)
        if self.final is not None and not self.stopping:
            self._private_checks(report, completed, format_time(now))
        if self.final is not None:  # after every board sync: details never delay one
            self._refresh_details(repository.list_competitions(), format_time(now))

    def _finish_ending(self, report: TickReport, ending: dict[str, Competition], now: datetime) -> list[str]:
        """Mark completed the ended competitions whose final sync succeeded; returns their slugs."""
        completed: list[str] = []
        for outcome in list(report.outcomes):
            if outcome.competition not in ending:
                continue
            if outcome.ok:
                try:
                    if self._complete(report, outcome.competition, now):
                        completed.append(outcome.competition)
                except Exception as error:  # noqa: BLE001
                    log.warning("%s: could not mark completed: %s", outcome.competition, error)
            elif outcome.error != NOT_STARTED:
                log.warning("%s: final sync failed; it stays ongoing and is retried next tick", outcome.competition)
        return completed

    def _refresh_details(self, competitions: Sequence[Competition], now: str) -> None:
        assert self.final is not None
        for competition in competitions:
            if competition.status == "completed" or self.stopping:
                continue
            try:
                self.final.refresh_details_if_due(competition, now)
            except Exception as error:  # noqa: BLE001  (details are a nicety: never stop the tick)
                log.warning("%s: details not refreshed: %s", competition.slug, error)

    def _private_checks(self, report: TickReport, just_completed: Sequence[str], now: str) -> None:
        """Right after a final sync, then at the slower private_check_interval pace."""
        assert self.final is not None
        for competition in self.repository.list_competitions(status="completed"):
            if competition.slug not in just_completed and not self.final.private_check_is_due(competition, now):
                continue
            try:
                check = self.final.check_private(competition, "watch")
            except Exception as error:  # noqa: BLE001
                report.outcomes.append(self._competition_failed(competition, error))
                continue
            if check.error:
                log.warning("%s: private board not checked: %s", competition.slug, check.error)
            elif check.kept_since:
                log.info("%s: the source no longer serves the private board; the stored one is kept", competition.slug)
            elif not check.released:
                log.info("%s: private board not released yet", competition.slug)
            if check.outcome is not None:
                report.outcomes.append(check.outcome)

    def _follow_dates(
        self, report: TickReport, competition: Competition, now: datetime, ending: dict[str, Competition]
    ) -> None:
        if competition.status == "upcoming" and _started(competition, now):
            # Re-checked inside the write: someone may have edited it meanwhile.
            saved = self.repository.set_status(
                competition.slug,
                "ongoing",
                sync=False,
                trigger="watch",
                only_if=lambda fresh: fresh.status == "upcoming" and _started(fresh, now),
            )
            if saved.changed:
                self._transition(
                    report, Transition(competition.slug, "upcoming", "ongoing", f"start {competition.start} passed")
                )
                competition = saved.competition
        if competition.status == "ongoing" and _ended(competition, now):
            ending[competition.slug] = competition

    def _complete(self, report: TickReport, slug: str, now: datetime) -> bool:
        # The sync took a while: complete it only if it is still ongoing and ended
        # (its end may have been extended, or its status changed, meanwhile).
        saved = self.repository.set_status(
            slug,
            "completed",
            sync=False,
            trigger="watch",
            only_if=lambda fresh: fresh.status == "ongoing" and _ended(fresh, now),
        )
        if saved.changed:
            self._transition(
                report, Transition(slug, "ongoing", "completed", f"end {saved.competition.end} passed, final sync done")
            )
        return saved.changed

    def _competition_failed(self, competition: Competition, error: Exception) -> SyncOutcome:
        if isinstance(error, KagsyncError):
            wrapped = error
        else:
            log.error("%s: unexpected error in watch", competition.slug, exc_info=error)
            wrapped = KagsyncError(f"unexpected error: {type(error).__name__} (details in the log)")
        log.warning("%s: %s", competition.slug, wrapped)
        return self.syncer.record_failure(competition, "watch", wrapped)

    def _transition(self, report: TickReport, transition: Transition) -> None:
        report.transitions.append(transition)
        log.info("%s: %s -> %s (%s)", transition.slug, transition.old, transition.new, transition.reason)
        self.observer.transition(transition)

    # -- the loop -------------------------------------------------------------

    def _scheduled_tick(self) -> None:
        if self.stopping:
            return
        self.tick()
        if self._job is not None:
            # schedule computes the next run from this value, after this call returns:
            # the next tick starts one interval after this one *ended*.
            self._job.interval = self.current_interval  # type: ignore[assignment]  # schedule takes floats

    def run(self, *, max_ticks: int | None = None) -> TickReport | None:
        """Tick now, then every interval, until stopped or after ``max_ticks`` ticks.

        Returns the last tick's report (None if no tick ran). Between ticks it sleeps in
        short steps, so a stop request is noticed within :attr:`POLL_SECONDS`.
        """
        if max_ticks is not None and max_ticks < 1:
            raise ValueError("max_ticks must be at least 1")
        scheduler = schedule.Scheduler()
        self._job = scheduler.every(self.interval).seconds.do(self._scheduled_tick)  # type: ignore[arg-type]
        self._scheduler = scheduler
        start, first = self.ticks, True
        try:
            while not self.stopping and (max_ticks is None or self.ticks - start < max_ticks):
                if first or self._scheduler_jumped(scheduler):
                    first = False
                    scheduler.run_all()  # the first tick starts at once
                    continue
                idle = scheduler.idle_seconds
                if idle is None:
                    break
                if idle <= 0:
                    scheduler.run_pending()
                    continue
                time.sleep(min(idle, self.POLL_SECONDS))
        except KeyboardInterrupt:
            self.syncer.stop.request()
            log.info("watch: interrupted")
        finally:
            scheduler.clear()
            self._scheduler = None
            self._job = None
        return self.last_report

    def _scheduler_jumped(self, scheduler: schedule.Scheduler) -> bool:
        """True when the wall clock went back (schedule counts in local wall-clock time)."""
        idle = scheduler.idle_seconds
        return idle is not None and idle > self.current_interval + 1.0


@contextmanager
def stop_on_signals(watcher: Watcher, signals: Sequence[int] = SIGNALS) -> Iterator[None]:
    """While inside, the first SIGINT/SIGTERM stops ``watcher``; the second aborts its running
    syncs; the next raises KeyboardInterrupt in the main thread (see :mod:`kagsync.signals`).
    Previous handlers are restored on exit; outside the main thread this does nothing.
    """
    with interruptible(watcher.syncer.stop, request=watcher.stop, signals=signals):
        yield


def _started(competition: Competition, now: datetime) -> bool:
    return competition.start is not None and to_datetime(competition.start) <= now


def _ended(competition: Competition, now: datetime) -> bool:
    return competition.end is not None and to_datetime(competition.end) <= now
