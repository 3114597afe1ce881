"""Final results: Kaggle's competition details, the private board after close, shake-up.

Three facts about Kaggle shape this module (see ``shared/docs/kaggle-leaderboard.md``):

- ``GetCompetition`` knows a competition's title, dates and metric, but not whether
  lower scores are better: the direction comes from the metric's name
  (:mod:`kagsync.metrics`) or from the user.
- ``DownloadLeaderboard`` keeps serving the *public* board after close; the private
  (final) board comes only from the paged ``GetLeaderboard``, which has no ranks,
  members or submission counts (the sync joins those from the public board).
- The private board's release date is not published: it is detected by comparing the
  first page of the board with and without ``overridePublic``.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from kagsync.errors import KaggleNotFoundError, KagsyncError, UnknownCompetitionError
from kagsync.metrics import metric_lower_is_better
from kagsync.models import Competition, Hint, Note, SyncOutcome, Trigger, status_from_dates
from kagsync.sources import Details, DetailsSource, LeaderboardSource, PrivateBoardSource
from kagsync.values import now_iso, to_datetime

log = logging.getLogger("kagsync.final")

# Competition columns that Kaggle's details fill, and the details key of each.
DETAIL_COLUMNS: Mapping[str, str] = {
    "title": "title",
    "start": "enabled_date",
    "end": "deadline",
    "description": "description",
    "metric": "evaluation_metric",
    "team_count": "team_count",
    "max_team_size": "max_team_size",
    "reward": "reward",
    "category": "category",
    "merger_deadline": "merger_deadline",
}


# Competition columns that only Kaggle's details fill (never an option or an import column).
DETAIL_ONLY_COLUMNS = (
    "metric",
    "team_count",
    "max_team_size",
    "reward",
    "category",
    "merger_deadline",
    "details_fetched_at",
)


@dataclass
class DetailsFill:
    """What Kaggle's details add to a competition the user describes."""

    fields: dict[str, object] = field(default_factory=dict)
    filled: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def fetch_details(
    source: LeaderboardSource, slug: str, *, offline: bool = False, known_slugs: Iterable[str] = ()
) -> tuple[Details | None, str | None]:
    """The competition's details from the source, and a note when they could not be had.

    A competition Kaggle does not know raises :class:`UnknownCompetitionError` (with
    a near slug among ``known_slugs`` as a suggestion); any other failure (no
    credentials, network, 5xx, 429) is a note, never an error: the competition is
    saved with what the user gave.
    """
    if offline or not isinstance(source, DetailsSource):
        return None, None
    try:
        return source.details(slug), None
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


def fill_from_details(given: Mapping[str, object], details: Details | None, *, now: str | None = None) -> DetailsFill:
    """The fields of a new competition: what the user gave, then Kaggle's details.

    What the user gives always wins. The status, when not given, follows the dates;
    the direction follows the metric's name (an unknown metric keeps "higher is
    better" and says so, with the flag that changes it).
    """
    now = now or now_iso()
    fill = DetailsFill(fields={key: value for key, value in given.items() if value is not None})
    if details is not None:
        for column, key in DETAIL_COLUMNS.items():
            value = details.get(key)
            if column not in fill.fields and value is not None:
                fill.fields[column] = value
                fill.filled[column] = value
        fill.fields["details_fetched_at"] = now
        metric = details.get("evaluation_metric")
        if "lower_is_better" not in fill.fields and isinstance(metric, str):
            direction = metric_lower_is_better(metric)
            if direction is None:
                fill.notes.append(
                    Note(
                        f"metric {metric!r} is not in kagsync's table: higher scores are taken as better",
                        Hint.LOWER_IS_BETTER,
                    )
                )
            else:
                fill.fields["lower_is_better"] = direction
                fill.filled["lower_is_better"] = direction
    if "status" not in fill.fields and details is not None:
        start, end = fill.fields.get("start"), fill.fields.get("end")
        status = status_from_dates(_iso(start), _iso(end), now)
        fill.fields["status"] = status
        fill.filled["status"] = status
    return fill


def _iso(value: object) -> str | None:
    """A date as stored (ISO 8601 UTC), from the user's text or Kaggle's."""
    if value is None:
        return None
    from kagsync.values import parse_time

    return parse_time(str(value), name="date")


def refreshed_fields(competition: Competition, details: Details, *, now: str | None = None) -> dict[str, object]:
    """The changes a refresh of Kaggle's details makes: only fields the user did not set."""
    now = now or now_iso()
    changes: dict[str, object] = {"details_fetched_at": now}
    for column, key in DETAIL_COLUMNS.items():
        value = details.get(key)
        if column in competition.user_fields or value is None:
            continue
        if column in ("start", "end", "merger_deadline"):
            value = _iso(value)
        if getattr(competition, column) != value:
            changes[column] = value
    metric = details.get("evaluation_metric")
    if "lower_is_better" not in competition.user_fields and isinstance(metric, str):
        direction = metric_lower_is_better(metric)
        if direction is not None and direction != competition.lower_is_better:
            changes["lower_is_better"] = int(direction)
    return changes


# -- the private board --------------------------------------------------------------


def private_check_due(competition: Competition, now: str, *, interval: float, wait: float) -> bool:
    """Whether ``watch`` should look for this completed competition's private board now.

    Until the board is stored, at most once per ``interval`` seconds, for up to
    ``wait`` seconds after the competition's end; then it is left alone.
    """
    if competition.status != "completed" or competition.private_synced_at is not None or competition.end is None:
        return False
    moment = to_datetime(now)
    if moment - to_datetime(competition.end) > timedelta(seconds=wait):
        return False
    checked = competition.private_checked_at
    return checked is None or moment - to_datetime(checked) >= timedelta(seconds=interval)


def details_refresh_due(competition: Competition, now: str, *, interval: float) -> bool:
    """Whether ``watch`` should re-read this competition's details (Kaggle moves deadlines)."""
    fetched = competition.details_fetched_at
    return fetched is None or to_datetime(now) - to_datetime(fetched) >= timedelta(seconds=interval)


def supports_private(source: LeaderboardSource) -> bool:
    """Whether the source can serve a private board at all."""
    return isinstance(source, PrivateBoardSource)


def has_ended(competition: Competition, now: str) -> bool:
    """Whether the competition is over: its deadline passed, or (no deadline known) it is completed."""
    if competition.end is not None:
        return competition.end <= now
    return competition.status == "completed"


@dataclass
class PrivateCheck:
    """What looking for a private board found: released or not, and the sync if one ran.

    ``kept_since`` is set when the source no longer serves a private board that is
    stored: the stored one (synced then) is kept.
    """

    competition: str
    released: bool
    outcome: SyncOutcome | None = None
    error: str | None = None
    kept_since: str | None = None


def outcomes_of(checks: Sequence[PrivateCheck]) -> list[SyncOutcome]:
    """The sync outcomes of some private-board checks (those that synced)."""
    return [check.outcome for check in checks if check.outcome is not None]


__all__ = [
    "DETAIL_COLUMNS",
    "DETAIL_ONLY_COLUMNS",
    "DetailsFill",
    "PrivateCheck",
    "Trigger",
    "details_refresh_due",
    "fetch_details",
    "fill_from_details",
    "has_ended",
    "outcomes_of",
    "private_check_due",
    "refreshed_fields",
    "supports_private",
]
