"""The Typer application, its global options and the state commands share.

Commands live in sibling modules and register themselves on :data:`app` (or one of
its sub-apps). Each command parses its options, calls one library function and
renders the result; a :class:`~kagsync.errors.KagsyncError` becomes one line on
stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from kagsync import __version__
from kagsync.errors import KagsyncError

if TYPE_CHECKING:
    from kagsync.api import Kagsync
    from kagsync.db import OpenMode
    from kagsync.settings import Settings
    from kagsync.sync import SyncObserver

# Exit codes (documented in the README).
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SYNC_FAILED = 3

def _console(*, stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    # Piped into a file or `less`, rich would assume 80 columns and fold every table;
    # a wider page reads better there. A terminal or COLUMNS decides otherwise.
    wide = not os.environ.get("COLUMNS") and not stream.isatty()
    return Console(stderr=stderr, highlight=False, width=160 if wide else None)


stdout = _console(stderr=False)
stderr = _console(stderr=True)


def report_error(message: str) -> None:
    """One line on stderr, never wrapped (it may be read by scripts and in logs)."""
    stderr.print(f"[bold red]Error:[/] {escape(message)}", soft_wrap=True)


def _guard(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except KagsyncError as error:
            report_error(str(error))
            raise typer.Exit(error.exit_code) from None
        except sqlite3.OperationalError as error:
            # e.g. "database is locked" after the busy timeout, a full disk, an I/O error.
            report_error(f"database error: {error} (try again; see the log for details)")
            raise typer.Exit(EXIT_ERROR) from None
        except sqlite3.DatabaseError as error:
            # A file damaged after it was opened: one line, never a traceback.
            report_error(f"the database is not a kagsync database or is damaged: {error}")
            raise typer.Exit(EXIT_ERROR) from None

    return guarded


class KagsyncTyper(typer.Typer):
    """A Typer whose commands turn package errors into one-line messages."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:  # type: ignore[override]
        register = super().command(*args, **kwargs)

        def decorator(function: Callable[..., Any]) -> Callable[..., Any]:
            register(_guard(function))
            return function

        return decorator


def new_app(help_text: str) -> KagsyncTyper:
    """A (sub-)application with kagsync's conventions."""
    return KagsyncTyper(
        help=help_text,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )


app = new_app(
    "Keep full Kaggle competition leaderboards in a local SQLite database.\n\n"
    "\b\nExample:\n  kagsync competition add titanic --event neural-night --status ongoing"
)


@dataclass
class State:
    """What the global options decided; commands read it from ``ctx.obj``."""

    options: dict[str, Any] = field(default_factory=dict)
    verbose: bool = False
    quiet: bool = False
    _settings: Settings | None = None
    _api: Kagsync | None = None

    @property
    def settings(self) -> Settings:
        """The effective settings (loaded on first use, so `--help` never reads files)."""
        if self._settings is None:
            from kagsync.settings import load_settings

            self._settings = load_settings(self.options)
            _configure_logging(self._settings.effective_log_file, self.verbose)
        return self._settings

    def api(self, *, mode: OpenMode = "write", observer: SyncObserver | None = None) -> Kagsync:
        """The public API over this invocation's database, settings and source.

        ``mode``: ``read`` for commands that only read (read-only, never migrates),
        ``create`` for those that add things (they may create the database),
        ``write`` for the rest (the database must exist).
        """
        if self._api is None:
            from kagsync.api import Kagsync

            self._api = Kagsync(self.settings, mode=mode, observer=observer)
        else:
            self._api.observer = observer
        return self._api


class _LogFileHandler(logging.FileHandler):
    """A log file opened at the first line, beside a database that may not exist yet.

    A log file that cannot be written is reported once and then ignored: logging must
    never turn a sync into a traceback.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path, encoding="utf-8", delay=True)
        self._failed = False

    def emit(self, record: logging.LogRecord) -> None:
        if self._failed:
            return
        if self.stream is None:
            try:
                Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
                self.stream = self._open()
            except OSError:
                self.handleError(record)
                return
        super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:
        if not self._failed:
            self._failed = True
            report_error(f"{self.baseFilename}: cannot write the log file; logging disabled")


def _configure_logging(log_file: Path, verbose: bool) -> None:
    """Send the library's log lines to ``log_file`` (one handler, replaced when the file changes)."""
    logger = logging.getLogger("kagsync")
    # -v also puts the detail (DEBUG lines) into the log file.
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        if getattr(handler, "_kagsync_file", None) == log_file:
            return
        if hasattr(handler, "_kagsync_file"):
            logger.removeHandler(handler)
            handler.close()
    handler = _LogFileHandler(log_file)
    handler.setFormatter(
        logging.Formatter("%(asctime)s pid=%(process)d %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z")
    )
    handler._kagsync_file = log_file  # type: ignore[attr-defined]
    logger.addHandler(handler)


def get_state(ctx: typer.Context) -> State:
    """The shared state of this invocation."""
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kagsync {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[
        Path | None,
        typer.Option("--db", help="SQLite database file [env: KAGSYNC_DB].", show_default=False),
    ] = None,
    source: Annotated[
        Path | None,
        typer.Option(
            "--source",
            help="Read every leaderboard from DIR/<slug>.zip or .csv instead of Kaggle [env: KAGSYNC_SOURCE].",
            metavar="DIR",
        ),
    ] = None,
    log_file: Annotated[
        Path | None,
        typer.Option("--log-file", help="Log file (default: the database name with .log, beside it) [env: KAGSYNC_LOG_FILE]."),
    ] = None,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Say more.")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Only errors and results.")] = False,
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = None,
) -> None:
    """Keep full Kaggle competition leaderboards in a local SQLite database.

    \b
    Example:
      kagsync competition add titanic --event neural-night --status ongoing
    """
    state = get_state(ctx)
    state.options.update({"db": db, "source": source, "log_file": log_file})
    state.verbose = verbose
    state.quiet = quiet


def run_app() -> None:
    """Console-script entry point."""
    app(prog_name="kagsync")
