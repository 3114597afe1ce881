"""Commands for final results: Kaggle's details and the private (final) board."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from kagsync.cli.app import app, get_state
from kagsync.cli.catalog import SlugArgument, competition_app
from kagsync.cli.names import competition_names
from kagsync.cli.render import JsonOption, print_json, say, table
from kagsync.models import MAX_COUNT


@competition_app.command("refresh")
def competition_refresh(
    ctx: typer.Context,
    slugs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Competition slugs, URLs or titles.", metavar="SLUG", show_default=False, callback=competition_names
        ),
    ] = None,
    all_competitions: Annotated[bool, typer.Option("--all", help="Refresh every competition.")] = False,
) -> None:
    """Re-read competitions' details from Kaggle (title, dates, metric...); fields you set stay.

    Kaggle moves deadlines: `watch` refreshes the details of the competitions it watches
    once a day (setting details_refresh); this does it now.

    \b
    Example:
      kagsync competition refresh titanic
    """
    state = get_state(ctx)
    refreshed = state.api().competitions.refresh(slugs or [], all_competitions=all_competitions)
    for competition in refreshed:
        say(
            state,
            f"Refreshed [bold]{competition.slug}[/]: {escape(competition.title)}, "
            f"{competition.start or '?'} → {competition.end or '?'}, metric {escape(competition.metric or '?')}",
        )


@app.command("shakeup")
def shakeup_command(
    ctx: typer.Context,
    slug: SlugArgument,
    top: Annotated[
        int, typer.Option("--top", help="Who entered and left the top N.", min=1, max=MAX_COUNT, metavar="N")
    ] = 10,
    json_output: JsonOption = False,
) -> None:
    """How the final (private) board moved against the public one: each team's move and the shake-up.

    N = teams on both boards (benchmarks excluded); move = public rank − private rank
    (positive: climbed); shakeup = mean |move| / N, the share of the board a team moved
    on average (shown in %); shakeup_top10pct = the same over the public top 10%.

    \b
    Example:
      kagsync shakeup titanic --top 10
    """
    result = get_state(ctx).api(mode="read").boards.shakeup(slug, top=top)
    if json_output:
        print_json(result)
        return
    title = get_state(ctx).api(mode="read").competitions.get(slug).title
    moves = result["moves"]
    biggest = sorted(moves, key=lambda m: (-abs(m["move"]), m["private_rank"]))[:top]
    table(
        f"Shake-up of {title}: {result['teams']:,} teams on both boards; "
        f"on average a team moved {result['shakeup']:.1%} of the board "
        f"({result['shakeup_top10pct']:.1%} in the public top 10%)",
        ["Team", "Public", "Private", "Move"],
        [(m["team_name"], m["public_rank"], m["private_rank"], f"{m['move']:+d}") for m in biggest],
        caption=(
            f"Entered the top {top}: "
            + (", ".join(m["team_name"] for m in result["entered_top"]) or "nobody")
            + ". Left it: "
            + (", ".join(m["team_name"] for m in result["left_top"]) or "nobody")
            + "."
        ),
    )
