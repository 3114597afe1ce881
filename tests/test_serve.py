"""kagsync serve over HTTP: every page and its JSON, errors, methods, the token, ETags,
read-only opening and secrets (starlette's TestClient; no real browser here)."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import warnings
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from markupsafe import escape

import kagsync
from kagsync.models import CompetitionFields
from kagsync.serve.app import create_app
from kagsync.serve.guard import GuardConfig
from kagsync.serve.server import ServeOptions, exposure, guard_config, is_loopback
from tests.serve_demo import EVENT, HOSTILE, HOSTILE_SLUG, SLACK_URL, build_demo, copy_demo, environ

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return build_demo(tmp_path_factory.mktemp("serve-demo"))


@pytest.fixture(scope="module")
def client(demo):
    with TestClient(create_app(demo)) as client:
        yield client


def api(demo: Path):
    return kagsync.open(demo, mode="read", environ=environ(demo.parent))


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        for name in ("href", "src"):
            if attrs.get(name):
                self.links.append(attrs[name])


def parse(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


def _kind(path: str) -> str:
    """A page's kind: its path with names and numbers taken out."""
    parts = path.split("?")[0].split("/")
    return "/".join(parts[:2] + ["*" for _ in parts[2:]]) + ("?" if "?" in path else "")


def crawl(client, start: str = "/", limit: int = 400, per_kind: int = 12) -> dict[str, object]:
    """The pages reachable from ``start`` by links on this server, at most ``per_kind``
    of each kind (a member page, a team page...)."""
    seen: dict[str, object] = {}
    kinds: dict[str, int] = {}
    queue = [start]
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        for link in parse(response.text).links:
            absolute = urljoin("http://testserver" + url, link)
            parts = urlsplit(absolute)
            if parts.netloc != "testserver":
                continue
            path = parts.path + (("?" + parts.query) if parts.query else "")
            if "page=" in parts.query and not re.search(r"page=[12](&|$)", parts.query):
                continue  # the first pages of each list are enough
            if path not in seen and path not in queue and kinds.get(_kind(path), 0) < per_kind:
                kinds[_kind(path)] = kinds.get(_kind(path), 0) + 1
                queue.append(path)
    return seen


# -- pages ------------------------------------------------------------------------


