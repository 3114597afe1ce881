"""Notifications a club wants (issue 19 item 4): a 12-member roster and a Slack target on a
board of 5,000 teams: one line per team, members on by default, the roster's finish in
the final message, titled headers, no redundant names, thousands separators, and
operator alarms only when asked for, worded for a person."""

from __future__ import annotations

from pathlib import Path

import pytest

import kagsync
from kagsync import notify
from kagsync.sources import FolderSource
from kagsync.sync import Syncer
from tests.boards import csv_c
from tests.webhook_receiver import WebhookReceiver

SECRET = "T0SECRET/B0SECRET/XXXXSECRETTOKEN"
DATE = "2026-05-01 10:00:00"
TEAMS = 5_000

# Twelve members; two of them are on the board below.
ROSTER = [
    ("anna9314", "Anna Novak"),
    ("chenming", "Chenming Cui"),
    *((f"member{i}", f"Member {i}") for i in range(10)),
]


def board(moves: dict[int, int] | None = None) -> list[tuple]:
    """5,000 teams by team id; ``moves`` puts a team id at another rank (the rest follow)."""
    order = list(range(1, TEAMS + 1))
    for team_id, rank in (moves or {}).items():
        order.remove(team_id)
        order.insert(rank - 1, team_id)
    rows = []
    for rank, team_id in enumerate(order, start=1):
        name, member = f"Team {team_id}", f"user{team_id}"
        if team_id == 4511:
            name, member = "渡邉杏奈", "anna9314"
        elif team_id == 2000:
            name, member = "Chenming Cui", "chenming"
        rows.append((rank, team_id, name, DATE, f"{1 - rank / 10_000:.4f}", 1, member))
    return rows


@pytest.fixture
def receiver():
    with WebhookReceiver() as rx:
        yield rx


@pytest.fixture
def night(db_path: Path, tmp_path: Path):
    folder = tmp_path / "boards"
    folder.mkdir()
    (folder / "hp.csv").write_text(csv_c(board()), encoding="utf-8")
    ks = kagsync.open(db_path, source=folder)
    ks.add_event("Neural Night 2025", slug="neural-night-2025")
    for username, name in ROSTER:
        ks.roster.add("neural-night-2025", username, name=name)
    ks.add_competition("hp", title="House Prices", event="neural-night-2025", status="ongoing")
    ks.folder = folder
    yield ks
    ks.close()


def slack_target(ks, receiver: WebhookReceiver, **options):
    return ks.notifications.add(
        receiver.url(f"/slack/{SECRET}"), name="club", format="slack", event="neural-night-2025", **options
    )


def lines_of(request) -> list[str]:
    return request.json["text"].splitlines()


def test_a_club_hears_its_members_in_one_line_per_team(night, receiver):
    target = slack_target(night, receiver)
    assert target.kinds == ("leader", "top", "member", "final")
    # Anna's team climbs from #4,511 to #1; Chenming Cui from #2,000 to #1,490.
    (night.folder / "hp.csv").write_text(csv_c(board({4511: 1, 2000: 1490})), encoding="utf-8")
    night.syncs.tick()
    [request] = receiver.received()
    lines = lines_of(request)
    # The header names the event, and the competition is named by its title.
    assert lines[0] == "Neural Night 2025"
    assert request.json["blocks"][0]["text"]["text"] == "*Neural Night 2025*"
    assert "*<https://www.kaggle.com/competitions/hp|House Prices>*" in request.json["blocks"][1]["text"]["text"]
    anna = [line for line in lines if "Anna" in line]
    assert anna == [
        "• House Prices: 渡邉杏奈 (Anna Novak) took the lead with 0.9999 (up 4,510 places from #4,511; before: Team 1)"
    ]
    # A member's climb is on by default; a solo team named as its member is not named twice.
    assert "• House Prices: Chenming Cui climbed 510 places to #1,490 (was #2,000)" in lines
    assert not any("(Chenming Cui)" in line for line in lines)
    assert "• House Prices: Team 10 left the top 10 (now #11)" in lines
    assert len(lines) == 4


