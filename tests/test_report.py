"""The HTML results page: self-contained, escaped, and showing the database's numbers.

The last tests open the page in a real headless Chromium (Debian's ``chromium``
package: ``apt-get install -y chromium``); they are skipped when it is not installed.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kagsync.report import build_report, write_report
from kagsync.standings import event_standings, format_total
from kagsync.views import leaderboard_entries
from tests.boards import BOARD_1, BOARD_2
from tests.test_views import BOARD_3, sync_boards

CHROMIUM = Path("/usr/bin/chromium")
EVIL = "<script>alert('x')</script>"
EVIL_2 = 'Bob"><img src=x onerror=alert(1)> & co'

# BOARD_3 plus two teams whose names try to inject markup.
BOARD_3_EVIL = BOARD_3 + [
    (6, 106, EVIL, "2026-05-04 15:00:00", "0.50000", 1, "mallory"),
    (7, 107, EVIL_2, "2026-05-04 15:00:00", "0.40000", 1, "eve,bob"),
]
OTHER = [
    (1, 301, "Night Owls", "2026-05-01 10:00:00", "12.5", 4, "alice,carol"),
    (2, 302, EVIL, "2026-05-01 10:00:00", "11.0", 2, "mallory"),
    (3, 303, "Plain", "2026-05-01 10:00:00", "9.25", 1, ""),
]


@pytest.fixture
def event(db_path, database, repository, tmp_path):
    repository.add_event("Results <Night> & Day", slug="night", description="A <b>bold</b> claim")
    main = repository.add_competition("main", title="Main <track>", event="night", sync=False).competition
    other = repository.add_competition("other", title="Other", event="night", weight=2, sync=False).competition
    sync_boards(db_path, database, main, [BOARD_1, BOARD_2, BOARD_3_EVIL], tmp_path)
    sync_boards(db_path, database, other, [OTHER], tmp_path)
    return "night"


class PageReader(HTMLParser):
    """Collects the page's standings and board rows, and every tag it meets."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.boards: dict[str, list[dict]] = {}
        self.standings: list[dict] = []
        self._board: str | None = None
        self._row: dict | None = None
        self._cell: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        classes = (attrs.get("class") or "").split()
        if tag == "table" and "board" in classes:
            self._board = attrs["data-competition"]
            self.boards[self._board] = []
        elif tag == "table" and "standings" in classes:
            self._board = None
        elif tag == "tr" and ("entry" in classes or "standing" in classes):
            self._row = {"team_id": attrs.get("data-team-id")}
            (self.boards[self._board] if "entry" in classes else self.standings).append(self._row)
        elif tag == "td" and self._row is not None:
            self._cell = next((c for c in classes if c not in ("num", "wide", "up", "down", "new")), "?")
            self._text = []
            if self._cell == "name":
                self._row["key"] = attrs.get("data-key")

    def handle_endtag(self, tag):
        if tag == "td" and self._row is not None and self._cell:
            self._row.setdefault(self._cell, "".join(self._text))
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._cell:
            self._text.append(data)


def read_page(html: str) -> PageReader:
    reader = PageReader()
    reader.feed(html)
    return reader


def check_numbers_match_database(page: PageReader, repository, event: str) -> None:
    """Every board row and standings line on the page is the database's."""
    competitions = repository.list_competitions(event=event)
    assert set(page.boards) == {c.slug for c in competitions}
    for competition in competitions:
        entries = leaderboard_entries(repository.db, competition)
        shown = page.boards[competition.slug]
        assert [int(row["team_id"]) for row in shown] == [e["team_id"] for e in entries]
        for row, entry in zip(shown, entries):
            assert row["rank"] == ("bench" if entry["is_benchmark"] else str(entry["rank"]))
            assert row["team"].removesuffix(" benchmark") == entry["team_name"]
            assert row["score"] == entry["score"]
            assert row["subs"] == str(entry["submission_count"])
    standings = event_standings(repository, event)
    assert [(r["place"], r["key"], r["total"]) for r in page.standings] == [
        (str(s.place), s.key, format_total("points", s.total)) for s in standings.rows
    ]