def test_home_lists_events_competitions_status_last_sync_and_health(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert "Neural Night 2025" in html or EVENT in html
    assert 'href="/events/neural-night-2025"' in html
    assert 'href="/competitions/titanic"' in html and "Titanic - Machine Learning from Disaster" in html
    assert "ongoing" in html and "last sync 20" in html and ">ok<" in html
    data = client.get("/index.json").json()
    titanic = next(c for c in data["competitions"] if c["slug"] == "titanic")
    assert titanic["health"]["state"] == "ok" and titanic["health"]["failures"] == 0
    assert titanic["health"]["last_synced_at"] == titanic["last_synced_at"]
    assert {e["slug"] for e in data["events"]} == {EVENT, "cup-night"}


def test_event_page_has_standings_titles_deadlines_and_marks(client, demo):
    html = client.get(f"/events/{EVENT}").text
    with api(demo) as ks:
        standings = ks.events.standings(EVENT)
        competitions = ks.competitions(event=EVENT)
    # One column per competition, named by its title; final/provisional marks.
    for competition in competitions:
        assert f'title="{escape(competition.title)}"' in html
    assert 'class="badge final">final</span>' in html and ">provisional<" in html
    # A countdown to each deadline (the JS keeps it ticking; the time is in the markup).
    assert 'class="countdown" datetime="2027-03-01' in html
    rows = re.findall(r'<tr class="standing[^"]*" data-key="([^"]*)" data-rank="(\d*)"', html)
    assert [(unescape(k), p) for k, p in rows] == [(r.key, str(r.place)) for r in standings.rows[:100]]
    assert "Showing" not in html and "places 1–100 of" in html
    second = client.get(f"/events/{EVENT}?page=2").text
    assert unescape(re.findall(r'data-key="([^"]*)" data-rank', second)[0]) == standings.rows[100].key
    rank_sum = client.get(f"/events/{EVENT}.json?scheme=rank-sum").json()
    assert rank_sum["standings"]["scheme"] == "rank-sum"


def test_event_with_a_roster_marks_members_and_escapes_them(client):
    html = client.get("/events/cup-night").text
    assert "Mallory &lt;Evil&gt;" in html and "Mallory <Evil>" not in html
    assert 'class="badge member">member · red</span>' in html
    assert "Cup &lt;b&gt;night&lt;/b&gt;" in html
    board = client.get(f"/competitions/{HOSTILE_SLUG}").text
    assert '<tr class="entry member"' in board  # the roster's teams are marked on the board too


def test_competition_board_pages_search_baselines_and_shakeup(client, demo):
    with api(demo) as ks:
        top = ks.leaderboard("titanic", top=100)
        total = ks.competitions.get("titanic").entry_count
    page1 = client.get("/competitions/titanic.json").json()
    assert page1["entries"] == top[:50] and page1["total"] == total and page1["pages"] == -(-total // 50)
    page2 = client.get("/competitions/titanic.json?page=2").json()
    assert page2["entries"] == top[50:100]
    html = client.get("/competitions/titanic").text
    assert f"of {total:,}" in html and 'rel="next"' in html and "<svg" in html
    # Search by team name and by member username.
    name = top[3]["team_name"]
    found = client.get("/competitions/titanic.json", params={"q": name}).json()
    assert top[3]["team_id"] in [e["team_id"] for e in found["entries"]]
    member = top[0]["members"][0]
    by_member = client.get("/competitions/titanic.json", params={"q": member}).json()
    assert top[0]["team_id"] in [e["team_id"] for e in by_member["entries"]]
    # Baselines: the previous sync (the board's own movement), the event's start, a date.
    assert page1["baseline"]["label"] == "the previous sync"
    start = client.get("/competitions/titanic.json?since=start").json()
    assert start["baseline"]["since"] == "2025-03-01T00:00:00Z"
    assert start["baseline"]["run"] is None  # before the first sync: every team is new
    assert all(e["is_new"] for e in start["entries"] if not e["is_benchmark"])
    with api(demo) as ks:
        first_sync = ks.boards.history("titanic", every_sync=True)[-1]["synced_at"]
        movers = ks.boards.movers("titanic", since=first_sync, limit=None)
    since_first = client.get("/competitions/titanic.json", params={"since": first_sync}).json()
    climbers = {m["team_id"]: m["movement"] for m in movers["climbers"] + movers["fallers"]}
    for entry in since_first["entries"]:
        if entry["team_id"] in climbers:
            assert entry["movement"] == climbers[entry["team_id"]]
    assert client.get("/competitions/titanic?since=not-a-date").status_code == 400
    # The public/private toggle and the shake-up once the final board is out.
    final = client.get("/competitions/winter-cup-2026")
    assert "final (private)" in final.text and "Shake-up" in final.text
    data = final.json() if False else client.get("/competitions/winter-cup-2026.json").json()
    assert data["board"] == "private" and data["boards"] == ["public", "private"] and data["shakeup"]["teams"] > 0
    public = client.get("/competitions/winter-cup-2026.json?board=public").json()
    assert public["board"] == "public" and public["entries"][0]["board"] == "public"
    assert "final (private)" not in client.get("/competitions/titanic").text
    assert client.get("/competitions/titanic?board=private").status_code == 404


def test_team_and_member_pages_chart_the_rank_over_time(client, demo):
    with api(demo) as ks:
        leader = ks.leaderboard("titanic", top=1)[0]
        history = ks.boards.team_history("titanic", str(leader["team_id"]))
    page = client.get(f"/competitions/titanic/teams/{leader['team_id']}")
    assert page.status_code == 200 and "<svg" in page.text and "<path" in page.text
    data = client.get(f"/competitions/titanic/teams/{leader['team_id']}.json").json()
    assert data == history  # the API's team_history, as `kagsync history --team --json` prints it
    username = leader["members"][0]
    member = client.get(f"/members/{username}")
    assert member.status_code == 200 and leader["team_name"] in member.text and "<svg" in member.text
    assert client.get(f"/members/{username}.json").json()["teams"][0]["entry"]["team_id"] == leader["team_id"]
    roster = client.get("/members/mallory").text
    assert "Mallory &lt;Evil&gt;" in roster and "group red" in roster


def test_projector_mode_cycles_through_the_event(client):
    event = client.get(f"/events/{EVENT}?projector=1").text
    assert '<body class="projector"' in event
    first = re.search(r'data-next="([^"]+)"', event).group(1).replace("&amp;", "&")
    assert first.startswith("/competitions/") and "projector=1" in first and f"event={EVENT}" in first
    seen = [first]
    for _ in range(10):
        html = client.get(seen[-1]).text
        assert '<body class="projector"' in html
        following = re.search(r'data-next="([^"]+)"', html).group(1).replace("&amp;", "&")
        seen.append(following)
        if following.startswith("/events/"):
            break
    assert seen[-1] == f"/events/{EVENT}?projector=1" and len(seen) == 6  # five competitions, then back


def test_hostile_names_are_escaped_everywhere(client):
    for url in (f"/competitions/{HOSTILE_SLUG}", "/events/cup-night", "/", "/competitions/hostile-cup/teams/9001"):
        html = client.get(url).text
        assert "<img src=x" not in html and "<script>alert" not in html
        tags = [tag for tag, _ in parse(html).tags]
        assert "img" not in tags and tags.count("script") == 1  # only our own script file
    board = client.get(f"/competitions/{HOSTILE_SLUG}").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in board
    assert client.get(f"/competitions/{HOSTILE_SLUG}.json").json()["entries"][0]["team_name"] == HOSTILE


# -- errors, methods, headers --------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/events/no-such-event",
        "/events/no-such-event.json",
        "/competitions/no-such",
        "/competitions/no-such.json",
        "/competitions/titanic/teams/1",
        "/competitions/titanic/teams/1.json",
        "/members/nobody-at-all",
        "/members/nobody-at-all.json",
        "/no/such/page",
        "/static/other.js",
        "/competitions/titanic?page=9999",
    ],
)
def test_unknown_things_are_404(client, url):
    response = client.get(url)
    assert response.status_code == 404
    if url.endswith(".json"):
        assert response.json()["status"] == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
