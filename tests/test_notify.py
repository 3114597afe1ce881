"""Notifications against a local webhook receiver: formats, kinds, failures, retries, dedup."""

from __future__ import annotations

import json
import sys
import time
import types
from pathlib import Path

import pytest

import kagsync
from kagsync import notify
from kagsync.sources import FileSource, FolderSource
from kagsync.sync import Syncer
from tests.boards import csv_c
from tests.webhook_receiver import Answer, WebhookReceiver

SECRET = "T0SECRET/B0SECRET/XXXXSECRETTOKEN"
DATE = "2026-05-01 10:00:00"

# Alice (a roster member, "Alice A.") is third, then takes the lead.
BOARD_1 = [
    (1, 1, "Alpha", DATE, "0.90", 1, "bob"),
    (2, 2, "Beta", DATE, "0.80", 1, "carol"),
    (3, 3, "Gamma", DATE, "0.70", 1, "alice"),
]
BOARD_2 = [
    (1, 3, "Gamma", DATE, "0.95", 2, "alice"),
    (2, 1, "Alpha", DATE, "0.90", 1, "bob"),
    (3, 2, "Beta", DATE, "0.80", 1, "carol"),
]


@pytest.fixture
def receiver():
    with WebhookReceiver() as rx:
        yield rx


class Club:
    """A database with an event, a roster, and a competition synced once from a folder."""

    def __init__(self, db_path: Path, folder: Path) -> None:
        self.db_path = db_path
        self.folder = folder
        self.board("comp", BOARD_1)
        self.ks = kagsync.open(db_path, source=folder)
        self.ks.add_event("Night", slug="night")
        self.ks.roster.add("night", "Alice", name="Alice A.", group="blue")
        self.ks.add_competition("comp", title="The Comp", event="night", status="ongoing")

    def board(self, slug: str, rows) -> None:
        (self.folder / f"{slug}.csv").write_text(csv_c(rows), encoding="utf-8")

    def target(self, receiver: WebhookReceiver, name: str, **options):
        options.setdefault("format", "json")
        return self.ks.notifications.add(receiver.url(f"/{name}/{SECRET}"), name=name, **options)

    def rows(self, name: str | None = None):
        sql = """SELECT t.name, n.change_key, n.status, n.attempts, n.error FROM notifications n
                 JOIN notify_targets t ON t.id = n.target_id WHERE n.change_key != 'cursor'"""
        rows = self.ks.database.query(sql + " ORDER BY n.id")
        return [r for r in rows if name is None or r["name"] == name]


@pytest.fixture
def club(db_path, tmp_path):
    folder = tmp_path / "boards"
    folder.mkdir()
    club = Club(db_path, folder)
    yield club
    club.ks.close()


def events_of(request):
    return request.json["events"]


# -- values -----------------------------------------------------------------------------


def test_format_follows_the_url():
    assert notify.detect_format("https://hooks.slack.com/services/T0/B0/XX") == "slack"
    assert notify.detect_format("https://discord.com/api/webhooks/1/abc") == "discord"
    assert notify.detect_format("https://discordapp.com/api/webhooks/1/abc") == "discord"
    assert notify.detect_format("https://discord.com/channels/1") == "json"
    assert notify.detect_format("http://127.0.0.1:9000/hook") == "json"
    assert notify.detect_format("tgram://bottoken/chat") == "apprise"


def test_urls_are_masked_and_scrubbed():
    url = "https://hooks.slack.com/services/T0SECRET/B0SECRET/XXXXSECRETTOKEN"
    assert notify.mask_url(url) == "https://hooks.slack.com/serv…"
    assert notify.mask_url("tgram://123456:ABCDEF/789") == "tgram://123…"
    assert notify.mask_url("http://user:pw@127.0.0.1:8000/x/yz?token=1") == "http://127.0.0.1:8000/x/yz…"
    text = f"failed: POST {url} said no; token XXXXSECRETTOKEN; path /services/T0SECRET/B0SECRET/XXXXSECRETTOKEN"
    scrubbed = notify.scrub(text, [url])
    assert "SECRET" not in scrubbed and "hooks.slack.com/serv…" in scrubbed


