"""The club's nouns of the Python API: ``ks.roster`` and ``ks.notifications``.

- :class:`Roster` (:mod:`kagsync.roster`): an event's members, how they meet the
  boards, and a board with its members' teams marked.
- :class:`Notifications` (:mod:`kagsync.notify`): the targets, a test message, a pass
  now; and :meth:`Notifications.after_pass`, which every sync pass of the API calls.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kagsync.api import Kagsync
    from kagsync.models import Board, Event, SyncOutcome
    from kagsync.notify import Delivery, NotifyPass, Target
    from kagsync.roster import RosterCheck, RosterImport, RosterMember
    from kagsync.rows import RosterEntry

__all__ = ["Notifications", "Roster"]

log = logging.getLogger("kagsync.notify")


class Roster:
    """``ks.roster``: the members of each event (Kaggle usernames, names, groups)."""

    def __init__(self, host: Kagsync) -> None:
        self._ks = host

    def _event(self, event: str) -> Event:
        return self._ks.repository().get_event(event)

    def import_csv(self, event: str, path: Path | str, *, replace: bool = False) -> RosterImport:
        """Check a whole roster CSV (``kaggle``, ``name``, ``group``, extra columns), then add
        and update its members in one transaction (``replace``: the roster becomes the file).

        Raises :class:`kagsync.roster.RosterValidationError` listing every bad line; nothing
        is written then.
        """
        from kagsync.roster import import_roster, read_roster

        found = self._event(event)
        lines = read_roster(path)
        return import_roster(self._ks.database, found.id, lines, replace=replace)

    def members(self, event: str) -> list[RosterMember]:
        """The event's roster, by username."""
        from kagsync.roster import list_members

        return list_members(self._ks.database, self._event(event).id)

    def add(
        self, event: str, username: str, *, name: str | None = None, group: str | None = None
    ) -> tuple[str, RosterMember]:
        """Add a member (or update the name and group given); returns (``added``/``updated``/
        ``unchanged``, the member)."""
        from kagsync.roster import add_member

        return add_member(self._ks.database, self._event(event).id, username, name=name, group=group)

    def remove(self, event: str, username: str) -> RosterMember:
        """Remove a member (username in any case)."""
        from kagsync.roster import remove_member

        found = self._event(event)
        return remove_member(self._ks.database, found.id, username, event=found.slug)

    def check(self, event: str) -> RosterCheck:
        """How the roster meets the event's boards: teams matched by name, members on no board."""
        from kagsync.roster import RosterIndex, check_roster, list_members
        from kagsync.standings import load_boards

        found = self._event(event)
        index = RosterIndex(list_members(self._ks.database, found.id))
        competitions = self._ks.repository().list_competitions(event=found.slug)
        return check_roster(found.slug, index, load_boards(self._ks.database, competitions))

    def leaderboard(
        self,
        slug: str,
        event: str,
        *,
        top: int | None = None,
        team: str | None = None,
        user: str | None = None,
        members_only: bool = False,
        board: Board | None = None,
    ) -> list[RosterEntry]:
        """A stored board (as :meth:`kagsync.boards.Boards.leaderboard`: ``board`` defaults to
        the final one once stored) with each team's roster members of ``event`` under
        ``roster``, empty for other teams; ``members_only`` keeps the members' teams (``top``
        counts those)."""
        from kagsync.roster import RosterIndex, list_members
        from kagsync.rows import RosterMatch
        from kagsync.views import iter_leaderboard_entries

        found = self._event(event)
        index = RosterIndex(list_members(self._ks.database, found.id))
        competition = self._ks.competitions.get(slug)
        rows: list[RosterEntry] = []
        chosen = board or self._ks.boards.default(competition.slug)
        for entry in iter_leaderboard_entries(
            self._ks.database, competition, top=None if members_only else top, team=team, user=user, board=chosen
        ):
            members, by_name = index.match(entry["members"], entry["team_name"]) if index else ([], False)
            if entry["is_benchmark"]:
                members = []
            if members_only and not members:
                continue
            matches = [
                RosterMatch(username=m.username, name=m.name, group=m.group, by_team_name=by_name) for m in members
            ]
            rows.append({**entry, "roster": matches})
            if members_only and top is not None and len(rows) >= top:
                break
        return rows


class Notifications:
    """``ks.notifications``: where changes are announced (webhooks, Slack, Discord...)."""

    def __init__(self, host: Kagsync) -> None:
        self._ks = host

    def add(
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

        event_id = self._ks.repository().get_event(event).id if event else None
        return add_target(
            self._ks.database,
            url,
            event_id=event_id,
            kinds=on,
            name=name,
            fmt=format,
            top_n=top,
            member_move=member_move,
            failing_ticks=failing_ticks,
        )

    def targets(self) -> list[dict[str, object]]:
        """Every target with its URL masked and its delivery counts."""
        from kagsync.notify import list_targets

        return list_targets(self._ks.database)

    def remove(self, name: str) -> Target:
        """Delete a target and its delivery record."""
        from kagsync.notify import remove_target

        return remove_target(self._ks.database, name)

    def test(self, name: str) -> Delivery:
        """Send a test message to one target now; the result says whether it arrived."""
        from kagsync.notify import get_target, send_test

        return send_test(get_target(self._ks.database, name))

    def run_pass(self) -> NotifyPass:
        """Record the changes of every run not examined yet and send what is pending, now."""
        from kagsync.notify import run_pass

        return run_pass(self._ks.database)

    def after_pass(self, outcomes: Sequence[SyncOutcome]) -> None:
        """Called once after every sync pass (a ``sync``, an ``import``, a ``watch`` tick),
        with its outcomes, after everything was committed.

        Announces the pass's changes to the notification targets. It never raises: a
        notification problem is logged (without URLs) and must not fail a sync.
        """
        try:
            database = self._ks.database
            if database.readonly:
                return
            self.run_pass()
        except Exception as error:  # noqa: BLE001 -- notifications never fail a sync
            log.error("notify: %s", _scrubbed_traceback(self._ks, error))


def _scrubbed_traceback(api: Kagsync, error: BaseException) -> str:
    """The error's traceback with every target URL masked."""
    text = "".join(traceback.format_exception(error)).rstrip()
    try:
        from kagsync.notify import scrub, targets

        return scrub(text, [target.url for target in targets(api.database)])
    except Exception:  # noqa: BLE001 -- the database itself may be the problem
        return f"{type(error).__name__} (details withheld: they could not be checked for URLs)"
