"""kagsync's public Python API: one object that owns the connection, settings and source.

::

    import kagsync

    with kagsync.open("club.db", source="examples/leaderboards") as ks:
        ks.add_event("Neural Night", start="2025-03-01")
        outcome = ks.add_competition("titanic", event="neural-night", status="ongoing")
        top = ks.leaderboard("titanic", top=10)

The command line is this API's first client: each command parses its options, calls
one method here and renders the result. Nothing here prints; progress goes to the
observers given, and log lines to the ``kagsync`` logger.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from kagsync import db as dbmod
from kagsync.club import ClubMixin
from kagsync.errors import AlreadyExistsError, Hint, KagsyncError, NoBoardError, ValidationError
from kagsync.final import (
    DETAIL_ONLY_COLUMNS,
    PrivateCheck,
    details_refresh_due,
    fetch_details,
    fill_from_details,
    has_ended,
    outcomes_of,
    private_check_due,
    refreshed_fields,
    supports_private,
)
from kagsync.models import (
    MAX_WATCH_INTERVAL,
    Board,
    Competition,
    Event,
    ExportSummary,
    RunRecord,
    Saved,
    SyncOutcome,
    Trigger,
    is_active,
)
from kagsync.repository import Repository
from kagsync.settings import Settings, load_settings
from kagsync.sources import DetailsSource, KaggleSource, LeaderboardSource, PrivateBoardSource, choose_source
from kagsync.sync import StopFlag, Syncer, SyncLimits, SyncObserver, recover_interrupted
from kagsync.values import now_iso, parse_competition_slug

if TYPE_CHECKING:
    from kagsync.importer import ImportResult
    from kagsync.standings import Standings
    from kagsync.watch import TickReport, Watcher, WatchObserver

__all__ = ["Kagsync", "open"]

log = logging.getLogger("kagsync.api")


# JSON-ready rows as the views return them (column names as in the schema).
Row = dict[str, object]


class Kagsync(ClubMixin):
    """An open kagsync database with its settings and leaderboard source.

    ``mode`` is how the database is opened: ``create`` (the default for Python users;
    makes the file when missing), ``write`` (the file must exist) or ``read``
    (read-only, works on read-only media, never migrates). The connection is opened
    on first use and closed by :meth:`close` or the ``with`` block.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        source: LeaderboardSource | None = None,
        mode: dbmod.OpenMode = "create",
        observer: SyncObserver | None = None,
        stop: StopFlag | None = None,
        offline: bool = False,
    ) -> None:
        self.settings = settings
        self.offline = offline
        self.mode: dbmod.OpenMode = mode
        self.observer = observer
        self.stop = stop or StopFlag()
        self._source = source
        self._database: dbmod.Database | None = None

    # -- life cycle -------------------------------------------------------------

    @property
    def database(self) -> dbmod.Database:
        """The open database (opened on first use)."""
        if self._database is None:
            log.debug(
                "opening %s (%s); settings: %s",
                self.settings.db,
                self.mode,
                ", ".join(f"{key}={value} ({origin})" for key, value, origin, _ in self.settings.describe()),
            )
            self._database = dbmod.connect(self.settings.db, mode=self.mode)
            if not self._database.readonly:
                # A kagsync killed mid-sync left its run 'running' and its temp folder.
                recover_interrupted(self._database)
        return self._database

    def close(self) -> None:
        """Close the database connection."""
        if self._database is not None:
            self._database.close()
            self._database = None

    def __enter__(self) -> Kagsync:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def source(self) -> LeaderboardSource:
        """Where boards come from: the given source, else ``settings.source``, else Kaggle."""
        if self._source is None:
            self._source = choose_source(
                self.settings.source,
                max_bytes=self.settings.max_download_bytes,
                deadline=self.settings.download_deadline,
            )
        return self._source

    def syncer(
        self, *, from_file: Path | None = None, jobs: int | None = None, observer: SyncObserver | None = None
    ) -> Syncer:
        """A sync service over this database and source (``from_file`` replaces the source)."""
        return Syncer(
            self.settings.db,
            choose_source(None, from_file) if from_file is not None else self.source,
            lock_timeout=self.settings.lock_timeout,
            observer=observer or self.observer,
            jobs=jobs or self.settings.jobs,
            limits=SyncLimits(
                max_board_shrink=self.settings.max_board_shrink,
                max_uncompressed_bytes=self.settings.max_uncompressed_bytes,
                max_compression_ratio=self.settings.max_compression_ratio,
            ),
            stop=self.stop,
        )

    def repository(self, *, sync: bool = False, jobs: int | None = None) -> Repository:
        """The repository; with ``sync`` (and the ``auto_sync`` setting on) writes trigger syncs."""
        hook = self.syncer(jobs=jobs) if sync and self.settings.auto_sync else None
        return Repository(self.database, sync_hook=hook, sync_statuses=self.settings.sync_statuses)

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        """While inside, Ctrl-C and SIGTERM stop syncs in three steps.

        The first stops starting queued syncs (they end ``interrupted``, "not started")
        and lets running ones finish; the second aborts the running ones at their next
        check (each is recorded as an ``interrupted`` run, its temporary folder removed);
        the third raises KeyboardInterrupt at once. Outside the main thread, where
        handlers cannot be installed, this does nothing. Previous handlers are restored.
        """
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: object) -> None:
            if self.stop.aborting:
                raise KeyboardInterrupt
            self.stop.request()

        previous = {number: signal.signal(number, handler) for number in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for number, old in previous.items():
                signal.signal(number, old)

    @property
    def interrupted(self) -> bool:
        """True once a stop was requested (Ctrl-C, SIGTERM, or :attr:`stop`)."""
        return self.stop.stopping

    # -- events -----------------------------------------------------------------

    def add_event(
        self,
        title: str,
        *,
        slug: str | None = None,
        start: str | None = None,
        end: str | None = None,
        description: str | None = None,
    ) -> Event:
        """Create an event; its slug is derived from the title unless given."""
        return self.repository().add_event(title, slug=slug, start=start, end=end, description=description)

    def event(self, slug: str) -> Event:
        """One event."""
        return self.repository().get_event(slug)

    def events(self) -> list[Event]:
        """Every event, by start date."""
        return self.repository().list_events()

    def edit_event(
        self,
        slug: str,
        *,
        title: str | None = None,
        start: str | None = None,
        end: str | None = None,
        description: str | None = None,
    ) -> Event:
        """Change the given fields of an event; an empty start/end/description clears it."""
        return self.repository().edit_event(slug, title=title, start=start, end=end, description=description)

    def remove_event(self, slug: str, *, cascade: bool = False) -> int:
        """Delete an event (with ``cascade``, its competitions too); returns competitions removed."""
        return self.repository().remove_event(slug, cascade=cascade)

    # -- competitions -------------------------------------------------------------

    def add_competition(
        self,
        slug_or_url: str,
        *,
        sync: bool = True,
        title: str | None = None,
        event: str | None = None,
        status: str | None = None,
        start: str | None = None,
        end: str | None = None,
        description: str | None = None,
        lower_is_better: bool | None = None,
        weight: float | None = None,
        events: Sequence[str] = (),
    ) -> Saved:
        """Store a competition and (unless ``sync`` is False) sync its whole leaderboard now.

        Kaggle's details (title, dates, metric...) fill every field not given, unless
        the API is offline; the status, when not given, follows the dates. A slug
        Kaggle does not know is refused and nothing is saved. ``event`` and ``events``
        name the events it belongs to (``weight`` is its weight in each).
        """
        names = list(dict.fromkeys([*([event] if event else []), *events]))
        saved = self._add_competition(
            slug_or_url,
            sync=sync,
            title=title,
            event=names[0] if names else None,
            status=status,
            start=start,
            end=end,
            description=description,
            lower_is_better=lower_is_better,
            weight=weight,
            more_events=names[1:],
        )
        self.after_pass(saved.syncs)
        return saved

    def _add_competition(
        self,
        slug_or_url: str,
        *,
        sync: bool,
        title: str | None,
        event: str | None,
        status: str | None,
        start: str | None,
        end: str | None,
        description: str | None,
        lower_is_better: bool | None,
        weight: float | None,
        more_events: Sequence[str],
    ) -> Saved:
        fields: dict[str, object] = {
            key: value
            for key, value in {
                "title": title,
                "event": event,
                "status": status,
                "start": start,
                "end": end,
                "description": description,
                "lower_is_better": lower_is_better,
                "weight": weight,
            }.items()
            if value is not None
        }
        slug = parse_competition_slug(slug_or_url)
        repository = self.repository(sync=sync)
        if repository.find_competition(slug) is not None:
            raise AlreadyExistsError(f"competition {slug!r} already exists (change it with `kagsync competition edit`)")
        known = [c.slug for c in repository.list_competitions()]
        details, note = fetch_details(self.source, slug, offline=self.offline, known_slugs=known)
        fill = fill_from_details(fields, details)
        values = dict(fill.fields)
        extra: dict[str, object] = {key: values.pop(key) for key in DETAIL_ONLY_COLUMNS if key in values}
        extra["user_fields"] = json.dumps(sorted(fields))
        saved = repository.add_competition(slug, sync=sync, extra=extra, more_events=more_events, **values)
        saved.notes = ([note] if note else []) + fill.notes
        saved.filled = fill.filled
        if sync and saved.competition.status == "completed" and all(o.ok for o in saved.syncs):
            saved.syncs += outcomes_of([self.check_private(saved.competition, "add")])
        return saved

    def refresh_competitions(self, slugs: Sequence[str] = (), *, all_competitions: bool = False) -> list[Competition]:
        """Re-read Kaggle's details of these competitions (or all); fields the user set stay.

        Raises the first failure (a competition Kaggle does not know, no credentials...).
        """
        if not slugs and not all_competitions:
            raise ValidationError("name at least one competition", hint=Hint.ALL)
        repository = self.repository()
        chosen = repository.list_competitions() if all_competitions else [repository.get_competition(s) for s in slugs]
        refreshed = []
        for competition in chosen:
            if self.offline or not isinstance(self.source, DetailsSource):
                raise ValidationError(
                    "competition details come from Kaggle or a source folder: not available offline",
                    hint=Hint.SOURCE_DETAILS,
                )
            details = self.source.details(competition.slug)
            if details is None:
                raise ValidationError(f"{competition.slug}: the source has no details for it")
            refreshed.append(repository.update_details(competition.slug, refreshed_fields(competition, details)))
        return refreshed

    def refresh_details_if_due(self, competition: Competition, now: str) -> None:
        """``watch``: re-read a competition's details at most once per ``details_refresh``."""
        if self.offline or not isinstance(self.source, DetailsSource):
            return
        if not details_refresh_due(competition, now, interval=self.settings.details_refresh):
            return
        details = self.source.details(competition.slug)
        if details is not None:
            self.repository().update_details(competition.slug, refreshed_fields(competition, details, now=now))

    # -- the private (final) board ----------------------------------------------------

    def check_private(
        self, competition: Competition, trigger: Trigger = "manual", *, force: bool = False
    ) -> PrivateCheck:
        """Look for the competition's private (final) board; store it when released.

        Costs one ``GetLeaderboard`` pair on Kaggle; a released board is then paged in
        and applied in one transaction like any sync. ``force`` applies a board that
        would be held back as suspect.
        """
        slug = competition.slug
        if self.offline and isinstance(self.source, KaggleSource):
            return PrivateCheck(slug, False, error="offline: the private board was not looked for")
        if not supports_private(self.source):
            return PrivateCheck(slug, False, error=f"{self.source.describe(slug)} cannot serve a private board")
        assert isinstance(self.source, PrivateBoardSource)
        repository = self.repository()
        moment = now_iso()
        try:
            released = self.source.private_released(slug)
        except KagsyncError as error:
            repository.mark_private_checked(slug, released=False, at=moment)
            return PrivateCheck(slug, False, error=str(error), kept_since=competition.private_synced_at)
        repository.mark_private_checked(slug, released=released, at=moment)
        if not released:
            return PrivateCheck(slug, False, kept_since=competition.private_synced_at)
        outcome = self.syncer().sync(repository.get_competition(slug), trigger, force=force, board="private")
        return PrivateCheck(slug, True, outcome)

    def sync_private(self, slugs: Sequence[str], *, force: bool = False) -> list[PrivateCheck]:
        """Check for and store the private boards of these competitions.

        A competition that has not ended is refused (:class:`ValidationError`, hint
        ``PRIVATE_EARLY``) unless ``force``: a board taken before the deadline is not
        final. ``force`` also applies a board that would be held back as suspect.
        """
        if not slugs:
            raise ValidationError("name at least one competition")
        chosen = [self.competition(slug) for slug in dict.fromkeys(slugs)]
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
        checks = [self.check_private(competition, force=force) for competition in chosen]
        self.after_pass(outcomes_of(checks))
        return checks

    def private_check_is_due(self, competition: Competition, now: str) -> bool:
        """``watch``: whether to look for this completed competition's private board now."""
        return supports_private(self.source) and private_check_due(
            competition, now, interval=self.settings.private_check_interval, wait=self.settings.private_wait
        )

    def shakeup(self, slug: str, *, top: int = 10) -> Row:
        """Public rank → private rank of every team on both boards, and the shake-up figures."""
        from kagsync.views import shakeup

        return shakeup(self.database, self.require_board(slug), top=top)

    def default_board(self, slug: str) -> Board:
        """The board shown by default: the private (final) one once stored, else the public one."""
        return "private" if self.competition(slug).private_synced_at else "public"

    def competition(self, slug_or_url: str) -> Competition:
        """One competition by slug or Kaggle URL."""
        return self.repository().get_competition(slug_or_url)

    def competitions(self, *, event: str | None = None, status: str | Sequence[str] | None = None) -> list[Competition]:
        """Competitions, optionally of one event and/or with the given status(es)."""
        return self.repository().list_competitions(event=event, status=status)

    def edit_competition(
        self,
        slug_or_url: str,
        *,
        title: str | None = None,
        event: str | None = None,
        start: str | None = None,
        end: str | None = None,
        description: str | None = None,
        lower_is_better: bool | None = None,
        weight: float | None = None,
        add_events: Sequence[str] = (),
        remove_events: Sequence[str] = (),
    ) -> Competition:
        """Change the given fields (never syncs: only inserts and status changes do).

        ``add_events``/``remove_events`` put it in more events or take it out of some;
        ``weight`` is its weight in ``event`` (needed only when it is in several).
        """
        return self.repository().edit_competition(
            slug_or_url,
            title=title,
            event=event,
            start=start,
            end=end,
            description=description,
            lower_is_better=lower_is_better,
            weight=weight,
            add_events=add_events,
            remove_events=remove_events,
        )

    def competition_weights(self, slug_or_url: str) -> dict[str, float]:
        """The competition's weight in each of its events (event slug -> weight)."""
        return self.repository().competition_weights(self.competition(slug_or_url).slug)

    def event_weights(self, event: str) -> dict[str, float]:
        """The weight of each competition of an event (competition slug -> weight)."""
        return self.repository().event_weights(event)

    def set_status(self, slug_or_url: str, status: str, *, sync: bool = True) -> Saved:
        """Change a competition's status; entering a sync status syncs it (see :func:`needs_sync`)."""
        saved = self.repository(sync=sync).set_status(slug_or_url, status, sync=sync)
        if saved.changed and saved.competition.status == "completed" and saved.syncs and all(o.ok for o in saved.syncs):
            saved.syncs += outcomes_of([self.check_private(saved.competition, "status")])
        self.after_pass(saved.syncs)
        return saved

    def remove_competition(self, slug_or_url: str) -> Competition:
        """Delete a competition with its board, runs and history."""
        return self.repository().remove_competition(slug_or_url)

    # -- syncing ------------------------------------------------------------------

    def sync(
        self,
        slugs: Sequence[str] = (),
        *,
        all_active: bool = False,
        from_file: Path | None = None,
        jobs: int | None = None,
        force: bool = False,
        trigger: Trigger = "manual",
    ) -> list[SyncOutcome]:
        """Sync the named competitions (and, with ``all_active``, every active one) now.

        Each competition is synced once even when named twice. ``from_file`` reads
        the board of the one competition named from that file. ``force`` applies a
        board that would be held back as suspect.
        """
        if not slugs and not all_active:
            raise ValidationError("name at least one competition", hint=Hint.ALL_ACTIVE)
        if from_file is not None and (len(slugs) != 1 or all_active):
            raise ValidationError("a leaderboard file syncs exactly one competition: give one slug")
        if from_file is not None and not Path(from_file).is_file():
            raise ValidationError(f"{from_file}: no such leaderboard file")
        repository = self.repository()
        chosen: dict[str, Competition] = {}
        for slug in slugs:
            competition = repository.get_competition(slug)
            chosen.setdefault(competition.slug, competition)
        if all_active:
            for competition in repository.list_competitions():
                if is_active(competition.status, self.settings.sync_statuses):
                    chosen.setdefault(competition.slug, competition)
        syncer = self.syncer(from_file=from_file, jobs=jobs)
        outcomes = syncer.sync_many([(c, trigger) for c in chosen.values()], force=force)
        self.after_pass(outcomes)
        return outcomes

    def runs(self, slug: str | None = None, *, limit: int = 20) -> list[RunRecord]:
        """Recorded sync runs, newest first, optionally of one competition."""
        from kagsync.views import sync_runs

        competition = self.competition(slug) if slug else None
        return sync_runs(self.database, competition, limit=limit)

    # -- import and watch -----------------------------------------------------------

    def import_file(
        self,
        path: Path | str,
        *,
        event: str | None = None,
        create_events: bool = False,
        dry_run: bool = False,
        sync: bool = True,
        jobs: int | None = None,
    ) -> ImportResult:
        """Check a whole import file, then (unless ``dry_run``) write it and sync what needs it."""
        from kagsync.importer import import_file

        # A dry run says what would sync, so it gets the hook it would use (never called).
        repository = self.repository(sync=sync, jobs=jobs)
        known = [c.slug for c in repository.list_competitions()]
        result = import_file(
            repository,
            path,
            event=event,
            create_events=create_events,
            dry_run=dry_run,
            sync=sync,
            details_of=lambda slug: fetch_details(self.source, slug, offline=self.offline, known_slugs=known),
        )
        if not dry_run:
            for saved in result.saved:
                # A competition that has closed: after its (final) public sync, its private board.
                if saved.competition.status == "completed" and saved.syncs and all(o.ok for o in saved.syncs):
                    saved.syncs += outcomes_of([self.check_private(saved.competition, "import")])
            self.after_pass(result.outcomes)
        return result

    def watcher(
        self,
        *,
        interval: float | None = None,
        jobs: int | None = None,
        observer: WatchObserver | None = None,
    ) -> Watcher:
        """A watch loop over this database (see :class:`kagsync.watch.Watcher`)."""
        from kagsync.watch import Watcher

        if interval is not None and not 0 < interval <= MAX_WATCH_INTERVAL:
            raise ValidationError(
                f"interval: expected a positive number of seconds up to {MAX_WATCH_INTERVAL:g}, got {interval:g}"
            )
        return Watcher(
            self.repository(),
            self.syncer(jobs=jobs),
            interval=interval or self.settings.watch_interval,
            jobs=jobs or self.settings.jobs,
            follow_dates=self.settings.follow_dates,
            observer=observer,
            after_tick=lambda report: self.after_pass(report.outcomes),
            final=self,
        )

    def tick(self, *, jobs: int | None = None) -> TickReport:
        """One watch tick now: follow the dates, sync every active competition."""
        return self.watcher(jobs=jobs).tick()

    # -- results ------------------------------------------------------------------

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Kagsync]:
        """Read inside one read transaction: every read sees one state of the file."""
        from kagsync.views import read_snapshot

        with read_snapshot(self.database):
            yield self

    def leaderboard(
        self,
        slug: str,
        *,
        top: int | None = None,
        team: str | None = None,
        user: str | None = None,
        board: Board | None = None,
    ) -> list[Row]:
        """A stored board in rank order, with movement since that board's previous sync.

        ``board``: ``public`` or ``private``; by default the private (final) board once
        stored, else the public one.
        """
        from kagsync.views import leaderboard_entries

        competition = self.require_board(slug)
        return leaderboard_entries(
            self.database, competition, top=top, team=team, user=user, board=board or self.default_board(slug)
        )

    def require_board(self, slug: str) -> Competition:
        """The competition, or :class:`NoBoardError` when no board of it was ever stored.

        ``leaderboard``, ``movers``, ``history`` and ``shakeup`` all need one, and all
        say so the same way.
        """
        competition = self.competition(slug)
        if competition.last_synced_at is None and competition.private_synced_at is None:
            raise NoBoardError(f"{competition.slug} has no stored leaderboard yet: run kagsync sync {competition.slug}")
        return competition

    def movement_basis(self, slug: str, *, board: Board | None = None) -> Row:
        """Which syncs the board's movement compares (the latest and the one before)."""
        from kagsync.views import movement_basis

        return movement_basis(self.database, self.competition(slug), board or self.default_board(slug))

    def history(
        self, slug: str, *, board: Board | None = None, limit: int | None = None, every_sync: bool = False
    ) -> list[Row]:
        """The board at each successful sync where it changed, newest first.

        A sync that changed nothing (a quiet board re-synced by ``watch``) is left out
        unless ``every_sync``; ``limit`` keeps the newest ones.
        """
        from kagsync.views import board_history

        syncs = board_history(self.database, self.require_board(slug), board or self.default_board(slug))
        if not every_sync:
            syncs = [s for s in syncs if s["created"] or s["updated"] or s["removed"]]
        syncs.reverse()
        return syncs if limit is None else syncs[:limit]

    def team_history(self, slug: str, team: str) -> Row:
        """One team's rank and score at every sync where either changed."""
        from kagsync.views import team_history

        return team_history(self.database, self.competition(slug), team)

    def movers(self, slug: str, *, since: str | None = None, limit: int | None = 10) -> Row:
        """Climbers, fallers, new and departed teams since the previous sync (or ``since``)."""
        from kagsync.views import movers

        return movers(self.database, self.require_board(slug), since=since, limit=limit)

    def standings(
        self, event: str, *, scheme: str | None = None, everyone: bool = False, group: str | None = None
    ) -> Standings:
        """An event's standings over its competitions' stored boards (its roster's members
        only when it has one; ``everyone`` ranks every participant; ``group`` one group)."""
        return self.event_standings(event, scheme=scheme, everyone=everyone, group=group)

    def export(
        self,
        out: TextIO,
        *,
        fmt: str,
        competition: str | None = None,
        event: str | None = None,
        scheme: str | None = None,
        standings_out: TextIO | None = None,
        everyone: bool = False,
    ) -> ExportSummary:
        """Write one competition's board, or every board and the standings of an event."""
        from kagsync.export import export

        if (competition is None) == (event is None):
            raise ValidationError("export one competition or one event")
        with self.snapshot():
            if event is not None:
                found = self.event(event)
                competitions = self.competitions(event=found.slug)
                standings = self.standings(found.slug, scheme=scheme, everyone=everyone)
                count = export(
                    self.database,
                    fmt=fmt,
                    out=out,
                    competitions=competitions,
                    event=found,
                    standings=standings,
                    standings_out=standings_out,
                )
                return ExportSummary(count, len(competitions), len(standings.rows))
            count = export(self.database, fmt=fmt, out=out, competitions=[self.competition(competition or "")])
            return ExportSummary(count, 1)

    def report(
        self,
        event: str,
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
            self.repository(),
            event,
            scheme=scheme or DEFAULT_SCHEME,
            top=top or DEFAULT_TOP,
            chart_teams=chart_teams or DEFAULT_CHART_TEAMS,
            everyone=everyone,
        )

    # -- added for the CLI (issue 13) -------------------------------------------------

    def check_remove_event(self, slug: str, *, cascade: bool = False) -> Event:
        """The event :meth:`remove_event` would remove, or the error it would raise; writes nothing.

        Lets a caller refuse before asking for a confirmation.
        """
        return self.repository().check_remove_event(slug, cascade=cascade)


def open(
    db: Path | str | None = None,
    *,
    source: Path | str | LeaderboardSource | None = None,
    mode: dbmod.OpenMode = "create",
    settings: Settings | None = None,
    options: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Kagsync:
    """Open a kagsync database.

    ``db`` and ``source`` (a folder of ``<slug>.zip``/``.csv`` boards, or any
    :class:`~kagsync.sources.LeaderboardSource`) override the settings; the other
    settings resolve as on the command line: ``options``, then the environment, then
    the settings file, then the defaults.
    """
    resolved_options: dict[str, object] = dict(options or {})
    if db is not None:
        resolved_options["db"] = db
    if isinstance(source, (str, Path)):
        resolved_options["source"] = source
        source = None
    if settings is None:
        settings = load_settings(resolved_options, environ)
    elif db is not None:
        settings = replace(settings, db=Path(db))
    return Kagsync(settings, source=source, mode=mode)
