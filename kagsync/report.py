"""A self-contained HTML results page for an event.

One file, nothing fetched: inline CSS, charts drawn as inline SVG here in Python, no
scripts, no web fonts, and a Content-Security-Policy that forbids loading anything
(so even a browser that found a script in it would not run it). Every piece of text
that comes from users or Kaggle (team names, usernames, titles) is HTML-escaped.

The page holds the event's standings, and for each competition a chart of rank over
time for its top teams (from the change records) and its board (the first
``top`` rows, with a note saying how many there are in all).

Numbers carry classes so that a check can read them back: standings rows are
``tr.standing`` with ``td.place``, ``td.name``, ``td.total``; board rows are
``tr.entry[data-team-id]`` with ``td.rank``, ``td.team``, ``td.score``, ``td.subs``,
inside ``table.board[data-competition=SLUG]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from kagsync import output
from kagsync.export import final_board
from kagsync.final import shakeup
from kagsync.models import Competition
from kagsync.standings import DEFAULT_SCHEME, SCHEME_LABELS, Standings, event_standings, format_total
from kagsync.values import now_iso, to_datetime
from kagsync.views import (
    leaderboard_entries,
    movement_basis,
    movement_text,
    ok_runs,
    rank_series,
    read_snapshot,
)

DEFAULT_TOP = 100
DEFAULT_CHART_TEAMS = 6

# Okabe-Ito colours (readable by most colour-blind people), then a few more.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#882255", "#555555")

CSS = """
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #5c6670; --bg: #ffffff;
  --line: #d8dee4; --head: #f3f5f7; --accent: #0072B2; --up: #1a7f37; --down: #cf222e; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #9aa6b2; --bg: #0d1117; --line: #30363d; --head: #161b22;
    --accent: #58a6ff; --up: #3fb950; --down: #f85149; } }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0 auto; max-width: 72rem; padding: 1rem; background: var(--bg); color: var(--fg);
  font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 1.6rem; margin: .2rem 0 .4rem; line-height: 1.2; }
h2 { font-size: 1.25rem; margin: 2rem 0 .3rem; padding-top: .6rem; border-top: 2px solid var(--line); }
h3 { font-size: 1rem; margin: 1rem 0 .3rem; }
p { margin: .3rem 0; }
.meta, .note, .method, figcaption { color: var(--muted); font-size: .875rem; }
nav ul { list-style: none; padding: 0; margin: .6rem 0; display: flex; flex-wrap: wrap; gap: .3rem .9rem; }
a { color: var(--accent); }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: .4rem 0; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; font-variant-numeric: tabular-nums; }
th, td { padding: .35rem .5rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; white-space: nowrap; position: sticky; top: 0; }
td.num, th.num { text-align: right; white-space: nowrap; }
th.comp { white-space: normal; overflow-wrap: break-word; min-width: 5.5rem; max-width: 9rem; font-size: .8rem; }
td.team, td.name { overflow-wrap: anywhere; min-width: 8rem; }
td.members { color: var(--muted); overflow-wrap: anywhere; font-size: .85rem; }
tr.benchmark td { font-style: italic; color: var(--muted); }
.up { color: var(--up); } .down { color: var(--down); } .new { color: var(--accent); font-weight: 600; }
.badge { font-size: .75rem; border: 1px solid var(--line); border-radius: .6rem; padding: 0 .35rem;
  color: var(--muted); font-style: normal; white-space: nowrap; }
figure { margin: .6rem 0; }
svg.chart { width: 100%; height: auto; display: block; max-width: 46rem; }
svg.chart text { font-size: 14px; fill: var(--muted); }
svg.chart .grid { stroke: var(--line); stroke-width: 1; }
ul.legend { list-style: none; padding: 0; margin: .3rem 0; display: flex; flex-wrap: wrap; gap: .2rem 1rem;
  font-size: .85rem; }
ul.legend li { overflow-wrap: anywhere; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: .15rem; margin-right: .3rem;
  vertical-align: -.05rem; }
