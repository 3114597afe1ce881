"""Rendering helpers shared by the commands: JSON, tables, sync progress and outcomes."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import typer
from rich.markup import escape

from kagsync.cli.app import EXIT_SYNC_FAILED, State, stderr, stdout

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def print_json(data: Any) -> None:
    """Pretty JSON on stdout."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


_NUMERIC_COLUMNS = {
    "rank", "entries", "created", "updated", "removed", "subs", "teams", "#", "points", "move",
    "line", "was", "entered",
}


_TIME_COLUMNS = {"start", "end", "last synced", "started", "finished", "last submission", "synced", "time"}


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, caption: str | None = None) -> None:
    """A rich table on stdout."""
    from rich.table import Table

    grid = Table(title=title, caption=caption, header_style="bold", title_justify="left")
    for index, column in enumerate(columns):
        numeric = column.lower() in _NUMERIC_COLUMNS
        # The first column is the row's key (a slug, a rank): never fold it.
        grid.add_column(
            column,
            justify="right" if numeric else "left",
            overflow="fold",
            no_wrap=index == 0 or numeric or column.lower() in _TIME_COLUMNS,
            # Without a minimum, rich squeezes wrappable columns to nothing at 80 wide.
            min_width=min(len(column), 12),
        )
    for row in rows:
        grid.add_row(*(dash(value) for value in row))
    stdout.print(grid)


_ISO_UTC = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}):\d{2}Z")


def dash(value: Any) -> str:
    """A cell: None becomes an en dash, ISO times read "2025-03-01 18:00", all escaped."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and _ISO_UTC.fullmatch(value):
        shown = _ISO_UTC.sub(r"\1 \2", value)
        return shown.removesuffix(" 00:00")
    return escape(str(value))


def say(state: State, message: str) -> None:
    """A human message on stderr, unless --quiet."""
    if not state.quiet:
        stderr.print(message, soft_wrap=True)


class SyncDisplay:
    """Shows sync progress: a live rich display on a terminal, plain lines otherwise.

    It starts lazily at the first event, so a command that fails validation shows
    nothing but its error.
    """

    def __init__(self, state: State) -> None:
        self.state = state
        self.live = stderr.is_terminal and not state.quiet
        self._lock = threading.Lock()
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> SyncDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def _task(self, slug: str) -> Any:
        if self._progress is None:
            # Imported here: only commands that really sync on a terminal need it.
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.fields[slug]}"),
                TextColumn("{task.fields[stage]}"),
                BarColumn(bar_width=20),
                TextColumn("{task.fields[size]}"),
                console=stderr,
                transient=False,
            )
            self._progress.start()
        if slug not in self._tasks:
            self._tasks[slug] = self._progress.add_task("", total=None, slug=slug, stage="queued", size="")
        return self._tasks[slug]

    def stage(self, slug: str, stage: str, detail: str = "") -> None:
        """Called by the syncer at each step."""
        text = f"{stage} {detail}".strip()
        with self._lock:
            if self.live:
                task = self._task(slug)
                assert self._progress is not None
                done = stage in ("ok", "failed", "skipped")
                style = {"ok": "green", "failed": "red", "skipped": "yellow"}.get(stage, "")
                shown = f"[{style}]{escape(text)}[/]" if style else escape(text)
                self._progress.update(task, stage=shown)
                if done:
                    self._progress.update(task, total=1, completed=1)
            elif self.state.verbose and not self.state.quiet:
                stderr.print(f"{escape(slug)}: {escape(text)}", soft_wrap=True)

    def download_progress(self, slug: str, received: int, total: int | None) -> None:
        """Bytes received for a download."""
        if not self.live:
            return
        with self._lock:
            task = self._task(slug)
            assert self._progress is not None
            size = f"{received / 1e6:.1f}" + (f"/{total / 1e6:.1f} MB" if total else " MB")
            self._progress.update(task, completed=received, total=total, size=size)


def outcome_line(outcome: Any) -> str:
    """One line summarising a sync outcome."""
    slug = escape(outcome.competition)
    if outcome.ok:
        return (
            f"[green]✓[/] {slug}: synced {outcome.entries:,} entries "
            f"({outcome.created:,} new, {outcome.updated:,} updated, {outcome.removed:,} removed) "
            f"in {outcome.seconds:.1f} s"
        )
    mark = "[yellow]–[/]" if outcome.status == "skipped" else "[red]✗[/]"
    return f"{mark} {slug}: sync {outcome.status}: {escape(outcome.error or '')}"


def report_outcomes(state: State, outcomes: Sequence[Any], *, saved_note: bool = False) -> bool:
    """Print each outcome; for failures, how to retry. True when every sync succeeded."""
    all_ok = True
    for outcome in outcomes:
        if outcome.ok:
            if not state.quiet:
                stderr.print(outcome_line(outcome), soft_wrap=True)
            continue
        all_ok = False
        stderr.print(outcome_line(outcome), soft_wrap=True)
        if saved_note:
            stderr.print(
                f"  The competition was saved; retry the sync with: kagsync sync {escape(outcome.competition)}",
                soft_wrap=True,
            )
    return all_ok


def exit_for(outcomes: Sequence[Any]) -> None:
    """Exit with EXIT_SYNC_FAILED when any sync did not succeed."""
    if any(not outcome.ok for outcome in outcomes):
        raise typer.Exit(EXIT_SYNC_FAILED)


def summary_table(outcomes: Sequence[Any]) -> None:
    """The end-of-run table: competition, entries, changes, outcome, error."""
    table(
        None,
        ["Competition", "Entries", "Created", "Updated", "Removed", "Outcome", "Error"],
        [
            (o.competition, o.entries, o.created, o.updated, o.removed, o.status, o.error)
            for o in outcomes
        ],
    )