@pytest.mark.parametrize("url", ["/", f"/events/{EVENT}", "/competitions/titanic.json", "/live", "/nowhere"])
def test_only_get_and_head_are_served(client, method, url):
    response = client.request(method, url)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_head_and_security_headers(client):
    head = client.head("/competitions/titanic")
    assert head.status_code == 200 and head.content == b""
    response = client.get("/")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "server" not in {
        k.lower() for k in response.headers if k.lower() == "server" and "uvicorn" in response.headers[k]
    }


def test_etag_and_304_until_the_data_changes(demo, tmp_path):
    db = copy_demo(demo, tmp_path / "copy")
    app = create_app(db, poll=0.05)
    with TestClient(app) as client:
        first = client.get("/competitions/titanic.json")
        etag = first.headers["etag"]
        again = client.get("/competitions/titanic.json", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        html = client.get("/competitions/titanic")
        assert client.get("/competitions/titanic", headers={"If-None-Match": html.headers["etag"]}).status_code == 304
        renders = app.state.services.cache.renders
        for _ in range(20):  # many viewers, one render per page per database state
            client.get("/competitions/titanic.json")
        assert app.state.services.cache.renders == renders
        with kagsync.open(db, environ=environ(tmp_path)) as ks:
            ks.competitions.edit("titanic", CompetitionFields(title="Titanic, renamed"))
        app.state.services.feed.poll()
        changed = client.get("/competitions/titanic.json", headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["etag"] != etag
        assert changed.json()["competition"]["title"] == "Titanic, renamed"


# -- the token and the hosts -------------------------------------------------------


def test_token_is_needed_once_then_a_cookie(demo):
    app = create_app(demo, GuardConfig(token="s3cret-token"))
    with TestClient(app) as client:
        for url in ("/", "/index.json", f"/events/{EVENT}", "/static/kagsync.css", "/live"):
            assert client.get(url).status_code == 401, url
        assert client.get("/?token=wrong-token").status_code == 401
        entry = client.get(f"/events/{EVENT}?token=s3cret-token&scheme=rank-sum", follow_redirects=False)
        assert entry.status_code == 303
        assert entry.headers["location"] == f"/events/{EVENT}?scheme=rank-sum"  # the token leaves the URL
        cookie = entry.headers["set-cookie"]
        assert "kagsync_token=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
        assert client.get(f"/events/{EVENT}").status_code == 200  # the client kept the cookie
        assert client.get("/index.json").status_code == 200
        client.cookies.clear()
        assert client.get("/").status_code == 401


def test_loopback_binding_serves_only_loopback_host_names(demo):
    app = create_app(demo, guard_config(ServeOptions(host="127.0.0.1")))
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        assert client.get("/").status_code == 200
        assert client.get("/", headers={"Host": "localhost:8000"}).status_code == 200
        assert client.get("/", headers={"Host": "evil.example:8000"}).status_code == 400


def test_what_a_non_loopback_binding_prints():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert exposure(ServeOptions(host="127.0.0.1")) == []
    text = "\n".join(exposure(ServeOptions(host="0.0.0.0")))
    assert "0.0.0.0:8000" in text and "anyone who can reach this port" in text and "No token" in text
    assert "needs the token" in "\n".join(exposure(ServeOptions(host="0.0.0.0", token="abcdefgh")))
    assert guard_config(ServeOptions(host="0.0.0.0")).hosts is None


# -- secrets and read-only -----------------------------------------------------------


def test_no_secret_path_or_log_line_on_any_page(client, demo):
    pages = crawl(client, per_kind=4)
    assert len(pages) > 20
    assert any(url.startswith("/members/") for url in pages) and any("/teams/" in url for url in pages)
    secret_bits = [SLACK_URL, "SERVESECRETTOKEN42", "hooks.slack.com", str(demo.parent), "room-slack"]
    for url, response in pages.items():
        assert response.status_code in (200, 404), (url, response.status_code)
        json_url = None
        if "text/html" in response.headers["content-type"] and response.status_code == 200:
            path, _, query = url.partition("?")
            if not path.startswith("/static") and path != "/":
                json_url = path + ".json" + ("?" + query if query else "")
        bodies = [response.text] + ([client.get(json_url).text] if json_url else [])
        for body in bodies:
            for bit in secret_bits:
                assert bit not in body, (url, bit)
            assert "Traceback" not in body and "kagsync.db" not in body and "last_sync_error" not in body


def test_pages_open_the_database_read_only(demo, tmp_path):
    db = copy_demo(demo, tmp_path / "ro")
    app = create_app(db)
    before = db.read_bytes()
    for reader in app.state.services.readers.all:
        assert reader.ks.database.readonly
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.ks.database.conn.execute("DELETE FROM events")
    with TestClient(app) as client:
        crawl(client, limit=12, per_kind=3)
    assert db.read_bytes() == before


def _can_mount_read_only(folder: Path) -> bool:
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"mount --bind '{folder}' '{folder}' && mount -o remount,ro,bind '{folder}'"],
        capture_output=True,
    )
    return shutil.which("unshare") is not None and probe.returncode == 0


