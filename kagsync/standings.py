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
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kagsync.errors import ValidationError

SCHEMES = ("points", "rank-sum", "best-percentile")
DEFAULT_SCHEME = "points"

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


@dataclass(frozen=True)
class BoardEntry:
    """One (non-benchmark) team on a board, as standings need it."""

    rank: int
    team_name: str
    members: tuple[str, ...] = ()


@dataclass
class Board:
    """A competition's board with its weight."""

    slug: str
    title: str
    weight: float
    entries: list[BoardEntry]

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
    """One participant's line in the standings."""

    place: int
    key: str
    name: str
    kind: str  # user | team
    total: float
    best_rank: int
    entered: int
    results: dict[str, Result | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "place": self.place,
            "key": self.key,
            "name": self.name,
            "kind": self.kind,
            "total": self.total,
            "best_rank": self.best_rank,
            "entered": self.entered,
            "results": {
                slug: None if r is None else {
                    "rank": r.rank, "team_name": r.team_name, "team_size": r.team_size, "value": r.value,
                }
                for slug, r in self.results.items()
            },
        }


@dataclass
class Standings:
    """The event's standings under one scheme."""

    event: str
    scheme: str
    method: str
    competitions: list[dict[str, Any]]
    left_out: list[dict[str, Any]]
    rows: list[Standing]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "event": self.event,
            "scheme": self.scheme,
            "method": self.method,
            "competitions": self.competitions,
            "left_out": self.left_out,
            "standings": [row.to_dict() for row in self.rows],
        }


def parse_scheme(text: str) -> str:
    """One of :data:`SCHEMES`."""
    value = text.strip().lower()
    if value not in SCHEMES:
        raise ValidationError(f"unknown scheme {text!r} (choose from {', '.join(SCHEMES)})")
    return value


def kaggle_points(rank: int, teams: int, team_size: int = 1, weight: float = 1.0) -> float:
    """Kaggle's ranking points for one result, without the time decay."""
    return float(
        100000 / math.sqrt(max(team_size, 1)) * rank ** -0.75 * math.log10(1 + math.log10(teams)) * weight
    )


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


def compute_standings(boards: Iterable[Board], scheme: str = DEFAULT_SCHEME, *, event: str = "") -> Standings:
    """Rank every participant of ``boards`` under ``scheme`` (see the module's doc)."""
    scheme = parse_scheme(scheme)
    counted: list[Board] = []
    left_out: list[dict[str, Any]] = []
    for board in boards:
        if board.weight <= 0:
            left_out.append({"slug": board.slug, "reason": "weight 0"})
        elif board.teams == 0:
            left_out.append({"slug": board.slug, "reason": "no synced leaderboard"})
        else:
            counted.append(board)
    names: dict[str, tuple[str, str]] = {}
    results: dict[str, dict[str, Result]] = {}
    for board in counted:
        for entry in board.entries:
            members = [m for m in entry.members if m.strip()]
            if members:
                keys = [(m.strip().lower(), m.strip(), "user") for m in members]
                size = len(members)
            else:
                keys = [(f"team:{entry.team_name}", entry.team_name, "team")]
                size = 1
            value = _value(scheme, board, entry, size)
            for key, name, kind in keys:
                names.setdefault(key, (name, kind))
                mine = results.setdefault(key, {})
                held = mine.get(board.slug)
                if held is None or _better(scheme, value, held.value) or (
                    value == held.value and entry.rank < held.rank
                ):
                    mine[board.slug] = Result(entry.rank, entry.team_name, size, value)
    rows: list[Standing] = []
    for key, mine in results.items():
        values = [mine[b.slug].value if b.slug in mine else _missing(scheme, b) for b in counted]
        total = min(values) if scheme == "best-percentile" else math.fsum(values)
        name, kind = names[key]
        rows.append(
            Standing(
                place=0,
                key=key,
                name=name,
                kind=kind,
                total=round(total, 6),
                best_rank=min(r.rank for r in mine.values()),
                entered=len(mine),
                results={b.slug: mine.get(b.slug) for b in counted},
            )
        )
    sign = -1 if scheme == "points" else 1
    rows.sort(key=lambda s: (sign * s.total, s.best_rank, s.name.casefold(), s.key))
    for place, row in enumerate(rows, 1):
        row.place = place
    return Standings(
        event=event,
        scheme=scheme,
        method=METHODS[scheme],
        competitions=[
            {"slug": b.slug, "title": b.title, "weight": b.weight, "teams": b.teams} for b in counted
        ],
        left_out=left_out,
        rows=rows,
    )


def load_boards(database: Any, competitions: Iterable[Any]) -> list[Board]:
    """The stored boards (benchmarks excluded) of the given competitions."""
    boards = []
    for competition in competitions:
        rows = database.conn.execute(
            """SELECT rank, team_name, members FROM entries
               WHERE competition_id = ? AND rank > 0 ORDER BY rank, team_id""",
            (competition.id,),
        )
        entries = [BoardEntry(rank, name, tuple(json.loads(members))) for rank, name, members in rows]
        boards.append(Board(competition.slug, competition.title, competition.weight, entries))
    return boards


def event_standings(repository: Any, event: str, scheme: str = DEFAULT_SCHEME) -> Standings:
    """The standings of an event's competitions as stored."""
    scheme = parse_scheme(scheme)
    found = repository.get_event(event)
    competitions = repository.list_competitions(event=found.slug)
    return compute_standings(load_boards(repository.db, competitions), scheme, event=found.slug)


def format_total(scheme: str, total: float) -> str:
    """A total as shown in tables: points to 2 decimals, rank sums as given, percentiles in %."""
    if scheme == "points":
        return f"{total:,.2f}"
    if scheme == "rank-sum":
        return str(int(total)) if total == int(total) else f"{total:.2f}"
    return f"{total * 100:.2f}%"
