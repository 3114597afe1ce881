"""kagsync's public Python API: one object that owns the connection, settings and source,
and a few small nouns over it (in the manner of sqlite-utils' ``Database`` and ``Table``).

::

    import kagsync
    from kagsync.models import CompetitionFields

    with kagsync.open("club.db", source="examples/leaderboards") as ks:
        ks.events.add("Neural Night", start="2025-03-01")
        saved = ks.competitions.add("titanic", CompetitionFields(event="neural-night", status="ongoing"))
        top = ks.boards.leaderboard("titanic", top=10)

The nouns: ``ks.events`` and ``ks.competitions`` (:mod:`kagsync.catalog`), ``ks.boards``
(:mod:`kagsync.boards`), ``ks.syncs`` (:mod:`kagsync.syncs`), ``ks.private``
(:mod:`kagsync.final`), ``ks.roster`` and ``ks.notifications`` (:mod:`kagsync.club`).

The command line is this API's first client: each command parses its options, calls
one method and renders the result. Nothing here prints; progress goes to the
observers given, and log lines to the ``kagsync`` logger.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from kagsync import db as dbmod
from kagsync.boards import Boards
from kagsync.catalog import Competitions, Events
from kagsync.club import Notifications, Roster
from kagsync.final import PrivateBoards
from kagsync.models import Board, CompetitionFields, Event, RunRecord, Saved
from kagsync.repository import Repository
from kagsync.settings import Settings, load_settings
from kagsync.signals import interruptible
from kagsync.sources import LeaderboardSource, choose_source
from kagsync.sync import StopFlag, Syncer, SyncLimits, SyncObserver, recover_interrupted
from kagsync.syncs import Syncs

if TYPE_CHECKING:
    from kagsync.rows import LeaderboardEntry

__all__ = ["Kagsync", "open"]

log = logging.getLogger("kagsync.api")


class Kagsync:
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

    # -- the nouns ----------------------------------------------------------------

    @cached_property
    def events(self) -> Events:
        """Events: add, get, list, edit, remove; their standings and report."""
        return Events(self)

    @cached_property
    def competitions(self) -> Competitions:
        """Competitions: add, get, list, edit, set_status, remove, refresh."""
        return Competitions(self)

    @cached_property
    def boards(self) -> Boards:
        """The stored boards: leaderboard, history, team_history, movers, shakeup, export."""
        return Boards(self)

    @cached_property
    def syncs(self) -> Syncs:
        """Syncing: run now, import a file, watch, and the recorded runs."""
        return Syncs(self)

    @cached_property
    def private(self) -> PrivateBoards:
        """Kaggle's private (final) boards: check one, sync some."""
        return PrivateBoards(self)

    @cached_property
    def roster(self) -> Roster:
        """The members of each event."""
        return Roster(self)

    @cached_property
    def notifications(self) -> Notifications:
        """Notification targets, and the pass that announces changes."""
        return Notifications(self)

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
                stop=self.stop.event,
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
        """While inside, Ctrl-C and SIGTERM stop syncs in three steps (see :func:`kagsync.signals.interruptible`).

        The first stops starting queued syncs and lets running ones finish; the second
        aborts the running ones at their next check; the third raises KeyboardInterrupt.
        """
        with interruptible(self.stop):
            yield

    @property
    def interrupted(self) -> bool:
        """True once a stop was requested (Ctrl-C, SIGTERM, or :attr:`stop`)."""
        return self.stop.stopping

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Kagsync]:
        """Read inside one read transaction: every read sees one state of the file."""
        from kagsync.views import read_snapshot

        with read_snapshot(self.database):
            yield self

    # -- the README's names (kagsync 0.1): thin aliases of the nouns' methods ------------

    def add_event(
        self,
        title: str,
        *,
        slug: str | None = None,
        start: str | None = None,
        end: str | None = None,
        description: str | None = None,
    ) -> Event:
        """:meth:`kagsync.catalog.Events.add`."""
        return self.events.add(title, slug=slug, start=start, end=end, description=description)

    def add_competition(
        self,
        slug_or_url: str,
        *,
        sync: bool = True,
        events: Sequence[str] = (),
        title: str | None = None,
        event: str | None = None,
        status: str | None = None,
        start: str | None = None,
        end: str | None = None,
        description: str | None = None,
        lower_is_better: bool | None = None,
        weight: float | None = None,
    ) -> Saved:
        """:meth:`kagsync.catalog.Competitions.add`, with the fields as keywords."""
        fields = CompetitionFields(title, event, status, start, end, description, lower_is_better, weight)
        return self.competitions.add(slug_or_url, fields, events=events, sync=sync)

    def leaderboard(
        self,
        slug: str,
        *,
        top: int | None = None,
        team: str | None = None,
        user: str | None = None,
        board: Board | None = None,
    ) -> list[LeaderboardEntry]:
        """:meth:`kagsync.boards.Boards.leaderboard`."""
        return self.boards.leaderboard(slug, top=top, team=team, user=user, board=board)

    def runs(self, slug: str | None = None, *, limit: int = 20) -> list[RunRecord]:
        """:meth:`kagsync.syncs.Syncs.runs`."""
        return self.syncs.runs(slug, limit=limit)

    if not TYPE_CHECKING:  # old scripts only: typed code uses the nouns

        def __getattr__(self, name: str) -> Callable[..., object]:
            return _legacy(self, name)


