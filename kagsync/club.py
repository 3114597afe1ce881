"""The club's view on the public API: rosters and notifications.

:class:`ClubMixin` adds these methods to :class:`kagsync.api.Kagsync`. It is kept in
its own module so the roster and notification features live beside each other, apart
from the sync machinery.

- Rosters (:mod:`kagsync.roster`): ``roster_import``, ``roster_list``, ``roster_add``,
  ``roster_remove``, ``roster_check``; ``event_standings`` (members only when the event
  has a roster, ``everyone``, ``group``) and ``roster_leaderboard`` (a board with its
  members' teams marked).
- Notifications (:mod:`kagsync.notify`): ``notify_add``, ``notify_list``,
  ``notify_remove``, ``notify_test``, ``notify_pass``; and :meth:`ClubMixin.after_pass`,
  which the API calls after every sync pass.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kagsync.db import Database
    from kagsync.models import Board, Competition, Event, SyncOutcome
    from kagsync.notify import Delivery, NotifyPass, Target
    from kagsync.repository import Repository
    from kagsync.roster import RosterCheck, RosterImport, RosterMember
    from kagsync.settings import Settings
    from kagsync.standings import Standings

log = logging.getLogger("kagsync.notify")


class ClubMixin:
    """Roster and notification methods of :class:`kagsync.api.Kagsync`."""

    if TYPE_CHECKING:
        settings: Settings

        @property
        def database(self) -> Database: ...

        def repository(self, *, sync: bool = False, jobs: int | None = None) -> Repository: ...

        def competition(self, slug_or_url: str) -> Competition: ...

        def default_board(self, slug: str) -> Board: ...

    def _event(self, event: str) -> Event:
        return self.repository().get_event(event)

    # -- roster -------------------------------------------------------------------

    def roster_import(self, event: str, path: Path | str, *, replace: bool = False) -> RosterImport:
        """Check a whole roster CSV (``kaggle``, ``name``, ``group``, extra columns), then add
        and update its members in one transaction (``replace``: the roster becomes the file).

        Raises :class:`kagsync.roster.RosterValidationError` listing every bad line; nothing
        is written then.
        """
        from kagsync.roster import import_roster, read_roster

        found = self._event(event)
        lines = read_roster(path)
        return import_roster(self.database, found.id, lines, replace=replace)

    def roster_list(self, event: str) -> list[RosterMember]:
        """The event's roster, by username."""
        from kagsync.roster import list_members

        return list_members(self.database, self._event(event).id)

    def roster_add(
        self, event: str, username: str, *, name: str | None = None, group: str | None = None
    ) -> tuple[str, RosterMember]:
        """Add a member (or update the name and group given); returns (``added``/``updated``/
        ``unchanged``, the member)."""
        from kagsync.roster import add_member

        return add_member(self.database, self._event(event).id, username, name=name, group=group)

    def roster_remove(self, event: str, username: str) -> RosterMember:
        """Remove a member (username in any case)."""
        from kagsync.roster import remove_member

        found = self._event(event)
        return remove_member(self.database, found.id, username, event=found.slug)

    def roster_check(self, event: str) -> RosterCheck:
        """How the roster meets the event's boards: teams matched by name, members on no board."""
        from kagsync.roster import RosterIndex, check_roster, list_members
        from kagsync.standings import load_boards

        found = self._event(event)
        index = RosterIndex(list_members(self.database, found.id))
        competitions = self.repository().list_competitions(event=found.slug)
        return check_roster(found.slug, index, load_boards(self.database, competitions))

    def event_standings(
        self, event: str, *, scheme: str | None = None, everyone: bool = False, group: str | None = None
    ) -> Standings:
        """An event's standings: its roster's members only when it has one (``everyone``
        ranks every participant; ``group`` one group of the roster)."""
        from kagsync.standings import DEFAULT_SCHEME, event_standings

        return event_standings(self.repository(), event, scheme or DEFAULT_SCHEME, everyone=everyone, group=group)

    def roster_leaderboard(
        self,
        slug: str,
        event: str,
        *,
        top: int | None = None,
        team: str | None = None,
        user: str | None = None,
        members_only: bool = False,
        board: Board | None = None,
    ) -> list[dict[str, object]]:
        """A stored board (as :meth:`leaderboard`: ``board`` defaults to the final one once
        stored) with each team's roster members of ``event`` under ``roster``
        (``[{"username", "name", "group", "by_team_name"}]``, empty for other teams);
        ``members_only`` keeps the members' teams (``top`` counts those)."""
        from kagsync.roster import RosterIndex, list_members
        from kagsync.views import iter_leaderboard_entries

        found = self._event(event)
        index = RosterIndex(list_members(self.database, found.id))
        competition = self.competition(slug)
        rows = []
        chosen = board or self.default_board(competition.slug)
        for entry in iter_leaderboard_entries(
            self.database, competition, top=None if members_only else top, team=team, user=user, board=chosen
        ):
            members, by_name = index.match(entry["members"], entry["team_name"]) if index else ([], False)
            if entry["is_benchmark"]:
                members = []
            if members_only and not members:
                continue
            entry["roster"] = [
                {"username": m.username, "name": m.name, "group": m.group, "by_team_name": by_name} for m in members
            ]
            rows.append(entry)
            if members_only and top is not None and len(rows) >= top:
                break
        return rows

    # -- notifications --------------------------------------------------------------

    def notify_add(
        self,
        url: str,
        *,
        event: str | None = None,
        on: str | Sequence[str] | None = None,
        name: str | None = None,
        format: str | None = None,
        top: int | None = None,
        member_move: int | None = None,
        failing_ticks: int | None = None,
    ) -> Target:
        """Store a notification target (see :func:`kagsync.notify.add_target`)."""
        from kagsync.notify import add_target

        event_id = self._event(event).id if event else None
        return add_target(
            self.database,
            url,
            event_id=event_id,
            kinds=on,
            name=name,
            fmt=format,
            top_n=top,
            member_move=member_move,
            failing_ticks=failing_ticks,
        )

    def notify_list(self) -> list[dict[str, object]]:
        """Every target with its URL masked and its delivery counts."""
        from kagsync.notify import list_targets

        return list_targets(self.database)

    def notify_remove(self, name: str) -> Target:
        """Delete a target and its delivery record."""
        from kagsync.notify import remove_target

        return remove_target(self.database, name)

    def notify_test(self, name: str) -> Delivery:
        """Send a test message to one target now; the result says whether it arrived."""
        from kagsync.notify import get_target, send_test

        return send_test(get_target(self.database, name))

    def notify_pass(self) -> NotifyPass:
        """Record the changes of every run not examined yet and send what is pending, now."""
        from kagsync.notify import run_pass

        return run_pass(self.database)

    def after_pass(self, outcomes: Sequence[SyncOutcome]) -> None:
        """Called once after every sync pass (a ``sync``, an ``import``, a ``watch`` tick),
        with its outcomes, after everything was committed.

        Announces the pass's changes to the notification targets. It never raises: a
        notification problem is logged (without URLs) and must not fail a sync.
        """
        try:
            database = self.database
            if database.readonly:
                return
            self.notify_pass()
        except Exception as error:  # noqa: BLE001 -- notifications never fail a sync
            log.error("notify: %s", _scrubbed_traceback(self, error))


def _scrubbed_traceback(api: ClubMixin, error: BaseException) -> str:
    """The error's traceback with every target URL masked."""
    text = "".join(traceback.format_exception(error)).rstrip()
    try:
        from kagsync.notify import scrub, targets

        return scrub(text, [target.url for target in targets(api.database)])
    except Exception:  # noqa: BLE001 -- the database itself may be the problem
        return f"{type(error).__name__} (details withheld: they could not be checked for URLs)"
