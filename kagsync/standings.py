"""Event standings: one ranking across an event's competitions, by Kaggle username.

A team's result goes to each of its members (keyed by lowercased username). A team
whose members are unknown (Kaggle's older leaderboard files carry no usernames) is
one participant keyed ``team:<team name>``, so the same team name on several boards
is one participant. Benchmarks never take part. A competition counts with its
weight (``kagsync competition edit SLUG --weight W``, default 1); a competition with
weight 0 or without a synced board is left out (and listed as such).

Schemes (N = teams on that board, benchmarks excluded; r = the team's rank there):

``points`` (default, higher is better)
    Kaggle's user-ranking formula without its time decay, times the weight::

        100000 / sqrt(team size) * r ** -0.75 * log10(1 + log10(N)) * weight

    summed over the competitions; a competition not entered gives 0 points.
``rank-sum`` (lower is better)
    The sum of ``r * weight``; a competition not entered counts as ``(N + 1) * weight``.
``best-percentile`` (lower is better)
    The best ``r / N`` over the competitions; a competition not entered counts as 1.0.
    Weights do not scale a best-of (only weight 0, which leaves a competition out).

Someone on two teams of one board (or two teams sharing a name, for the fallback)
keeps the better result there. Ties are broken by the best single rank on any board
(lower first), then by the participant's name (case-insensitive), then by key, so the
order is always the same; every participant gets their own place.

**Final boards.** A competition whose private (final) board is stored (``entries``
rows with ``board = 'private'``) counts with that board; the others with their public
board. Each competition of the standings says which (``final``).

**Rosters.** When the event has a roster (:mod:`kagsync.roster`), only its members
are ranked (``everyone=True`` ranks every participant as above): a member's result
comes from the teams listing their username or, for a team without usernames, whose
name is the member's username or display name. N and the ranks stay those of the
whole board. A member who entered nothing gets a line without a place ("not
entered"), after the others. Members are shown under their display names (``name``)
and keyed by their lowercased username. With ``group``, only that group's members
are ranked; without it, :attr:`Standings.groups` ranks the roster's groups by their
best member's place.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, TypedDict

from kagsync.errors import ValidationError
from kagsync.models import DEFAULT_WEIGHT
from kagsync.roster import RosterIndex, RosterMember, list_members

if TYPE_CHECKING:
    from kagsync.db import Database
    from kagsync.models import Competition
    from kagsync.repository import Repository

SCHEMES = ("points", "rank-sum", "best-percentile")
DEFAULT_SCHEME = "points"

# How each scheme's total is named: in table headers, and per competition in CSV columns.
SCHEME_LABELS = {"points": "Points", "rank-sum": "Rank sum", "best-percentile": "Best percentile"}
SCHEME_VALUE_NAMES = {"points": "points", "rank-sum": "weighted rank", "best-percentile": "percentile"}

TIE_BREAK = "ties: best single rank, then name"

METHODS = {
    "points": (
        "points: per competition 100000 / √(team size) × rank^-0.75 × log10(1 + log10(N)) × weight "
        "(Kaggle's formula without time decay; N = teams on the board, benchmarks excluded); "
        "not entered = 0; summed, higher is better; " + TIE_BREAK + "."
    ),
    "rank-sum": (
        "rank-sum: sum of rank × weight over the competitions; not entered = (N + 1) × weight "
        "(N = teams on that board, benchmarks excluded); lower is better; " + TIE_BREAK + "."
    ),
    "best-percentile": (
        "best-percentile: best rank / N over the competitions (N = teams on that board, "
        "benchmarks excluded); not entered = 1.0; lower is better; " + TIE_BREAK + "."
    ),
}


class BoardEntry(NamedTuple):
    """One (non-benchmark) team on a board, as standings need it.

    A named tuple: a big board makes tens of thousands, and a frozen dataclass costs
    three times as much to build.
    """

    rank: int
    team_name: str
    members: tuple[str, ...] = ()


@dataclass
class Board:
    """A competition's board with its weight; ``final`` when it is the private (final) board."""

    slug: str
    title: str
    weight: float
    entries: list[BoardEntry]
    final: bool = False

    @property
    def teams(self) -> int:
        """N: the number of teams (benchmarks are never in ``entries``)."""
        return len(self.entries)


