"""The words of a message: one line per team (every change of a team folded into it),
the final results with the roster's finish, and failures worded for a person.

Numbers carry thousands separators ("climbed 4,510 places to #1"). A team is named
with its roster members in parentheses, unless they only repeat the team's name.
"""

from __future__ import annotations

from collections.abc import Sequence

from kagsync.notify.model import FinalMember, FinalTeam, LeaderChange, MemberChange, TeamChange, TopChange

__all__ = ["failure_reason", "final_text", "rank", "team_line", "who"]

MAX_FINAL_MEMBERS = 30
"""Roster members listed under the final results at most (then "… and N more")."""

# What a failed sync's error kind means, for the person reading the club's channel.
_REASONS = {
    "auth": "Kaggle did not accept kagsync's credentials",
    "forbidden": "Kaggle refused access (the competition's rules may need accepting)",
    "not_found": "Kaggle has no leaderboard for it",
    "rate_limited": "Kaggle asked kagsync to slow down",
    "server": "Kaggle's servers answered with errors",
    "network": "Kaggle could not be reached",
    "too_large": "the leaderboard download was too large or too slow",
    "source": "the leaderboard could not be found where kagsync reads it",
    "bad_file": "the leaderboard file could not be read",
    "suspect": "the new leaderboard looked wrong and was held back",
    "busy": "another sync kept it busy",
    "interrupted": "the syncs were interrupted",
    "database": "the database could not be written",
}


def rank(value: int) -> str:
    """``#4,511``."""
    return f"#{value:,}"


def _places(count: int) -> str:
    return f"{count:,} place" + ("" if count == 1 else "s")


def who(team_name: str, names: Sequence[str]) -> str:
    """``Team (Member, Member)``; names equal to the team's name are not repeated."""
    folded = team_name.casefold().strip()
    shown: list[str] = []
    for name in names:
        if name.casefold().strip() != folded and name not in shown:
            shown.append(name)
    return f"{team_name} ({', '.join(shown)})" if shown else team_name


def _roster_names(changes: Sequence[TeamChange]) -> list[str]:
    names: list[str] = []
    for change in changes:
        found = change["roster"] if change["kind"] != "member" else [change["name"] or change["username"]]
        names += [name for name in found if name not in names]
    return names


def team_line(changes: Sequence[TeamChange]) -> str:
    """One line for every change of one team (oldest first): its most telling change
    (the lead, then the top N, then a member's move), with the move as a whole.

    For example "渡邉杏奈 (Anna Novak) took the lead with 0.99 (up 4,510 places from
    #4,511; before: Team 1)" is a lead and a member's climb of the same team.
    """
    first, last = changes[0], changes[-1]
    name = who(last["team_name"], _roster_names(changes))
    before = first["previous_rank"]
    now = last["rank"]
    moved = before - now if before is not None and now is not None else None
    leaders = [c for c in changes if c["kind"] == "leader"]
    tops = [c for c in changes if c["kind"] == "top"]
    members = [c for c in changes if c["kind"] == "member"]
    # A member's move of at least K places is worth saying even beside the lead.
    move = f"{'up' if moved > 0 else 'down'} {_places(abs(moved))} from " if members and moved else ""
    if leaders:
        leader: LeaderChange = leaders[-1]
        was = f"{move or 'was '}{rank(before)}" if before is not None else "new team"
        text = f"{name} took the lead with {leader['score']} ({was}"
        return text + (f"; before: {leader['previous_leader']})" if leader["previous_leader"] else ")")
    if tops:
        top: TopChange = tops[-1]
        if top["direction"] == "in" and now is not None:
            was = f"{move or 'was '}{rank(before)}" if before is not None else "new team"
            return f"{name} entered the top {top['top_n']:,} at {rank(now)} ({was})"
        if now is None or top["rank"] is None:
            return f"{name} left the top {top['top_n']:,} (left the board)"
        detail = f", {move}{rank(before)}" if move and before is not None else ""
        return f"{name} left the top {top['top_n']:,} (now {rank(now)}{detail})"
    member: MemberChange = members[-1]
    if moved is None:  # a first submission: no rank before
        return f"{name} made a first submission: {rank(member['rank'])}"
    verb = "climbed" if moved > 0 else "fell"
    return f"{name} {verb} {_places(abs(moved))} to {rank(member['rank'])} (was {rank(before or 0)})"


def final_text(
    podium: Sequence[FinalTeam], kept: int, best: tuple[str, int, int] | None, members: Sequence[FinalMember]
) -> str:
    """The final results: the podium, the shake-up and one line per roster member."""
    parts = [
        f"{team['rank']}. {team['team_name']}"
        + (f" (public {rank(team['public_rank'])})" if team["public_rank"] else "")
        for team in podium
    ]
    text = "final results: " + ", ".join(parts) + f"; {kept} of the public top 10 stayed in the top 10"
    if best is not None:
        text += f"; biggest climb: {best[0]}, {rank(best[1])} → {rank(best[2])}"
    lines = [text]
    for member in members[:MAX_FINAL_MEMBERS]:
        label = who(member["name"] or member["username"], [member["team_name"]])
        line = f"{label} finished {rank(member['rank'])}"
        public, movement = member["public_rank"], member["movement"]
        if public is None:
            line += " (not on the public board)"
        elif not movement:
            line += " (as on the public board)"
        else:
            line += f" ({'up' if movement > 0 else 'down'} {_places(abs(movement))} from public {rank(public)})"
        lines.append(line)
    if len(members) > MAX_FINAL_MEMBERS:
        lines.append(f"… and {len(members) - MAX_FINAL_MEMBERS:,} more members")
    return "\n".join(lines)


def failure_reason(error_kind: str | None) -> str:
    """What a failed sync's error kind means, in words for a person."""
    return _REASONS.get(error_kind or "", "an unexpected error (see kagsync's log)")
