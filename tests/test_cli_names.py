"""Issue 19 item 5: names a user of the kaggle CLI and gh types -- plural nouns and ls,
one rule for what is top-level, "did you mean" pointing to the right place, --help in
workflow order, history --user, and events and competitions named by their title."""

from __future__ import annotations

import json
import re

import pytest

from tests.test_cli_piped import demo  # noqa: F401


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        (("competitions", "list"), ("competition", "list")),
        (("competitions", "ls"), ("competition", "list")),
        (("events", "list"), ("event", "list")),
        (("event", "ls"), ("event", "list")),
        (("roster", "ls", "neural-night-2025"), ("roster", "list", "neural-night-2025")),
        (("notify", "ls"), ("notify", "list")),
    ],
)
def test_plural_nouns_and_ls_are_aliases(demo, alias, canonical):  # noqa: F811
    got, want = demo(*alias), demo(*canonical)
    assert got.exit_code == 0, got.output
    assert got.stdout == want.stdout


def test_global_options_follow_an_alias(demo):  # noqa: F811
    result = demo("competitions", "ls", "--json", "-q")
    assert result.exit_code == 0, result.output
    assert {c["slug"] for c in json.loads(result.stdout)} >= {"titanic"}


def test_views_are_top_level_and_did_you_mean_points_there(demo):  # noqa: F811
    top = demo("standings", "neural-night-2025", "--top", "3")
    assert top.exit_code == 0, top.output
    assert demo("event", "standings", "neural-night-2025", "--top", "3").stdout == top.stdout  # the old name works
    wrong = demo("event", "leaderboard", "titanic")
    assert wrong.exit_code == 2 and "Did you mean: kagsync leaderboard?" in wrong.output
    wrong = demo("refresh", "titanic")
    assert wrong.exit_code == 2 and "Did you mean: kagsync competition refresh?" in wrong.output
    wrong = demo("competition", "sync", "titanic")
    assert "Did you mean: kagsync sync?" in wrong.output
    typo = demo("leaderbord", "titanic")
    assert typo.exit_code == 2 and "Did you mean 'leaderboard'?" in typo.output


def test_help_lists_the_commands_in_workflow_order(demo):  # noqa: F811
    text = demo("--help").stdout
    order = re.findall(r"^  ([a-z-]+)  ", text.split("Commands:")[1], re.M)
    assert order == [
        "event",
        "competition",
        "import",
        "sync",
        "watch",
        "runs",
        "leaderboard",
        "history",
        "movers",
        "standings",
        "shakeup",
        "report",
        "serve",
        "export",
        "roster",
        "notify",
        "config",
    ]
    event_help = demo("event", "--help").stdout.split("Commands:")[1]
    assert "standings" not in re.findall(r"^  ([a-z-]+)  ", event_help, re.M)  # hidden there, still accepted


def test_history_takes_user_like_leaderboard(demo):  # noqa: F811
    entry = json.loads(demo("leaderboard", "titanic", "--top", "1", "--json").stdout)[0]
    user = entry["members"][0]
    by_user = demo("history", "titanic", "--user", user.upper())
    assert by_user.exit_code == 0, by_user.output
    assert by_user.stdout == demo("history", "titanic", "--team", str(entry["team_id"])).stdout
    assert demo("history", "titanic", "--user", "nobody-at-all").exit_code == 1
    both = demo("history", "titanic", "--user", user, "--team", "x")
    assert both.exit_code == 2 and "one of --team" in both.output


def test_a_mistyped_slug_gets_did_you_mean(demo):  # noqa: F811
    result = demo("leaderboard", "titanik")
    assert result.exit_code == 1
    assert "did you mean 'titanic'" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "did you mean 'neural-night-2025'" in demo("standings", "neural-nigth-2025").stderr
    unknown = demo("leaderboard", "zzzzzz")
    assert unknown.exit_code == 1 and "did you mean" not in unknown.stderr


def test_titles_are_accepted_where_slugs_are(demo):  # noqa: F811
    assert demo("event", "edit", "neural-night-2025", "--title", "Neural Night 2025").exit_code == 0
    by_title = demo("standings", "neural night 2025", "--top", "2")
    assert by_title.exit_code == 0, by_title.output
    assert by_title.stdout == demo("standings", "neural-night-2025", "--top", "2").stdout
    assert demo("event", "show", "Neural Night 2025").exit_code == 0
    board = demo("leaderboard", "Spaceship Titanic", "--top", "2")
    assert board.exit_code == 0 and board.stdout == demo("leaderboard", "spaceship-titanic", "--top", "2").stdout
    marked = demo("leaderboard", "titanic", "--event", "Neural Night 2025", "--top", "1")
    assert marked.exit_code == 0 and marked.stdout.splitlines()[0].endswith("Roster")


def test_every_competition_argument_takes_a_title_and_says_did_you_mean(demo):  # noqa: F811
    shakeup = demo("shakeup", "Winter Cup 2026", "--top", "2")
    assert shakeup.exit_code == 0, shakeup.output
    assert shakeup.stdout == demo("shakeup", "winter-cup-2026", "--top", "2").stdout
    runs = demo("runs", "House Prices", "-n", "1")
    assert runs.exit_code == 0 and "house-prices-advanced-regression-techniques" in runs.stdout
    before = demo("runs", "-n", "100").stdout
    wrong = demo("sync", "titanik")
    assert wrong.exit_code == 1 and "did you mean 'titanic'" in wrong.stderr
    assert demo("runs", "-n", "100").stdout == before  # nothing was synced


def test_event_options_take_a_title_and_say_did_you_mean(demo):  # noqa: F811
    listed = demo("competition", "list", "--event", "Neural-Night-2025")
    assert listed.exit_code == 0 and listed.stdout == demo("competition", "list", "--event", "neural-night-2025").stdout
    wrong = demo("competition", "add", "new-one", "--event", "neural nite 2025", "--no-sync")
    assert wrong.exit_code == 1 and "did you mean 'neural-night-2025'" in wrong.stderr
    assert "new-one" not in demo("competition", "list").stdout
