"""kagsync serve in a real browser: Debian's chromium driven by Playwright.

Marked ``browser`` (a CI step of their own: ``pytest -m browser``). Skipped when
chromium or the playwright package is missing; Playwright's own browsers are never
downloaded (``executable_path`` points at the system's chromium).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.boards import csv_c, write_zip
from tests.serve_demo import EVENT, HOSTILE, HOSTILE_BOARD, HOSTILE_SLUG, build_demo, copy_demo

CHROMIUM = Path(os.environ.get("KAGSYNC_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
    ),
    pytest.mark.skipif(
        sync_playwright is None, reason="the playwright package is not installed (pip install -e '.[test]')"
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def kagsync(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kagsync", *args], capture_output=True, text=True, timeout=120, **kwargs
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return build_demo(tmp_path_factory.mktemp("browser-demo"))


@pytest.fixture
def server(demo, tmp_path):
    """``kagsync serve`` in its own process over a copy of the demo database."""
    db = copy_demo(demo, tmp_path / "live")
    port = free_port()
    env = {**os.environ, "HOME": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "kagsync", "--db", str(db), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("kagsync serve did not start: " + process.communicate()[1][-2000:])
    yield base, db
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def wait_until(page, script: str, timeout: float = 5.0) -> float:
    """Poll ``script`` (evaluated through the driver, as the page's CSP forbids eval)
    until it is true; returns the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if page.evaluate(script):
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"not true after {timeout} s: {script}")


class Watched:
    """A page whose console errors, page errors and dialogs are recorded."""

    def __init__(self, browser, width: int = 1280, height: int = 900) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on(
            "console",
            lambda m: self.problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None,
        )
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))

    def close(self) -> None:
        self.context.close()


def test_an_open_event_page_shows_a_new_leader_after_a_sync_elsewhere(server, browser, tmp_path):
    base, db = server
    watched = Watched(browser)
    page = watched.page
    page.goto(f"{base}/events/cup-night")
    first = page.locator("#standings-rows tr").first
    assert first.get_attribute("data-key") == "mallory"
    wait_until(page, "document.getElementById('live-state').textContent.startsWith('live')")
    page.evaluate("window.__notReloaded = true")
    # Carol's team takes the lead in a sync by another process.
    boards = tmp_path / "next"
    boards.mkdir()
    others = [row for row in HOSTILE_BOARD if row[1] != 9003]
    climbed = [(1, 9003, "Plain Team", "2026-05-02 10:00:00", "0.999", 3, "carol,dave")] + [
        (rank, *row[1:]) for rank, row in enumerate(others, start=2)
    ]
    write_zip(boards / f"{HOSTILE_SLUG}.zip", csv_c(climbed), slug=HOSTILE_SLUG)
    synced = kagsync(
        "--db",
        str(db),
        "--source",
        str(boards),
        "--offline",
        "sync",
        HOSTILE_SLUG,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert synced.returncode == 0, synced.stderr
    seconds = wait_until(page, "document.querySelector('#standings-rows tr').getAttribute('data-key') === 'carol'")
    assert seconds < 2.5, f"the new leader showed {seconds:.2f} s after the sync"
    assert page.evaluate("window.__notReloaded") is True  # updated in place, no reload
    assert page.locator("#standings-rows tr.flash").count() >= 1  # a changed rank is highlighted
    assert watched.problems == []
    watched.close()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        f"/events/{EVENT}",
        "/competitions/titanic",
        "/competitions/winter-cup-2026",
        f"/competitions/{HOSTILE_SLUG}/teams/9001",
    ],
)
def test_a_phone_has_no_sideways_scroll(server, browser, path):
    base, _ = server
    watched = Watched(browser, 390, 844)
    watched.page.goto(base + path)
    widths = watched.page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth, document.body.scrollWidth]"
    )
    assert widths[0] <= widths[1] and widths[2] <= widths[1], widths
    # A wide table scrolls inside its own box instead.
    for box in watched.page.locator(".scroll").all():
        assert box.evaluate("e => getComputedStyle(e).overflowX") == "auto"
    assert watched.problems == []
    watched.close()


def test_a_hostile_team_name_is_shown_as_text(server, browser):
    base, _ = server
    watched = Watched(browser)
    page = watched.page
    page.goto(f"{base}/competitions/{HOSTILE_SLUG}")
    assert page.locator("td.team").first.inner_text() == HOSTILE
    assert page.locator("main img").count() == 0 and page.locator("main script").count() == 0
    page.wait_for_timeout(300)
    assert watched.problems == []  # no alert() ran, nothing was blocked
    watched.close()


def test_pages_have_no_console_errors_and_projector_mode_scrolls(server, browser):
    base, _ = server
    watched = Watched(browser, 1920, 1080)
    page = watched.page
    for path in (
        "/",
        f"/events/{EVENT}",
        "/competitions/titanic",
        "/competitions/titanic?since=start",
        "/competitions/winter-cup-2026",
        "/members/mallory",
        f"/events/{EVENT}?projector=1",
    ):
        page.goto(base + path)
        page.wait_for_load_state("load")
    assert page.evaluate("document.body.classList.contains('projector')")
    font = page.evaluate("parseFloat(getComputedStyle(document.querySelector('td.place')).fontSize)")
    assert font >= 28  # readable from the back of the room
    start = page.evaluate("window.scrollY")
    page.wait_for_timeout(6500)  # a pause at the top, then a slow scroll
    assert page.evaluate("window.scrollY") > start
    assert watched.problems == []
    watched.close()


def test_screenshots_desktop_and_phone(server, browser, tmp_path):
    """The docs' screenshots: KAGSYNC_SCREENSHOTS=docs pytest -m browser -k screenshots writes them."""
    base, _ = server
    shots = {
        "serve-desktop.png": (1920, 1080, f"/events/{EVENT}"),
        "serve-phone.png": (390, 844, "/competitions/titanic"),
    }
    for name, (width, height, path) in shots.items():
        watched = Watched(browser, width, height)
        watched.page.goto(base + path)
        watched.page.wait_for_timeout(500)  # the countdowns tick once
        target = tmp_path / name
        watched.page.screenshot(path=str(target))
        assert target.stat().st_size > 20_000  # not a blank page
        assert watched.problems == []
        watched.close()
        if os.environ.get("KAGSYNC_SCREENSHOTS"):
            folder = Path(os.environ["KAGSYNC_SCREENSHOTS"])
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(target.read_bytes())
