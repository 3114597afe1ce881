"""What a pipe gets from the view commands: one plain table, for programs.

When stdout is not a terminal (``kagsync leaderboard titanic | awk …``), a command
prints exactly one table of tab-separated lines: numbers without thousands
separators or units, moves as signed integers (``+49``, ``-3``, ``0``; empty when
there is nothing to compare), and every mark a terminal appends to a name (``*``,
``(team)``, ``(benchmark)``, ``★ names``) in a column of its own. Messages meant for
a person go to stderr. The terminal's tables are drawn by the commands themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TypeGuard

from kagsync.cli.render import table
from kagsync.rows import Mover

if TYPE_CHECKING:
    from kagsync.roster import RosterCheck
    from kagsync.rows import LeaderboardEntry, RosterEntry, RosterMatch, TeamPoint
    from kagsync.standings import Standing, Standings


class SectionMover(Mover):
    """A mover with the list it is in (``climbers``, ``fallers``, ``new``, ``departed``):
    one line of ``movers`` in a pipe or in CSV."""

    section: str


def _has_roster(entry: LeaderboardEntry) -> TypeGuard[RosterEntry]:
    # A board read for an event (--event) has a roster key on every row.
    return "roster" in entry


def roster_matches(entry: LeaderboardEntry) -> list[RosterMatch]:
    """The event's roster members behind a board row's team ([] without --event)."""
    return entry["roster"] if _has_roster(entry) else []


def signed_move(movement: int | None, *, new: bool = False) -> str | None:
    """A move for programs: ``+3`` (climbed), ``-2`` (fell), ``0``; None when new or not compared."""
    if new or movement is None:
        return None
    return f"{movement:+d}" if movement else "0"


def plain_total(scheme: str, total: float) -> str:
    """A standings total as a plain number: points and rank sums as computed, percentiles in %."""
    if scheme == "best-percentile":
        total *= 100
    return f"{total:.2f}".removesuffix(".00") if scheme == "rank-sum" else f"{total:.2f}"


def leaderboard(entries: Iterable[LeaderboardEntry], *, roster: bool) -> None:
    """A board: rank (empty for a benchmark), names and numbers, move, and the marks."""
    columns = ["Rank", "Team", "Members", "Score", "Subs", "Last submission", "Move", "New", "Benchmark"]
    if roster:
        columns.append("Roster")
    rows: list[Sequence[object]] = []
    for e in entries:
        row: list[object] = [
            None if e["is_benchmark"] else e["rank"],
            e["team_name"],
            ",".join(e["members"]),
            e["score"],
            e["submission_count"],
            e["last_submission"],
            signed_move(e.get("movement"), new=bool(e.get("is_new"))),
            bool(e.get("is_new")),
            bool(e["is_benchmark"]),
        ]
        if roster:
            row.append(",".join(m["name"] or m["username"] for m in roster_matches(e)))
        rows.append(row)
    table(None, columns, rows)


def movers(records: Iterable[SectionMover]) -> None:
    """The four lists of movers as one table with a section column."""
    table(
        None,
        ["Section", "Rank", "Was", "Move", "Team", "Score", "Previous score"],
        [
            (
                r["section"],
                r["rank"],
                r["previous_rank"],
                signed_move(r.get("movement"), new=bool(r.get("is_new"))),
                r["team_name"],
                r["score"],
                r["previous_score"],
            )
            for r in records
        ],
    )


def team_history(changes: Iterable[TeamPoint]) -> None:
    """One team's changes: the kind of change (new, moved, removed…) and a signed move."""
    table(
        None,
        ["Synced", "Change", "Rank", "Move", "Score", "Previous score", "Name then"],
        [
            (
                c["synced_at"],
                c["kind"],
                c["rank"] if c["kind"] != "removed" else None,
                signed_move(c["movement"], new=c["kind"] in ("new", "removed")),
                c["score"],
                c["previous_score"],
                c["team_name"],
            )
            for c in changes
        ],
    )


def standings(result: Standings, rows: Sequence[Standing], label: str) -> None:
    """The participants' standings: place, name, kind, plain total, rank per competition (by
    slug), competitions entered, and where a result was counted through a team's name."""
    slugs = [c["slug"] for c in result.competitions]
    table(
        None,
        ["#", "Participant", "Kind", label, *slugs, "Entered", "By team name"],
        [
            (
                row.place,
                row.name,
                row.kind,
                None if row.place is None else plain_total(result.scheme, row.total),
                *[r.rank if (r := row.results.get(s)) else None for s in slugs],
                row.entered,
                ",".join(row.by_team_name),
            )
            for row in rows
        ],
    )


def groups(result: Standings) -> None:
    """The groups ranked by their best member."""
    table(
        None,
        ["#", "Group", "Best", "Best member", "Members", "Entered"],
        [(g.place, g.group, g.best_place, g.best_member, g.members, g.entered) for g in result.groups],
    )


def roster_check(check: RosterCheck) -> None:
    """Every finding of a roster check in one table: its kind, where, which team, whom."""
    rows: list[Sequence[object]] = []
    for m in check.name_matches:
        rows.append(("name-match", m["competition"], m["rank"], m["team_name"], m["username"], m["name"], m["matched"]))
    for a in check.ambiguous:
        rows.append(("ambiguous", a["competition"], a["rank"], a["team_name"], ",".join(a["candidates"]), None, None))
    for missing in check.not_found:
        rows.append(("not-found", None, None, None, missing["username"], missing["name"], missing["group"]))
    table(None, ["Finding", "Competition", "Rank", "Team", "Member", "Name", "Detail"], rows)
