"""Commands that sync leaderboards and show what syncs did."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kagsync.cli.app import app, get_state
from kagsync.cli.render import (
    JsonOption,
    SyncDisplay,
    exit_for,
    print_json,
    report_outcomes,
    summary_table,
    table,
)
from kagsync.models import MAX_JOBS


@app.command("sync")
def sync_command(
    ctx: typer.Context,
    slugs: Annotated[
        list[str] | None, typer.Argument(help="Competition slugs or URLs.", show_default=False)
    ] = None,
    all_active: Annotated[
        bool, typer.Option("--all-active", help="Sync every competition whose status is a sync status.")
    ] = False,
    from_file: Annotated[
        Path | None,
        typer.Option("--from", help="Read the leaderboard from this .zip or .csv instead of Kaggle.", metavar="FILE"),
    ] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Parallel syncs.", min=1, max=MAX_JOBS)] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Apply the board even if it looks suspect (empty, much smaller, one score).")
    ] = False,
) -> None:
    """Sync leaderboards now; exit 0 only when every sync succeeded.

    \b
    Example:
      kagsync sync titanic --from ~/Downloads/titanic-publicleaderboard.zip
    """
    state = get_state(ctx)
    with SyncDisplay(state) as display:
        outcomes = state.api(observer=display).sync(
            slugs or [], all_active=all_active, from_file=from_file, jobs=jobs, force=force
        )
    if not outcomes:
        typer.echo("No active competitions to sync.", err=True)
        return
    report_outcomes(state, outcomes)
    if len(outcomes) > 1 and not state.quiet:
        summary_table(outcomes)
    exit_for(outcomes)


@app.command("runs")
def runs_command(
    ctx: typer.Context,
    slug: Annotated[str | None, typer.Argument(help="Only this competition's runs.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many runs.", min=1)] = 20,
    json_output: JsonOption = False,
) -> None:
    """List sync runs, newest first.

    \b
    Example:
      kagsync runs titanic --limit 5
    """
    runs = get_state(ctx).api(mode="read").runs(slug, limit=limit)
    if json_output:
        print_json(runs)
        return
    table(
        "Sync runs",
        ["Competition", "Trigger", "Status", "Started", "Finished", "Entries", "Created", "Updated", "Removed", "Error"],
        [
            (r["competition"], r["trigger"], r["status"], r["started_at"], r["finished_at"], r["entries"],
             r["created"], r["updated"], r["removed"], r["error"])
            for r in runs
        ],
    )