@dataclass(slots=True)
class Result:
    """A participant's result on one board."""

    rank: int
    team_name: str
    team_size: int
    value: float
    """Points, rank × weight or rank / N, by scheme."""


@dataclass(slots=True)
class Standing:
    """One participant's line in the standings.

    ``kind`` is ``user`` (a Kaggle username), ``team`` (a team without usernames) or
    ``member`` (a roster member). A member who entered nothing has ``place`` and
    ``best_rank`` None and ``entered`` 0 (:attr:`not_entered`). For members,
    ``username`` is the roster's username, ``group`` their group and ``by_team_name``
    the competitions where their result came from a team matched by its name.
    ``member`` is True for a roster member's line, also in a ranking of everyone.
    """

    place: int | None
    key: str
    name: str
    kind: str  # user | team | member
    total: float
    best_rank: int | None
    entered: int
    results: dict[str, Result | None] = field(default_factory=dict)
    username: str | None = None
    group: str | None = None
    member: bool = False
    by_team_name: list[str] = field(default_factory=list)

    @property
    def not_entered(self) -> bool:
        """True for a roster member without a result on any counted board."""
        return self.entered == 0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "place": self.place,
            "key": self.key,
            "name": self.name,
            "kind": self.kind,
            "username": self.username,
            "group": self.group,
            "member": self.member,
            "total": self.total,
            "best_rank": self.best_rank,
            "entered": self.entered,
            "by_team_name": self.by_team_name,
            "results": {
                slug: None
                if r is None
                else {
                    "rank": r.rank,
                    "team_name": r.team_name,
                    "team_size": r.team_size,
                    "value": r.value,
                }
                for slug, r in self.results.items()
            },
        }


@dataclass(slots=True)
class GroupStanding:
    """A roster group ranked by its best member's place (None: no member entered anything)."""

    place: int | None
    group: str
    best_place: int | None
    best_member: str | None
    """The display name of the group's best-placed member."""
    best_key: str | None
    members: int
    entered: int

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "place": self.place,
            "group": self.group,
            "best_place": self.best_place,
            "best_member": self.best_member,
            "best_key": self.best_key,
            "members": self.members,
            "entered": self.entered,
        }


class CountedBoard(TypedDict):
    """A competition whose board counts in the standings (``final``: its private board)."""

    slug: str
    title: str
    weight: float
    teams: int
    final: bool


class LeftOut(TypedDict):
    """A competition left out of the standings, and why."""

    slug: str
    reason: str


@dataclass
class Standings:
    """The event's standings under one scheme.

    ``members_only`` is True when the event's roster decided who is ranked (then
    ``rows`` holds every member, those who entered nothing last, without a place);
    ``roster_members`` counts the event's roster (0: no roster); ``group`` is the group
    shown (None: all); ``groups`` ranks the roster's groups (empty without groups, or
    when one group is shown). Each competition has ``slug``, ``title``, ``weight``,
    ``teams`` and ``final`` (its private, final board counts).
    """

    event: str
    scheme: str
    method: str
    competitions: list[CountedBoard]
    left_out: list[LeftOut]
    rows: list[Standing]
    members_only: bool = False
    roster_members: int = 0
    group: str | None = None
    groups: list[GroupStanding] = field(default_factory=list)

    @property
    def ranked(self) -> list[Standing]:
        """The lines with a place (everyone but the members who entered nothing)."""
        return [row for row in self.rows if row.place is not None]

    @property
    def not_entered(self) -> list[Standing]:
        """The roster members who entered nothing (no place)."""
        return [row for row in self.rows if row.place is None]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "event": self.event,
            "scheme": self.scheme,
            "method": self.method,
            "members_only": self.members_only,
            "roster_members": self.roster_members,
            "group": self.group,
            "competitions": self.competitions,
            "left_out": self.left_out,
            "standings": [row.to_dict() for row in self.rows],
            "groups": [group.to_dict() for group in self.groups],
        }


