"""The Typer application, its global options and the state commands share.

Commands live in sibling modules and register themselves on :data:`app` (or one of
its sub-apps). Each command parses its options, calls one library function and
renders the result; a :class:`~kagsync.errors.KagsyncError` becomes one line on
stderr and a non-zero exit, never a traceback.

This module also decides where stdout goes (:func:`screen`): a table for a terminal
(through a pager when it is longer than the screen), or plain tab-separated text
when stdout is a pipe or a file; a pipe closed early (``| head``) ends quietly.
"""

from __future__ import annotations

import functools
import io
import logging
import logging.handlers
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TextIO, TypeGuard, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup, TyperOption

from kagsync import __version__
from kagsync.cli.names import ALIASES, KagsyncGroup, WorkflowGroup
from kagsync.errors import Hint, KagsyncError
from kagsync.text import is_printable, printable

if TYPE_CHECKING:
    from kagsync.api import Kagsync
    from kagsync.db import OpenMode
    from kagsync.settings import Settings
    from kagsync.sync import SyncObserver

# Exit codes (documented in the README).
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SYNC_FAILED = 3
# Ctrl-C or SIGTERM stopped the work (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130

# Terminal-style output even when stdout is not a terminal; a number is the width.
FORCE_TTY_ENV = "KAGSYNC_FORCE_TTY"
PAGER_ENV = "KAGSYNC_PAGER"


class SafeConsole(Console):
    """A console that never passes a control character of outside text to the terminal.

    Every message printed through it (str markup or a Text) has its control characters
    shown escaped by :func:`kagsync.text.printable`; the escape sequences rich itself
    writes for styles come later and are not touched.
    """

    # The keywords are Console.print's own (sep, end, style, soft_wrap...), passed on as given.
    def print(self, *objects: object, **kwargs: Any) -> None:
        """Console.print, with outside text's control characters shown escaped."""
        from rich.text import Text

        safe: list[object] = []
        for item in objects:
            if isinstance(item, str) and not is_printable(item.replace("\n", "")):
                item = printable(item, keep_newlines=True)
            elif isinstance(item, Text) and not is_printable(item.plain.replace("\n", "")):
                item = Text(printable(item.plain, keep_newlines=True), style=item.style)
            safe.append(item)
        super().print(*safe, **kwargs)