def test_members_are_silent_without_a_roster(night, receiver):
    night.add_event("Other", slug="other")
    (night.folder / "solo.csv").write_text(csv_c(board()), encoding="utf-8")
    night.add_competition("solo", title="Solo", event="other", status="ongoing")
    target = night.notifications.add(receiver.url(f"/other/{SECRET}"), name="other", format="json", event="other")
    assert "member" in target.kinds
    everyone = night.notifications.add(receiver.url(f"/all/{SECRET}"), name="all", format="json", on="member")
    assert everyone.event is None
    (night.folder / "solo.csv").write_text(csv_c(board({2000: 1490})), encoding="utf-8")
    (night.folder / "hp.csv").write_text(csv_c(board({2000: 1490})), encoding="utf-8")
    night.syncs.tick()
    # Chenming's climb is news where the event has a roster (House Prices), not on Solo.
    assert receiver.received(f"/other/{SECRET}") == []
    [request] = receiver.received(f"/all/{SECRET}")
    assert [(e["competition"], e["username"]) for e in request.json["events"]] == [("hp", "chenming")]


def test_the_final_message_says_where_each_member_finished(night, receiver, db_path):
    slack_target(night, receiver, on="final")
    (night.folder / "hp.private.csv").write_text(csv_c(board({2000: 3, 4511: 4000})), encoding="utf-8")
    assert Syncer(db_path, FolderSource(night.folder)).sync(night.competitions.get("hp"), "manual", board="private").ok
    night.notifications.run_pass()
    [request] = receiver.received()
    text = request.json["text"]
    assert text.startswith("House Prices: final results: 1. Team 1 (public #1), 2. Team 2 (public #2), 3. Chenming Cui")
    assert "    ◦ Chenming Cui finished #3 (up 1,997 places from public #2,000)" in text.splitlines()
    assert "    ◦ Anna Novak (渡邉杏奈) finished #4,000 (up 511 places from public #4,511)" in text.splitlines()
    section = request.json["blocks"][0]["text"]["text"]
    assert "◦ Chenming Cui finished #3" in section


def test_operator_alarms_are_off_by_default_and_worded_for_a_person(night, receiver):
    quiet = slack_target(night, receiver)
    assert "failing" not in quiet.kinds
    night.notifications.add(receiver.url(f"/ops/{SECRET}"), name="ops", format="json", on="failing", failing_ticks=2)
    (night.folder / "hp.csv").rename(night.folder / "hp.away")
    night.syncs.tick()
    night.syncs.tick()
    assert receiver.received(f"/slack/{SECRET}") == []
    [request] = receiver.received(f"/ops/{SECRET}")
    [event] = request.json["events"]
    assert event["kind"] == "failing" and event["error_kind"] == "source"
    assert event["text"].startswith("the leaderboard could not be updated 2 times in a row since ")
    assert "no leaderboard for" not in event["text"] and "source" not in event["text"]


def test_thousands_separators_and_folding_in_the_words():
    anna = notify.MemberChange(
        key="member:hp:public:7:anna9314",
        kind="member",
        text="",
        at=None,
        board="public",
        run_id=7,
        username="anna9314",
        name="Anna Novak",
        group=None,
        team_id=4511,
        team_name="Anna Novak",
        rank=12,
        previous_rank=4522,
        movement=4510,
        first=False,
        score="0.9",
    )
    top = notify.TopChange(
        key="top:hp:public:7:4511:in",
        kind="top",
        text="",
        at=None,
        board="public",
        run_id=7,
        team_id=4511,
        team_name="Anna Novak",
        members=["anna9314"],
        roster=["Anna Novak"],
        rank=12,
        previous_rank=4522,
        direction="in",
        top_n=20,
        score="0.9",
    )
    from kagsync.notify.wording import team_line

    assert team_line([anna]) == "Anna Novak climbed 4,510 places to #12 (was #4,522)"
    assert team_line([top, anna]) == "Anna Novak entered the top 20 at #12 (up 4,510 places from #4,522)"
    folded = notify.sections([top, anna])
    assert [section.lines for section in folded] == [
        ["Anna Novak entered the top 20 at #12 (up 4,510 places from #4,522)"]
    ]


def test_a_team_moving_over_several_runs_of_one_message_is_one_line():
    def climb(run_id, before, after):
        return notify.MemberChange(
            key=f"member:hp:public:{run_id}:kim",
            kind="member",
            text="",
            at=None,
            board="public",
            run_id=run_id,
            username="kim",
            name="Kim",
            group=None,
            team_id=9,
            team_name="Kim's team",
            rank=after,
            previous_rank=before,
            movement=before - after,
            first=False,
            score="0.5",
        )

    # A failed send left run 7's change pending; run 8 adds another climb (out of order).
    [section] = notify.sections([climb(8, 1_300, 1_200), climb(7, 2_500, 1_300)])
    assert section.lines == ["Kim's team (Kim) climbed 1,300 places to #1,200 (was #2,500)"]