@media (max-width: 640px) {
  body { padding: .6rem; font-size: 15px; }
  h1 { font-size: 1.35rem; }
  th, td { padding: .3rem .35rem; }
  .wide { display: none; }
}
"""


def _e(value: Any) -> str:
    """Escaped text of a value (None shows as an en dash)."""
    if value is None or value == "":
        return "–"
    return escape(str(value), quote=True)


def _time(iso: str | None) -> str:
    """``2026-05-01T10:00:00Z`` -> ``2026-05-01 10:00 UTC``."""
    if not iso:
        return "never"
    return to_datetime(iso).strftime("%Y-%m-%d %H:%M UTC")


def build_report(
    repository: Any,
    event: str,
    *,
    scheme: str = DEFAULT_SCHEME,
    top: int = DEFAULT_TOP,
    chart_teams: int = DEFAULT_CHART_TEAMS,
    generated_at: str | None = None,
    everyone: bool = False,
) -> str:
    """The results page of ``event`` as one HTML document (its roster's members only when
    it has one, unless ``everyone``)."""
    with read_snapshot(repository.db):
        return _build_report(repository, event, scheme, top, chart_teams, generated_at, everyone)


def _build_report(
    repository: Any,
    event: str,
    scheme: str,
    top: int,
    chart_teams: int,
    generated_at: str | None,
    everyone: bool = False,
) -> str:
    found = repository.get_event(event)
    competitions = repository.list_competitions(event=found.slug)
    weights = repository.event_weights(found.slug)
    standings = event_standings(repository, found.slug, scheme, everyone=everyone)
    generated = generated_at or now_iso()
    synced = [c.last_synced_at for c in competitions if c.last_synced_at]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        (
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">"
        ),
        '<meta name="generator" content="kagsync">',
        f"<title>{_e(found.title)} — results</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{_e(found.title)}</h1>",
    ]
    if found.description:
        parts.append(f"<p>{_e(found.description)}</p>")
    dates = " – ".join(_time(d).removesuffix(" 00:00 UTC") for d in (found.start, found.end) if d)
    meta = f"{len(competitions)} competition{'s' if len(competitions) != 1 else ''}"
    if dates:
        meta += f" · {_e(dates)}"
    meta += f" · data as of {_e(_time(max(synced)) if synced else 'no sync yet')}"
    meta += f" · page generated {_e(_time(generated))}"
    parts.append(f'<p class="meta">{meta}</p>')
    parts.append("<nav><ul>")
    parts.append('<li><a href="#standings">Standings</a></li>')
    for competition in competitions:
        parts.append(f'<li><a href="#c-{_e(competition.slug)}">{_e(competition.title)}</a></li>')
    parts.append("</ul></nav>")
    parts.append("</header>")
    parts.append("<main>")
    parts.append(_standings_section(standings, top))
    for competition in competitions:
        parts.append(
            _competition_section(repository.db, competition, top, chart_teams, weights.get(competition.slug, 1.0))
        )
    parts.append("</main>")
    parts.append(
        '<footer><p class="note">Made with kagsync from the leaderboards stored in its database. '
        "Ranks and scores are Kaggle's, as of each competition's last sync.</p></footer>"
    )
    parts.append("</body>")
    parts.append("</html>")
    return "\n".join(parts) + "\n"


def write_report(path: Path, html: str) -> Path:
    """Write the page (via a temporary file, so a reader never sees half of it)."""
    return output.write_text(path, html)


# -- standings ----------------------------------------------------------------


def _standings_section(standings: Standings, top: int) -> str:
    label = SCHEME_LABELS[standings.scheme]
    out = ['<section id="standings">', "<h2>Standings</h2>"]
    if not standings.rows:
        out.append('<p class="note">No results yet: no competition of this event has a synced leaderboard.</p>')
    else:
        who = "Member" if standings.members_only else "Participant"
        head = ['<th class="num">#</th>', f"<th>{who}</th>", f'<th class="num">{label}</th>']
        for competition in standings.competitions:
            head.append(
                f'<th class="num comp" title="{_e(competition["title"])}">'
                f'<a href="#c-{_e(competition["slug"])}">{_e(competition["slug"])}</a></th>'
            )
        head.append('<th class="num wide">Entered</th>')
        out.append('<div class="scroll"><table class="standings" id="standings-table">')
        out.append("<thead><tr>" + "".join(head) + "</tr></thead><tbody>")
        for row in standings.rows[:top]:
            name = _e(row.name)
            if row.kind == "team":
                name += ' <span class="badge">team</span>'
            total = "not entered" if row.place is None else format_total(standings.scheme, row.total)
            cells = [
                f'<td class="num place">{_e(row.place)}</td>',
                f'<td class="name" data-key="{_e(row.key)}">{name}</td>',
                f'<td class="num total">{_e(total)}</td>',
            ]
            for competition in standings.competitions:
                result = row.results.get(competition["slug"])
                cells.append(f'<td class="num comp-rank">{result.rank if result else "–"}</td>')
            cells.append(f'<td class="num wide">{row.entered}</td>')
            out.append('<tr class="standing">' + "".join(cells) + "</tr>")
        out.append("</tbody></table></div>")
        if len(standings.rows) > top:
            out.append(
                f'<p class="note">Showing the first {top:,} of {len(standings.rows):,} participants '
                f"(all of them: <code>kagsync event standings {_e(standings.event)}</code>).</p>"
            )
    out.append(f'<p class="method">Method — {_e(standings.method)} Columns per competition show the rank there.</p>')
    if standings.left_out:
        left = ", ".join(f"{item['slug']} ({item['reason']})" for item in standings.left_out)
        out.append(f'<p class="note">Not counted: {_e(left)}.</p>')
    out.append("</section>")
    return "\n".join(out)


# -- a competition --------------------------------------------------------------


def _competition_section(database: Any, competition: Competition, top: int, chart_teams: int, weight: float) -> str:
    board = final_board(competition)
    entries = leaderboard_entries(database, competition, top=top, board=board)
    basis = movement_basis(database, competition, board)
    total = competition.entry_count or 0
    if board == "private":
        total = len(leaderboard_entries(database, competition, board=board))
    anchor = f"c-{competition.slug}"
    out = [f'<section id="{_e(anchor)}" class="competition">', f"<h2>{_e(competition.title)}</h2>"]
    synced = competition.private_synced_at if board == "private" else competition.last_synced_at
    meta = [
        f'<a href="{_e(competition.url)}" rel="noreferrer">{_e(competition.slug)}</a>',
        "<strong>final</strong> (private board)" if board == "private" else "provisional (public board)",
        f"{total:,} teams" if synced else "not synced yet",
        f"synced {_e(_time(synced))}",
        f"{'lower' if competition.lower_is_better else 'higher'} score is better",
    ]
    if weight != 1:
        meta.append(f"weight {weight:g}")
    out.append(f'<p class="meta">{" · ".join(meta)}</p>')
    if competition.description:
        out.append(f"<p>{_e(competition.description)}</p>")
    chart_ids = [e["team_id"] for e in entries if not e["is_benchmark"]][:chart_teams]
    out.append(_chart(database, competition, chart_ids, entries))
    if not entries:
        out.append('<p class="note">No leaderboard synced yet.</p>')
        out.append("</section>")
        return "\n".join(out)
    movement_note = (
        f"Move: since the previous sync ({_e(_time(basis['previous_synced_at']))})."
        if basis["previous_run_id"] is not None
        else "Move: shown from the second sync on."
    )
    out.append(f'<div class="scroll"><table class="board" data-competition="{_e(competition.slug)}">')
    out.append(
        '<thead><tr><th class="num">Rank</th><th>Team</th><th class="wide">Members</th>'
        '<th class="num">Score</th><th class="num wide">Subs</th><th class="wide">Last submission</th>'
        '<th class="num">Move</th></tr></thead><tbody>'
    )
    for entry in entries:
        bench = entry["is_benchmark"]
        rank = "bench" if bench else str(entry["rank"])
        move = movement_text(entry)
        style = (
            "new"
            if entry["is_new"]
            else "up"
            if (entry["movement"] or 0) > 0
            else "down"
            if (entry["movement"] or 0) < 0
            else ""
        )
        out.append(
            f'<tr class="entry{" benchmark" if bench else ""}" data-team-id="{entry["team_id"]}">'
            f'<td class="num rank">{rank}</td>'
            f'<td class="team">{_e(entry["team_name"])}'
            + (' <span class="badge">benchmark</span>' if bench else "")
            + "</td>"
            f'<td class="members wide">{_e(", ".join(entry["members"]))}</td>'
            f'<td class="num score">{_e(entry["score"])}</td>'
            f'<td class="num subs wide">{entry["submission_count"]}</td>'
            f'<td class="wide last">{_e(_time(entry["last_submission"]) if entry["last_submission"] else None)}</td>'
            f'<td class="num move {style}">{_e(move)}</td>'
            "</tr>"
        )
    out.append("</tbody></table></div>")
    shown = len(entries)
    if total > shown:
        note = (
            f"Showing the first {shown:,} of {total:,} teams. The whole board: "
            f"<code>kagsync export --competition {_e(competition.slug)} --format csv</code>."
        )
    else:
        note = f"All {total:,} teams."
    out.append(f'<p class="note">{note} {movement_note}</p>')
    if board == "private":
        out.append(_shakeup_section(database, competition))
    out.append("</section>")
    return "\n".join(out)


def _shakeup_section(database: Any, competition: Competition, shown: int = 10) -> str:
    """Public rank → final rank: the shake-up figure and the biggest moves."""
    result = shakeup(database, competition, top=shown)
    if not result["teams"]:
        return ""
    moves = sorted(result["moves"], key=lambda m: (-abs(m["move"]), m["private_rank"]))[:shown]
    rows = "".join(
        f'<tr><td class="team">{_e(m["team_name"])}</td><td class="num">{m["public_rank"]}</td>'
        f'<td class="num">{m["private_rank"]}</td>'
        f'<td class="num move {"up" if m["move"] > 0 else "down" if m["move"] < 0 else ""}">{m["move"]:+d}</td></tr>'
        for m in moves
    )
    entered = ", ".join(_e(m["team_name"]) for m in result["entered_top"]) or "nobody"
    left = ", ".join(_e(m["team_name"]) for m in result["left_top"]) or "nobody"
    return (
        f'<h3>Shake-up</h3><p class="meta">{result["teams"]:,} teams on both boards · shake-up '
        f"{result['shakeup']:.4f} · top 10%: {result['shakeup_top10pct']:.4f}</p>"
        '<div class="scroll"><table class="shakeup"><thead><tr><th>Team</th><th class="num">Public</th>'
        f'<th class="num">Final</th><th class="num">Move</th></tr></thead><tbody>{rows}</tbody></table></div>'
        f'<p class="note">Entered the top {shown}: {entered}. Left it: {left}.</p>'
    )


# -- the chart ------------------------------------------------------------------

_W, _H = 480, 270
_LEFT, _RIGHT, _TOP, _BOTTOM = 40, 10, 12, 30


def _chart(database: Any, competition: Competition, team_ids: list[int], entries: Sequence[Mapping[str, Any]]) -> str:
    runs = ok_runs(database, competition)
    if len(runs) < 2 or not team_ids:
        return '<p class="note">The rank-over-time chart appears after the second sync.</p>'
    names = {e["team_id"]: e["team_name"] for e in entries}
    series = rank_series(database, competition, team_ids)
    order = {run["run_id"]: index for index, run in enumerate(runs)}
    times = [to_datetime(run["synced_at"]).timestamp() for run in runs]
    by_time = times[-1] > times[0]

    def x_of(run_id: int) -> float:
        index = order[run_id]
        fraction = (times[index] - times[0]) / (times[-1] - times[0]) if by_time else index / (len(runs) - 1)
        return _LEFT + fraction * (_W - _LEFT - _RIGHT)

    ranks = [rank for points in series.values() for _, _, rank in points if rank is not None]
    worst = max([*ranks, 2])

    def y_of(rank: int) -> float:
        return _TOP + (rank - 1) / (worst - 1) * (_H - _TOP - _BOTTOM)

    svg = [
        (
            f'<svg class="chart" viewBox="0 0 {_W} {_H}" xmlns="http://www.w3.org/2000/svg" role="img" '
            f'aria-label="Rank over time of the top {len(team_ids)} teams of {_e(competition.title)}">'
        )
    ]
    for tick in _rank_ticks(worst):
        y = y_of(tick)
        svg.append(f'<line class="grid" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        svg.append(f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    x0, x1 = _LEFT, _W - _RIGHT
    first_label = _short_time(runs[0]["synced_at"]) if by_time else "sync 1"
    last_label = _short_time(runs[-1]["synced_at"]) if by_time else f"sync {len(runs)}"
    svg.append(f'<text x="{x0}" y="{_H - 10}" text-anchor="start">{_e(first_label)}</text>')
    svg.append(f'<text x="{x1}" y="{_H - 10}" text-anchor="end">{_e(last_label)}</text>')
    legend = []
    end_x = x_of(runs[-1]["run_id"])
    for index, team_id in enumerate(team_ids):
        colour = PALETTE[index % len(PALETTE)]
        path = _step_path(series.get(team_id, []), x_of, y_of, end_x)
        name = _e(names.get(team_id, team_id))
        if path:
            svg.append(
                f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2.5" '
                f'stroke-linejoin="round" stroke-linecap="round"><title>{name}</title></path>'
            )
            last = [p[2] for p in series[team_id] if p[2] is not None]
            if last:
                svg.append(f'<circle cx="{end_x:.1f}" cy="{y_of(last[-1]):.1f}" r="3.5" fill="{colour}"/>')
        legend.append(f'<li><span class="swatch" style="background:{colour}"></span>{name}</li>')
    svg.append("</svg>")
    axis = "time of sync" if by_time else "sync number"
    caption = (
        f"<figcaption>Rank over time of the current top {len(team_ids)} (rank 1 at the top; "
        f"x: {axis}, {len(runs)} syncs, UTC).</figcaption>"
    )
    return "<figure>" + "".join(svg) + f'<ul class="legend">{"".join(legend)}</ul>' + caption + "</figure>"


def _short_time(iso: str) -> str:
    """``2026-05-01T10:00:00Z`` -> ``05-01 10:00`` for an axis label."""
    return to_datetime(iso).strftime("%m-%d %H:%M")


def _step_path(points: Sequence[tuple[int, str, int | None]], x_of: Any, y_of: Any, end_x: float) -> str:
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


def _rank_ticks(worst: int) -> list[int]:
    """A handful of round ranks from 1 to ``worst``."""
    if worst <= 6:
        return list(range(1, worst + 1))
    step = 1
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        step = candidate
        if worst / candidate <= 5:
            break
    ticks = [1] + [t for t in range(step, worst + 1, step) if t > 1]
    return ticks