def _console(*, stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    # Piped into a file or `less`, rich would assume 80 columns and fold every line;
    # a wider page reads better there. A terminal or COLUMNS decides otherwise.
    wide = not os.environ.get("COLUMNS") and not stream.isatty()
    # emoji=False: ":x:" in a team name or a file is text, not an emoji code.
    return SafeConsole(stderr=stderr, highlight=False, emoji=False, width=160 if wide else None)


stdout = _console(stderr=False)
stderr = _console(stderr=True)


def report_error(message: str) -> None:
    """One message on stderr: one line for scripts and logs, wrapped at words on a terminal."""
    stderr.print(f"[bold red]Error:[/] {escape(message)}", soft_wrap=not stderr.is_terminal)


# The command-line advice of each library hint: how it joins the message (" (" puts it
# in parentheses) and the advice itself; {subject} is what the hint is about.
HINT_ADVICE: dict[Hint, tuple[str, str]] = {
    Hint.FORCE: (" (", "apply it with: kagsync sync {subject} --force"),
    Hint.PRIVATE_FORCE: (" (", "apply it with: kagsync sync {subject} --private --force"),
    Hint.PRIVATE_EARLY: (" (", "take it anyway with: kagsync sync {subject} --private --force"),
    Hint.CHOOSE_EVENT: (" ", "with --event"),
    Hint.ALL: (", ", "or use --all"),
    Hint.ALL_ACTIVE: (", ", "or use --all-active"),
    Hint.CASCADE: (" ", "or use --cascade"),
    Hint.LOWER_IS_BETTER: (" (", "if they are not: kagsync competition edit {subject} --lower-is-better"),
    Hint.DIRECTION_UNKNOWN: (
        " (",
        "set it with: kagsync competition edit {subject} --lower-is-better or --higher-is-better",
    ),
    Hint.GIVE_SLUG: (" ", "with --slug"),
    Hint.CREATE_EVENTS: (" (", "create them first with `kagsync event add`, or pass --create-events"),
    Hint.SYNC: (": ", "run kagsync sync {subject}"),
    Hint.SYNC_PRIVATE: (": ", "run kagsync sync {subject} --private"),
    Hint.SOURCE_DETAILS: (" (", "they come from Kaggle, or from DIR/<slug>.json with --source DIR"),
    Hint.NO_DATABASE: ("; ", "add an event or competition to create one, or check --db/KAGSYNC_DB"),
}


def hint_advice(hint: Hint | str | None, subject: str | None = None) -> str | None:
    """The flag advice for a library hint, on its own (None for no hint).

    Notification errors carry their own tokens, rendered by ``kagsync.cli.notify``."""
    if hint is None or hint not in HINT_ADVICE:
        return None
    return HINT_ADVICE[Hint(hint)][1].format(subject=subject or "SLUG")


def with_hint(message: str, hint: Hint | str | None, subject: str | None = None) -> str:
    """``message`` followed by the flag advice of its hint (one line)."""
    advice = hint_advice(hint, subject)
    if hint is None or advice is None:
        return message
    joiner = HINT_ADVICE[Hint(hint)][0]
    return f"{message} ({advice})" if joiner == " (" else f"{message}{joiner}{advice}"


def error_text(error: KagsyncError) -> str:
    """A package error as the one line the CLI shows: its message and its hint's advice."""
    return with_hint(str(error), error.hint, error.subject)


# -- where stdout goes ---------------------------------------------------------


@dataclass(frozen=True)
class Screen:
    """What stdout is: a terminal (of ``width`` × ``height``) or a pipe/file."""

    terminal: bool
    width: int
    height: int
    color: bool = False


class _Capture(io.StringIO):
    """stdout while a command runs on a terminal: shown (or paged) when it ends."""

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.screen = screen

    def isatty(self) -> bool:
        return True


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _env_number(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() and 0 < int(value) <= 10_000 else None


def screen() -> Screen:
    """Where stdout goes now: a terminal (real, or forced by KAGSYNC_FORCE_TTY) or not.

    ``KAGSYNC_FORCE_TTY=N`` draws tables for a terminal of N columns even into a pipe
    (without colours and without a pager); any other non-empty value uses COLUMNS or 80.
    """
    out = sys.stdout
    if isinstance(out, _Capture):
        return out.screen
    forced = os.environ.get(FORCE_TTY_ENV, "").strip()
    real = _isatty(out)
    if not real and forced in ("", "0"):
        return Screen(terminal=False, width=_env_number("COLUMNS") or 80, height=_env_number("LINES") or 24)
    import shutil

    size = shutil.get_terminal_size((80, 24))
    width = (_env_number(FORCE_TTY_ENV) if not real else None) or _env_number("COLUMNS") or size.columns
    height = _env_number("LINES") or size.lines
    return Screen(
        terminal=True, width=max(width, 20), height=max(height, 5), color=real and not os.environ.get("NO_COLOR")
    )


def _pager_command() -> list[str] | None:
    """The pager to use (KAGSYNC_PAGER, PAGER, else less), or None for none."""
    import shlex

    for name in (PAGER_ENV, "PAGER"):
        if name in os.environ:
            value = os.environ[name].strip()
            if not value or value == "cat":
                return None
            try:
                return shlex.split(value, posix=os.name != "nt")
            except ValueError:
                return None
    # Windows has no `less`: there, a pager is used only when one is named.
    return ["less"] if os.name != "nt" else None


def _run_pager(text: str) -> bool:
    """Show ``text`` through the pager; False when there is none to run."""
    import subprocess

    command = _pager_command()
    if command is None:
        return False
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")  # quit when it fits, keep colours, leave the text on screen
    env.setdefault("LV", "-c")
    try:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, env=env)
    except OSError:
        return False
    assert process.stdin is not None
    try:
        process.stdin.write(text.encode(sys.stdout.encoding or "utf-8", "replace"))
        process.stdin.close()
    except OSError:  # the reader quit before reading everything
        pass
    while True:
        try:
            process.wait()
            break
        except KeyboardInterrupt:  # Ctrl-C belongs to the pager while it runs
            continue
    return True


@contextmanager
def _paging(state: State | None) -> Iterator[None]:
    """On a real terminal, collect stdout and page it when it is longer than the screen."""
    out = sys.stdout
    if isinstance(out, _Capture) or not _isatty(out) or (state is not None and state.no_pager):
        yield
        return
    shown = screen()
    if _pager_command() is None:
        yield
        return
    capture = _Capture(shown)
    sys.stdout = capture
    try:
        yield
    finally:
        sys.stdout = out
        text = capture.getvalue()
        if text and (text.count("\n") < shown.height or not _run_pager(text)):
            out.write(text)
            out.flush()


def _quiet_closed_stdout() -> None:
    """stdout's reader went away (`| head`): send the rest to /dev/null, quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 -- stays open until the process ends


_P = ParamSpec("_P")
_R = TypeVar("_R")
_Command = TypeVar("_Command", bound=Callable[..., object])


def _is_context(value: object) -> TypeGuard[typer.Context]:
    # Typer passes its copy of click's own Context class, which it does not export, not
    # typer.Context (a subclass that adds nothing): a context is known by what it does.
    return callable(getattr(value, "find_root", None))


def _guard(function: Callable[_P, _R]) -> Callable[_P, _R]:
    @functools.wraps(function)
    def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        # The command's context, to find the state of this invocation.
        context = next((value for value in (*args, *kwargs.values()) if _is_context(value)), None)
        state = get_state(context) if context is not None else None
        try:
            try:
                with _paging(state):
                    try:
                        return function(*args, **kwargs)
                    finally:
                        sys.stdout.flush()  # a closed pipe shows here, not at exit
            except KagsyncError as error:
                report_error(error_text(error))
                raise typer.Exit(error.exit_code) from None
            except sqlite3.OperationalError as error:
                # e.g. "database is locked" after the busy timeout, a full disk, an I/O error.
                report_error(f"database error: {error} (try again; see the log for details)")
                raise typer.Exit(EXIT_ERROR) from None
            except sqlite3.DatabaseError as error:
                # A file damaged after it was opened: one line, never a traceback.
                report_error(f"the database is not a kagsync database or is damaged: {error}")
                raise typer.Exit(EXIT_ERROR) from None
        except BrokenPipeError:
            _quiet_closed_stdout()
            raise typer.Exit(0) from None

    return guarded


class KagsyncTyper(typer.Typer):
    """A Typer whose commands turn package errors into one-line messages."""

    # The arguments are Typer.command's own (name, help, hidden...), passed on as given.
    def command(self, *args: Any, **kwargs: Any) -> Callable[[_Command], _Command]:
        register = super().command(*args, **kwargs)

        def decorator(function: _Command) -> _Command:
            register(_guard(function))
            return function

        return decorator


# -- global options anywhere -----------------------------------------------------

# Root options that stay where they are (they act at once, or only make sense first).
_NOT_HOISTED = frozenset({"--version", "--install-completion", "--show-completion", "-h", "--help"})


def _options(command: object) -> dict[str, bool]:
    """Each parameter name of a command or group (an argument's too): whether it takes a value."""
    names: dict[str, bool] = {}
    if not isinstance(command, (TyperCommand, TyperGroup)):
        return names
    for param in command.params:
        flag = isinstance(param, TyperOption) and (param.is_flag or param.count)
        for name in (*param.opts, *param.secondary_opts):
            names.setdefault(name, not flag)
    return names


def _global_options(root: TyperGroup) -> tuple[set[str], set[str]]:
    """The root's options that may follow the command: (those taking a value, flags)."""
    with_value: set[str] = set()
    flags: set[str] = set()
    for name, takes_value in _options(root).items():
        if name.startswith("-") and name not in _NOT_HOISTED:
            (with_value if takes_value else flags).add(name)
    return with_value, flags


def hoist_global_options(root: TyperGroup, args: Sequence[str]) -> list[str]:
    """Move the global options given after the command to the front.

    ``kagsync sync titanic --source DIR -q`` becomes ``kagsync --source DIR -q sync
    titanic``. The values of the command's own options are never taken for global
    options, a command's own option of the same name wins, and ``--`` ends the search.
    """
    args = list(args)
    global_with_value, global_flags = _global_options(root)
    index = 0
    while index < len(args) and args[index].startswith("-") and args[index] != "--":
        if args[index] in global_with_value:
            index += 1
        index += 1
    head, moved, kept = args[:index], [], []
    command: object = root
    options = _options(root)
    while index < len(args):
        token = args[index]
        if token == "--":
            kept.extend(args[index:])
            break
        if not token.startswith("-") or token == "-":
            kept.append(token)
            if isinstance(command, TyperGroup):
                command = command.commands.get(token) or command.commands.get(ALIASES.get(token, ""))
                if command is None:  # unknown command: leave the rest to click's message
                    kept.extend(args[index + 1 :])
                    break
                options = _options(command)
            index += 1
            continue
        name, equals, _ = token.partition("=")
        if (name in global_with_value or (name in global_flags and not equals)) and name not in options:
            moved.append(token)
            if name in global_with_value and not equals and index + 1 < len(args):
                index += 1
                moved.append(args[index])
            index += 1
            continue
        kept.append(token)
        if not equals and options.get(name, False) and index + 1 < len(args):
            index += 1
            kept.append(args[index])
        index += 1
    return head + moved + kept


class _RootGroup(WorkflowGroup):
    """The root command: global options are accepted after the command too."""

    # ctx: typer's copy of click's Context, which typer does not export (see kagsync.cli.names).
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        # Also while completing a word, so `kagsync leaderboard --db X <TAB>` reads X.
        return super().parse_args(ctx, hoist_global_options(self, args))


def new_app(help_text: str, *, root: bool = False) -> KagsyncTyper:
    """A (sub-)application with kagsync's conventions."""
    return KagsyncTyper(
        help=help_text,
        cls=_RootGroup if root else KagsyncGroup,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )


app = new_app(
    "Keep full Kaggle competition leaderboards in a local SQLite database.\n\n"
    "Commands that sync or show data are top-level; event, competition, roster and notify manage "
    "their records. Also accepted: competitions, events, and ls for list.\n\n"
    "\b\nExample:\n  kagsync competition add titanic --event neural-night --status ongoing",
    root=True,
)


@dataclass
class State:
    """What the global options decided; commands read it from ``ctx.obj``."""

    options: dict[str, object] = field(default_factory=dict)
    verbose: bool = False
    quiet: bool = False
    no_pager: bool = False
    offline: bool = False
    _settings: Settings | None = None
    _api: Kagsync | None = None

    @property
    def settings(self) -> Settings:
        """The effective settings (loaded on first use, so `--help` never reads files)."""
        if self._settings is None:
            from kagsync.settings import load_settings

            self._settings = load_settings(self.options)
            _configure_logging(
                self._settings.effective_log_file,
                self.verbose,
                max_bytes=self._settings.log_max_bytes,
                backups=self._settings.log_backups,
            )
        return self._settings

    def api(self, *, mode: OpenMode = "write", observer: SyncObserver | None = None) -> Kagsync:
        """The public API over this invocation's database, settings and source.

        ``mode``: ``read`` for commands that only read (read-only, never migrates),
        ``create`` for those that add things (they may create the database),
        ``write`` for the rest (the database must exist).
        """
        if self._api is None:
            from kagsync.api import Kagsync

            self._api = Kagsync(self.settings, mode=mode, observer=observer, offline=self.offline)
        else:
            self._api.observer = observer
        return self._api

    def close(self) -> None:
        """Close this invocation's database connection, if one was opened."""
        if self._api is not None:
            self._api.close()
            self._api = None


# -- the log file ----------------------------------------------------------------


class _LogFileHandler(logging.handlers.RotatingFileHandler):
    """The stdlib's rotating log file, safe for several kagsync processes at once.

    Cron, watch and a person may all write the same log. Each line is written under
    an exclusive lock on ``<log>.lock`` (``filelock``, opened without following a
    link): the size check, the rotation and the append happen as one step. Under the
    lock a process whose open file was rotated away by another (its inode changed)
    reopens the new file first, and the size is read from the file's end, not from
    this process's last write.

    The file (and its folder) is made at the first line, beside a database that may
    not exist yet. A log file that cannot be written is reported once and then
    ignored: logging must never turn a sync into a traceback.
    """

    def __init__(self, path: Path, *, max_bytes: int = 0, backups: int = 0) -> None:
        super().__init__(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True, errors="backslashreplace"
        )
        import filelock  # 40 ms: paid by commands that log, not by --help

        self.path = path
        # What this handler was configured with: the same again keeps it.
        self.key = (path, max_bytes, backups)
        self._lock_file = filelock.FileLock(str(path) + ".lock")
        self._failed = False

    def _reopen_if_rotated(self) -> None:
        """Drop the stream when another process rotated the file away (or removed it)."""
        if self.stream is None:
            return
        try:
            here = os.stat(self.path)
            mine = os.fstat(self.stream.fileno())
            moved = (here.st_ino, here.st_dev) != (mine.st_ino, mine.st_dev)
        except FileNotFoundError:
            moved = True
        if moved:
            self.stream.close()
            self.stream = None  # reopened by the next check (delay=True)
        else:
            self.stream.seek(0, os.SEEK_END)  # other processes appended since this one wrote

    def format(self, record: logging.LogRecord) -> str:
        # Outside text (remote error bodies, team names) never carries a control
        # character into the log, where `tail -f` or `less -R` would obey it.
        return printable(super().format(record), keep_newlines=True)

    def emit(self, record: logging.LogRecord) -> None:
        if self._failed:
            return
        try:
            if self.stream is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock_file:
                self._reopen_if_rotated()
                super().emit(record)
                if self.stream is not None:
                    self.stream.flush()
        except Exception:  # noqa: BLE001 -- logging must never stop a command
            self.handleError(record)

    def handleError(self, record: logging.LogRecord) -> None:
        if not self._failed:
            self._failed = True
            report_error(f"{self.baseFilename}: cannot write the log file; logging disabled")


def _configure_logging(log_file: Path, verbose: bool, *, max_bytes: int = 0, backups: int = 0) -> None:
    """Send the library's log lines to ``log_file`` (one handler, replaced when the file changes)."""
    logger = logging.getLogger("kagsync")
    # -v also puts the detail (DEBUG lines) into the log file.
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        if isinstance(handler, _LogFileHandler):
            if handler.key == (log_file, max_bytes, backups):
                return
            logger.removeHandler(handler)
            handler.close()
    handler = _LogFileHandler(log_file, max_bytes=max_bytes, backups=backups)
    handler.setFormatter(
        logging.Formatter("%(asctime)s pid=%(process)d %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z")
    )
    logger.addHandler(handler)


def get_state(ctx: typer.Context) -> State:
    """The shared state of this invocation."""
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
        # The database connection ends with the invocation, not with the process: a
        # program running kagsync in-process (the tests, a notebook) must not keep it.
        root.call_on_close(root.obj.close)
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
        typer.Option("--db", help="SQLite database file [env: KAGSYNC_DB].", show_default=False, metavar="FILE"),
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
        typer.Option(
            "--log-file",
            help="Log file (default: the database name with .log, beside it) [env: KAGSYNC_LOG_FILE].",
            metavar="FILE",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Say more.")] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "-q",
            "--quiet",
            help="Print only errors and the data a command shows (its tables, JSON): "
            "no progress, no success lines, no summaries of syncs.",
        ),
    ] = False,
    no_pager: Annotated[
        bool, typer.Option("--no-pager", help="Never page long output [env: KAGSYNC_PAGER=cat].")
    ] = False,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="No network at all: no competition details, no downloads, no private-board checks. "
            "sync and watch stop with a one-line error unless --source DIR (or sync --from FILE) gives "
            "the boards; competition refresh is refused; add, set-status and import store without syncing.",
        ),
    ] = False,
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = None,
) -> None:
    """Keep full Kaggle competition leaderboards in a local SQLite database.

    Global options (--db, --source, --log-file, -v, -q, --no-pager, --offline) may also follow
    the command: kagsync sync titanic --source DIR.

    \b
    Example:
      kagsync competition add titanic --event neural-night --status ongoing
    """
    state = get_state(ctx)
    state.options.update({"db": db, "source": source, "log_file": log_file})
    state.verbose = verbose
    state.quiet = quiet
    state.no_pager = no_pager
    state.offline = offline


def run_app() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="kagsync")
    except BrokenPipeError:  # pragma: no cover - a pipe closed outside any command
        _quiet_closed_stdout()
        sys.exit(0)