def test_page_is_self_contained_and_escaped(repository, event):
    html = build_report(repository, event, generated_at="2026-05-05T12:00:00Z")
    page = read_page(html)
    tags = {tag for tag, _ in page.tags}
    assert "script" not in tags and "img" not in tags and "iframe" not in tags and "link" not in tags
    assert not re.search(r"<script", html, re.IGNORECASE)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<title>Results &lt;Night&gt; &amp; Day — results</title>" in html
    assert "A &lt;b&gt;bold&lt;/b&gt; claim" in html
    # Nothing is loaded: no src, no stylesheet link, no url() or @import in the CSS.
    assert not any("src" in attrs for _, attrs in page.tags)
    assert "url(" not in html and "@import" not in html
    metas = [attrs for tag, attrs in page.tags if tag == "meta"]
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in metas
    csp = next(m["content"] for m in metas if m.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp and "script-src" not in csp
    # Only links: in-page anchors and the competitions' Kaggle pages.
    hrefs = [attrs["href"] for tag, attrs in page.tags if tag == "a"]
    assert all(h.startswith(("#", "https://www.kaggle.com/competitions/")) for h in hrefs)
    # One rank-over-time chart (main was synced three times; other once).
    assert sum(1 for tag, _ in page.tags if tag == "svg") == 1
    assert "The rank-over-time chart appears after the second sync." in html


def test_page_numbers_match_the_database(repository, event):
    page = read_page(build_report(repository, event))
    check_numbers_match_database(page, repository, event)
    main = {row["team_id"]: row for row in page.boards["main"]}
    assert main["106"]["team"] == EVIL and main["107"]["team"] == EVIL_2
    assert (main["104"]["move"], main["102"]["move"], main["106"]["move"], main["999"]["move"]) == (
        "▲ 2",
        "▼ 1",
        "new",
        "–",
    )


def test_top_limits_rows_with_a_note(repository, event):
    html = build_report(repository, event, top=2)
    page = read_page(html)
    assert [row["team_id"] for row in page.boards["main"]] == ["104", "102"]
    assert len(page.standings) == 2
    assert "Showing the first 2 of 8 teams." in html


def test_chart_draws_the_top_teams_steps(repository, event):
    html = build_report(repository, event, chart_teams=3)
    svg = html[html.index("<svg") : html.index("</svg>")]
    paths = re.findall(r'<path d="([^"]+)"', svg)
    assert len(paths) == 3  # Delta, Beta, Alpha
    # Alpha: rank 1, then 2, then 3 -> one move, two steps down.
    assert paths[2].startswith("M") and paths[2].count("V") == 2
    assert "<title>Delta</title>" in svg


def test_write_report(tmp_path):
    (tmp_path / "out").mkdir()  # a missing folder is an error, never created (issue 20 item 3)
    path = write_report(tmp_path / "out" / "r.html", "<!DOCTYPE html>\n")
    assert path.read_text() == "<!DOCTYPE html>\n"
    assert [p.name for p in path.parent.iterdir()] == ["r.html"]


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed (apt-get install -y chromium)")
def test_headless_chromium_renders_the_database_numbers(repository, event, tmp_path):
    path = write_report(tmp_path / "results.html", build_report(repository, event))
    result = _chromium(["--dump-dom", path.as_uri()], tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert "<table" in dom and "</html>" in dom
    page = read_page(dom)
    # The browser ran no script: none in the DOM, and the injected names are plain text.
    assert not any(tag == "script" for tag, _ in page.tags)
    assert not any(tag == "img" for tag, _ in page.tags)
    check_numbers_match_database(page, repository, event)
    assert {row["team"] for row in page.boards["other"]} >= {EVIL}


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed (apt-get install -y chromium)")
def test_headless_chromium_screenshot_at_phone_width(repository, event, tmp_path):
    path = write_report(tmp_path / "results.html", build_report(repository, event))
    shot = tmp_path / "phone.png"
    result = _chromium(
        ["--hide-scrollbars", "--window-size=390,844", f"--screenshot={shot}", path.as_uri()],
        tmp_path / "profile",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert _png_size(shot) == (390, 844)
    assert shot.stat().st_size > 5000  # not a blank page
    if os.environ.get("KAGSYNC_TEST_SCREENSHOT"):  # to look at it: KAGSYNC_TEST_SCREENSHOT=/tmp/p.png
        shutil.copy(shot, os.environ["KAGSYNC_TEST_SCREENSHOT"])
