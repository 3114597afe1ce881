"""Sync progress on the screen and the outcomes of syncs: one line each, a summary
table, JSON, and the exit code they add up to."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from kagsync.cli.app import EXIT_INTERRUPTED, EXIT_SYNC_FAILED, State, stderr, with_hint
from kagsync.cli.render import Col, is_terminal, message, print_json, table
from kagsync.text import printable

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from kagsync.models import SyncOutcome


# -- sync progress -------------------------------------------------------------------------


class SyncDisplay:
    """Shows sync progress: a live rich display on a terminal, plain lines otherwise.

    It starts lazily at the first event, so a command that fails validation shows
    nothing but its error.
    """

    def __init__(self, state: State) -> None:
        self.state = state
        self.live = stderr.is_terminal and not state.quiet
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._parsed: dict[str, int] = {}  # rows parsed so far, per slug whose parse is shown

    def __enter__(self) -> SyncDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def _task(self, slug: str) -> TaskID:
        if self._progress is None:
            # Imported here: only commands that really sync on a terminal need it.
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn
            from rich.table import Column

            # The slug takes up to 2/5 of the line, the size keeps its room, the stage gets the rest.
            slug_width = max(16, stderr.width * 2 // 5)
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn(
                    "[bold]{task.fields[slug]}",
                    table_column=Column(no_wrap=True, max_width=slug_width, overflow="ellipsis"),
                ),
                TextColumn("{task.fields[stage]}", table_column=Column(no_wrap=True, ratio=1, overflow="ellipsis")),
                BarColumn(bar_width=16 if stderr.width >= 100 else 10),
                TextColumn("{task.fields[size]}", table_column=Column(no_wrap=True, min_width=18)),
                console=stderr,
                transient=False,
                expand=True,  # the stage column (ratio 1) takes what the others leave
            )
            self._progress.start()
        if slug not in self._tasks:
            self._tasks[slug] = self._progress.add_task(
                "", total=None, slug=escape(printable(slug)), stage="queued", size=""
            )
        return self._tasks[slug]

    def stage(self, slug: str, stage: str, detail: str = "") -> None:
        """Called by the syncer at each step."""
        text = printable(f"{stage} {detail}".strip())
        with self._lock:
            if self.live:
                task = self._task(slug)
                assert self._progress is not None
                done = stage in ("ok", "failed", "skipped", "held", "interrupted")
                style = {"ok": "green", "failed": "red", "skipped": "yellow", "held": "yellow"}.get(stage, "")
                shown = f"[{style}]{escape(text)}[/]" if style else escape(text)
                self._progress.update(task, stage=shown)
                if stage == "parsing":
                    self._progress.update(task, total=None, completed=0, size="")
                if slug in self._parsed and stage in ("writing", "ok"):
                    # The parse is over: its last report (every few thousand rows) is not the count.
                    count = re.match(r"\d+", detail)
                    rows = int(count.group()) if count else self._parsed[slug]
                    del self._parsed[slug]
                    self._progress.update(task, total=1, completed=1, size=f"{rows:,} rows (100%)")
                if done:
                    self._progress.update(task, total=1, completed=1)
            elif self.state.verbose and not self.state.quiet:
                message(f"{escape(slug)}: {escape(text)}")

    def download_progress(self, slug: str, received: int, total: int | None) -> None:
        """Bytes received for a download."""
        if not self.live:
            return
        with self._lock:
            task = self._task(slug)
            assert self._progress is not None
            size = f"{received / 1e6:.1f}" + (f"/{total / 1e6:.1f} MB" if total else " MB")
            self._progress.update(task, completed=received, total=total, size=size)

    def parse_progress(self, slug: str, rows: int, fraction: float | None = None) -> None:
        """Rows parsed so far, and the share of the file read (0 to 1) when known."""
        if not self.live:
            return
        with self._lock:
            task = self._task(slug)
            assert self._progress is not None
            self._parsed[slug] = rows
            size = f"{rows:,} rows" + (f" ({fraction:.0%})" if fraction is not None else "")
            if fraction is not None:
                self._progress.update(task, completed=fraction, total=1.0, size=size)
            else:
                self._progress.update(task, size=size)


# -- sync outcomes --------------------------------------------------------------------------


def outcome_line(outcome: SyncOutcome) -> str:
    """One line summarising a sync outcome (rich markup); a private board's says so."""
    slug = escape(outcome.competition) + (" (private board)" if outcome.board == "private" else "")
    if outcome.ok:
        return (
            f"[green]✓[/] {slug}: synced {outcome.entries:,} entries "
            f"({outcome.created:,} new, {outcome.updated:,} updated, {outcome.removed:,} removed) "
            f"in {outcome.seconds:.1f} s"
        ) + direction_advice(outcome)
    mark = "[yellow]–[/]" if outcome.status in ("skipped", "held") else "[red]✗[/]"
    text = with_hint(outcome.error or "", outcome.hint, outcome.competition)
    return f"{mark} {slug}: sync {outcome.status}: {escape(text)}"