def test_kinds():
    # Members are on by default (they speak only where the event has a roster); operator
    # alarms (failing) are asked for.
    assert notify.parse_kinds(None) == ("leader", "top", "member", "final")
    assert notify.parse_kinds("member, leader,leader") == ("leader", "member")
    assert notify.parse_kinds("all") == notify.KINDS
    with pytest.raises(kagsync.errors.ValidationError, match="unknown notification kind 'winner'") as refused:
        notify.parse_kinds("leader,winner")
    # The library names no flag: it carries a hint, which the CLI renders as "--on".
    assert "--" not in str(refused.value) and refused.value.hint == "notify.kinds"
    with pytest.raises(kagsync.errors.ValidationError, match="at least one notification kind"):
        notify.parse_kinds(" , ")


# -- targets on the command line ----------------------------------------------------------


def test_cli_add_list_remove_never_print_the_url(cli, receiver):
    assert cli("event", "add", "Night", "--slug", "night").exit_code == 0
    url = f"https://hooks.slack.com/services/{SECRET}"
    added = cli("notify", "add", url, "--event", "night", "--on", "leader,member", "--member-move", "3")
    assert added.exit_code == 0, added.output
    assert "hooks.slack.com" in added.output and "slack" in added.output
    assert "SECRET" not in added.output
    listed = cli.json("notify", "list")
    assert listed == [
        {
            "name": "hooks.slack.com",
            "url": "https://hooks.slack.com/serv…",
            "format": "slack",
            "event": "night",
            "on": ["leader", "member"],
            "top": 10,
            "member_move": 3,
            "failing_ticks": 3,
            "created_at": listed[0]["created_at"],
            "sent": 0,
            "pending": 0,
            "failed": 0,
            "last_sent_at": None,
            "last_error": None,
        }
    ]
    table = cli("notify", "list")
    assert table.exit_code == 0 and "hooks.slack.com" in table.output and "SECRET" not in table.output
    again = cli("notify", "add", url)
    assert again.exit_code == 1 and "already exists" in again.output and "SECRET" not in again.output
    # The library's hint, rendered by the CLI with its own options.
    assert "give another --name, or remove it first" in again.output
    # The URL can come from stdin, out of the shell's history.
    piped = cli("notify", "add", "-", "--name", "discord", input=f"https://discord.com/api/webhooks/1/{SECRET}\n")
    assert piped.exit_code == 0 and "discord" in piped.output and "SECRET" not in piped.output
    assert [t["format"] for t in cli.json("notify", "list")] == ["discord", "slack"]
    removed = cli("notify", "remove", "hooks.slack.com")
    assert removed.exit_code == 0
    assert [t["name"] for t in cli.json("notify", "list")] == ["discord"]
    gone = cli("notify", "remove", "hooks.slack.com")
    assert gone.exit_code == 1 and "no notification target 'hooks.slack.com' (see `kagsync notify list`)" in gone.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["http://127.0.0.1/x", "--on", "winners"], "--on: unknown notification kind 'winners'"),
        (
            ["ftp://example.com/x", "--format", "json"],
            "needs an http(s) URL, got ftp://exa… (other URLs need --format apprise",
        ),
        (["http://127.0.0.1/x", "--format", "xml"], "--format: unknown notification format 'xml'"),
        (["http://127.0.0.1/x", "--name", "two words"], "invalid target name"),
        (["http://127.0.0.1/x", "--event", "nope"], "no event 'nope'"),
    ],
)
def test_cli_add_refuses_bad_input(cli, args, message):
    cli("event", "add", "Night", "--slug", "night")
    result = cli("notify", "add", *args)
    assert result.exit_code in (1, 2) and message in result.output, result.output


