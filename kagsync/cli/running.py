"""Commands that run syncs in bulk or on a schedule: import and watch."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from kagsync.cli.app import EXIT_ERROR, State, app, get_state, hint_advice, report_error, stderr, with_hint
from kagsync.cli.outcomes import (
    SyncDisplay,
    exit_for,
    outcome_line,
    print_outcomes_json,
    report_outcomes,
    summary_table,
)
from kagsync.cli.render import (
    Col,
    build_table,
    cell_text,
    complete_event,
    hidden_note,
    message,
    offline_refused,
    offline_skips_sync,
    say,
    table,
)
from kagsync.cli.syncing import JobsOption
from kagsync.errors import KagsyncError, ValidationError
from kagsync.models import MAX_COUNT
from kagsync.text import printable
from kagsync.values import now_iso

if TYPE_CHECKING:
    # Only for annotations: a command that does not watch never imports the watch loop.
    from rich.console import RenderableType
    from rich.live import Live
    from rich.text import Text

    from kagsync.importer import RowChange
    from kagsync.models import Competition, SyncOutcome
    from kagsync.watch import TickReport, Transition, Watcher


# -- import -------------------------------------------------------------------


def _shown(value: object) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _change_text(changes: Mapping[str, tuple[object, object]]) -> str:
    return "; ".join(f"{key}: {_shown(old)} → {_shown(new)}" for key, (old, new) in changes.items())


def _plan_text(row: RowChange) -> str | None:
    """A dry-run line's changes, what Kaggle's details fill in, and any notes."""
    parts = []
    if row.action == "updated" and row.changes:
        parts.append(_change_text(row.changes))
    if row.filled:
        parts.append("from Kaggle: " + "; ".join(f"{key}: {_shown(value)}" for key, value in row.filled.items()))
    # A note may be a kagsync.models.Note, which carries a hint.
    parts.extend(with_hint(note, getattr(note, "hint", None), row.slug) for note in row.notes)
    return "; ".join(parts) or None


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with a header: slug (or kaggle_id, kaggle_competition_id; a Kaggle URL is fine) and "
            "optionally title, event, status, start, end, description, lower_is_better, weight.",
            metavar="FILE",
            show_default=False,
        ),
    ],
    event: Annotated[
        str | None,
        typer.Option(
            "--event",
            help="Event of the lines that name none.",
            show_default=False,
            metavar="EVENT",
            autocompletion=complete_event,
        ),
    ] = None,
    create_events: Annotated[
        bool, typer.Option("--create-events", help="Create the events that do not exist yet (title = slug).")
    ] = False,
    jobs: JobsOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the file and show what would change; write nothing.")
    ] = False,
    no_sync: Annotated[bool, typer.Option("--no-sync", help="Only store; do not sync the leaderboards now.")] = False,
) -> None:
    """Create or update many competitions from a CSV file, then sync them in parallel.

    The whole file is checked first: every bad line is reported with its line number and
    nothing is written. A competition that exists is updated (only the columns and cells
    the file gives), not duplicated. New competitions, and those whose status changes into
    a sync status, are then synced in parallel; a failed sync keeps the competition and
    the command exits 3.

    \b
    Example:
      kagsync import examples/comps.csv --create-events --jobs 4
    """
    from kagsync.importer import ImportValidationError

    state = get_state(ctx)
    no_sync = offline_skips_sync(state, no_sync, "kagsync sync --all-active") if not dry_run else no_sync
    with SyncDisplay(state) as display:
        ks = state.api(mode="create", observer=display)
        try:
            with ks.interruptible():
                result = ks.syncs.import_file(
                    file, event=event, create_events=create_events, dry_run=dry_run, sync=not no_sync, jobs=jobs
                )
        except ImportValidationError as error:
            for problem in error.problems:
                report_error(problem)
            advice = hint_advice(error.hint, error.subject)
            if advice:
                stderr.print(f"Hint: {escape(advice)}", soft_wrap=True)
            count = len(error.problems)
            say(state, f"Nothing was imported ({count} problem{'s' if count != 1 else ''}).")
            raise typer.Exit(error.exit_code) from None
    plan = result.plan
    syncing = result.syncing
    counts = f"{plan.count('new')} new, {plan.count('updated')} updated, {plan.count('unchanged')} unchanged"

    if result.dry_run:
        table(
            f"Import {plan.path.name} (dry run)",
            [
                Col("Line", 0, "num"),
                Col("Competition", 0, "key"),
                Col("Action", 0, "short"),
                Col("Changes", 1, "long"),
                Col("Sync", 0, "short"),
                Col("Pending", 2, "short"),
            ],
            [
                (
                    row.line,
                    row.slug,
                    row.action,
                    _plan_text(row),
                    "yes" if row.would_sync and syncing else None,
                    "never synced" if row.pending else None,
                )
                for row in plan.rows
            ],
        )
        for slug in plan.events_to_create:
            say(state, f"Would create event [bold]{escape(slug)}[/]")
        would_sync = sum(1 for row in plan.rows if row.would_sync) if syncing else 0
        say(state, f"Dry run: {counts}, {would_sync} to sync; nothing was written.")
        return

    for slug in result.events_created:
        say(state, f"Created event [bold]{escape(slug)}[/]")
    pending = [row.slug for row in plan.rows if row.pending]
    say(state, f"Imported {escape(plan.path.name)}: {counts}.")
    if pending and syncing:
        say(state, f"Pending (never synced, synced now): {escape(', '.join(pending))}")
    outcomes = result.outcomes
    if outcomes:
        if state.quiet:
            report_outcomes(state, outcomes, saved_note=True)
        else:
            summary_table(outcomes)
            failed = [o.competition for o in outcomes if not o.ok]
            for outcome in outcomes:  # the reasons in full, whatever the table's width
                if not outcome.ok:
                    message(outcome_line(outcome))
            if failed:
                message(
                    f"{len(failed)} sync(s) failed; the competitions were saved. Retry with: "
                    f"kagsync sync {escape(' '.join(failed))}"
                )
    exit_for(outcomes)


# -- watch --------------------------------------------------------------------


@dataclass
class _Row:
    slug: str
    status: str
    last_synced: str | None = None
    outcome: str | None = None
    entries: int | None = None
    change: str | None = None
    error: str | None = None
    activity: str | None = None


def _entries_change(outcome: SyncOutcome, *, compact: bool) -> str:
    if not (outcome.created or outcome.removed or outcome.updated):
        return "=" if compact else "no change"
    if compact:
        parts = [f"+{outcome.created:,}", f"−{outcome.removed:,}", f"~{outcome.updated:,}"]
        return " ".join(parts)
    return f"+{outcome.created:,} new, −{outcome.removed:,} removed, {outcome.updated:,} updated"


def _clock_time(iso: str | None) -> str:
    """A stored UTC time: HH:MM:SS today, else the date and the minute."""
    if not iso:
        return "–"
    if iso[:10] == now_iso()[:10]:
        return iso[11:19]
    return cell_text(iso)


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class WatchDisplay:
    """The watch's output: a live table on a terminal, plain log lines on stderr otherwise.

    It is both the Syncer's observer (each sync's stage) and the watcher's observer
    (ticks, transitions, stopping).
    """

    def __init__(self, state: State, *, once: bool) -> None:
        self.state = state
        self.once = once
        self.live_mode = stderr.is_terminal and not state.quiet
        self.watcher: Watcher | None = None
        self._lock = threading.Lock()
        self._rows: dict[str, _Row] = {}
        self._notes: deque[str] = deque(maxlen=6)
        self._last: TickReport | None = None
        self._tick = 0
        self._live: Live | None = None
        self._closing = False

    def __enter__(self) -> WatchDisplay:
        if self.live_mode:
            from rich.live import Live  # only a live terminal display needs it

            self._live = Live(get_renderable=self._render, console=stderr, refresh_per_second=4, transient=False)
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing = True
        if self._live is not None:
            self._live.stop()
            self._live = None

    # -- plain lines ----------------------------------------------------------

    def _line(self, text: str) -> None:
        stderr.print(f"{now_iso()} {escape(text)}", soft_wrap=True, highlight=False)

    # -- SyncObserver ---------------------------------------------------------

    def stage(self, slug: str, stage: str, detail: str = "") -> None:
        with self._lock:
            row = self._rows.get(slug)
            if row is not None:
                if stage == "waiting":
                    row.activity = "waiting for another sync"
                elif stage == "writing":
                    row.activity = f"writing {detail}".strip()
                else:
                    row.activity = stage
        if not self.live_mode and self.state.verbose and not self.state.quiet:
            self._line(f"{slug}: {stage} {detail}".strip())

    def download_progress(self, slug: str, received: int, total: int | None) -> None:
        with self._lock:
            row = self._rows.get(slug)
            if row is not None:
                size = f"{received / 1e6:.1f}" + (f"/{total / 1e6:.1f}" if total else "") + " MB"
                row.activity = f"downloading {size}"

    def parse_progress(self, slug: str, rows: int, fraction: float | None = None) -> None:
        with self._lock:
            row = self._rows.get(slug)
            if row is not None:
                row.activity = f"parsing {rows:,} rows" + (f" ({fraction:.0%})" if fraction is not None else "")

    # -- WatchObserver --------------------------------------------------------

    def tick_started(self, number: int, competitions: Sequence[Competition]) -> None:
        with self._lock:
            self._tick = number
            rows: dict[str, _Row] = {}
            for c in competitions:
                row = self._rows.get(c.slug) or _Row(
                    c.slug, c.status, c.last_synced_at, c.last_sync_status, c.entry_count, None, c.last_sync_error
                )
                row.status = c.status
                row.activity = "queued"
                rows[c.slug] = row
            self._rows = rows

    def transition(self, transition: Transition) -> None:
        text = f"{transition.slug}: {transition.old} → {transition.new} ({transition.reason})"
        with self._lock:
            row = self._rows.get(transition.slug)
            if row is not None:
                row.status = transition.new
            self._notes.append(f"{now_iso()} {text}")
        if not self.live_mode and not self.state.quiet:
            self._line(text)

    def tick_finished(self, report: TickReport) -> None:
        with self._lock:
            self._last = report
            for outcome in report.outcomes:
                row = self._rows.get(outcome.competition)
                if row is None:
                    continue
                row.activity = None
                row.outcome = outcome.status
                if outcome.ok:
                    row.last_synced = outcome.finished_at
                    row.entries = outcome.entries
                    row.change = _entries_change(outcome, compact=True)
                    row.error = None
                else:
                    row.change = None
                    row.error = outcome.error
                    if outcome.run_id is not None:
                        row.last_synced = outcome.finished_at
            for row in self._rows.values():
                row.activity = None
            if report.error is not None:
                self._notes.append(f"{now_iso()} tick {report.number} failed: {report.error}")
        if not self.live_mode:
            # --quiet: only what went wrong (a failed sync, a failed tick); no success lines.
            for outcome in report.outcomes:
                if outcome.ok and self.state.quiet:
                    continue
                if outcome.ok:
                    self._line(
                        f"{outcome.competition}: ok, {outcome.entries:,} entries "
                        f"({_entries_change(outcome, compact=False)}) in {outcome.seconds:.1f} s"
                    )
                else:
                    self._line(f"{outcome.competition}: {outcome.status}: {outcome.error}")
            if not self.state.quiet or report.error is not None:
                self._line(self._summary(report))

    def stopping(self) -> None:
        if not self.live_mode and not self.state.quiet:
            if self.watcher is not None and self.watcher.in_tick:
                self._line("stopping: letting the syncs in progress finish (press Ctrl-C again to abandon them)")
            else:
                self._line("stopping")

    # -- rendering ------------------------------------------------------------

    def _summary(self, report: TickReport) -> str:
        text = report.summary()
        if not report.due and report.error is None:
            statuses = ", ".join(self.watcher.repository.sync_statuses) if self.watcher else "ongoing"
            text += f" (status {statuses})"
        if self.once or report.stopped:
            return text
        text += f"; next tick in {report.next_interval:g} s"
        # A tick is only rate limited in a running watch, whose watcher this display was given.
        if report.rate_limited and self.watcher is not None:
            text += f" (rate limited by Kaggle: interval raised from {self.watcher.interval:g} s)"
        return text

    def _status_line(self) -> Text:
        from rich.text import Text

        watcher = self.watcher
        if watcher is None:
            return Text("")
        if self._closing:
            return Text(self._last.summary() if self._last is not None else "")
        if watcher.stopping and not watcher.in_tick:
            return Text("Stopping…")
        if watcher.stopping:
            return Text.from_markup(
                "[yellow]Stopping: letting the syncs in progress finish… (Ctrl-C again to abandon them)[/]"
            )
        if watcher.in_tick or self._last is None:
            return Text(f"Tick {self._tick} running…")
        report = self._last
        style = "green" if report.ok else "red"
        line = Text.assemble((report.summary(), style))
        wait = watcher.seconds_until_next_tick()
        if wait is not None and not self.once:
            line.append(f" · next tick in {_duration(wait)}", style="bold")
            line.append(f" (every {_duration(watcher.current_interval)}")
            if report.rate_limited:
                line.append(" — slowed down: Kaggle is rate limiting", style="yellow")
            line.append(")")
        return line

    def _render(self) -> RenderableType:
        from rich.console import Group
        from rich.text import Text

        width = stderr.width
        with self._lock:
            rows: list[tuple[object, ...]] = []
            styles: list[tuple[str | None, ...]] = []
            for row in self._rows.values():
                outcome_style: str | None
                if row.activity:
                    outcome, outcome_style = row.activity, "cyan"
                else:
                    outcome = row.outcome or "–"
                    outcome_style = {"ok": "green", "failed": "red", "skipped": "yellow", "held": "yellow"}.get(
                        row.outcome or ""
                    )
                rows.append(
                    (
                        row.slug,
                        row.status,
                        _clock_time(row.last_synced),
                        outcome,
                        f"{row.entries:,}" if row.entries is not None else None,
                        row.change,
                        row.error,
                    )
                )
                styles.append((None, None, None, outcome_style, None, None, "red" if row.error else None))
            # Columns stay from frame to frame, even while empty (before the first tick ends).
            grid, hidden = build_table(WATCH_COLUMNS, rows, width=width, styles=styles, drop_empty=False)
            notes = [Text(printable(note), style="dim") for note in self._notes]  # errors come from outside
        count = len(rows)
        parts: list[RenderableType] = [
            Text(f"kagsync watch · {count} active competition{'s' if count != 1 else ''}", style="bold"),
            grid,
            Text("Change: +new teams −teams gone ~teams with a new rank or score", style="dim"),
        ]
        note = hidden_note(hidden, width)
        if note:
            parts.append(Text(note.replace("use --json or --csv", "see kagsync runs"), style="dim"))
        return Group(*parts, *notes, self._status_line())


# The live table: the competition and what it is doing always stay; errors are cut to
# one line here (the full reasons are printed when a --once run ends, and kept in runs).
WATCH_COLUMNS = [
    Col("Competition", 0, "key"),
    Col("Status", 3, "short"),
    Col("Last sync (UTC)", 2, "short"),
    Col("Outcome", 0, "line"),
    Col("Entries", 1, "num"),
    Col("Change", 2, "short"),
    Col("Error", 1, "line"),
]


@app.command("watch")
def watch_command(
    ctx: typer.Context,
    interval: Annotated[
        float | None,
        typer.Option(
            "--interval",
            help="Seconds between ticks (default: the watch_interval setting, 300).",
            show_default=False,
            metavar="SECONDS",
        ),
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="Run one tick and exit: 0 when every sync succeeded, 3 otherwise (for cron).")
    ] = False,
    jobs: JobsOption = None,
    max_ticks: Annotated[
        int | None,
        typer.Option(
            "--max-ticks", help="Stop after this many ticks.", min=1, max=MAX_COUNT, show_default=False, metavar="N"
        ),
    ] = None,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="With --once: print a JSON array, one object per competition, as in runs --json."),
    ] = False,
) -> None:
    """Keep every active competition's leaderboard fresh: sync them now, then every interval.

    Each tick syncs, in parallel, every competition whose status is a sync status (trigger
    watch); a failed sync is recorded and retried next tick, and rate limiting
    by Kaggle doubles the interval until a tick gets through. Unless follow_dates is off,
    an upcoming competition whose start has passed becomes ongoing, and an ongoing one
    whose end has passed gets one final sync and becomes completed. Ctrl-C or SIGTERM
    stops cleanly (exit 0). With -q, only failed syncs and errors are printed.

    \b
    Example:
      kagsync watch --interval 120   (from cron: kagsync --quiet watch --once)
    """
    from kagsync.watch import stop_on_signals

    if json_output and not once:
        raise ValidationError("--json needs --once (a running watch prints lines, not one document)")
    state = get_state(ctx)
    offline_refused(state, "watch")
    display = WatchDisplay(state, once=once)
    watcher = state.api(observer=display).syncs.watcher(interval=interval, jobs=jobs, observer=display)
    display.watcher = watcher
    report = None
    try:
        with stop_on_signals(watcher), display:
            report = watcher.run(max_ticks=1 if once else max_ticks)
    except KeyboardInterrupt:  # a second Ctrl-C after the loop had already ended
        report = watcher.last_report
    if not once:
        if watcher.stopping:
            say(state, f"Stopped after {watcher.ticks} tick{'s' if watcher.ticks != 1 else ''}.")
        return
    if report is None or report.stopped:
        if json_output:
            print_outcomes_json(report.outcomes if report is not None else [])
        return
    if report.error is not None:
        report_error(f"the tick failed: {report.error}")
        code = report.exception.exit_code if isinstance(report.exception, KagsyncError) else EXIT_ERROR
        raise typer.Exit(code)
    if json_output:
        print_outcomes_json(report.outcomes)
    if not report.due:
        say(state, "No active competitions to sync.")
        return
    if display.live_mode:  # the table may have cut the errors short
        for outcome in report.failed:
            message(outcome_line(outcome))
    exit_for(report.outcomes)