def direction_advice(outcome: SyncOutcome) -> str:
    """A second line when a board without a rank column was ranked in a guessed direction."""
    note = outcome.direction_note
    if note is None:
        return ""
    slug = escape(outcome.competition)
    if note.source == "file order":
        first = "lower" if note.lower_is_better else "higher"
        other = "--higher-is-better" if note.lower_is_better else "--lower-is-better"
        return (
            f"\n  [yellow]![/] {slug}: no rank column and no known metric: ranked in the file's own (Kaggle's) "
            f"order, {first} scores first; if that is wrong: kagsync competition edit {slug} {other}"
        )
    return (
        f"\n  [yellow]![/] {slug}: no rank column and no known metric: ranked higher-is-better; "
        f"if lower scores are better: kagsync competition edit {slug} --lower-is-better"
    )


def report_outcomes(state: State, outcomes: Sequence[SyncOutcome], *, saved_note: bool = False) -> bool:
    """Print each outcome; for failures, how to retry. True when every sync succeeded."""
    all_ok = True
    for outcome in outcomes:
        if outcome.ok:
            if not state.quiet:
                message(outcome_line(outcome))
            continue
        all_ok = False
        message(outcome_line(outcome))
        if saved_note:
            message(f"  The competition was saved; retry the sync with: kagsync sync {escape(outcome.competition)}")
    return all_ok


def exit_for(outcomes: Sequence[SyncOutcome]) -> None:
    """Exit 130 when Ctrl-C/SIGTERM interrupted a sync, else 3 when any sync did not succeed."""
    if any(outcome.status == "interrupted" for outcome in outcomes):
        raise typer.Exit(EXIT_INTERRUPTED)
    if any(not outcome.ok for outcome in outcomes):
        raise typer.Exit(EXIT_SYNC_FAILED)


def outcome_record(outcome: SyncOutcome) -> dict[str, object]:
    """A sync outcome as JSON: the keys of a run in ``runs --json`` (``id`` is the run's)."""
    data = outcome.to_dict()
    if data.get("status") != "ok":  # as the run records it: nothing was created, updated or removed
        data.update({key: None for key in ("created", "updated", "removed") if key in data})
    return {"id": data.pop("run_id", None), **data}


def print_outcomes_json(outcomes: Sequence[SyncOutcome]) -> None:
    """The outcomes as a JSON array, one object per competition."""
    print_json([outcome_record(outcome) for outcome in outcomes])


SUMMARY_COLUMNS = [
    Col("Competition", 0, "key"),
    Col("Entries", 0, "num"),
    Col("Created", 2, "num"),
    Col("Updated", 2, "num"),
    Col("Removed", 2, "num"),
    Col("Outcome", 0, "short"),
    Col("Error", 1, "long"),
]


def summary_table(outcomes: Sequence[SyncOutcome]) -> None:
    """The end-of-run table: competition, entries, changes, outcome, error.

    A private board's line says so: "(private)" after the slug on a terminal, a Board
    column in a pipe.
    """
    if not is_terminal():
        table(
            None,
            [*SUMMARY_COLUMNS, Col("Board")],
            [(o.competition, o.entries, o.created, o.updated, o.removed, o.status, o.error, o.board) for o in outcomes],
        )
        return
    table(
        None,
        SUMMARY_COLUMNS,
        [
            (
                o.competition + (" (private)" if o.board == "private" else ""),
                o.entries,
                o.created,
                o.updated,
                o.removed,
                o.status,
                o.error,
            )
            for o in outcomes
        ],
    )