def parse_scheme(text: str) -> str:
    """One of :data:`SCHEMES`."""
    value = text.strip().lower()
    if value not in SCHEMES:
        raise ValidationError(f"unknown scheme {text!r} (choose from {', '.join(SCHEMES)})")
    return value


def kaggle_points(rank: int, teams: int, team_size: int = 1, weight: float = 1.0) -> float:
    """Kaggle's ranking points for one result, without the time decay."""
    return float(100000 / math.sqrt(max(team_size, 1)) * rank**-0.75 * math.log10(1 + math.log10(teams)) * weight)


def _value(scheme: str, board: Board, entry: BoardEntry, size: int) -> float:
    if scheme == "points":
        return kaggle_points(entry.rank, board.teams, size, board.weight)
    if scheme == "rank-sum":
        return entry.rank * board.weight
    return entry.rank / board.teams


def _missing(scheme: str, board: Board) -> float:
    if scheme == "points":
        return 0.0
    if scheme == "rank-sum":
        return (board.teams + 1) * board.weight
    return 1.0


def _better(scheme: str, a: float, b: float) -> bool:
    return a > b if scheme == "points" else a < b


ROSTER_NOTE = (
    " Only the event's roster members are ranked (N and ranks stay those of the whole board); "
    "a team without usernames counts for the member whose username or name it carries; "
    "members who entered nothing are listed last, not entered."
)


def _split(boards: Iterable[Board]) -> tuple[list[Board], list[LeftOut]]:
    """The boards that count, and those left out with the reason."""
    counted: list[Board] = []
    left_out: list[LeftOut] = []
    for board in boards:
        if board.weight <= 0:
            left_out.append({"slug": board.slug, "reason": "weight 0"})
        elif board.teams == 0:
            left_out.append({"slug": board.slug, "reason": "no synced leaderboard"})
        else:
            counted.append(board)
    return counted, left_out


# A participant: (key, name, kind, roster member or None).
_Who = tuple[str, str, str, RosterMember | None]


def _keep(scheme: str, held: Result | None, value: float, rank: int) -> bool:
    return held is None or _better(scheme, value, held.value) or (value == held.value and rank < held.rank)


def _everyone(entry: BoardEntry, index: RosterIndex | None) -> tuple[list[_Who], int]:
    """Who a team's result goes to in a ranking of everyone, and the team size."""
    members = [m for m in entry.members if m.strip()]
    if not members:
        return [(f"team:{entry.team_name}", entry.team_name, "team", None)], 1
    who: list[_Who] = []
    for m in members:
        key = m.strip().lower()
        who.append((key, m.strip(), "user", index.by_username.get(key) if index else None))
    return who, len(members)