def test_serves_from_a_read_only_mount(demo, tmp_path):
    folder = tmp_path / "media"
    db = copy_demo(demo, folder)
    if not _can_mount_read_only(folder):
        pytest.skip("cannot make a read-only bind mount here (needs unshare -m and mount, as root)")
    script = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "from starlette.testclient import TestClient\n"
        "from kagsync.serve.app import create_app\n"
        f"with TestClient(create_app({str(db)!r})) as c:\n"
        "    print(c.get('/').status_code, c.get('/competitions/titanic.json').status_code,"
        f" c.get('/events/{EVENT}').status_code)\n"
    )
    command = (
        f"mount --bind '{folder}' '{folder}' && mount -o remount,ro,bind '{folder}' && '{sys.executable}' -c \"$0\""
    )
    result = subprocess.run(["unshare", "-m", "sh", "-c", command, script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["200", "200", "200"]


def test_json_keys_are_the_apis(client, demo):
    with api(demo) as ks:
        event = ks.events.get(EVENT).to_dict()
        standings = ks.events.standings(EVENT).to_dict()
        competition = ks.competitions.get("titanic").to_dict()
    data = client.get(f"/events/{EVENT}.json").json()
    assert data["event"] == event
    assert set(data["standings"]) == set(standings) and data["standings"]["standings"] == standings["standings"][:100]
    comp = client.get("/competitions/titanic.json").json()["competition"]
    assert set(competition) - set(comp) == {"last_sync_error"}  # free text: may name server paths
    home = client.get("/index.json").json()
    assert set(home["events"][0]) == set(event) | {"competitions"}
    assert json.dumps(home)  # plain JSON


def test_live_stream_says_the_version_at_once(demo, tmp_path):
    from kagsync.serve.live import ChangeFeed

    async def first_event():
        feed = ChangeFeed(lambda: 1)
        stream = feed.stream()
        text = await stream.__anext__()
        feed.close()
        return text

    import asyncio

    text = asyncio.run(first_event())
    assert re.fullmatch(r"retry: 2000\n: as of \d+\.\d{3}\nevent: version\ndata: 0\n\n", text)


def test_change_feed_bumps_once_per_commit_and_wakes_every_stream(demo, tmp_path):
    import asyncio

    from kagsync.serve.data import Reader
    from kagsync.serve.live import ChangeFeed

    db = copy_demo(demo, tmp_path / "feed")
    checker = Reader.open(db)
    checks = []

    def check() -> int:
        checks.append(1)
        return checker.data_version()

    async def scenario():
        feed = ChangeFeed(check, interval=0.02)
        feed.start()
        streams = [feed.stream(heartbeat=5) for _ in range(50)]
        for stream in streams:
            assert (await stream.__anext__()).endswith("data: 0\n\n")
        waiting = [asyncio.ensure_future(stream.__anext__()) for stream in streams]
        await asyncio.sleep(0.1)
        calls_before = len(checks)
        with kagsync.open(db, environ=environ(tmp_path)) as ks:
            ks.competitions.edit("titanic", CompetitionFields(title="Changed"))
        done = await asyncio.wait_for(asyncio.gather(*waiting), timeout=2)
        await feed.stop()
        return done, len(checks) - calls_before

    done, calls = asyncio.run(scenario())
    assert all(text.endswith("\nevent: version\ndata: 1\n\n") for text in done)
    assert calls < 60  # one check per poll for everyone, not one per viewer
    checker.close()


# -- the command -------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str, seconds: float = 15) -> None:
    import time
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def test_serve_watch_runs_both_and_ctrl_c_stops_both(demo, tmp_path):
    import os
    import signal
    import time

    db = copy_demo(demo, tmp_path / "night")
    port = _free_port()
    source = Path(__file__).resolve().parent.parent / "examples" / "leaderboards"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kagsync",
            "--db",
            str(db),
            "--source",
            str(source),
            "--offline",
            "serve",
            "--watch",
            "--interval",
            "60",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/index.json")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the watcher's first tick syncs every active competition
            with sqlite3.connect(db) as conn:
                if (
                    conn.execute("SELECT count(*) FROM sync_runs WHERE trigger = 'watch' AND status = 'ok'").fetchone()[
                        0
                    ]
                    >= 4
                ):
                    break
            time.sleep(0.2)
        else:
            raise AssertionError("the watch loop did not sync")
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert time.monotonic() - started < 10
    assert "Traceback" not in err and "Serving demo.db read-only" in err and err.rstrip().endswith("Stopped.")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM sync_runs WHERE status = 'running'").fetchone()[0] == 0
    # The watch ran in its own process, which logged its ticks to the log file.
    logged = db.with_name(db.stem + ".log").read_text(encoding="utf-8")
    ticks = [line for line in logged.splitlines() if "watch: tick" in line]
    assert ticks and f"pid={process.pid} " not in ticks[0]


def test_serve_refuses_a_busy_port_a_missing_database_and_a_short_token(cli, demo, tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        cli.db_path = demo
        result = cli("serve", "--port", str(port))
    assert result.exit_code == 1 and f"cannot listen on 127.0.0.1:{port}" in result.output
    assert len(result.output.strip().splitlines()) == 1
    cli.db_path = tmp_path / "missing.db"
    result = cli("serve")
    assert result.exit_code == 1 and "no kagsync database" in result.output
    cli.db_path = demo
    result = cli("serve", "--token", "short")
    assert result.exit_code == 2 and "--token" in result.output
    result = cli("serve", "--interval", "5")
    assert result.exit_code == 2 and "--interval needs --watch" in result.output


def test_viewers_asking_at_once_share_one_render(demo):
    import asyncio

    import httpx

    app = create_app(demo)

    async def many() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            responses = await asyncio.gather(*(client.get(f"/events/{EVENT}") for _ in range(40)))
        return [r.status_code for r in responses]

    assert asyncio.run(many()) == [200] * 40
    assert app.state.services.cache.renders == 1


def test_behind_a_proxy_under_a_root_path(demo):
    app = create_app(demo, GuardConfig(token="s3cret-token"), root="/scoreboard")
    with TestClient(app, root_path="/scoreboard") as client:
        entry = client.get("/scoreboard/?token=s3cret-token", follow_redirects=False)
        assert entry.status_code == 303 and entry.headers["location"] == "/scoreboard/"
        html = client.get("/scoreboard/").text
        assert 'href="/scoreboard/events/neural-night-2025"' in html
        assert 'src="/scoreboard/static/kagsync.js' in html and 'data-live-url="/scoreboard/live"' in html
        assert client.get("/scoreboard/static/kagsync.css").status_code == 200


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command's name (state, ppid, ... nice is 16)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _alive(pid: int) -> bool:
    try:
        return _stat(pid)[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")
def test_serve_watch_children_never_outlive_the_server(demo, tmp_path):
    """The watch runs in a child process (and the standings in a worker): killed without
    a chance to clean up, the server takes both with it."""
    import os
    import signal
    import time

    db = copy_demo(demo, tmp_path / "orphans")
    port = _free_port()
    source = Path(__file__).resolve().parent.parent / "examples" / "leaderboards"
    command = [sys.executable, "-m", "kagsync", "--db", str(db), "--source", str(source), "--offline"]
    process = subprocess.Popen(
        [*command, "serve", "--watch", "--interval", "60", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/events/{EVENT}")  # the standings worker answered
        children = _children(process.pid)
        watch = [pid for pid in children if _stat(pid)[16] == "10"]  # the watch runs niced
        workers = [pid for pid in children if pid not in watch]
        assert len(watch) == 1 and workers  # the watch, the standings worker (and its helper)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_alive(pid) for pid in children):
            time.sleep(0.2)
        assert not [pid for pid in children if _alive(pid)]
    finally:
        if process.poll() is None:
            process.kill()
    with sqlite3.connect(db) as conn:  # the watch stopped cleanly: no run left half-done
        assert conn.execute("SELECT count(*) FROM sync_runs WHERE status = 'running'").fetchone()[0] == 0


def test_serve_watch_says_a_bad_interval_before_serving(demo, tmp_path):
    import os

    port = _free_port()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kagsync",
            "--db",
            str(demo),
            "serve",
            "--watch",
            "--interval",
            "0",
            "--port",
            str(port),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert result.returncode == 2 and "interval: expected a positive number" in result.stderr
    assert "Serving" not in result.stderr and "Traceback" not in result.stderr


def test_a_new_version_is_announced_with_its_pages_rendered(demo, tmp_path):
    """A sync landing: the pages viewers have open are rendered for the new state before
    the streams hear of it, so their reloads are cache hits with the new content."""
    import time

    db = copy_demo(demo, tmp_path / "warm")
    app = create_app(db, poll=0.05)
    services = app.state.services
    with TestClient(app) as client:
        for _ in range(3):  # a page viewers have open
            assert client.get("/competitions/titanic").status_code == 200
        version = services.feed.version
        renders = services.cache.renders
        with kagsync.open(db, environ=environ(tmp_path)) as ks:
            ks.competitions.edit("titanic", CompetitionFields(title="Titanic, warmed"))
        deadline = time.monotonic() + 10
        while services.feed.version == version and time.monotonic() < deadline:
            time.sleep(0.02)
        assert services.feed.version == version + 1
        warmed = services.cache.get(services.feed.version, "html /competitions/titanic?")
        assert warmed is not None and b"Titanic, warmed" in warmed.body  # rendered before anyone asked
        assert services.cache.renders == renders + 1
        page = client.get("/competitions/titanic")
        assert "Titanic, warmed" in page.text and services.cache.renders == renders + 1  # a cache hit


def test_page_cache_keeps_the_newest_version_of_each_page():
    from kagsync.serve.live import CachedPage, PageCache

    cache = PageCache(size=2)
    old, new = CachedPage(b"old", "text/html", '"1"'), CachedPage(b"new", "text/html", '"2"')
    cache.put(1, "a", old)
    cache.put(3, "a", new)
    cache.put(2, "a", old)  # a slower render of an older version does not replace it
    assert cache.get(3, "a") is new and cache.get(2, "a") is new and cache.get(4, "a") is None
    cache.put(1, "b", old)
    cache.put(1, "c", old)
    assert len(cache) == 2 and cache.get(3, "a") is None  # the least recently used went first


def test_event_pages_from_the_standings_worker_are_the_same(client, demo):
    """``kagsync serve`` computes event pages in a worker process: the same pages, and the
    worker ends with the app."""
    import time

    app = create_app(demo, render_process=True)
    with TestClient(app) as served:
        for url in (f"/events/{EVENT}", f"/events/{EVENT}.json", f"/events/{EVENT}?scheme=rank-sum&page=1"):
            here, there = client.get(url), served.get(url)
            assert there.status_code == here.status_code == 200 and there.content == here.content
        assert served.get("/events/no-such-event").status_code == 404
        pids = app.state.services.worker.pids()
        assert pids
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.1)
    assert not [pid for pid in pids if _alive(pid)]
