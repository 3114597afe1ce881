import pytest

from kagsync.errors import AlreadyExistsError, NotFoundError, ValidationError


def test_event_crud(repo):
    event = repo.add_event("Neural Night 2025", start="2025-03-01", end="2025-03-02 06:00")
    assert (event.slug, event.title, event.start, event.end) == (
        "neural-night-2025",
        "Neural Night 2025",
        "2025-03-01T00:00:00Z",
        "2025-03-02T06:00:00Z",
    )
    assert [e.slug for e in repo.list_events()] == ["neural-night-2025"]
    edited = repo.edit_event("neural-night-2025", title="NN", description="club night", end="")
    assert (edited.title, edited.description, edited.end) == ("NN", "club night", None)
    assert repo.remove_event("neural-night-2025") == 0
    with pytest.raises(NotFoundError):
        repo.get_event("neural-night-2025")


def test_event_errors(repo):
    repo.add_event("Night", slug="night")
    with pytest.raises(AlreadyExistsError, match="'night' already exists"):
        repo.add_event("Other", slug="night")
    with pytest.raises(ValidationError, match="before start"):
        repo.add_event("Bad", start="2025-03-02", end="2025-03-01")
    with pytest.raises(ValidationError, match="invalid event slug"):
        repo.add_event("Bad", slug="Bad Slug")
    with pytest.raises(ValidationError, match="before start"):
        repo.edit_event("night", start="2025-05-01", end="2025-04-01")
    assert [e.slug for e in repo.list_events()] == ["night"]


def test_remove_event_refuses_with_competitions_unless_cascade(repo):
    repo.add_event("Night", slug="night")
    repo.add_competition("titanic", event="night", sync=False)
    with pytest.raises(ValidationError, match="still has 1 competition"):
        repo.remove_event("night")
    assert repo.get_competition("titanic").events == ("night",)
    assert repo.remove_event("night", cascade=True) == 1
    assert repo.list_competitions() == []


def test_a_competition_in_several_events_with_a_weight_in_each(repo):
    repo.add_event("Practice", slug="practice")
    repo.add_event("League", slug="league")
    repo.add_competition("titanic", event="practice", sync=False)
    both = repo.edit_competition("titanic", add_events=["league"])
    assert both.events == ("league", "practice")
    with pytest.raises(ValidationError, match="in 2 events"):
        repo.edit_competition("titanic", weight=2)
    repo.edit_competition("titanic", event="league", weight=2)
    assert repo.competition_weights("titanic") == {"league": 2.0, "practice": 1.0}
    assert repo.event_weights("league") == {"titanic": 2.0}
    # Removing one event keeps the competition in the other; cascade removes only what is left alone.
    assert repo.remove_event("practice", cascade=True) == 0
    assert repo.get_competition("titanic").events == ("league",)
    repo.edit_competition("titanic", remove_events=["league"])
    assert repo.get_competition("titanic").events == ()


def test_competition_add_from_url_and_defaults(repo):
    saved = repo.add_competition("https://www.kaggle.com/competitions/spaceship-titanic", sync=False)
    c = saved.competition
    assert (c.slug, c.title, c.status, c.events, c.lower_is_better) == (
        "spaceship-titanic",
        "spaceship-titanic",
        "upcoming",
        (),
        False,
    )
    assert saved.created


def test_competition_errors_write_nothing(repo):
    repo.add_competition("titanic", sync=False)
    with pytest.raises(AlreadyExistsError):
        repo.add_competition("https://www.kaggle.com/c/titanic", sync=False)
    with pytest.raises(NotFoundError, match="no event 'nope'"):
        repo.add_competition("house-prices", event="nope", sync=False)
    with pytest.raises(ValidationError, match="unknown status"):
        repo.add_competition("house-prices", status="running", sync=False)
    with pytest.raises(ValidationError, match="cannot read"):
        repo.add_competition("house-prices", start="soon", sync=False)
    with pytest.raises(ValidationError, match="before start"):
        repo.add_competition("house-prices", start="2025-02-01", end="2025-01-01", sync=False)
    assert [c.slug for c in repo.list_competitions()] == ["titanic"]