def test_apprise_urls_need_the_extra(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "apprise", None)  # import apprise -> ImportError
    cli("event", "add", "Night", "--slug", "night")
    result = cli("notify", "add", "tgram://123456:SECRETTOKEN/789")
    assert result.exit_code == 1
    assert "pip install 'kagsync[notify]'" in result.output and "SECRETTOKEN" not in result.output


def test_cli_test_and_send(cli, receiver, club):
    club.target(receiver, "ok")
    result = cli("notify", "test", "ok")
    assert result.exit_code == 0, result.output
    [request] = receiver.received()
    assert events_of(request)[0]["kind"] == "test"
    receiver.fail(404, body=f"no such hook {SECRET}".encode())
    result = cli("notify", "test", "ok")
    assert result.exit_code == 1 and "HTTP 404" in result.output and "SECRET" not in result.output
    # send: announce what was synced without a pass (nothing here), then a move.
    assert "Nothing to send" in cli("notify", "send").output
    Syncer(club.db_path, FileSource(club.folder / "comp.csv")).sync(club.ks.competitions.get("comp"), "manual")
    club.board("comp", BOARD_2)
    Syncer(club.db_path, FileSource(club.folder / "comp.csv")).sync(club.ks.competitions.get("comp"), "manual")
    sent = cli("notify", "send")
    assert sent.exit_code == 0 and "Sent 1 change(s) to ok" in sent.output
    assert [e["kind"] for e in events_of(receiver.received()[-1])] == ["leader"]


# -- one message per target per pass -----------------------------------------------------


def test_watch_tick_where_a_member_takes_the_lead_sends_one_message_per_target(cli, club, receiver):
    club.target(receiver, "slack", format="slack", on="all", event="night")
    club.target(receiver, "discord", format="discord", on="all", event="night")
    club.target(receiver, "json", on="all")
    club.board("comp", BOARD_2)
    result = cli("--source", str(club.folder), "watch", "--once")
    assert result.exit_code == 0, result.output
    requests = receiver.received()
    assert sorted(r.path.split("/")[1] for r in requests) == ["discord", "json", "slack"]

    slack = receiver.received(f"/slack/{SECRET}")[0].json
    assert set(slack) == {"text", "blocks"}
    assert "Gamma (Alice A.) took the lead with 0.95 (was #3; before: Alpha)" in slack["text"]
    assert slack["blocks"][0]["type"] == "section"
    assert "*<https://www.kaggle.com/competitions/comp|The Comp>*" in slack["blocks"][0]["text"]["text"]

    discord = receiver.received(f"/discord/{SECRET}")[0].json
    assert set(discord) == {"content", "embeds", "allowed_mentions"}
    assert len(discord["content"]) <= 2000 and discord["allowed_mentions"] == {"parse": []}
    assert discord["embeds"][0]["title"] == "The Comp"
    assert discord["embeds"][0]["url"] == "https://www.kaggle.com/competitions/comp"
    assert "took the lead" in discord["embeds"][0]["description"]

    document = receiver.received(f"/json/{SECRET}")[0].json
    assert document["source"] == "kagsync" and document["version"] == 1 and document["target"] == "json"
    [leader] = [e for e in document["events"] if e["kind"] == "leader"]
    assert leader["team_name"] == "Gamma" and leader["previous_rank"] == 3 and leader["roster"] == ["Alice A."]
    assert leader["competition"] == "comp" and leader["event"] == "night" and leader["board"] == "public"
    # Gamma also entered... nothing: it was already in the top 10; the leader is not repeated as "top".
    assert [e["kind"] for e in document["events"]] == ["leader"]

    # A quiet tick sends nothing.
    assert cli("--source", str(club.folder), "watch", "--once").exit_code == 0
    assert len(receiver.received()) == 3
    assert {r["status"] for r in club.rows()} == {"sent"}


def test_first_sync_of_a_board_announces_nothing(club, receiver):
    club.target(receiver, "json", on="all")
    club.board("other", BOARD_1)
    club.ks.add_competition("other", event="night", status="ongoing")
    assert receiver.received() == [] and club.rows() == []


