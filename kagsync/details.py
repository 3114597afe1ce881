"""When kagsync asks for a competition's details, and what a failure costs: nothing.

Kaggle's details (``GetCompetition``: title, dates, metric...) are a nicety. They must
never stall ``competition add``, ``import`` or ``watch``, and never delay a board sync:

- each competition's details get an overall deadline (10 s, see
  :mod:`kagsync.kaggle.details`); a ``Retry-After`` over 5 s skips them for now; a
  reply over 1 MiB is refused unread; the first Ctrl-C/SIGTERM abandons the call;
- on ``add`` and ``import`` a failure is a note, and the competition is saved with
  what the user gave (only an unknown slug is refused);
- ``watch`` refreshes details after its board syncs, and after a failed fetch backs
  off per competition (``competitions.details_failures`` and ``details_retry_at``):
  10 minutes, then 20, 40... up to the refresh interval itself;
- Kaggle's own inconsistencies are saved, not refused: a start after the deadline is
  dropped with a note, and a refresh that would put the stored dates in the wrong
  order keeps the ones that are consistent.

Public API: :func:`fetch_details`, :func:`refresh_due`, :func:`refresh_if_due`,
:func:`apply_details`, :func:`retry_delay`.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable
from datetime import timedelta

from kagsync.errors import KaggleNotFoundError, KagsyncError, SyncInterruptedError, UnknownCompetitionError
from kagsync.final import details_refresh_due, refreshed_fields
from kagsync.models import Competition
from kagsync.repository import Repository
from kagsync.sources import Details, DetailsSource, LeaderboardSource
from kagsync.values import format_time, to_datetime

__all__ = ["RETRY_BASE", "apply_details", "fetch_details", "refresh_due", "refresh_if_due", "retry_delay"]

log = logging.getLogger("kagsync.details")

RETRY_BASE = 600.0
"""Seconds ``watch`` waits before asking again after a competition's first failed
details fetch; doubled after each further failure, up to the refresh interval."""
_NOTES_KEY = "notes"  # kagsync.kaggle.details.NOTES_KEY (not imported: that would load the client)


def fetch_details(
    source: LeaderboardSource, slug: str, *, offline: bool = False, known_slugs: Iterable[str] = ()
) -> tuple[Details | None, str | None]:
    """A new competition's details from the source, and a note for the user (or None).

    A competition Kaggle does not know raises :class:`UnknownCompetitionError` (with a
    near slug among ``known_slugs`` as a suggestion). Every other failure -- no
    credentials, network, 5xx, 429, the deadline, an interruption -- is a note, never
    an error: the competition is saved with what the user gave. What was odd in
    Kaggle's reply (a start after the deadline) is a note too.
    """
    if offline or not isinstance(source, DetailsSource):
        return None, None
    try:
        details = source.details(slug)
    except KaggleNotFoundError:
        near = difflib.get_close_matches(slug, list(known_slugs), n=1, cutoff=0.75)
        hint = f" (did you mean {near[0]!r}?)" if near else " (check the slug in the competition's URL)"
        raise UnknownCompetitionError(f"no competition {slug!r} exists on Kaggle{hint}; nothing was saved") from None
    except KagsyncError as error:
        log.warning("%s: details not fetched: %s", slug, error)
        return None, (
            f"Kaggle's details of {slug} could not be fetched ({error}); "
            f"fetch them later with: kagsync competition refresh {slug}"
        )
    notes = _odd_values(slug, details)
    return details, "; ".join(notes) if notes else None


def _odd_values(slug: str, details: Details | None) -> list[str]:
    """The notes Kaggle's reply came with (removed from ``details``), each logged."""
    if details is None:
        return []
    found = details.pop(_NOTES_KEY, None)
    notes = [str(note) for note in found] if isinstance(found, list) else []
    for note in notes:
        log.warning("%s: %s", slug, note)
    return notes


def apply_details(repository: Repository, competition: Competition, details: Details, *, now: str) -> Competition:
    """Store what Kaggle's details change (fields the user set stay), and clear any back-off.

    When Kaggle's dates together with the stored ones would put the start after the
    end, the start from Kaggle is not kept (the deadline is what kagsync acts on); if
    the stored start itself is after Kaggle's new deadline, the deadline is not kept
    either, and both are logged.
    """
    _odd_values(competition.slug, details)
    changes = refreshed_fields(competition, details, now=now)
    _keep_dates_in_order(competition, changes)
    changes.update(details_failures=0, details_retry_at=None)
    return repository.update_details(competition.slug, changes)


def _keep_dates_in_order(competition: Competition, changes: dict[str, object]) -> None:
    """Drop Kaggle's start, then its end, from ``changes`` while the start would come
    after the end (a stored date the user set may disagree with Kaggle's new one)."""
    for column in ("start", "end"):
        start, end = changes.get("start", competition.start), changes.get("end", competition.end)
        if not (start and end and to_datetime(str(start)) > to_datetime(str(end))):
            return
        if column in changes:
            log.warning(
                "%s: Kaggle's %s (%s) would put the start after the end: not kept",
                competition.slug,
                "deadline" if column == "end" else "start",
                changes.pop(column),
            )


def retry_delay(failures: int, interval: float) -> float:
    """Seconds to wait after ``failures`` failed fetches in a row: 10 min, 20, 40... up to
    ``interval`` (the normal refresh interval)."""
    return min(RETRY_BASE * 2.0 ** max(failures - 1, 0), max(interval, RETRY_BASE))


def refresh_due(competition: Competition, now: str, *, interval: float) -> bool:
    """Whether ``watch`` should re-read this competition's details now: once per
    ``interval``, and not before a back-off after a failure has passed."""
    if competition.status == "completed" or not details_refresh_due(competition, now, interval=interval):
        return False
    retry_at = competition.details_retry_at
    return retry_at is None or to_datetime(now) >= to_datetime(retry_at)


def refresh_if_due(
    repository: Repository,
    source: LeaderboardSource,
    competition: Competition,
    now: str,
    *,
    interval: float,
    offline: bool = False,
) -> bool:
    """``watch``: re-read a competition's details if due; True when they were stored.

    A failed fetch is recorded (``details_failures`` + 1, ``details_retry_at`` = now +
    :func:`retry_delay`) and re-raised for the caller to log; an interrupted one is
    not counted. A success clears the back-off.
    """
    if offline or not isinstance(source, DetailsSource) or not refresh_due(competition, now, interval=interval):
        return False
    try:
        details = source.details(competition.slug)
    except SyncInterruptedError:
        raise
    except KagsyncError:
        failures = competition.details_failures + 1
        retry_at = to_datetime(now) + timedelta(seconds=retry_delay(failures, interval))
        repository.update_details(
            competition.slug, {"details_failures": failures, "details_retry_at": format_time(retry_at)}
        )
        raise
    if details is None:
        return False
    apply_details(repository, competition, details, now=now)
    return True