def compute_standings(
    boards: Iterable[Board],
    scheme: str = DEFAULT_SCHEME,
    *,
    event: str = "",
    roster: Sequence[RosterMember] | None = None,
    everyone: bool = False,
    group: str | None = None,
) -> Standings:
    """Rank the participants of ``boards`` under ``scheme`` (see the module's doc).

    With a non-empty ``roster`` (and not ``everyone``) only its members are ranked;
    ``group`` keeps one group of the roster (case-insensitive).
    """
    scheme = parse_scheme(scheme)
    counted, left_out = _split(boards)
    members = list(roster or ())
    members_only = bool(members) and not everyone
    if group is not None:
        if not members:
            raise ValidationError(f"group {group!r}: the event has no roster (see `kagsync roster import`)")
        if everyone:
            raise ValidationError("a group cannot be combined with everyone: a group is part of the roster")
        members = _group_members(members, group)
    index = RosterIndex(members) if members else None
    who: dict[str, _Who] = {}
    results: dict[str, dict[str, Result]] = {}
    by_name: dict[str, list[str]] = {}
    for board in counted:
        for entry in board.entries:
            if members_only:
                assert index is not None
                found, via_name = index.match(entry.members, entry.team_name)
                if not found:
                    continue
                size = max(len([m for m in entry.members if m.strip()]), 1)
                targets: list[_Who] = [(m.key, m.display, "member", m) for m in found]
            else:
                targets, size = _everyone(entry, index)
                via_name = False
            value = _value(scheme, board, entry, size)
            for person in targets:
                key = person[0]
                who.setdefault(key, person)
                mine = results.setdefault(key, {})
                if _keep(scheme, mine.get(board.slug), value, entry.rank):
                    mine[board.slug] = Result(entry.rank, entry.team_name, size, value)
                    names = by_name.setdefault(key, [])
                    if via_name and board.slug not in names:
                        names.append(board.slug)
                    elif not via_name and board.slug in names:
                        names.remove(board.slug)
    rows = [_row(scheme, counted, key, who[key], mine, by_name.get(key, [])) for key, mine in results.items()]
    sign = -1 if scheme == "points" else 1
    rows.sort(key=lambda s: (sign * s.total, s.best_rank, s.name.casefold(), s.key))
    for place, row in enumerate(rows, 1):
        row.place = place
    if members_only:
        rows += _not_entered(scheme, counted, [m for m in members if m.key not in results])
    method = METHODS[scheme] + (ROSTER_NOTE if members_only else "")
    return Standings(
        event=event,
        scheme=scheme,
        method=method,
        competitions=[
            {"slug": b.slug, "title": b.title, "weight": b.weight, "teams": b.teams, "final": b.final} for b in counted
        ],
        left_out=left_out,
        rows=rows,
        members_only=members_only,
        roster_members=len(roster or ()),
        group=members[0].group if group is not None and members else None,
        groups=_groups(rows) if members_only and group is None else [],
    )


def _group_members(members: list[RosterMember], group: str) -> list[RosterMember]:
    wanted = group.strip().casefold()
    chosen = [m for m in members if m.group is not None and m.group.casefold() == wanted]
    if not chosen:
        known = sorted({m.group for m in members if m.group}, key=str.casefold)
        hint = f"groups: {', '.join(known)}" if known else "the roster has no groups"
        raise ValidationError(f"group {group!r}: no member is in that group ({hint})")
    return chosen


def _row(
    scheme: str, counted: list[Board], key: str, person: _Who, mine: dict[str, Result], by_name: list[str]
) -> Standing:
    values = [mine[b.slug].value if b.slug in mine else _missing(scheme, b) for b in counted]
    total = min(values) if scheme == "best-percentile" else math.fsum(values)
    _, name, kind, member = person
    return Standing(
        place=0,
        key=key,
        name=name,
        kind=kind,
        total=round(total, 6),
        best_rank=min(r.rank for r in mine.values()),
        entered=len(mine),
        results={b.slug: mine.get(b.slug) for b in counted},
        username=member.username if member else (name if kind == "user" else None),
        group=member.group if member else None,
        member=member is not None,
        by_team_name=[b.slug for b in counted if b.slug in by_name],
    )


def _not_entered(scheme: str, counted: list[Board], members: list[RosterMember]) -> list[Standing]:
    """Lines without a place for members with no result, by display name."""
    values = [_missing(scheme, b) for b in counted]
    total = (min(values) if values else 1.0) if scheme == "best-percentile" else math.fsum(values)
    return [
        Standing(
            place=None,
            key=m.key,
            name=m.display,
            kind="member",
            total=round(total, 6),
            best_rank=None,
            entered=0,
            results={b.slug: None for b in counted},
            username=m.username,
            group=m.group,
            member=True,
        )
        for m in sorted(members, key=lambda m: (m.display.casefold(), m.key))
    ]


