#!/usr/bin/env python3
"""kagsync serve under load (issue 18): viewers with open event streams while watch syncs.

Run from the repository with the Python that has kagsync installed::

    python benchmarks/serve.py                # 100 and 500 viewers, about 3-4 minutes
    python benchmarks/serve.py --viewers 100  # one wave only

The setup: an event of four 20,000-team boards (60,000 participants), each synced
twice. Then ``kagsync serve --watch`` runs in its own process; between its ticks this
script rewrites the four boards in the watch's source folder (200 teams improve on each
board, re-ranked), so every tick is a real sync of 80,000 rows. For each wave of
viewers (100, then 500):

- every viewer opens the event stream (``/live``) and, on each ``version`` event, loads
  the event page again with ``If-None-Match`` (as the page's own script does);
- page loads: meanwhile, 8 workers load 200 pages (the event's standings, each board's
  first and third page, a search, a team, the home page and their JSON), p50/p95;
- update lag: a separate read-only connection polls ``PRAGMA data_version`` every 10 ms
  to time each commit of the watch; for each commit, the time until the last viewer has
  finished loading a page it asked for after that commit;
- memory (the server's RSS, from /proc) before, with and after each wave;
- CPU per viewer: the server's CPU seconds (user + system) over the wave, per viewer
  and per second, idle streams and updates included.

The load generator (this script, asyncio + httpx) shares the 2 cores with the server
and the watcher: its own delays are in the figures. Targets, each PASS or MISS with the
reason: p95 page load at most 300 ms with 100 viewers; every viewer updated within 2 s
of a commit, at 100 and at 500 viewers; memory flat as viewers come and go (the RSS
after a wave has left within 20 MB of the RSS before it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import BusyBoard, Checks, _in_process, find_tool, fresh

try:
    import httpx
except ImportError:  # pragma: no cover
    raise SystemExit("this benchmark needs httpx (pip install -e '.[test]')") from None

EVENT = "bench-night"
BOARDS = 4
TEAMS = 20_000
PAGE_LIMIT = 0.300
UPDATE_LIMIT = 2.0
MEMORY_SLACK_MB = 20.0


async def get(client: httpx.AsyncClient, url: str, **kwargs: object) -> httpx.Response:
    """GET, once more when a kept-alive connection was closed under the request."""
    try:
        return await client.get(url, **kwargs)  # type: ignore[arg-type]
    except (httpx.ReadError, httpx.RemoteProtocolError):
        return await client.get(url, **kwargs)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def build(scratch: Path, source: Path, kagsync: str, env: dict[str, str]) -> tuple[Path, list[BusyBoard]]:
    """The event's database (each board synced twice) and the boards, to advance later."""
    dbmod, Repository, FileSource, Syncer = _in_process()
    db = fresh(scratch / "serve.db")
    subprocess.run(
        [kagsync, "--db", str(db), "event", "add", "Bench night", "--slug", EVENT],
        env=env,
        check=True,
        capture_output=True,
    )
    database = dbmod.connect(db)
    repository = Repository(database)
    boards = []
    for k in range(BOARDS):
        slug = f"board-{k}"
        competition = repository.add_competition(
            slug, title=f"Board {k}", event=EVENT, status="ongoing", end="2030-01-01", sync=False
        ).competition
        board = BusyBoard(TEAMS, 200, seed=300 + k, members=lambda j, k=k: (k * 13_333 + j) % 60_000)
        for _ in range(2):
            path = board.write_zip(scratch / f"{slug}.zip", slug)
            if not Syncer(db, FileSource(path)).sync(competition, "manual").ok:
                raise SystemExit(f"the sync of {slug} failed")
            board.advance()
        board.write_zip(source / f"{slug}.zip", slug)
        boards.append(board)
    database.close()
    return db, boards


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Viewer:
    """One open page: its stream, and the page loads it made (start, end)."""

    page: str = f"/events/{EVENT}"
    loads: list[tuple[float, float]] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    errors: int = 0


async def view(client: httpx.AsyncClient, base: str, viewer: Viewer, stop: asyncio.Event) -> None:
    page = base + viewer.page
    etag = ""
    try:
        async with client.stream("GET", base + "/live", timeout=None) as stream:
            viewer.connected.set()
            seen = None
            async for line in stream.aiter_lines():
                if stop.is_set():
                    break
                if not line.startswith("data: "):
                    continue
                version = line[6:]
                if seen is not None and version != seen:
                    start = time.monotonic()
                    response = await get(client, page, headers={"If-None-Match": etag} if etag else {})
                    etag = response.headers.get("etag", etag)
                    viewer.loads.append((start, time.monotonic()))
                seen = version
    except (httpx.HTTPError, RuntimeError, asyncio.CancelledError):
        if not stop.is_set():
            viewer.errors += 1
        viewer.connected.set()


