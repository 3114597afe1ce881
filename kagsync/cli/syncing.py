"""Commands that sync leaderboards and show what syncs did."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from kagsync.cli.app import EXIT_SYNC_FAILED, State, app, get_state
from kagsync.cli.names import competition_names, competition_option
from kagsync.cli.outcomes import SyncDisplay, exit_for, print_outcomes_json, report_outcomes, summary_table
from kagsync.cli.render import (
    Col,
    CsvOption,
    JsonOption,
    complete_competition,
    is_terminal,
    offline_refused,
    one_format,
    print_csv,
    print_json,
    say,
    table,
)
from kagsync.models import MAX_COUNT, MAX_JOBS, RunRecord

JobsOption = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        help="Parallel syncs (default: the jobs setting, 4).",
        min=1,
        max=MAX_JOBS,
        metavar="N",
        show_default=False,
    ),
]


@app.command("sync")
def sync_command(
    ctx: typer.Context,
    slugs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Competition slugs, URLs or titles.",
            metavar="SLUG...",
            show_default=False,
            autocompletion=complete_competition,
            callback=competition_names,
        ),
    ] = None,
    all_active: Annotated[
        bool, typer.Option("--all-active", help="Sync every competition whose status is a sync status.")
    ] = False,
    from_file: Annotated[
        Path | None,
        typer.Option("--from", help="Read the leaderboard from this .zip or .csv instead of Kaggle.", metavar="FILE"),
    ] = None,
    jobs: JobsOption = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Apply the board even if it looks suspect (empty, much smaller, one score); "
            "with --private, also look for the final board before the deadline.",
        ),
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print a JSON array: one object per competition, as in runs --json.")
    ] = False,
    private: Annotated[
        bool,
        typer.Option("--private", help="Look for the private (final) board of these closed competitions and store it."),
    ] = False,
) -> None:
    """Sync leaderboards now; exit 0 only when every sync succeeded.

    With --private: look for the final (private) board of closed competitions, and store
    it when Kaggle has released it (a board not released yet is not a failure).

    \b
    Example:
      kagsync sync titanic --from ~/Downloads/titanic-publicleaderboard.zip
      kagsync sync winter-cup-2026 --private
    """
    state = get_state(ctx)
    if private:
        offline_refused(state, "looking for a private board")
        _sync_private(state, slugs or [], json_output=json_output, force=force)
        return
    if from_file is None:
        offline_refused(state, "syncing a leaderboard")
    with SyncDisplay(state) as display:
        ks = state.api(observer=display)
        with ks.interruptible():
            outcomes = ks.syncs.run(slugs or [], all_active=all_active, from_file=from_file, jobs=jobs, force=force)
    if json_output:
        print_outcomes_json(outcomes)
        for outcome in outcomes:  # scripts read stdout; people still see what failed
            if not outcome.ok:
                report_outcomes(state, [outcome])
        exit_for(outcomes)
        return
    if not outcomes:
        typer.echo("No active competitions to sync.", err=True)
        return
    report_outcomes(state, outcomes)
    if len(outcomes) > 1 and not state.quiet:
        summary_table(outcomes)
    exit_for(outcomes)


RUN_COLUMNS = [
    Col("Competition", 0, "key"),
    Col("Trigger", 3, "short"),
    Col("Status", 0, "short"),
    Col("Started", 1, "time"),
    Col("Finished", 4, "time"),
    Col("Entries", 2, "num"),
    Col("Created", 5, "num"),
    Col("Updated", 5, "num"),
    Col("Removed", 5, "num"),
    Col("Error", 1, "long"),
]


def _sync_private(state: State, slugs: list[str], *, json_output: bool, force: bool) -> None:
    with SyncDisplay(state) as display:
        checks = state.api(observer=display).private.sync(slugs, force=force)
    outcomes = [check.outcome for check in checks if check.outcome is not None]
    if json_output:
        print_outcomes_json(outcomes)
    for check in checks:
        if check.error:
            say(state, f"{escape(check.competition)}: private board not checked: {escape(check.error)}")
        elif check.kept_since:
            say(
                state,
                f"{escape(check.competition)}: the source no longer serves the private (final) board; "
                f"the one stored at {check.kept_since} is kept",
            )
        elif not check.released:
            say(state, f"{escape(check.competition)}: the private (final) board is not released yet")
    if not json_output:
        report_outcomes(state, outcomes)
    exit_for(outcomes)
    if any(check.error for check in checks):  # not even looked for (credentials, network...)
        raise typer.Exit(EXIT_SYNC_FAILED)


@app.command("runs")
def runs_command(
    ctx: typer.Context,
    slug: Annotated[
        str | None,
        typer.Argument(
            help="Only this competition's runs.",
            metavar="SLUG",
            show_default=False,
            autocompletion=complete_competition,
            callback=competition_option,
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="How many runs (newest first).", min=1, max=MAX_COUNT, metavar="N")
    ] = 20,
    json_output: JsonOption = False,
    csv_output: CsvOption = False,
) -> None:
    """List sync runs, newest first.

    \b
    Example:
      kagsync runs titanic --limit 5
    """
    one_format(json_output, csv_output)
    runs = get_state(ctx).api(mode="read").runs(slug, limit=limit)
    if json_output:
        print_json(runs)
        return
    if csv_output:
        print_csv(list(runs[0]) if runs else list(RunRecord.__annotations__), runs)
        return
    terminal = is_terminal()
    table(
        "Sync runs",
        RUN_COLUMNS if terminal else [*RUN_COLUMNS, Col("Board")],
        [
            (
                # A private board's run says so: after the slug on a terminal, in a column in a pipe.
                r["competition"] + (" (private)" if terminal and r.get("board") == "private" else ""),
                r["trigger"],
                r["status"],
                r["started_at"],
                r["finished_at"],
                r["entries"],
                r["created"],
                r["updated"],
                r["removed"],
                r["error"],
                *(() if terminal else (r.get("board"),)),
            )
            for r in runs
        ],
    )
