"""Commands that sync leaderboards and show what syncs did."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from kagsync.cli.app import app, get_state
from kagsync.cli.render import (
    SyncDisplay,
    exit_for,
    print_json,
    report_outcomes,
    summary_table,
    table,
)
from kagsync.errors import ValidationError

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.command("sync")
def sync_command(
    ctx: typer.Context,
    slugs: Annotated[
        Optional[list[str]], typer.Argument(help="Competition slugs or URLs.", show_default=False)
    ] = None,
    all_active: Annotated[
        bool, typer.Option("--all-active", help="Sync every competition whose status is a sync status.")
    ] = False,
    from_file: Annotated[
        Optional[Path],
        typer.Option("--from", help="Read the leaderboard from this .zip or .csv instead of Kaggle.", metavar="FILE"),
    ] = None,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", help="Parallel syncs.", min=1, max=64)] = None,
) -> None:
    """Sync leaderboards now; exit 0 only when every sync succeeded.

    \b
    Example:
      kagsync sync titanic --from ~/Downloads/titanic-publicleaderboard.zip
    """
    state = get_state(ctx)
    slugs = slugs or []
    if not slugs and not all_active:
        raise ValidationError("name at least one competition, or use --all-active")
    if from_file is not None and (len(slugs) != 1 or all_active):
        raise ValidationError("--from FILE syncs exactly one competition: give one slug")
    repository = state.repository()
    competitions = []
    for slug in slugs:
        competition = repository.get_competition(slug)
        # `titanic` and its URL name one competition: sync it once.
        if competition.slug not in {c.slug for c in competitions}:
            competitions.append(competition)
    if all_active:
        known = {c.slug for c in competitions}
        competitions += [
            c for c in repository.list_competitions(status=state.settings.sync_statuses)
            if c.slug not in known
        ]
    if not competitions:
        typer.echo("No active competitions to sync.", err=True)
        return
    with SyncDisplay(state) as display:
        syncer = state.syncer(from_file=from_file, observer=display, jobs=jobs)
        outcomes = syncer.sync_many([(c, "manual") for c in competitions])
    report_outcomes(state, outcomes)
    if len(outcomes) > 1 and not state.quiet:
        summary_table(outcomes)
    exit_for(outcomes)


@app.command("runs")
def runs_command(
    ctx: typer.Context,
    slug: Annotated[Optional[str], typer.Argument(help="Only this competition's runs.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many runs.", min=1)] = 20,
    json_output: JsonOption = False,
) -> None:
    """List sync runs, newest first.

    \b
    Example:
      kagsync runs titanic --limit 5
    """
    from kagsync.views import sync_runs

    repository = get_state(ctx).repository()
    competition = repository.get_competition(slug) if slug else None
    runs = sync_runs(repository.db, competition, limit=limit)
    if json_output:
        print_json([{k: v for k, v in run.items() if k != "source"} for run in runs])
        return
    table(
        "Sync runs",
        ["Competition", "Trigger", "Status", "Started", "Finished", "Entries", "Created", "Updated", "Removed", "Error"],
        [
            (r["competition"], r["trigger"], r["status"], r["started"], r["finished"], r["entries"],
             r["created"], r["updated"], r["removed"], r["error"])
            for r in runs
        ],
    )
