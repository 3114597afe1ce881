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

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from kagsync.db import Database
from kagsync.errors import (
    Hint,
    KagsyncError,
    NotFoundError,
    ValidationError,
)
from kagsync.metrics import metric_lower_is_better
from kagsync.models import Competition, Note, SyncOutcome, Trigger, status_from_dates
from kagsync.sources import Details, KaggleSource, LeaderboardSource, PrivateBoardSource
from kagsync.values import now_iso, to_datetime

if TYPE_CHECKING:
    from kagsync.api import Kagsync
    from kagsync.rows import Shakeup, ShakeupMove

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


class PrivateBoards:
    """``ks.private``: Kaggle's private (final) boards, looked for after close and stored.

    It is also what :class:`kagsync.watch.Watcher` is given as its ``final`` results:
    :meth:`check_private`, :meth:`private_check_is_due` and
    :meth:`refresh_details_if_due` are the three calls a tick makes.
    """

    def __init__(self, host: Kagsync) -> None:
        self._ks = host

    def check(self, competition: Competition, trigger: Trigger = "manual", *, force: bool = False) -> PrivateCheck:
        """Look for the competition's private (final) board; store it when released.

        Costs one ``GetLeaderboard`` pair on Kaggle; a released board is then paged in
        and applied in one transaction like any sync. ``force`` applies a board that
        would be held back as suspect (its outcome's hint is ``PRIVATE_FORCE``).
        """
        ks = self._ks
        slug = competition.slug
        source = ks.source
        if ks.offline and isinstance(source, KaggleSource):
            return PrivateCheck(slug, False, error="offline: the private board was not looked for")
        if not isinstance(source, PrivateBoardSource):
            return PrivateCheck(slug, False, error=f"{source.describe(slug)} cannot serve a private board")
        repository = ks.repository()
        moment = now_iso()
        try:
            released = source.private_released(slug)
        except KagsyncError as error:
            repository.mark_private_checked(slug, released=False, at=moment)
            return PrivateCheck(slug, False, error=str(error), kept_since=competition.private_synced_at)
        repository.mark_private_checked(slug, released=released, at=moment)
        if not released:
            return PrivateCheck(slug, False, kept_since=competition.private_synced_at)
        outcome = ks.syncer().sync(repository.get_competition(slug), trigger, force=force, board="private")
        return PrivateCheck(slug, True, outcome)

    def sync(self, slugs: Sequence[str], *, force: bool = False) -> list[PrivateCheck]:
        """Check for and store the private boards of these competitions now.

        A competition that has not ended is refused (:class:`ValidationError`, hint
        ``PRIVATE_EARLY``) unless ``force``: a board taken before the deadline is not
        final. ``force`` also applies a board that would be held back as suspect.
        """
        if not slugs:
            raise ValidationError("name at least one competition")
        chosen = [self._ks.competitions.get(slug) for slug in dict.fromkeys(slugs)]
        if not force:
            now = now_iso()
            for competition in chosen:
                if not has_ended(competition, now):
                    raise ValidationError(
                        f"{competition.slug} has not ended yet (deadline {competition.end or 'unknown'}, "
                        f"status {competition.status}): a private board taken now would not be final",
                        hint=Hint.PRIVATE_EARLY,
                        subject=competition.slug,
                    )
        checks = [self.check(competition, force=force) for competition in chosen]
        self._ks.notifications.after_pass(outcomes_of(checks))
        return checks

    # -- what watch calls (kagsync.watch.FinalResults) -----------------------------

    def check_private(self, competition: Competition, trigger: Trigger = "manual") -> PrivateCheck:
        """``watch``: :meth:`check` without force."""
        return self.check(competition, trigger)

    def private_check_is_due(self, competition: Competition, now: str) -> bool:
        """``watch``: whether to look for this completed competition's private board now."""
        settings = self._ks.settings
        return supports_private(self._ks.source) and private_check_due(
            competition, now, interval=settings.private_check_interval, wait=settings.private_wait
        )

    def refresh_details_if_due(self, competition: Competition, now: str) -> None:
        """``watch``: re-read a competition's details when due (see :class:`kagsync.catalog.Competitions`)."""
        self._ks.competitions.refresh_details_if_due(competition, now)


# -- shake-up -----------------------------------------------------------------


def shakeup(database: Database, competition: Competition, *, top: int = 10) -> Shakeup:
    """How the final (private) board moved against the public one.

    N is the number of teams on both boards, benchmarks excluded. For each, ``move`` =
    public rank − private rank (positive: climbed). ``shakeup`` is the mean of |move|
    over the N teams divided by N; ``shakeup_top10pct`` the same over the teams whose
    public rank is at most ceil(N / 10). ``entered_top``/``left_top`` list the teams
    (among the N) that entered or left the top ``top`` between the two boards.
    """
    if competition.private_synced_at is None:
        raise NotFoundError(
            f"{competition.slug} has no private (final) board yet", hint=Hint.SYNC_PRIVATE, subject=competition.slug
        )
    rows = database.conn.execute(
        """SELECT p.team_id, p.team_name, pub.rank, p.rank
           FROM entries p JOIN entries pub
             ON pub.competition_id = p.competition_id AND pub.board = 'public' AND pub.team_id = p.team_id
           WHERE p.competition_id = ? AND p.board = 'private' AND p.rank > 0 AND pub.rank > 0
             AND NOT p.is_benchmark AND NOT pub.is_benchmark
           ORDER BY p.rank, p.team_id""",
        (competition.id,),
    ).fetchall()
    teams = len(rows)
    moves: list[ShakeupMove] = [
        {
            "team_id": team_id,
            "team_name": name,
            "public_rank": public,
            "private_rank": private,
            "move": public - private,
        }
        for team_id, name, public, private in rows
    ]
    cut = -(-teams // 10)  # ceil(N / 10)
    leading = [m for m in moves if m["public_rank"] <= cut]
    return {
        "competition": competition.slug,
        "teams": teams,
        "shakeup": sum(abs(m["move"]) for m in moves) / teams / teams if teams else 0.0,
        "shakeup_top10pct": sum(abs(m["move"]) for m in leading) / len(leading) / teams if leading else 0.0,
        "top": top,
        "entered_top": [m for m in moves if m["private_rank"] <= top < m["public_rank"]],
        "left_top": sorted(
            (m for m in moves if m["public_rank"] <= top < m["private_rank"]), key=lambda m: m["public_rank"]
        ),
        "moves": moves,
    }


__all__ = [
    "DETAIL_COLUMNS",
    "DETAIL_ONLY_COLUMNS",
    "DetailsFill",
    "PrivateBoards",
    "PrivateCheck",
    "Trigger",
    "details_refresh_due",
    "fill_from_details",
    "has_ended",
    "outcomes_of",
    "private_check_due",
    "refreshed_fields",
    "shakeup",
    "supports_private",
]
