"""``ks.boards``: the stored leaderboards, read as views (board, history, movers, shake-up, export).

Nothing here writes. Each method reads one competition's stored boards through
:mod:`kagsync.views`; :meth:`kagsync.api.Kagsync.snapshot` makes several reads see
one state of the file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from kagsync.errors import Hint, NoBoardError, ValidationError
from kagsync.models import Board, Competition, ExportSummary

if TYPE_CHECKING:
    from kagsync.api import Kagsync
    from kagsync.rows import (
        HistorySync,
        LeaderboardEntry,
        MovementBasis,
        Movers,
        Shakeup,
        TeamHistory,
    )

__all__ = ["Boards"]


class Boards:
    """``ks.boards``: read the stored boards of a competition."""

    def __init__(self, host: Kagsync) -> None:
        self._ks = host

    def require(self, slug: str) -> Competition:
        """The competition, or :class:`NoBoardError` when no board of it was ever stored.

        ``leaderboard``, ``movers``, ``history`` and ``shakeup`` all need one, and all
        say so the same way (hint ``SYNC``).
        """
        competition = self._ks.competitions.get(slug)
        if competition.last_synced_at is None and competition.private_synced_at is None:
            raise NoBoardError(
                f"{competition.slug} has no stored leaderboard yet", hint=Hint.SYNC, subject=competition.slug
            )
        return competition

    def default(self, slug: str) -> Board:
        """The board shown by default: the private (final) one once stored, else the public one."""
        return "private" if self._ks.competitions.get(slug).private_synced_at else "public"

    def leaderboard(
        self,
        slug: str,
        *,
        top: int | None = None,
        team: str | None = None,
        user: str | None = None,
        board: Board | None = None,
    ) -> list[LeaderboardEntry]:
        """A stored board in rank order, with movement since that board's previous sync.

        ``board``: ``public`` or ``private``; by default the private (final) board once
        stored, else the public one.
        """
        from kagsync.views import leaderboard_entries

        competition = self.require(slug)
        return leaderboard_entries(
            self._ks.database, competition, top=top, team=team, user=user, board=board or self.default(slug)
        )

    def movement_basis(self, slug: str, *, board: Board | None = None) -> MovementBasis:
        """Which syncs the board's movement compares (the latest and the one before)."""
        from kagsync.views import movement_basis

        return movement_basis(self._ks.database, self._ks.competitions.get(slug), board or self.default(slug))

    def history(
        self, slug: str, *, board: Board | None = None, limit: int | None = None, every_sync: bool = False
    ) -> list[HistorySync]:
        """The board at each successful sync where it changed, newest first.

        A sync that changed nothing (a quiet board re-synced by ``watch``) is left out
        unless ``every_sync``; ``limit`` keeps the newest ones.
        """
        from kagsync.views import board_history

        syncs = board_history(self._ks.database, self.require(slug), board or self.default(slug))
        if not every_sync:
            syncs = [s for s in syncs if s["created"] or s["updated"] or s["removed"]]
        syncs.reverse()
        return syncs if limit is None else syncs[:limit]

    def team_history(self, slug: str, team: str) -> TeamHistory:
        """One team's rank and score at every sync where either changed."""
        from kagsync.views import team_history

        return team_history(self._ks.database, self._ks.competitions.get(slug), team)

    def movers(self, slug: str, *, since: str | None = None, limit: int | None = 10) -> Movers:
        """Climbers, fallers, new and departed teams since the previous sync (or ``since``)."""
        from kagsync.views import movers

        return movers(self._ks.database, self.require(slug), since=since, limit=limit)

    def shakeup(self, slug: str, *, top: int = 10) -> Shakeup:
        """Public rank → private rank of every team on both boards, and the shake-up figures."""
        from kagsync.final import shakeup

        return shakeup(self._ks.database, self.require(slug), top=top)

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
        ks = self._ks
        with ks.snapshot():
            if event is not None:
                found = ks.events.get(event)
                competitions = ks.competitions.all(event=found.slug)
                standings = ks.events.standings(found.slug, scheme=scheme, everyone=everyone)
                count = export(
                    ks.database,
                    fmt=fmt,
                    out=out,
                    competitions=competitions,
                    event=found,
                    standings=standings,
                    standings_out=standings_out,
                )
                return ExportSummary(count, len(competitions), len(standings.rows))
            count = export(ks.database, fmt=fmt, out=out, competitions=[ks.competitions.get(competition or "")])
            return ExportSummary(count, 1)
