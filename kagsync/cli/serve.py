"""``kagsync serve``: the live scoreboard in the browser (see :mod:`kagsync.serve`)."""

from __future__ import annotations

import os
from functools import partial
from typing import TYPE_CHECKING, Annotated

import typer

from kagsync.cli.app import app, get_state
from kagsync.cli.render import say
from kagsync.errors import ValidationError

if TYPE_CHECKING:
    from kagsync.serve.server import Loop

TOKEN_ENV = "KAGSYNC_SERVE_TOKEN"


def _watcher(options: dict[str, object], verbose: bool, offline: bool, interval: float | None) -> Loop:
    """The watch loop of ``serve --watch``, made in its child process."""
    from kagsync.cli.app import State

    state = State(options=options, verbose=verbose, offline=offline)
    return state.api(mode="write").syncs.watcher(interval=interval)


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on; anything but loopback exposes the pages to the network.",
            metavar="ADDRESS",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.", min=1, max=65535, metavar="PORT")] = 8000,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help=f"Every page needs this token (?token=T once, then a cookie) [env: {TOKEN_ENV}].",
            show_default=False,
            metavar="T",
        ),
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="Also run the watch loop, in a child process (Ctrl-C stops both).")
    ] = False,
    interval: Annotated[
        float | None,
        typer.Option("--interval", help="With --watch: seconds between ticks.", show_default=False, metavar="SECONDS"),
    ] = None,
    root_path: Annotated[
        str,
        typer.Option(
            "--root-path", help="The path prefix the pages are served under by a reverse proxy.", metavar="PREFIX"
        ),
    ] = "",
) -> None:
    """Serve a read-only, live scoreboard of the database in the browser.

    Pages: events, standings, boards (searchable, paged, movement since a baseline),
    teams and members, with JSON beside each (same path + .json) and a projector mode
    (?projector=1). Open pages follow the database: a sync landing (by watch, cron or a
    person) shows within two seconds. The pages open the database read-only.

    \b
    Example:
      kagsync serve --watch            (then open http://127.0.0.1:8000/)
      kagsync serve --host 0.0.0.0 --token s3cret
    """
    from kagsync.serve.server import ServeOptions, check_database, exposure, serve

    state = get_state(ctx)
    token = token if token is not None else os.environ.get(TOKEN_ENV) or None
    if token is not None and (len(token) < 8 or not token.isprintable() or " " in token):
        raise ValidationError("--token: use at least 8 printable characters without spaces")
    if root_path and (not root_path.startswith("/") or root_path.endswith("/")):
        raise ValidationError("--root-path: expected a path such as /scoreboard (a leading /, no trailing /)")
    if interval is not None and not watch:
        raise ValidationError("--interval needs --watch")
    options = ServeOptions(host=host, port=port, token=token, root_path=root_path)
    db = state.settings.db
    check_database(db)  # a missing or damaged file fails here, in one line
    # The watch loop is made in the child process that runs it (its own connection and
    # log file handler), from this invocation's global options.
    watcher = partial(_watcher, dict(state.options), state.verbose, state.offline, interval)

    def ready() -> None:
        for line in exposure(options):
            say(state, line)
        shown = f"[{host}]" if ":" in host else host
        say(state, f"Serving {db.name} read-only at http://{shown}:{port}{root_path}/ (Ctrl-C to stop)")
        if token:
            say(state, "Open it once with ?token=<the token> at the end of the address; the browser keeps it.")
        if watch:
            say(state, "Watching: active competitions sync every interval (progress in the log file).")

    serve(db, options, watch=watcher if watch else None, on_ready=ready)
    say(state, "Stopped.")
