"""The benchmark's boards and what each sync of them writes (counts only, no timing)."""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from pathlib import Path

import pytest

from kagsync.repository import Repository
from kagsync.sources import FileSource
from kagsync.sync import Syncer

RUN_PY = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("kagsync_benchmarks_run", RUN_PY)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def written(database, run_id):
    created, updated, removed = database.conn.execute(
        "SELECT created, updated, removed FROM sync_runs WHERE id = ?", (run_id,)
    ).fetchone()
    kinds = dict(
        database.conn.execute(
            "SELECT kind, count(*) FROM entry_changes WHERE run_id = ? GROUP BY kind", (run_id,)
        ).fetchall()
    )
    return created, updated, removed, kinds


def test_one_percent_changed_resync_writes_only_the_changed_rows(bench, tmp_path, db_path, database):
    board = bench.generate_board(3000, tmp_path)
    assert board.changed == 30
    assert 0 < board.rank_or_score_changed < board.changed

    with zipfile.ZipFile(board.zip) as archive:
        (member,) = archive.namelist()
        text = archive.read(member).decode("utf-8-sig")
    assert '""' in text and '",' in text  # quoted names with quotes and commas
    assert any(ord(ch) > 127 for ch in text)  # non-ASCII names
    assert board.csv.read_text(encoding="utf-8-sig") == text

    comp = Repository(database).add_competition(bench.SLUG, sync=False).competition
    sync = Syncer(db_path, FileSource(board.zip)).sync
    first = sync(comp, "manual")
    assert first.ok, first.error
    # A first sync writes no change records: its keyframe says which teams it started with.
    assert written(database, first.run_id) == (3000, 0, 0, {})
    assert database.conn.execute(
        "SELECT teams, delta IS NULL, keyframe IS NOT NULL FROM rank_frames WHERE run_id = ?", (first.run_id,)
    ).fetchone() == (3000, 1, 1)
    # Several members per team, stored as JSON arrays.
    assert (
        database.conn.execute("SELECT count(*) FROM entries WHERE json_array_length(members) > 1").fetchone()[0] > 500
    )

    same = sync(comp, "manual")
    assert same.ok, same.error
    assert written(database, same.run_id) == (0, 0, 0, {})
    assert database.conn.execute("SELECT count(*) FROM rank_frames WHERE run_id = ?", (same.run_id,)).fetchone() == (0,)

    changed = Syncer(db_path, FileSource(board.changed_zip)).sync(comp, "manual")
    assert changed.ok, changed.error
    # Each changed team changed itself (name, submission count or score): one change
    # record each; only scores moved between their neighbours, so no rank changed and
    # the run has no rank frame.
    assert written(database, changed.run_id) == (0, board.changed, 0, {"changed": board.changed})
    assert (
        database.conn.execute(
            "SELECT count(*) FROM entry_changes WHERE run_id = ? AND score IS NOT previous_score",
            (changed.run_id,),
        ).fetchone()[0]
        == board.rank_or_score_changed
    )
    assert (
        database.conn.execute(
            "SELECT count(*) FROM entry_changes WHERE run_id = ? AND rank IS NOT previous_rank",
            (changed.run_id,),
        ).fetchone()[0]
        == 0
    )
    assert database.conn.execute("SELECT count(*) FROM rank_frames WHERE run_id = ?", (changed.run_id,)).fetchone() == (
        0,
    )


def test_generated_boards_are_deterministic(bench, tmp_path):
    one = bench.generate_board(500, tmp_path / "one")
    two = bench.generate_board(500, tmp_path / "two")
    assert one.csv.read_bytes() == two.csv.read_bytes()
    assert one.changed_zip.read_bytes() == two.changed_zip.read_bytes()
