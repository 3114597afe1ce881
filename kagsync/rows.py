"""The rows the views return, typed: one name per field in the schema, JSON and tables.

They are TypedDicts, so a row is still the JSON-ready dict it always was (``--json``
prints it as is, and ``row["rank"]`` keeps working), while mypy knows every key and
its type. Field names are the schema's column names where there is one.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

from kagsync.models import Board

__all__ = [
    "BoardRow",
    "HistorySync",
    "LeaderboardEntry",
    "MovementBasis",
    "Mover",
    "MoverTotals",
    "Movers",
    "OkRun",
    "RosterEntry",
    "RosterMatch",
    "RunChange",
    "Shakeup",
    "ShakeupMove",
    "SyncMark",
    "TeamHistory",
    "TeamPoint",
    "TeamRef",
]


class BoardRow(TypedDict):
    """A team's row of a stored board: what a view and an export both show of it."""

    rank: int
    team_id: int
    team_name: str
    score: str | None
    score_value: float | None
    submission_count: int | None
    last_submission: str | None
    members: list[str]
    is_benchmark: bool


class LeaderboardEntry(BoardRow):
    """One row of a stored board, with its movement since that board's previous sync.

    ``movement``: ranks climbed (positive up, negative down, 0 unchanged; None for a
    new team or with no previous sync); ``is_new``: first seen in the latest sync.
    """

    movement: int | None
    is_new: bool
    board: Board


class RosterMatch(TypedDict):
    """A roster member behind a team (``by_team_name``: matched by the team's name)."""

    username: str
    name: str | None
    group: str | None
    by_team_name: bool


class RosterEntry(LeaderboardEntry):
    """A board row with the event's roster members of its team (empty for other teams)."""

    roster: list[RosterMatch]


class MovementBasis(TypedDict):
    """Which runs a board's movement compares: the latest ok sync and the one before."""

    run_id: int | None
    synced_at: str | None
    previous_run_id: int | None
    previous_synced_at: str | None
    board: Board


class HistorySync(TypedDict):
    """The board at one ok sync: its teams, top score and what changed."""

    run_id: int
    synced_at: str
    entries: int | None
    top_score: str | None
    created: int | None
    updated: int | None
    removed: int | None


class OkRun(HistorySync):
    """A successful sync run of one board."""

    trigger: str


class TeamRef(TypedDict):
    """A team found by id or name; ``rank``/``score`` are None when it is off the board."""

    team_id: int
    team_name: str
    on_board: bool
    rank: int | None
    score: str | None


class TeamPoint(TypedDict):
    """A team at one ok sync where its rank or score changed (``kind``: new, changed, removed)."""

    run_id: int
    synced_at: str
    kind: str
    rank: int | None
    previous_rank: int | None
    score: str | None
    previous_score: str | None
    team_name: str | None
    movement: NotRequired[int | None]


class TeamHistory(TypedDict):
    """One team's changes on one board, oldest first."""

    competition: str
    board: Board
    team: TeamRef
    changes: list[TeamPoint]


class RunChange(TypedDict):
    """A team whose rank or score changed in one run."""

    team_id: int
    kind: str
    team_name: str | None
    rank: int | None
    previous_rank: int | None
    score: str | None
    previous_score: str | None


class SyncMark(TypedDict):
    """A sync named by its run id and when it finished."""

    run_id: int
    synced_at: str


class Mover(TypedDict):
    """A team that climbed, fell, appeared or departed between two syncs."""

    team_id: int
    team_name: str | None
    rank: int | None
    previous_rank: int | None
    movement: int | None
    score: str | None
    previous_score: str | None


class MoverTotals(TypedDict):
    """How many teams are in each list of :class:`Movers`, before any limit."""

    climbers: int
    fallers: int
    new: int
    departed: int


class Movers(TypedDict):
    """Climbers, fallers, new and departed teams between a baseline sync and the latest."""

    competition: str
    board: Board
    since: str | None
    baseline: SyncMark | None
    latest: SyncMark | None
    compared: bool
    climbers: list[Mover]
    fallers: list[Mover]
    new: list[Mover]
    departed: list[Mover]
    totals: MoverTotals


class ShakeupMove(TypedDict):
    """A team on both boards: ``move`` = public rank − private rank (positive: climbed)."""

    team_id: int
    team_name: str
    public_rank: int
    private_rank: int
    move: int


class Shakeup(TypedDict):
    """How the final (private) board moved against the public one."""

    competition: str
    teams: int
    shakeup: float
    shakeup_top10pct: float
    top: int
    entered_top: list[ShakeupMove]
    left_top: list[ShakeupMove]
    moves: list[ShakeupMove]