def test_one_message_summarises_every_change_of_a_pass(club, receiver):
    club.target(receiver, "json", on="leader,top", top=2)
    club.board("other", BOARD_1)
    club.ks.add_competition("other", event="night", status="ongoing")
    club.board("comp", BOARD_2)
    club.board("other", list(reversed([(r, *rest) for r, *rest in BOARD_2])))
    club.board(
        "other",
        [
            (1, 2, "Beta", DATE, "0.99", 2, "carol"),
            (2, 1, "Alpha", DATE, "0.90", 1, "bob"),
            (3, 3, "Gamma", DATE, "0.70", 1, "alice"),
        ],
    )
    club.ks.syncs.tick()
    [request] = receiver.received()
    kinds = [(e["competition"], e["kind"], e.get("direction")) for e in events_of(request)]
    # comp: Gamma leads (Beta is pushed out of the top 2); other: Beta leads.
    assert kinds == [("comp", "leader", None), ("comp", "top", "out"), ("other", "leader", None)]
    # The header names the event, not "kagsync: 3 changes on 2 competitions".
    assert request.json["text"].splitlines()[0] == "Night"


# -- failures, retries, dedup ------------------------------------------------------------


def test_a_target_down_during_a_tick_gets_the_message_once_when_back(club, receiver):
    club.target(receiver, "json")
    receiver.stop()
    club.board("comp", BOARD_2)
    club.ks.syncs.tick()
    [row] = club.rows()
    assert row["status"] == "failed" and row["attempts"] == 1 and "cannot reach" in row["error"]
    [listed] = club.ks.notifications.targets()
    assert listed["failed"] == 1 and "cannot reach" in listed["last_error"]
    receiver.start()
    club.ks.syncs.tick()  # nothing new on the board: the pending change goes out
    [request] = receiver.received()
    assert [e["kind"] for e in events_of(request)] == ["leader"]
    club.ks.syncs.tick()
    assert len(receiver.received()) == 1
    assert [(r["status"], r["attempts"], r["error"]) for r in club.rows()] == [("sent", 2, None)]


def test_server_error_is_retried_on_the_next_pass(club, receiver):
    club.target(receiver, "json")
    receiver.fail(500)
    club.board("comp", BOARD_2)
    club.ks.syncs.tick()
    assert [r.status for r in receiver.received(status=None)] == [500]
    assert club.rows()[0]["error"] == "HTTP 500: server error"
    club.ks.notifications.run_pass()
    assert [r.status for r in receiver.received(status=None)] == [500, 200]
    assert club.rows()[0]["status"] == "sent"


@pytest.mark.parametrize("style", ["header", "body"])
def test_rate_limit_with_a_short_wait_is_honoured_within_the_pass(club, receiver, style):
    club.target(receiver, "json")
    receiver.rate_limit(0.5, style=style)
    club.board("comp", BOARD_2)
    started = time.monotonic()
    club.ks.syncs.tick()
    assert time.monotonic() - started >= 0.5
    assert [r.status for r in receiver.received(status=None)] == [429, 200]
    assert club.rows()[0]["status"] == "sent"


def test_rate_limit_with_a_long_wait_is_left_for_the_next_pass(club, receiver):
    club.target(receiver, "json")
    receiver.rate_limit(60)
    club.board("comp", BOARD_2)
    club.ks.syncs.tick()
    assert [r.status for r in receiver.received(status=None)] == [429]
    assert club.rows()[0]["error"] == "rate limited (HTTP 429); retry after 60 s"
    club.ks.notifications.run_pass()
    assert [r.status for r in receiver.received(status=None)] == [429, 200]


def test_a_slow_target_never_holds_the_pass(club, receiver):
    club.target(receiver, "slow")
    receiver.delay = 8.0
    club.board("comp", BOARD_2)
    started = time.monotonic()
    club.ks.syncs.tick()
    assert time.monotonic() - started < notify.TARGET_DEADLINE + 2
    assert club.rows()[0]["status"] == "failed" and "no answer" in club.rows()[0]["error"]


