"""The public Python API, run as the README shows it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import kagsync
from kagsync.errors import NotFoundError, StoreError, ValidationError
from kagsync.models import needs_sync

ROOT = Path(__file__).resolve().parent.parent


def readme_python_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Python API"):]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README's Python API section has no python block"
    return match.group(1)


def test_the_readme_python_example_runs_verbatim(tmp_path):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    result = subprocess.run(
        [sys.executable, "-c", readme_python_example()], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok ") and lines[0].endswith(" teams")
    assert [line.split()[0] for line in lines[1:4]] == ["1", "2", "3"]
    assert lines[4] == "['ok']"
    assert (tmp_path / "club.db").is_file()


def test_open_reads_and_writes_through_one_object(tmp_path):
    with kagsync.open(tmp_path / "k.db", source=ROOT / "examples" / "leaderboards") as ks:
        saved = ks.add_competition("titanic", status="ongoing")
        assert saved.created and saved.syncs[0].ok and saved.syncs[0].competition == "titanic"
        assert ks.competition("titanic").entry_count == saved.syncs[0].entries
        outcomes = ks.sync(["titanic", "https://www.kaggle.com/competitions/titanic"])
        assert [o.competition for o in outcomes] == ["titanic"]  # named twice, synced once
        assert [run["trigger"] for run in ks.runs("titanic")] == ["manual", "add"]
    with kagsync.open(tmp_path / "k.db", mode="read") as reader:
        assert reader.leaderboard("titanic", top=1)[0]["rank"] == 1
        with pytest.raises(NotFoundError):
            reader.competition("ghost")


def test_sync_needs_something_to_sync(tmp_path):
    with kagsync.open(tmp_path / "k.db") as ks, pytest.raises(ValidationError, match="at least one competition"):
        ks.sync([])


def test_read_mode_on_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(StoreError, match="no kagsync database at"):
        kagsync.open(tmp_path / "none.db", mode="read").competitions()


@pytest.mark.parametrize(
    "previous, status, expected",
    [
        (None, "upcoming", True),  # a new competition always syncs
        (None, "completed", True),
        ("upcoming", "ongoing", True),  # entering a sync status
        ("ongoing", "ongoing", False),  # no change
        ("ongoing", "completed", True),  # the final sync of the public board
        ("upcoming", "completed", False),  # never active: nothing to finish
        ("completed", "upcoming", False),
    ],
)
def test_the_one_sync_rule(previous, status, expected):
    assert needs_sync(previous, status, ("ongoing",)) is expected


def test_no_module_below_the_cli_imports_typer_or_rich_and_the_cli_holds_no_sql():
    package = ROOT / "kagsync"
    for path in package.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import|from) (typer|rich|click)\b", text, re.M), path
    for path in (package / "cli").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b", text), path
    assert "__getattr__" not in (package / "db.py").read_text(encoding="utf-8")