async def page_loads(client: httpx.AsyncClient, base: str, urls: list[str], count: int) -> list[float]:
    times: list[float] = []
    order = [urls[i % len(urls)] for i in range(count)]
    random.Random(7).shuffle(order)
    queue: asyncio.Queue[str] = asyncio.Queue()
    for url in order:
        queue.put_nowait(url)

    async def worker() -> None:
        while not queue.empty():
            url = queue.get_nowait()
            start = time.monotonic()
            response = await get(client, base + url)
            if response.status_code != 200:
                raise SystemExit(f"{url}: HTTP {response.status_code}")
            times.append(time.monotonic() - start)

    await asyncio.gather(*(worker() for _ in range(8)))
    return times


async def watch_commits(db: Path, commits: list[float], stop: asyncio.Event) -> None:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    last = conn.execute("PRAGMA data_version").fetchone()[0]
    while not stop.is_set():
        value = conn.execute("PRAGMA data_version").fetchone()[0]
        if value != last:
            commits.append(time.monotonic())
            last = value
        await asyncio.sleep(0.01)
    conn.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def wave(base: str, db: Path, pid: int, viewers: int, urls: list[str], seconds: float) -> dict[str, float]:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client, httpx.AsyncClient(timeout=30) as loader:
        before = rss_mb(pid)
        stop = asyncio.Event()
        # Half watch the event's standings, half a board.
        crowd = [Viewer(page=f"/events/{EVENT}" if i % 2 == 0 else "/competitions/board-0") for i in range(viewers)]
        tasks = [asyncio.create_task(view(client, base, v, stop)) for v in crowd]
        await asyncio.wait_for(asyncio.gather(*(v.connected.wait() for v in crowd)), timeout=60)
        commits: list[float] = []
        watcher = asyncio.create_task(watch_commits(db, commits, stop))
        cpu0, clock0 = cpu_seconds(pid), time.monotonic()
        loads = await page_loads(loader, base, urls, 200)
        remaining = seconds - (time.monotonic() - clock0)
        if remaining > 0:
            await asyncio.sleep(remaining)
        cpu = cpu_seconds(pid) - cpu0
        elapsed = time.monotonic() - clock0
        during = rss_mb(pid)
        await asyncio.sleep(3)  # let the last updates finish
        settled = time.monotonic() - 2.5  # commits before this had time to reach everyone
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await watcher
    await asyncio.sleep(3)
    after = rss_mb(pid)
    lags: dict[str, list[float]] = {"event": [], "board": []}
    for commit in (c for c in commits if c < settled):
        for kind in lags:
            worst = 0.0
            for viewer in crowd:
                if viewer.page.startswith("/events/") != (kind == "event"):
                    continue
                done = [end for start, end in viewer.loads if start >= commit]
                worst = max(worst, min(done) - commit if done else float("inf"))  # inf: never updated
            lags[kind].append(worst)
    return {
        "viewers": viewers,
        "page p50": statistics.median(loads),
        "page p95": percentile(loads, 95),
        "commits": len(commits),
        "updates measured": len(lags["board"]),
        "update p50": statistics.median(lags["board"]) if lags["board"] else float("nan"),
        "update max": max(lags["board"]) if lags["board"] else float("nan"),
        "event update p50": statistics.median(lags["event"]) if lags["event"] else float("nan"),
        "event update max": max(lags["event"]) if lags["event"] else float("nan"),
        "rss before": before,
        "rss during": during,
        "rss after": after,
        "cpu per viewer-second (ms)": 1000 * cpu / viewers / elapsed,
        "stream errors": sum(v.errors for v in crowd),
    }


def advance_between_ticks(
    boards: list[BusyBoard], source: Path, stop: asyncio.Event, interval: float
) -> asyncio.Task[None]:
    async def loop() -> None:
        while not stop.is_set():
            await asyncio.sleep(interval / 2)
            for k, board in enumerate(boards):
                board.advance()
                await asyncio.to_thread(board.write_zip, source / f"board-{k}.zip.part", f"board-{k}")
                os.replace(source / f"board-{k}.zip.part", source / f"board-{k}.zip")
            await asyncio.sleep(interval / 2)

    return asyncio.create_task(loop())


