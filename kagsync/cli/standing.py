"""An event's standings drawn for a terminal: competitions under their titles, the
method under the table, and the groups ranked by their best member.

(For a pipe, see :mod:`kagsync.cli.piped`.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kagsync.cli.render import Col, more_line, table

if TYPE_CHECKING:
    from kagsync.standings import Standing, Standings


def short_title(title: str | None, slug: str) -> str:
    """A competition's name for a column header: its title up to " - " or ": " (Kaggle's
    titles often add a subtitle so), else its slug."""
    if not title:
        return slug
    for separator in (" - ", " – ", " — ", ": "):
        head = title.split(separator, 1)[0].strip()
        if head:
            title = head
    return title


def terminal(event: str, title: str, standings: Standings, rows: Sequence[Standing], scheme: str) -> None:
    """The participants' table (``rows``, the first of ``standings.rows``), then the groups'."""
    from kagsync.standings import SCHEME_LABELS, format_total

    slugs = [c["slug"] for c in standings.competitions]
    caption = standings.method
    if any(row.by_team_name for row in standings.rows):
        caption += " * counted through a team's name (kagsync roster check " + event + ")."
    if standings.left_out:
        caption += " Not counted: " + ", ".join(f"{i['slug']} ({i['reason']})" for i in standings.left_out) + "."
    table(
        f"Standings of {title}{f' ({standings.group})' if standings.group else ''} "
        f"({len(standings.rows):,} {'members' if standings.members_only else 'participants'}, {len(slugs)} competitions)",
        [
            Col("#", 0, "num"),
            Col("Participant", 0, "text"),
            Col(SCHEME_LABELS[scheme], 0, "short"),
            *[Col(short_title(c["title"], c["slug"]), 1, "num") for c in standings.competitions],
            Col("Entered", 2, "num"),
        ],
        (
            (
                row.place,
                row.name + (" (team)" if row.kind == "team" else "") + (" *" if row.by_team_name else ""),
                "not entered" if row.place is None else format_total(scheme, row.total),
                *[result.rank if (result := row.results.get(s)) else None for s in slugs],
                row.entered,
            )
            for row in rows
        ),
        caption=caption,
        more=more_line(len(standings.rows), len(rows)),
    )
    if standings.groups:
        groups_table(title, standings)


def groups_table(title: str, standings: Standings) -> None:
    """The roster's groups, ranked by their best member."""
    table(
        f"Groups of {title}, by their best member",
        [
            Col("#", 0, "num"),
            Col("Group", 0, "text"),
            Col("Best", 0, "num"),
            Col("Best member", 1, "text"),
            Col("Members", 2, "num"),
            Col("Entered", 2, "num"),
        ],
        [(g.place, g.group, g.best_place, g.best_member, g.members, g.entered) for g in standings.groups],
    )