def test_a_change_is_never_announced_twice(club, receiver):
    club.target(receiver, "json")
    club.board("comp", BOARD_2)
    club.ks.syncs.tick()
    assert len(receiver.received()) == 1
    # Even examining every run again records nothing new.
    club.ks.database.conn.execute("UPDATE notifications SET payload = '{\"run_id\": 0}' WHERE change_key = 'cursor'")
    assert notify.record_changes(club.ks.database) == {"json": 0}
    club.ks.notifications.run_pass()
    assert len(receiver.received()) == 1


def test_nothing_is_lost_when_a_process_dies_between_commit_and_send(club, receiver, db_path):
    club.target(receiver, "json")
    club.board("comp", BOARD_2)
    # A sync whose process died before its pass announced anything: no after_pass at all.
    Syncer(db_path, FileSource(club.folder / "comp.csv")).sync(club.ks.competitions.get("comp"), "watch")
    # Another died after recording the change, before sending it.
    assert notify.record_changes(club.ks.database) == {"json": 1}
    assert receiver.received() == []
    with kagsync.open(db_path, source=club.folder) as later:
        later.syncs.tick()
    [request] = receiver.received()
    assert [e["kind"] for e in events_of(request)] == ["leader"]


def test_a_target_added_later_does_not_announce_the_past(club, receiver):
    club.board("comp", BOARD_2)
    club.ks.syncs.tick()
    club.target(receiver, "json")
    club.ks.syncs.tick()
    assert receiver.received() == [] and club.rows() == []


def test_errors_and_logs_never_hold_the_url(club, receiver, db_path):
    club.target(receiver, "json")
    receiver.fail(404, body=f"unknown webhook /json/{SECRET}".encode())
    club.board("comp", BOARD_2)
    club.ks.syncs.tick()
    error = club.rows()[0]["error"]
    assert error.startswith("HTTP 404") and "SECRET" not in error
    log = db_path.with_suffix(".log")
    assert not log.exists() or "SECRET" not in log.read_text()


def test_after_pass_never_fails_a_sync(club, receiver, monkeypatch, caplog):
    club.target(receiver, "json")

    def broken(database, **_):
        raise RuntimeError("boom with " + receiver.url("/json/" + SECRET))

    monkeypatch.setattr(notify, "run_pass", broken)
    club.board("comp", BOARD_2)
    report = club.ks.syncs.tick()
    assert report.ok
    assert any("boom" in r.getMessage() for r in caplog.records)
    assert all("XXXXSECRETTOKEN" not in r.getMessage() for r in caplog.records)
    assert any(f"boom with {receiver.url('/json…')}" in r.getMessage() for r in caplog.records)


# -- kinds --------------------------------------------------------------------------------


def test_top_and_member_kinds(club, receiver):
    club.ks.roster.add("night", "carol", name="Carol C.")
    club.ks.roster.add("night", "dave")
    club.target(receiver, "json", on="top,member", top=2, member_move=2)
    club.board(
        "comp",
        [
            (1, 1, "Alpha", DATE, "0.90", 1, "bob"),
            (2, 3, "Gamma", DATE, "0.85", 2, "alice"),  # alice 3 -> 2: enters the top 2, moves 1 (< 2)
            (3, 4, "Delta", DATE, "0.81", 1, "dave"),  # dave's first submission
            (4, 2, "Beta", DATE, "0.80", 1, "carol"),  # carol 2 -> 4: leaves the top 2, falls 2
        ],
    )
    club.ks.syncs.tick()
    events = events_of(receiver.received()[0])
    assert [(e["kind"], e["text"]) for e in events] == [
        ("top", "Beta (Carol C.) left the top 2 (now #4)"),
        ("top", "Gamma (Alice A.) entered the top 2 at #2 (was #3)"),
        ("member", "Beta (Carol C.) fell 2 places to #4 (was #2)"),
        ("member", "Delta (dave) made a first submission: #3"),
    ]
    # In the message, Beta's two changes are one line.
    assert receiver.received()[0].json["text"].splitlines()[1:] == [
        "• The Comp: Beta (Carol C.) left the top 2 (now #4, down 2 places from #2)",
        "• The Comp: Gamma (Alice A.) entered the top 2 at #2 (was #3)",
        "• The Comp: Delta (dave) made a first submission: #3",
    ]
    member = events[2]
    assert (member["username"], member["movement"], member["first"], member["group"]) == ("carol", -2, False, None)


