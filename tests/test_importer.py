"""Reading, checking and applying import files (the library, without the CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kagsync.errors import Hint, NotFoundError, ValidationError
from kagsync.importer import (
    ImportValidationError,
    apply_import,
    import_file,
    read_import,
)


def write(tmp_path: Path, text: str, name: str = "comps.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def counts(database):
    return tuple(
        database.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("events", "competitions", "sync_runs")
    )


def test_every_bad_line_is_reported_with_its_number_and_nothing_is_written(repo, database, hook, tmp_path):
    path = write(
        tmp_path,
        (
            "slug,title,event,status,start,end,lower_is_better,weight\n"
            "titanic,Titanic,new-event,ongoing,2025-03-01,2025-03-02,false,1\n"  # 2: fine
            "Not A Slug,,,,,,,\n"  # 3
            "ok-one,,,weird,2025-13-01,,maybe,\n"  # 4: three reasons
            "titanic,again,,,,,,\n"  # 5: duplicate
            "\n"  # 6: blank, skipped
            "https://example.com/competitions/x,,,,,,,\n"  # 7
            "late,,,,2025-03-05,2025-03-01,,\n"  # 8: end before start
            "heavy,,,,,,,-2\n"  # 9
            "short,row\n"  # 10
            "fine,Fine,,upcoming,,,yes,2\n"  # 11: fine
        ),
    )
    with pytest.raises(ImportValidationError) as caught:
        read_import(path, repo, create_events=True)
    problems = caught.value.problems
    assert [p.split(":")[0] for p in problems] == [
        "comps.csv line 3",
        "comps.csv line 4",
        "comps.csv line 5",
        "comps.csv line 7",
        "comps.csv line 8",
        "comps.csv line 9",
        "comps.csv line 10",
    ]
    assert "invalid competition slug 'Not A Slug'" in problems[0]
    assert "unknown status 'weird'" in problems[1]
    assert "cannot read '2025-13-01'" in problems[1]
    assert "lower_is_better" in problems[1] and "'maybe'" in problems[1]
    assert "'titanic' is already on line 2" in problems[2]
    assert "not a Kaggle competition URL" in problems[3]
    assert "before start" in problems[4]
    assert "weight" in problems[5]
    assert "2 values" in problems[6] and "8 columns" in problems[6]
    assert str(caught.value).startswith("comps.csv line 3: ") and str(caught.value).endswith("(and 6 more)")
    assert isinstance(caught.value, ValidationError) and caught.value.exit_code == 2
    # The same through import_file: nothing written, not even the event --create-events would add.
    with pytest.raises(ImportValidationError):
        import_file(repo, path, create_events=True)
    assert counts(database) == (0, 0, 0)
    assert hook.calls == []


def test_header_names_aliases_bom_and_urls(repo, tmp_path):
    path = write(
        tmp_path,
        (
            "\ufeff Kaggle_Competition_ID , TITLE,Lower Is Better\r\n"
            "https://www.kaggle.com/competitions/spaceship-titanic,Spaceship,YES\r\n"
            "titanic,,0\r\n"
        ),
    )
    plan = read_import(path, repo)
    assert [(r.line, r.slug, r.action) for r in plan.rows] == [(2, "spaceship-titanic", "new"), (3, "titanic", "new")]
    assert plan.rows[0].record["title"] == "Spaceship" and plan.rows[0].record["lower_is_better"] == 1
    # An empty cell is "not given": the record stays sparse and the insert defaults it.
    assert "title" not in plan.rows[1].record and plan.rows[1].record["lower_is_better"] == 0
    apply_import(repo, plan, sync=False)
    assert repo.get_competition("titanic").title == "titanic"
    assert repo.get_competition("spaceship-titanic").title == "Spaceship"

    for header, fragment in [
        ("slug,title,colour\n", "unknown column 'colour'"),
        ("title,status\n", "no slug column"),
        ("slug,kaggle_id\n", "column 'slug' appears twice"),
    ]:
        bad = write(tmp_path, header + "titanic,x\n", name="bad.csv")
        with pytest.raises(ImportValidationError) as caught:
            read_import(bad, repo)
        assert caught.value.problems[0].startswith("bad.csv line 1: ")
        assert fragment in caught.value.problems[0]


def test_file_level_problems(repo, tmp_path):
    with pytest.raises(ValidationError, match="no such file"):
        read_import(tmp_path / "missing.csv", repo)
    latin = write(tmp_path, "slug,title\ntitanic,Café\n", encoding="latin-1")
    with pytest.raises(ImportValidationError, match="line 2: not UTF-8"):
        read_import(latin, repo)
    empty = write(tmp_path, "slug,title\n", name="empty.csv")
    with pytest.raises(ImportValidationError, match="no competitions"):
        read_import(empty, repo)


def test_line_numbers_count_multiline_cells(repo, tmp_path):
    path = write(tmp_path, 'slug,description\ntitanic,"two\nlines"\nB_AD,x\n')
    with pytest.raises(ImportValidationError) as caught:
        read_import(path, repo)
    assert caught.value.problems == [
        "comps.csv line 4: invalid competition slug 'B_AD': use lowercase letters, digits and hyphens"
    ]


def test_dry_run_writes_nothing_and_describes_each_line(repo, database, hook, tmp_path):
    repo.add_event("Night", slug="night")
    repo.add_competition("old", title="Old", sync=False)
    repo.add_competition("same", title="Same", status="ongoing", sync=False)
    database.conn.execute("UPDATE competitions SET last_synced_at = '2026-01-01T00:00:00Z' WHERE slug = 'same'")
    before = counts(database)
    path = write(
        tmp_path,
        ("slug,title,event,status\nnew,New,fresh,upcoming\nold,Old renamed,night,ongoing\nsame,Same,,ongoing\n"),
    )
    result = import_file(repo, path, create_events=True, dry_run=True)
    assert result.dry_run and result.saved == [] and result.events_created == []
    assert counts(database) == before
    assert repo.get_competition("old").title == "Old"
    assert hook.calls == []
    rows = {row.slug: row for row in result.plan.rows}
    assert (rows["new"].action, rows["new"].would_sync) == ("new", True)
    assert rows["old"].action == "updated" and rows["old"].would_sync
    assert rows["old"].changes == {
        "title": ("Old", "Old renamed"),
        "events": (None, "night"),
        "status": ("upcoming", "ongoing"),
    }
    assert (rows["same"].action, rows["same"].changes, rows["same"].would_sync) == ("unchanged", {}, False)
    assert result.plan.events_to_create == ["fresh"]


def test_reimport_is_idempotent(repo, database, hook, tmp_path):
    path = write(
        tmp_path,
        (
            "slug,title,event,status,start,end,lower_is_better,description\n"
            "titanic,Titanic,night,ongoing,2025-03-01,2027-03-01,false,Warm-up\n"
            "house-prices,House Prices,night,upcoming,,,true,\n"
        ),
    )
    first = import_file(repo, path, create_events=True)
    assert first.events_created == ["night"]
    assert [(s.competition.slug, s.created) for s in first.saved] == [("titanic", True), ("house-prices", True)]
    assert hook.calls == [[("titanic", "import"), ("house-prices", "import")]]
    stored = [c.to_dict() for c in repo.list_competitions()]

    again = import_file(repo, path, create_events=True)
    assert again.events_created == []
    assert [r.action for r in again.plan.rows] == ["unchanged", "unchanged"]
    assert [(s.created, s.changed) for s in again.saved] == [(False, False), (False, False)]
    assert [c.to_dict() for c in repo.list_competitions()] == stored
    assert counts(database)[:2] == (1, 2)
    assert len(hook.calls) == 1


def test_update_touches_only_the_columns_and_cells_given(repo, hook, tmp_path):
    repo.add_event("Night", slug="night")
    repo.add_competition(
        "titanic",
        title="Titanic",
        event="night",
        start="2025-03-01",
        end="2025-03-09",
        description="Warm-up",
        lower_is_better=True,
        weight=2,
        sync=False,
    )
    path = write(tmp_path, "slug,status\ntitanic,ongoing\n")
    result = import_file(repo, path)
    assert result.plan.rows[0].record == {"slug": "titanic", "status": "ongoing"}
    c = repo.get_competition("titanic")
    assert (c.title, c.events, c.start, c.end, c.description, c.lower_is_better, c.status) == (
        "Titanic",
        ("night",),
        "2025-03-01T00:00:00Z",
        "2025-03-09T00:00:00Z",
        "Warm-up",
        True,
        "ongoing",
    )
    assert repo.competition_weights("titanic") == {"night": 2.0}
    assert hook.calls == [[("titanic", "import")]]  # status changed into a sync status

    # Empty cells leave stored values alone too; a given end is checked against the stored start.
    path = write(tmp_path, "slug,title,event,description,lower_is_better,end\ntitanic,,,,,2025-03-10\n")
    import_file(repo, path)
    c = repo.get_competition("titanic")
    assert (c.title, c.events, c.description, c.lower_is_better, c.end) == (
        "Titanic",
        ("night",),
        "Warm-up",
        True,
        "2025-03-10T00:00:00Z",
    )
    path = write(tmp_path, "slug,end\ntitanic,2025-02-01\n")
    with pytest.raises(ImportValidationError, match="line 2: end 2025-02-01T00:00:00Z is before start"):
        import_file(repo, path)
    assert len(hook.calls) == 1


def test_events_default_unknown_and_created(repo, database, tmp_path):
    repo.add_event("Night", slug="night")
    path = write(tmp_path, "slug,event\ntitanic,\nspaceship-titanic,other\nnlp,night\n")
    with pytest.raises(ImportValidationError) as caught:
        import_file(repo, path, event="main")
    assert caught.value.problems == [
        "the default event: unknown event 'main'",
        "comps.csv line 3: unknown event 'other'",
    ]
    assert caught.value.hint is Hint.CREATE_EVENTS  # the CLI: "... or pass --create-events"
    assert counts(database)[:2] == (1, 0)

    result = import_file(repo, path, event="main", create_events=True, dry_run=False)
    assert sorted(result.events_created) == ["main", "other"]
    assert {c.slug: c.events for c in repo.list_competitions()} == {
        "titanic": ("main",),
        "spaceship-titanic": ("other",),
        "nlp": ("night",),
    }
    assert repo.get_event("other").title == "other"

    # --create-events never creates an event no line uses, and checks its slug.
    path = write(tmp_path, "slug,event\nx1,Bad Event\nx2,night\n")
    with pytest.raises(ImportValidationError, match="line 2: invalid event slug 'Bad Event'"):
        import_file(repo, path, event="unused", create_events=True)
    path = write(tmp_path, "slug,event\nx2,night\n")
    assert import_file(repo, path, event="unused", create_events=True).events_created == []
    with pytest.raises(NotFoundError):
        repo.get_event("unused")


def test_apply_import_with_sync_off(repo, hook, tmp_path):
    path = write(tmp_path, "slug\ntitanic\n")
    plan = read_import(path, repo)
    result = apply_import(repo, plan, sync=False)
    assert result.saved[0].created and result.outcomes == []
    assert hook.calls == []


def test_a_competition_added_meanwhile_keeps_what_the_file_does_not_give(repo, tmp_path):
    path = write(tmp_path, "slug,status\ntitanic,ongoing\n")
    plan = read_import(path, repo)
    assert plan.rows[0].action == "new"
    # Another process adds it between the check and the write.
    repo.add_event("Night", slug="night")
    repo.add_competition("titanic", title="Titanic!", event="night", weight=3, lower_is_better=True, sync=False)
    apply_import(repo, plan, sync=False)
    stored = repo.get_competition("titanic")
    assert (stored.title, stored.lower_is_better, stored.status) == ("Titanic!", True, "ongoing")
    assert repo.competition_weights("titanic") == {"night": 3.0}


def test_reimport_finishes_the_syncs_an_interrupted_import_never_did(repo, database, hook, tmp_path):
    path = write(tmp_path, "slug,status\ntitanic,ongoing\nhouse,upcoming\n")
    import_file(repo, path, sync=False)  # as if the process died before syncing
    plan = import_file(repo, path, dry_run=True).plan
    assert [(r.action, r.pending, r.would_sync) for r in plan.rows] == [("unchanged", True, True)] * 2
    again = import_file(repo, path)
    assert hook.calls == [[("titanic", "import"), ("house", "import")]]
    assert [s.competition.slug for s in again.saved] == ["titanic", "house"]
    import_file(repo, path)  # now both have synced: nothing is due
    assert len(hook.calls) == 1
