"""Rank-over-time charts as geometry for an inline SVG, shared by the report and the pages.

The numbers are computed here; the markup is the ``chart`` macro of
``templates/_parts.html``, so every label goes through Jinja's escaping. No script
draws anything: the chart is plain SVG and works in the offline report too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from kagsync.values import to_datetime

# The palette lives in the CSS as classes c0..c7 (Okabe-Ito first): no inline styles,
# so the pages' Content-Security-Policy needs no 'unsafe-inline'.
COLOURS = 8

WIDTH, HEIGHT = 480, 270
_LEFT, _RIGHT, _TOP, _BOTTOM = 40, 10, 12, 30


@dataclass(frozen=True)
class Line:
    """One team's step line: its SVG path, last point, colour class and name."""

    name: str
    path: str
    colour: int
    end: tuple[float, float] | None


@dataclass(frozen=True)
class Chart:
    """Everything the chart macro draws."""

    label: str
    caption: str
    width: int = WIDTH
    height: int = HEIGHT
    ticks: list[tuple[float, int]] = field(default_factory=list)
    x_labels: tuple[str, str] = ("", "")
    left: int = _LEFT
    right: int = WIDTH - _RIGHT
    lines: list[Line] = field(default_factory=list)


# A team's points: (run id, sync time, rank after that sync; None = off the board).
Points = Sequence[tuple[int, str, int | None]]


def rank_chart(
    runs: Sequence[tuple[int, str]],
    series: Mapping[int, Points],
    names: Mapping[int, str],
    *,
    label: str,
    what: str,
) -> Chart | None:
    """The chart of ``series`` (team id -> points) over ``runs`` ((run id, time), oldest
    first); None when there is nothing to draw (fewer than two syncs, or no team).

    ``what`` says in the caption whose ranks these are ("the current top 6").
    """
    if len(runs) < 2 or not series:
        return None
    order = {run_id: index for index, (run_id, _) in enumerate(runs)}
    times = [to_datetime(synced).timestamp() for _, synced in runs]
    by_time = times[-1] > times[0]

    def x_of(run_id: int) -> float:
        index = order[run_id]
        fraction = (times[index] - times[0]) / (times[-1] - times[0]) if by_time else index / (len(runs) - 1)
        return _LEFT + fraction * (WIDTH - _LEFT - _RIGHT)

    ranks = [rank for points in series.values() for run_id, _, rank in points if rank is not None and run_id in order]
    worst = max([*ranks, 2])

    def y_of(rank: int) -> float:
        return _TOP + (rank - 1) / (worst - 1) * (HEIGHT - _TOP - _BOTTOM)

    end_x = x_of(runs[-1][0])
    lines = []
    for index, (team_id, points) in enumerate(series.items()):
        kept = [p for p in points if p[0] in order]
        last = [rank for _, _, rank in kept if rank is not None]
        current = kept[-1][2] if kept else None
        lines.append(
            Line(
                name=names.get(team_id, str(team_id)),
                path=_step_path(kept, x_of, y_of, end_x),
                colour=index % COLOURS,
                end=(round(end_x, 1), round(y_of(last[-1]), 1)) if last and current is not None else None,
            )
        )
    axis = "time of sync" if by_time else "sync number"
    return Chart(
        label=label,
        caption=f"Rank over time of {what} (rank 1 at the top; x: {axis}, {len(runs)} syncs, UTC).",
        ticks=[(round(y_of(tick), 1), tick) for tick in rank_ticks(worst)],
        x_labels=(
            _short_time(runs[0][1]) if by_time else "sync 1",
            _short_time(runs[-1][1]) if by_time else f"sync {len(runs)}",
        ),
        lines=lines,
    )


def _short_time(iso: str) -> str:
    """``2026-05-01T10:00:00Z`` -> ``05-01 10:00`` for an axis label."""
    return to_datetime(iso).strftime("%m-%d %H:%M")


def _step_path(points: Points, x_of: Callable[[int], float], y_of: Callable[[int], float], end_x: float) -> str:
    """An SVG path holding each rank until the next change; a gap while off the board."""
    commands: list[str] = []
    current: int | None = None
    for run_id, _, rank in points:
        x = x_of(run_id)
        if current is not None:
            commands.append(f"H{x:.1f}")
            if rank is not None:
                commands.append(f"V{y_of(rank):.1f}")
        elif rank is not None:
            commands.append(f"M{x:.1f} {y_of(rank):.1f}")
        current = rank
    if current is not None:
        commands.append(f"H{end_x:.1f}")
    return " ".join(commands)


def rank_ticks(worst: int) -> list[int]:
    """A handful of round ranks from 1 to ``worst``."""
    if worst <= 6:
        return list(range(1, worst + 1))
    step = 1
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000):
        step = candidate
        if worst / candidate <= 5:
            break
    return [1] + [t for t in range(step, worst + 1, step) if t > 1]