def test_failing_once_per_streak_and_recovery(club, receiver):
    club.target(receiver, "json", on="failing", failing_ticks=2)
    (club.folder / "comp.csv").rename(club.folder / "comp.csv.away")
    club.ks.syncs.tick()
    assert receiver.received() == []
    club.ks.syncs.tick()
    [request] = receiver.received()
    [event] = events_of(request)
    assert event["kind"] == "failing" and event["failures"] == 2 and event["error_kind"] == "source"
    assert event["text"].startswith("the leaderboard could not be updated 2 times in a row since")
    # Worded for a person: no internal error text in the line (it stays in the event's data).
    assert event["text"].endswith(": the leaderboard could not be found where kagsync reads it")
    assert "no leaderboard for" in event["error"]
    club.ks.syncs.tick()  # the same streak goes on: not announced again
    assert len(receiver.received()) == 1
    (club.folder / "comp.csv.away").rename(club.folder / "comp.csv")
    club.ks.syncs.tick()
    [event] = events_of(receiver.received()[1])
    assert (event["kind"], event["recovered"], event["text"]) == (
        "failing",
        True,
        "the leaderboard is updated again, after 3 failed attempts",
    )


def test_final_board_is_announced_once_with_podium_and_shake_up(club, receiver, db_path):
    club.target(receiver, "json", on="final")
    club.board(
        "comp.private",
        [
            (1, 2, "Beta", DATE, "0.91", 1, "carol"),  # public #2
            (2, 3, "Gamma", DATE, "0.90", 1, "alice"),  # public #3
            (3, 1, "Alpha", DATE, "0.85", 1, "bob"),  # public #1
        ],
    )
    syncer = Syncer(db_path, FolderSource(club.folder))
    assert syncer.sync(club.ks.competitions.get("comp"), "manual", board="private").ok
    club.ks.notifications.run_pass()
    [event] = events_of(receiver.received()[0])
    assert event["kind"] == "final" and event["key"] == "final:comp" and event["board"] == "private"
    assert [(p["rank"], p["team_name"], p["public_rank"]) for p in event["podium"]] == [
        (1, "Beta", 2),
        (2, "Gamma", 3),
        (3, "Alpha", 1),
    ]
    assert event["kept_in_top10"] == 3
    assert event["text"] == (
        "final results: 1. Beta (public #2), 2. Gamma (public #3), 3. Alpha (public #1); "
        "3 of the public top 10 stayed in the top 10; biggest climb: Gamma, #3 → #2\n"
        "Alice A. (Gamma) finished #2 (up 1 place from public #3)"
    )
    assert event["roster_results"] == [
        {"username": "Alice", "name": "Alice A.", "team_name": "Gamma", "rank": 2, "public_rank": 3, "movement": 1}
    ]
    assert syncer.sync(club.ks.competitions.get("comp"), "manual", board="private").ok
    club.ks.notifications.run_pass()
    assert len(receiver.received()) == 1


def test_dates_started_and_ended(club, receiver):
    target = club.target(receiver, "json", on="dates")
    club.ks.database.conn.execute(
        "UPDATE notify_targets SET created_at = '2020-01-01T00:00:00Z' WHERE id = ?", (target.id,)
    )
    club.ks.competitions.edit("comp", kagsync.CompetitionFields(start="2021-01-01", end="2021-02-01"))
    club.ks.notifications.run_pass()
    [started] = events_of(receiver.received()[0])
    assert (started["kind"], started["what"], started["text"]) == (
        "dates",
        "start",
        "has started (2021-01-01 00:00 UTC)",
    )
    club.ks.competitions.set_status("comp", "completed")
    [ended] = events_of(receiver.received()[1])
    assert (ended["what"], ended["key"]) == ("end", "dates:comp:end:2021-02-01T00:00:00Z")
    club.ks.notifications.run_pass()
    assert len(receiver.received()) == 2