async def run_waves(
    base: str,
    db: Path,
    pid: int,
    boards: list[BusyBoard],
    source: Path,
    waves: list[int],
    interval: float,
    seconds: float,
) -> list[dict[str, float]]:
    stop = asyncio.Event()
    advancing = advance_between_ticks(boards, source, stop, interval)
    async with httpx.AsyncClient(timeout=60) as client:
        team = (await client.get(f"{base}/competitions/board-0.json")).json()["entries"][5]["team_id"]
    urls = [f"/events/{EVENT}", f"/events/{EVENT}.json", "/", "/index.json", f"/competitions/board-0/teams/{team}"]
    for k in range(BOARDS):
        urls += [
            f"/competitions/board-{k}",
            f"/competitions/board-{k}?page=3",
            f"/competitions/board-{k}.json",
            f"/competitions/board-{k}?q=ann",
        ]
    async with httpx.AsyncClient(timeout=120) as client:  # warm up: each page rendered once
        for url in urls:
            await get(client, base + url)
    results = []
    for viewers in waves:
        results.append(await wave(base, db, pid, viewers, urls, seconds))
        print(f"  {viewers} viewers: {results[-1]}", flush=True)
    stop.set()
    advancing.cancel()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", default="100,500", help="comma-separated waves of viewers (default 100,500)")
    parser.add_argument("--interval", type=float, default=12.0, help="the watch's seconds between ticks (default 12)")
    parser.add_argument("--seconds", type=float, default=40.0, help="how long each wave stays (default 40)")
    args = parser.parse_args(argv)
    import resource

    # 500 streams and their page loads need more than the usual 1024 descriptors (the
    # server, started from here, inherits the raised limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    kagsync = find_tool("kagsync")
    if kagsync is None:
        parser.error("kagsync is not installed")
    waves = [int(v) for v in args.viewers.split(",") if v.strip()]
    with tempfile.TemporaryDirectory(prefix="kagsync-serve-bench-") as tmp:
        scratch = Path(tmp)
        source = scratch / "source"
        source.mkdir()
        env = {**os.environ, "HOME": str(scratch), "KAGSYNC_LOG_FILE": str(scratch / "serve.log")}
        print(f"Building an event of {BOARDS} boards of {TEAMS:,} teams...", flush=True)
        clock = time.monotonic()
        db, boards = build(scratch, source, kagsync, env)
        print(f"  built in {time.monotonic() - clock:.0f} s", flush=True)
        port = free_port()
        server = subprocess.Popen(
            [
                kagsync,
                "--db",
                str(db),
                "--source",
                str(source),
                "--offline",
                "serve",
                "--watch",
                "--interval",
                str(args.interval),
                "--port",
                str(port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    httpx.get(base + "/index.json", timeout=2)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            print(
                f"Serving with the watch every {args.interval:g} s; waves of {waves} viewers, {args.seconds:g} s each",
                flush=True,
            )
            results = asyncio.run(run_waves(base, db, server.pid, boards, source, waves, args.interval, args.seconds))
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
    print()
    print("Update: from a commit to the last viewer's page loaded after it (board page; event standings page)")
    print(
        f"{'viewers':>8} {'page p50':>9} {'page p95':>9} {'commits':>8} {'board p50':>10} {'board max':>10} "
        f"{'event p50':>10} {'event max':>10} {'RSS before':>11} {'during':>8} {'after':>8} {'CPU/viewer/s':>13} "
        f"{'errors':>7}"
    )
    for r in results:
        print(
            f"{r['viewers']:>8} {r['page p50'] * 1000:>7.0f}ms {r['page p95'] * 1000:>7.0f}ms {r['commits']:>8} "
            f"{r['update p50']:>9.2f}s {r['update max']:>9.2f}s {r['event update p50']:>9.2f}s "
            f"{r['event update max']:>9.2f}s {r['rss before']:>9.0f}MB "
            f"{r['rss during']:>6.0f}MB {r['rss after']:>6.0f}MB {r['cpu per viewer-second (ms)']:>11.2f}ms "
            f"{r['stream errors']:>7}"
        )
    checks = Checks()
    for r in results:
        n = r["viewers"]
        if n == 100:
            checks.at_most("p95 page load with 100 viewers", r["page p95"], PAGE_LIMIT, "s")
        if r["updates measured"]:
            checks.at_most(
                f"board viewers updated after a commit ({n} viewers, worst)", r["update max"], UPDATE_LIMIT, "s"
            )
            checks.at_most(
                f"standings viewers updated after a commit ({n} viewers, worst)",
                r["event update max"],
                UPDATE_LIMIT,
                "s",
            )
        else:
            checks.holds(f"every viewer updated after a commit ({n} viewers)", "no commit measured", False)
        growth = r["rss after"] - r["rss before"]
        checks.at_most(f"memory after {n} viewers left, growth", growth, MEMORY_SLACK_MB, "MB")
    return 0 if checks.print() else 1


if __name__ == "__main__":
    raise SystemExit(main())
