"""The one home for rendering boards, standings and charts as HTML.

Jinja2 templates (package data in ``templates/``) with autoescaping on for every
template: team names, usernames and titles are hostile input, and nothing reaches the
page without being escaped. The live pages and the static report render the same
macros (``_parts.html``) with different link makers: the pages link to each other,
the one-file report to its own sections.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import jinja2

from kagsync import __version__
from kagsync.standings import SCHEME_LABELS, SCHEMES, format_total
from kagsync.values import to_datetime

STATIC_FILES = {"kagsync.css": "text/css", "kagsync.js": "text/javascript", "favicon.svg": "image/svg+xml"}


@cache
def environment() -> jinja2.Environment:
    """The template environment (built once)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kagsync.serve", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(time=format_time, move=movement_text, move_class=movement_class, count=count)
    env.globals.update(
        scheme_labels=SCHEME_LABELS,
        schemes=SCHEMES,
        format_total=format_total,
        biggest_moves=biggest_moves,
        asset_version=__version__,
        with_query=with_query,
    )
    return env


def render(template: str, **context: object) -> str:
    """Render one template of the package."""
    return environment().get_template(template).render(**context)


@cache
def static_text(name: str) -> str:
    """A static file's text (the stylesheet is also inlined into the report)."""
    if name not in STATIC_FILES:
        raise KeyError(name)
    return resources.files("kagsync.serve").joinpath("static", name).read_text(encoding="utf-8")


def format_time(iso: object) -> str:
    """``2026-05-01T10:00:00Z`` -> ``2026-05-01 10:00 UTC``; ``–`` for none."""
    if not iso:
        return "–"
    try:
        return to_datetime(str(iso)).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return str(iso)


def movement_text(entry: object) -> str:
    """``▲ 3``, ``▼ 2``, ``new``, ``–`` (unchanged) or ``""`` (nothing to compare)."""
    if not isinstance(entry, dict):
        return ""
    if entry.get("is_new"):
        return "new"
    movement = entry.get("movement")
    if movement is None:
        return ""
    if movement > 0:
        return f"▲ {movement}"
    if movement < 0:
        return f"▼ {-movement}"
    return "–"


def movement_class(entry: object) -> str:
    """The CSS class of a movement: ``new``, ``up``, ``down`` or nothing."""
    if not isinstance(entry, dict):
        return ""
    if entry.get("is_new"):
        return "new"
    movement = entry.get("movement") or 0
    return "up" if movement > 0 else "down" if movement < 0 else ""


def biggest_moves(moves: list[dict[str, int]], shown: int) -> list[dict[str, int]]:
    """The ``shown`` biggest public -> final moves (ties: the better final rank first)."""
    return sorted(moves, key=lambda m: (-abs(int(m["move"])), int(m["private_rank"])))[:shown]


def with_query(query: object, **changes: object) -> str:
    """``?a=1&page=2``: this page's query string with some parameters changed."""
    from urllib.parse import urlencode

    items = dict(query.items()) if hasattr(query, "items") else {}
    items.update({key: str(value) for key, value in changes.items()})
    return "?" + urlencode(items)


def count(value: object, noun: str) -> str:
    """``3 teams``, ``1 team``, with thousands separators."""
    number = int(value) if isinstance(value, (int, float)) else 0
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


@dataclass(frozen=True)
class Links:
    """Where the shared macros link to. ``root`` prefixes every path (behind a proxy)."""

    root: str = ""
    live: bool = True

    def url(self, path: str) -> str:
        """A path of the app, under its root."""
        return self.root + path

    def competition(self, slug: str) -> str:
        """A competition's page (in the report: its section)."""
        return self.url(f"/competitions/{slug}") if self.live else f"#c-{slug}"

    def team(self, slug: str, team_id: object) -> str | None:
        """A team's page (none in the report)."""
        return self.url(f"/competitions/{slug}/teams/{team_id}") if self.live else None

    def member(self, username: object) -> str | None:
        """A member's page (none in the report, nor for a team without usernames)."""
        if not self.live or not username:
            return None
        from urllib.parse import quote

        return self.url("/members/" + quote(str(username), safe=""))

    def event(self, slug: str) -> str:
        """An event's page."""
        return self.url(f"/events/{slug}") if self.live else "#standings"