def _groups(rows: list[Standing]) -> list[GroupStanding]:
    """The roster's groups, ranked by their best member's place; groups nobody entered for last."""
    groups: dict[str, GroupStanding] = {}
    for row in rows:  # rows are in order: the first placed member of a group is its best
        if row.group is None:
            continue
        folded = row.group.casefold()
        held = groups.get(folded)
        if held is None:
            held = groups[folded] = GroupStanding(None, row.group, None, None, None, 0, 0)
        held.members += 1
        if row.place is not None:
            held.entered += 1
            if held.best_place is None:
                held.best_place, held.best_member, held.best_key = row.place, row.name, row.key
    ordered = sorted(
        groups.values(),
        key=lambda g: (g.best_place is None, g.best_place or 0, g.group.casefold()),
    )
    for place, item in enumerate(ordered, 1):
        item.place = place if item.best_place is not None else None
    return ordered


def final_board_exists(database: Database, competition_id: int) -> bool:
    """Whether the competition's private (final) board is stored."""
    row = database.conn.execute(
        "SELECT 1 FROM entries WHERE competition_id = ? AND board = 'private' LIMIT 1", (competition_id,)
    ).fetchone()
    return row is not None


def _members(text: str) -> tuple[str, ...]:
    """``entries.members`` as a tuple, without json.loads for the plain lists sync writes.

    Sync stores a list of names without quotes, backslashes or control characters as
    ``["a","b"]``; in JSON such a text can only split at ``","``. json.loads is three
    times slower and was most of the time of a standings over four 20,000-team boards.
    """
    if text == "[]":
        return ()
    if text.startswith('["') and text.endswith('"]') and "\\" not in text:
        names = text[2:-2].split('","')
        # A quote anywhere else means other separators (an older '", "'): parse it properly.
        if text.count('"') == 2 * len(names):
            return tuple(names)
    return tuple(json.loads(text))


def load_boards(
    database: Database, competitions: Iterable[Competition], weights: Mapping[str, float] | None = None
) -> list[Board]:
    """The stored boards (benchmarks excluded) of the given competitions.

    Each competition's private (final) board when it is stored, else its public one.
    ``weights`` (competition slug -> weight in the event) default to 1.
    """
    boards = []
    for competition in competitions:
        final = final_board_exists(database, competition.id)
        rows = database.conn.execute(
            """SELECT rank, team_name, members FROM entries
               WHERE competition_id = ? AND board = ? AND rank > 0 ORDER BY rank, team_id""",
            (competition.id, "private" if final else "public"),
        )
        entries = [BoardEntry(rank, name, _members(members)) for rank, name, members in rows]
        weight = (weights or {}).get(competition.slug, DEFAULT_WEIGHT)
        boards.append(Board(competition.slug, competition.title, weight, entries, final))
    return boards


def event_standings(
    repository: Repository,
    event: str,
    scheme: str = DEFAULT_SCHEME,
    *,
    everyone: bool = False,
    group: str | None = None,
) -> Standings:
    """The standings of an event's competitions as stored (members only when it has a roster)."""
    scheme = parse_scheme(scheme)
    found = repository.get_event(event)
    competitions = repository.list_competitions(event=found.slug)
    roster = list_members(repository.db, found.id)
    return compute_standings(
        load_boards(repository.db, competitions, repository.event_weights(found.slug)),
        scheme,
        event=found.slug,
        roster=roster,
        everyone=everyone,
        group=group,
    )


def format_total(scheme: str, total: float) -> str:
    """A total as shown in tables: points to 2 decimals, rank sums as given, percentiles in %."""
    if scheme == "points":
        return f"{total:,.2f}"
    if scheme == "rank-sum":
        return str(int(total)) if total == int(total) else f"{total:.2f}"
    return f"{total * 100:.2f}%"
