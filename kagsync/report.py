"""A self-contained HTML results page for an event.

One file, nothing fetched: the stylesheet inlined, charts drawn as inline SVG, no
scripts, no web fonts, and a Content-Security-Policy that forbids loading anything
(so even a browser that found a script in it would not run it). It is rendered by the
same templates and charts as the live pages of ``kagsync serve``
(:mod:`kagsync.serve.render`), which escape every piece of text that comes from users
or Kaggle (team names, usernames, titles).

The page holds the event's standings, and for each competition a chart of rank over
time for its top teams (from the change records) and its board (the first
``top`` rows, with a note saying how many there are in all).

Numbers carry classes so that a check can read them back: standings rows are
``tr.standing`` with ``td.place``, ``td.name``, ``td.total``; board rows are
``tr.entry[data-team-id]`` with ``td.rank``, ``td.team``, ``td.score``, ``td.subs``,
inside ``table.board[data-competition=SLUG]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from kagsync import output
from kagsync.serve.data import BoardQuery, Reader
from kagsync.serve.render import Links, render, static_text
from kagsync.standings import DEFAULT_SCHEME
from kagsync.values import now_iso

if TYPE_CHECKING:
    from kagsync.repository import Repository

DEFAULT_TOP = 100
DEFAULT_CHART_TEAMS = 6


def build_report(
    repository: Repository,
    event: str,
    *,
    scheme: str = DEFAULT_SCHEME,
    top: int = DEFAULT_TOP,
    chart_teams: int = DEFAULT_CHART_TEAMS,
    everyone: bool = False,
    generated_at: str | None = None,
) -> str:
    """The results page of ``event`` as one HTML document (a string).

    Reads the repository's database through its own read-only connection, inside one
    read transaction: a sync landing meanwhile never mixes two states in the page.
    """
    reader = Reader.open(repository.db.path)
    try:
        with reader.reading():
            page = reader.event(event, scheme=scheme, everyone=everyone)
            competitions = []
            for summary in page["competitions"]:
                data = reader.competition(summary["slug"], BoardQuery(size=top, chart=False))
                data["competition"] = summary
                if data["entries"] and data["board"] == "public":
                    leaders = [e for e in data["entries"] if not e["is_benchmark"]][:chart_teams]
                    data["chart"] = reader.chart(
                        reader.ks.competitions.get(summary["slug"]), leaders, f"the current top {len(leaders)}"
                    )
                competitions.append(data)
    finally:
        reader.close()
    found: Mapping[str, object] = page["event"]
    synced = [
        c["competition"]["last_synced_at"] or c["competition"]["private_synced_at"]
        for c in competitions
        if c["competition"]["last_synced_at"] or c["competition"]["private_synced_at"]
    ]
    dates = " – ".join(
        str(d)[:10] if str(d).endswith("T00:00:00Z") else str(d) for d in (found["start"], found["end"]) if d
    )
    return render(
        "report.html",
        event=found,
        competitions=competitions,
        standings=page["standings"],
        links=Links(live=False),
        top=top,
        dates=dates,
        data_as_of=max(synced) if synced else None,
        generated=generated_at or now_iso(),
        css=static_text("kagsync.css"),
    )


def write_report(path: Path, html: str) -> Path:
    """Write the page (via a temporary file, so a reader never sees half of it)."""
    return output.write_text(path, html)
