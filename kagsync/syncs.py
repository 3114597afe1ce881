"""``ks.syncs``: syncing boards now, importing a file of competitions, the watch loop, the runs.

Every pass here (a sync, an import, a watch tick) ends with the notification pass
(:meth:`kagsync.club.Notifications.after_pass`), after everything was committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kagsync.details import fetch_details
from kagsync.errors import Hint, ValidationError
from kagsync.final import outcomes_of
from kagsync.models import MAX_WATCH_INTERVAL, Competition, RunRecord, SyncOutcome, Trigger, is_active

if TYPE_CHECKING:
    from kagsync.api import Kagsync
    from kagsync.importer import ImportResult
    from kagsync.watch import TickReport, Watcher, WatchObserver

__all__ = ["Syncs"]


class Syncs:
    """``ks.syncs``: sync now, import, watch, and the record of every run."""

    def __init__(self, host: Kagsync) -> None:
        self._ks = host

    def run(
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
        ks = self._ks
        repository = ks.repository()
        chosen: dict[str, Competition] = {}
        for slug in slugs:
            competition = repository.get_competition(slug)
            chosen.setdefault(competition.slug, competition)
        if all_active:
            for competition in repository.list_competitions():
                if is_active(competition.status, ks.settings.sync_statuses):
                    chosen.setdefault(competition.slug, competition)
        syncer = ks.syncer(from_file=from_file, jobs=jobs)
        outcomes = syncer.sync_many([(c, trigger) for c in chosen.values()], force=force)
        ks.notifications.after_pass(outcomes)
        return outcomes

    def runs(self, slug: str | None = None, *, limit: int = 20) -> list[RunRecord]:
        """Recorded sync runs, newest first, optionally of one competition."""
        from kagsync.views import sync_runs

        competition = self._ks.competitions.get(slug) if slug else None
        return sync_runs(self._ks.database, competition, limit=limit)

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

        ks = self._ks
        # A dry run says what would sync, so it gets the hook it would use (never called).
        repository = ks.repository(sync=sync, jobs=jobs)
        known = [c.slug for c in repository.list_competitions()]
        result = import_file(
            repository,
            path,
            event=event,
            create_events=create_events,
            dry_run=dry_run,
            sync=sync,
            details_of=lambda slug: fetch_details(ks.source, slug, offline=ks.offline, known_slugs=known),
        )
        if not dry_run:
            for saved in result.saved:
                # A competition that has closed: after its (final) public sync, its private board.
                if saved.competition.status == "completed" and saved.syncs and all(o.ok for o in saved.syncs):
                    saved.syncs += outcomes_of([ks.private.check(saved.competition, "import")])
            ks.notifications.after_pass(result.outcomes)
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
        ks = self._ks
        return Watcher(
            ks.repository(),
            ks.syncer(jobs=jobs),
            interval=interval or ks.settings.watch_interval,
            jobs=jobs or ks.settings.jobs,
            follow_dates=ks.settings.follow_dates,
            observer=observer,
            after_tick=lambda report: ks.notifications.after_pass(report.outcomes),
            final=ks.private,
        )

    def tick(self, *, jobs: int | None = None) -> TickReport:
        """One watch tick now: follow the dates, sync every active competition."""
        return self.watcher(jobs=jobs).tick()
