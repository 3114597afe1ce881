"""The change events: what change detection returns, what ``notifications.payload``
stores and what the JSON format sends (each a JSON object, hence TypedDicts).

Every event has a ``key`` (the deduplication key, unique per target), a ``kind`` and a
``text`` (one line for a person; a ``final`` event may add one line per roster member).
Events about a competition carry its ``competition`` (slug), ``title``, ``url``,
``event`` (the slugs of its events) and ``event_title``.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

__all__ = [
    "Change",
    "DatesChange",
    "FailingChange",
    "FinalChange",
    "FinalMember",
    "FinalTeam",
    "LeaderChange",
    "MemberChange",
    "TeamChange",
    "TestChange",
    "TopChange",
]


class _Common(TypedDict):
    key: str
    text: str
    at: str | None
    # Absent only from a test message, which is about no competition.
    competition: NotRequired[str]
    title: NotRequired[str]
    url: NotRequired[str]
    event: NotRequired[str | None]
    event_title: NotRequired[str | None]


class _OnBoard(_Common):
    board: str
    run_id: int


class LeaderChange(_OnBoard):
    """A new rank 1 on a public board."""

    kind: Literal["leader"]
    team_id: int
    team_name: str
    members: list[str]
    roster: list[str]
    score: str | None
    rank: int
    previous_rank: int | None
    previous_leader: str | None


class TopChange(_OnBoard):
    """A team entered (``direction`` ``in``) or left (``out``) the top ``top_n``."""

    kind: Literal["top"]
    team_id: int
    team_name: str
    members: list[str]
    roster: list[str]
    rank: int | None
    previous_rank: int | None
    direction: Literal["in", "out"]
    top_n: int
    score: str | None


class MemberChange(_OnBoard):
    """A roster member's team moved at least K places, or appeared (``first``)."""

    kind: Literal["member"]
    username: str
    name: str | None
    group: str | None
    team_id: int
    team_name: str
    rank: int
    previous_rank: int | None
    movement: int | None
    first: bool
    score: str | None


class FinalTeam(TypedDict):
    """A team of the final podium."""

    rank: int
    team_id: int
    team_name: str
    score: str | None
    public_rank: int | None


class FinalMember(TypedDict):
    """Where a roster member finished on the private board."""

    username: str
    name: str | None
    team_name: str
    rank: int
    public_rank: int | None
    movement: int | None


class _Climb(TypedDict):
    team_name: str
    public_rank: int
    rank: int


class FinalChange(_OnBoard):
    """The private (final) board is out: podium, shake-up and the roster's finish."""

    kind: Literal["final"]
    podium: list[FinalTeam]
    kept_in_top10: int
    biggest_climb: _Climb | None
    roster_results: list[FinalMember]


class FailingChange(_OnBoard):
    """Syncs failed ``failures`` times in a row, or (``recovered``) work again."""

    kind: Literal["failing"]
    failures: int
    error_kind: NotRequired[str | None]
    error: NotRequired[str | None]
    recovered: NotRequired[bool]


class DatesChange(_Common):
    """A competition started or ended."""

    kind: Literal["dates"]
    what: Literal["start", "end"]
    time: str


class TestChange(_Common):
    """The message of ``notify test``."""

    kind: Literal["test"]


Change = LeaderChange | TopChange | MemberChange | FinalChange | FailingChange | DatesChange | TestChange
"""A change event of one of the kinds above (``kind`` tells which)."""

TeamChange = LeaderChange | TopChange | MemberChange
"""The events about one team's move, folded into one line per team in a message."""