def test_list_filters(repo):
    repo.add_event("A", slug="a")
    repo.add_competition("one", event="a", status="ongoing", sync=False)
    repo.add_competition("two", event="a", sync=False)
    repo.add_competition("three", status="ongoing", sync=False)
    assert [c.slug for c in repo.list_competitions(event="a")] == ["one", "two"]
    assert [c.slug for c in repo.list_competitions(status="ongoing")] == ["one", "three"]
    assert [c.slug for c in repo.list_competitions(event="a", status="ongoing")] == ["one"]


def test_edit_competition(repo):
    repo.add_event("A", slug="a")
    repo.add_competition("titanic", event="a", sync=False)
    edited = repo.edit_competition("titanic", title="Titanic", lower_is_better=True, weight=2, start="2025-01-01")
    assert (edited.title, edited.lower_is_better, edited.start) == ("Titanic", True, "2025-01-01T00:00:00Z")
    assert repo.competition_weights("titanic") == {"a": 2.0}
    assert repo.edit_competition("titanic", remove_events=["a"]).events == ()
    with pytest.raises(ValidationError, match="weight"):
        repo.edit_competition("titanic", weight=-1)


def test_insert_triggers_a_sync(repo, hook):
    repo.add_competition("titanic")
    assert hook.calls == [[("titanic", "add")]]


def test_status_change_into_sync_status_triggers_a_sync(repo, hook):
    repo.add_competition("titanic", sync=False)
    repo.set_status("titanic", "ongoing")
    assert hook.calls == [[("titanic", "status")]]


def test_no_sync_on_other_edits_or_unchanged_status(repo, hook):
    repo.add_competition("titanic", status="ongoing", sync=False)
    repo.edit_competition("titanic", title="T")
    saved = repo.set_status("titanic", "ongoing")
    assert not saved.changed
    assert hook.calls == []
    # Leaving a sync status for `completed` is the final sync of the public board.
    repo.set_status("titanic", "completed")
    assert hook.calls == [[("titanic", "status")]]


def test_remove_competition(repo):
    repo.add_competition("titanic", sync=False)
    repo.remove_competition("titanic")
    with pytest.raises(NotFoundError):
        repo.get_competition("titanic")


def test_import_inserts_updates_and_syncs_new_and_newly_active(repo, hook):
    repo.add_competition("old", sync=False)
    repo.add_competition("steady", status="ongoing", sync=False)
    records = [
        repo.validate_competition("new"),
        repo.validate_competition("old", status="ongoing"),
        repo.validate_competition("steady", status="ongoing"),
    ]
    results = repo.import_competitions(records)
    assert [(r.competition.slug, r.created, r.changed) for r in results] == [
        ("new", True, True),
        ("old", False, True),
        ("steady", False, False),
    ]
    # steady never synced (added with sync=False): it is due as if new.
    assert hook.calls == [[("new", "import"), ("old", "import"), ("steady", "import")]]
    again = repo.import_competitions(records)
    assert [r.changed for r in again] == [False, False, False]
    assert len(hook.calls) == 1


def test_set_status_only_if_is_checked_on_the_fresh_row(repo, hook):
    repo.add_competition("titanic", status="ongoing", end="2030-01-01", sync=False)
    refused = repo.set_status("titanic", "completed", only_if=lambda c: c.end is None)
    assert not refused.changed
    assert repo.get_competition("titanic").status == "ongoing"
    accepted = repo.set_status("titanic", "completed", sync=False, only_if=lambda c: c.status == "ongoing")
    assert accepted.changed and accepted.competition.status == "completed"
    assert hook.calls == []


def test_import_creates_new_events_in_the_same_transaction(repo):
    record = repo.validate_competition("titanic", event="night", known_events=["night"])
    [saved] = repo.import_competitions([record], new_events=["night"], sync=False)
    assert saved.competition.events == ("night",)
    assert repo.get_event("night").title == "night"
    with pytest.raises(ValidationError):
        repo.import_competitions([repo.validate_competition("other")], new_events=["Bad Slug"])
    assert repo.find_competition("other") is None
