"""Commands that show stored data: leaderboards (and, later, history and standings)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from kagsync.cli.app import app, get_state
from kagsync.cli.render import print_json, table

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.command("leaderboard")
def leaderboard_command(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="Competition slug or URL.")],
    top: Annotated[Optional[int], typer.Option("--top", help="Only the first N rows.", min=1)] = None,
    json_output: JsonOption = False,
) -> None:
    """Print the stored leaderboard of a competition.

    Example: [bold]kagsync leaderboard titanic --top 20[/]
    """
    from kagsync.views import leaderboard_entries

    repository = get_state(ctx).repository()
    competition = repository.get_competition(slug)
    entries = leaderboard_entries(repository.db, competition, top=top)
    if json_output:
        print_json(entries)
        return
    table(
        f"{competition.title} ({competition.entries or 0:,} teams, synced {competition.last_synced or 'never'})",
        ["Rank", "Team", "Members", "Score", "Subs", "Last submission"],
        [
            (
                "bench" if e["is_benchmark"] else e["rank"],
                e["team_name"],
                ", ".join(e["members"]),
                e["score"],
                e["submission_count"],
                e["last_submission"],
            )
            for e in entries
        ],
    )
