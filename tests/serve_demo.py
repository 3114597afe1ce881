"""A demo database for the serve tests: the bundled boards synced three times, a roster,
a Slack notification target, and a competition whose team names attack the page."""

from __future__ import annotations

import shutil
from pathlib import Path

import kagsync
from tests.boards import csv_c, write_zip

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
EVENT = "neural-night-2025"
SLACK_URL = "https://hooks.slack.com/services/T0SERVE/B0SERVE/SERVESECRETTOKEN42"
HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_SLUG = "hostile-cup"
HOSTILE_BOARD = [
    (1, 9001, HOSTILE, "2026-05-01 10:00:00", "0.99", 3, "mallory"),
    (2, 9002, "Bob\"><script>alert('x')</script>", "2026-05-01 10:00:00", "0.90", 1, "bob"),
    (3, 9003, "Plain Team", "2026-05-01 10:00:00", "0.80", 2, "carol,dave"),
]


def environ(home: Path) -> dict[str, str]:
    """Settings that never read the real user's files."""
    return {"HOME": str(home), "XDG_CONFIG_HOME": str(home / "cfg"), "XDG_DATA_HOME": str(home / "data")}


def build_demo(folder: Path) -> Path:
    """Build the demo database in ``folder``; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "demo.db"
    env = environ(folder)
    with kagsync.open(db, source=EXAMPLES / "snapshots" / "1", environ=env) as ks:
        ks.syncs.import_file(EXAMPLES / "comps.csv", create_events=True)
    for step in ("snapshots/2", "leaderboards"):
        with kagsync.open(db, source=EXAMPLES / step, environ=env) as ks:
            ks.syncs.run(all_active=True)
    boards = folder / "hostile"
    boards.mkdir(exist_ok=True)
    write_zip(boards / f"{HOSTILE_SLUG}.zip", csv_c(HOSTILE_BOARD), slug=HOSTILE_SLUG)
    with kagsync.open(db, source=boards, environ=env, options={"offline": True}) as ks:
        ks.offline = True
        ks.add_event("Cup <b>night</b>", slug="cup-night", start="2026-01-01")
        ks.add_competition(
            HOSTILE_SLUG, title="Hostile <i>cup</i>", event="cup-night", status="ongoing", end="2030-01-01"
        )
        ks.notifications.add(SLACK_URL, event=EVENT, name="room-slack")
        roster = folder / "roster.csv"
        roster.write_text("kaggle,name,group\nmallory,Mallory <Evil>,red\ncarol,Carol C,blue\n", encoding="utf-8")
        ks.roster.import_csv("cup-night", roster)
    return db


def copy_demo(source: Path, folder: Path) -> Path:
    """A private copy of a built demo database (for tests that sync into it)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "demo.db"
    shutil.copy(source, target)
    return target