def _edit_competition(ks: Kagsync, slug_or_url: str, **options: object) -> object:
    names = set(CompetitionFields.__dataclass_fields__)
    fields = CompetitionFields(**{k: v for k, v in options.items() if k in names})  # type: ignore[arg-type]
    rest = {k: v for k, v in options.items() if k not in names}
    return ks.competitions.edit(slug_or_url, fields, **rest)  # type: ignore[arg-type]


# The methods of kagsync 0.1's one big object, and where each lives now.
_LEGACY: dict[str, Callable[[Kagsync], Callable[..., object]]] = {
    "event": lambda ks: ks.events.get,
    "edit_event": lambda ks: ks.events.edit,
    "remove_event": lambda ks: ks.events.remove,
    "check_remove_event": lambda ks: ks.events.check_remove,
    "event_weights": lambda ks: ks.events.weights,
    "standings": lambda ks: ks.events.standings,
    "event_standings": lambda ks: ks.events.standings,
    "report": lambda ks: ks.events.report,
    "competition": lambda ks: ks.competitions.get,
    "edit_competition": lambda ks: lambda slug, **options: _edit_competition(ks, slug, **options),
    "set_status": lambda ks: ks.competitions.set_status,
    "remove_competition": lambda ks: ks.competitions.remove,
    "competition_weights": lambda ks: ks.competitions.weights,
    "refresh_competitions": lambda ks: ks.competitions.refresh,
    "refresh_details_if_due": lambda ks: ks.competitions.refresh_details_if_due,
    "sync": lambda ks: ks.syncs.run,
    "import_file": lambda ks: ks.syncs.import_file,
    "watcher": lambda ks: ks.syncs.watcher,
    "tick": lambda ks: ks.syncs.tick,
    "check_private": lambda ks: ks.private.check,
    "sync_private": lambda ks: ks.private.sync,
    "private_check_is_due": lambda ks: ks.private.private_check_is_due,
    "require_board": lambda ks: ks.boards.require,
    "default_board": lambda ks: ks.boards.default,
    "movement_basis": lambda ks: ks.boards.movement_basis,
    "history": lambda ks: ks.boards.history,
    "team_history": lambda ks: ks.boards.team_history,
    "movers": lambda ks: ks.boards.movers,
    "shakeup": lambda ks: ks.boards.shakeup,
    "export": lambda ks: ks.boards.export,
    "roster_import": lambda ks: ks.roster.import_csv,
    "roster_list": lambda ks: ks.roster.members,
    "roster_add": lambda ks: ks.roster.add,
    "roster_remove": lambda ks: ks.roster.remove,
    "roster_check": lambda ks: ks.roster.check,
    "roster_leaderboard": lambda ks: ks.roster.leaderboard,
    "notify_add": lambda ks: ks.notifications.add,
    "notify_list": lambda ks: ks.notifications.targets,
    "notify_remove": lambda ks: ks.notifications.remove,
    "notify_test": lambda ks: ks.notifications.test,
    "notify_pass": lambda ks: ks.notifications.run_pass,
    "after_pass": lambda ks: ks.notifications.after_pass,
}


def _legacy(ks: Kagsync, name: str) -> Callable[..., object]:
    """An old method name, forwarded to its noun with a DeprecationWarning."""
    if name not in _LEGACY:
        raise AttributeError(f"{type(ks).__name__!r} object has no attribute {name!r}")
    warnings.warn(
        f"Kagsync.{name} is an old name: use the nouns (see docs/python-api.md)", DeprecationWarning, stacklevel=3
    )
    return _LEGACY[name](ks)


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
