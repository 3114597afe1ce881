"""The catalogue nouns of the Python API: ``ks.events`` and ``ks.competitions``.

Each is a small object over the open :class:`~kagsync.api.Kagsync` (as sqlite-utils'
``Table`` is over its ``Database``): it reads and writes through the repository and,
for a write that calls for a sync (see :func:`kagsync.models.needs_sync`), syncs
through the host's syncer, then looks for the private board of a competition that
has just closed and announces the pass to the notification targets.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kagsync.details import apply_details, fetch_details, refresh_if_due
from kagsync.errors import AlreadyExistsError, Hint, ValidationError
from kagsync.final import DETAIL_ONLY_COLUMNS, fill_from_details, outcomes_of
from kagsync.models import Competition, CompetitionFields, Event, Saved, Trigger
from kagsync.sources import DetailsSource
from kagsync.values import now_iso, parse_competition_slug

if TYPE_CHECKING:
    from kagsync.api import Kagsync
    from kagsync.standings import Standings

__all__ = ["Competitions", "Events"]


class Events:
    """``ks.events``: the events that group competitions, their standings and report."""

    def __init__(self, host: Kagsync) -> None:
        self._ks = host

    def __call__(self) -> list[Event]:
        """:meth:`all` (kagsync 0.1 called ``ks.events()``)."""
        return self.all()

    def add(
        self,
        title: str,
        *,
        slug: str | None = None,
        start: str | None = None,
        end: str | None = None,
        description: str | None = None,
    ) -> Event:
        """Create an event; its slug is derived from the title unless given."""
        return self._ks.repository().add_event(title, slug=slug, start=start, end=end, description=description)

    def get(self, slug: str) -> Event:
        """One event."""
        return self._ks.repository().get_event(slug)

    def all(self) -> list[Event]:
        """Every event, by start date."""
        return self._ks.repository().list_events()

    def edit(
        self,
        slug: str,
        *,
        title: str | None = None,
        start: str | None = None,
        end: str | None = None,
        description: str | None = None,
    ) -> Event:
        """Change the given fields of an event; an empty start/end/description clears it."""
        return self._ks.repository().edit_event(slug, title=title, start=start, end=end, description=description)

    def check_remove(self, slug: str, *, cascade: bool = False) -> Event:
        """The event :meth:`remove` would remove, or the error it would raise; writes nothing.

        Lets a caller refuse before asking for a confirmation.
        """
        return self._ks.repository().check_remove_event(slug, cascade=cascade)

    def remove(self, slug: str, *, cascade: bool = False) -> int:
        """Delete an event (with ``cascade``, its competitions too); returns competitions removed."""
        return self._ks.repository().remove_event(slug, cascade=cascade)

    def weights(self, slug: str) -> dict[str, float]:
        """The weight of each competition of an event (competition slug -> weight)."""
        return self._ks.repository().event_weights(slug)

    def standings(
        self, slug: str, *, scheme: str | None = None, everyone: bool = False, group: str | None = None
    ) -> Standings:
        """An event's standings over its competitions' stored boards: its roster's members
        only when it has one (``everyone`` ranks every participant; ``group`` one group)."""
        from kagsync.standings import DEFAULT_SCHEME, event_standings

        return event_standings(self._ks.repository(), slug, scheme or DEFAULT_SCHEME, everyone=everyone, group=group)

    def report(
        self,
        slug: str,
        *,
        scheme: str | None = None,
        top: int | None = None,
        chart_teams: int | None = None,
        everyone: bool = False,
    ) -> str:
        """The results page of an event as one self-contained HTML document."""
        from kagsync.report import DEFAULT_CHART_TEAMS, DEFAULT_TOP, build_report
        from kagsync.standings import DEFAULT_SCHEME

        return build_report(
            self._ks.repository(),
            slug,
            scheme=scheme or DEFAULT_SCHEME,
            top=top or DEFAULT_TOP,
            chart_teams=chart_teams or DEFAULT_CHART_TEAMS,
            everyone=everyone,
        )


class Competitions:
    """``ks.competitions``: the Kaggle competitions kagsync tracks."""

    def __init__(self, host: Kagsync) -> None:
        self._ks = host

    def __call__(self, *, event: str | None = None, status: str | Sequence[str] | None = None) -> list[Competition]:
        """:meth:`all` (kagsync 0.1 called ``ks.competitions()``)."""
        return self.all(event=event, status=status)

    def add(
        self,
        slug_or_url: str,
        fields: CompetitionFields | None = None,
        *,
        events: Sequence[str] = (),
        sync: bool = True,
    ) -> Saved:
        """Store a competition and (unless ``sync`` is False) sync its whole leaderboard now.

        Kaggle's details (title, dates, metric...) fill every field not given, unless
        the API is offline; the status, when not given, follows the dates. A slug
        Kaggle does not know is refused and nothing is saved. ``fields.event`` and
        ``events`` name the events it belongs to (``fields.weight`` is its weight in each).
        A competition that is completed is then checked for its private board.
        """
        fields = fields or CompetitionFields()
        names = list(dict.fromkeys([*([fields.event] if fields.event else []), *events]))
        given = fields.given()
        if names:
            given["event"] = names[0]
        slug = parse_competition_slug(slug_or_url)
        repository = self._ks.repository(sync=sync)
        if repository.find_competition(slug) is not None:
            raise AlreadyExistsError(f"competition {slug!r} already exists (change it with `kagsync competition edit`)")
        known = [c.slug for c in repository.list_competitions()]
        details, note = fetch_details(self._ks.source, slug, offline=self._ks.offline, known_slugs=known)
        fill = fill_from_details(given, details)
        values = dict(fill.fields)
        extra: dict[str, object] = {key: values.pop(key) for key in DETAIL_ONLY_COLUMNS if key in values}
        extra["user_fields"] = json.dumps(sorted(given))
        saved = repository.add_competition(slug, sync=sync, extra=extra, more_events=names[1:], **values)
        saved.notes = ([note] if note else []) + fill.notes
        saved.filled = fill.filled
        if sync and saved.competition.status == "completed" and all(o.ok for o in saved.syncs):
            self._check_private(saved, "add")
        self._ks.notifications.after_pass(saved.syncs)
        return saved

    def get(self, slug_or_url: str) -> Competition:
        """One competition by slug or Kaggle URL."""
        return self._ks.repository().get_competition(slug_or_url)

    def all(self, *, event: str | None = None, status: str | Sequence[str] | None = None) -> list[Competition]:
        """Competitions, optionally of one event and/or with the given status(es)."""
        return self._ks.repository().list_competitions(event=event, status=status)

    def edit(
        self,
        slug_or_url: str,
        fields: CompetitionFields,
        *,
        add_events: Sequence[str] = (),
        remove_events: Sequence[str] = (),
    ) -> Competition:
        """Change the given fields (never syncs: only inserts and status changes do).

        ``add_events``/``remove_events`` put it in more events or take it out of some;
        ``fields.weight`` is its weight in ``fields.event`` (needed only when it is in
        several). The status is changed by :meth:`set_status`, which may sync.
        """
        if fields.status is not None:
            raise ValidationError("a status is not edited: set it (a status change may sync the board)")
        return self._ks.repository().edit_competition(
            slug_or_url,
            title=fields.title,
            event=fields.event,
            start=fields.start,
            end=fields.end,
            description=fields.description,
            lower_is_better=fields.lower_is_better,
            weight=fields.weight,
            add_events=add_events,
            remove_events=remove_events,
        )

    def set_status(self, slug_or_url: str, status: str, *, sync: bool = True) -> Saved:
        """Change a competition's status; entering a sync status syncs it (see :func:`needs_sync`)."""
        saved = self._ks.repository(sync=sync).set_status(slug_or_url, status, sync=sync)
        if saved.changed and saved.competition.status == "completed" and saved.syncs and all(o.ok for o in saved.syncs):
            self._check_private(saved, "status")
        self._ks.notifications.after_pass(saved.syncs)
        return saved

    def remove(self, slug_or_url: str) -> Competition:
        """Delete a competition with its board, runs and history."""
        return self._ks.repository().remove_competition(slug_or_url)

    def weights(self, slug_or_url: str) -> dict[str, float]:
        """The competition's weight in each of its events (event slug -> weight)."""
        return self._ks.repository().competition_weights(self.get(slug_or_url).slug)

    def refresh(self, slugs: Sequence[str] = (), *, all_competitions: bool = False) -> list[Competition]:
        """Re-read Kaggle's details of these competitions (or all); fields the user set stay.

        Raises the first failure (a competition Kaggle does not know, no credentials...).
        """
        if not slugs and not all_competitions:
            raise ValidationError("name at least one competition", hint=Hint.ALL)
        repository = self._ks.repository()
        chosen = repository.list_competitions() if all_competitions else [repository.get_competition(s) for s in slugs]
        refreshed = []
        for competition in chosen:
            source = self._ks.source
            if self._ks.offline or not isinstance(source, DetailsSource):
                raise ValidationError(
                    "competition details come from Kaggle or a source folder: not available offline",
                    hint=Hint.SOURCE_DETAILS,
                )
            details = source.details(competition.slug)
            if details is None:
                raise ValidationError(f"{competition.slug}: the source has no details for it")
            refreshed.append(apply_details(repository, competition, details, now=now_iso()))
        return refreshed

    def refresh_details_if_due(self, competition: Competition, now: str) -> None:
        """``watch``: re-read a competition's details at most once per ``details_refresh``."""
        interval = self._ks.settings.details_refresh
        refresh_if_due(
            self._ks.repository(), self._ks.source, competition, now, interval=interval, offline=self._ks.offline
        )

    def _check_private(self, saved: Saved, trigger: Trigger) -> None:
        """A competition that closed with this write: after its (final) public sync, its private board."""
        saved.syncs += outcomes_of([self._ks.private.check(saved.competition, trigger)])