def test_a_target_of_one_event_hears_only_that_event(club, receiver):
    club.ks.add_event("Other", slug="other")
    club.target(receiver, "json", event="other")
    club.board("comp", BOARD_2)
    club.ks.syncs.tick()
    assert receiver.received() == []


def test_apprise_targets(club, monkeypatch):
    sent = []

    class Apprise:
        def add(self, url):
            self.url = url
            return url.startswith("tgram://")

        def notify(self, body, title):
            sent.append((self.url, title, body))
            return True

    monkeypatch.setitem(sys.modules, "apprise", types.SimpleNamespace(Apprise=Apprise))
    target = club.ks.notifications.add("tgram://123456:TOKEN/789")
    assert (target.name, target.format) == ("tgram", "apprise")
    club.board("comp", BOARD_2)
    club.ks.syncs.tick()
    [(url, title, body)] = sent
    assert url == "tgram://123456:TOKEN/789" and title.startswith("The Comp: Gamma (Alice A.) took the lead")
    assert club.rows()[0]["status"] == "sent"


# -- the HTTP stack -------------------------------------------------------------------------


def test_a_redirect_is_never_followed(club, receiver):
    club.target(receiver, "json")
    receiver.answers.append(Answer(302, b"moved", {"Location": receiver.url("/elsewhere")}))
    club.board("comp", BOARD_2)
    club.ks.syncs.tick()
    assert [(r.path, r.status) for r in receiver.received(status=None)] == [(f"/json/{SECRET}", 302)]
    [row] = club.rows()
    assert row["status"] == "failed" and row["error"] == "HTTP 302: moved"


def test_the_http_stack_is_requests():
    # One HTTP stack for the package (issue 17): notifications go through requests.
    import kagsync.notify.delivery as delivery

    source = Path(delivery.__file__).read_text(encoding="utf-8")
    assert "urllib.request" not in source and "requests.post(" in source


def test_a_remote_error_body_with_terminal_escapes_is_shown_escaped(cli, club, receiver):
    club.target(receiver, "json")
    receiver.fail(400, body=b"bad \x1b[2J\x1b]0;pwned\x07 request")
    club.board("comp", BOARD_2)
    club.ks.syncs.tick()
    [row] = club.rows()
    assert "\x1b" not in row["error"] and "\x07" not in row["error"]
    assert row["error"] == "HTTP 400: bad \\x1b[2J\\x1b]0;pwned\\x07 request"
    listed = cli("notify", "list")
    assert listed.exit_code == 0 and "\x1b" not in listed.output
    assert "\x1b" not in json.dumps(cli.json("notify", "list"), ensure_ascii=False)
    receiver.fail(400, body=b"again \x1b[2J")
    sent = cli("notify", "send")
    assert sent.exit_code == 1 and "\x1b" not in sent.output and "again \\x1b[2J" in sent.output
    log = club.db_path.with_suffix(".log").read_text(encoding="utf-8")
    assert "\x1b" not in log and "could not send to json: HTTP 400: again \\x1b[2J" in log


def test_the_notify_package_names_no_cli_flag():
    # Library strings carry hints; only kagsync/cli names flags (issue 17 item 4).
    import ast
    import re

    package = Path(notify.__file__).parent
    found = []
    for module in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found += [f"{module.name}: {m}" for m in re.findall(r"(?<![\w-])--[a-z][\w-]*", node.value)]
                found += [f"{module.name}: {m}" for m in re.findall(r"`kagsync [a-z]+", node.value)]
    assert found == []
