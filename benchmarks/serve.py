#!/usr/bin/env python3
"""kagsync serve under load (issue 18): viewers with open event streams while watch syncs.

Run from the repository with the Python that has kagsync installed::

    python benchmarks/serve.py                # 100 and 500 viewers, about 3-4 minutes
    python benchmarks/serve.py --viewers 100  # one wave only

The setup: an event of four 20,000-team boards (60,000 participants), each synced
twice. Then ``kagsync serve --watch`` runs in its own process; between its ticks this
script rewrites the four boards in the watch's source folder (200 teams improve on each
board, re-ranked), so every tick is a real sync of 80,000 rows. After a warm-up (each
page once, then one tick followed as one viewer would), for each wave of viewers (100,
then 500):

- every viewer opens the event stream (``/live``) and, on each new ``version`` event,
  loads its page again (half the event's standings, half a board) as the page's own
  script does: ``Accept: text/html`` and the browser's ``If-None-Match``, over a
  kept-alive connection, the whole answer read. The viewers speak HTTP over plain
  asyncio streams, as lean as a browser: with 500 of them, a Python HTTP client's own
  work would be most of what is timed;
- page loads: meanwhile, 8 workers load 200 pages (the event's standings, each board's
  first and third page, a search, a team, the home page and their JSON), p50/p95;
- update lag: a separate read-only connection polls ``PRAGMA data_version`` every 10 ms
  to see each commit of the watch, timed at the poll before (never later than it
  happened); for each commit, the time until the last viewer has finished loading a
  page of a version whose data the server checked after that commit (each ``version``
  event says when, as ``: as of T``): a reload triggered by an older version does not
  count;
- memory: the server's RSS (from /proc) before, with and after each wave, and its
  standings workers' high-water mark before and after (their RSS swings by one set of
  standings as they compute; their peak is what must not grow);
- CPU per viewer: the server's and its workers' CPU seconds (user + system; not the
  watch's) over the wave, per viewer and per second, idle streams and updates included.

The load generator (this script) shares the 2 cores with the server, its workers and
the watcher: its own delays are in the figures. Targets, each PASS or MISS with the
reason: p95 page load at most 300 ms with 100 viewers; every viewer updated within 2 s
of a commit, at 100 and at 500 viewers; memory flat as viewers come and go (the
server's RSS after a wave has left within 20 MB of its RSS before it; the workers' peak
within 20 MB too). ``--log FILE`` keeps the server's log with each render and new
version timed; ``KAGSYNC_BENCH_DETAIL=1`` prints each commit's lag and the slowest
page loads.
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
DETAIL = bool(os.environ.get("KAGSYNC_BENCH_DETAIL"))  # each commit's lag, on stderr


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


def _nice(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def serving(pid: int) -> list[int]:
    """The server's process and its helpers (the standings worker), without the watch
    child: the one child that runs at a lower priority (``serve --watch`` nices it)."""
    out, todo = [pid], _children(pid)
    while todo:
        child = todo.pop()
        try:
            if _nice(child) > 0:
                continue
        except (OSError, IndexError, ValueError):
            continue
        out.append(child)
        todo += _children(child)
    return out


def rss_mb(pids: list[int], field: str = "VmRSS") -> float:
    """The resident memory of these processes (``VmHWM``: their peaks), in MB."""
    total = 0.0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@dataclass
class Viewer:
    """One open page: its stream, and the page loads it made (start, end)."""

    page: str = f"/events/{EVENT}"
    # (as of, start, end): each load of the page after a version event, and the time the
    # server says that version's data were checked (every commit before it is shown).
    loads: list[tuple[float, float, float]] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    errors: int = 0


class Connection:
    """One kept-alive HTTP/1.1 connection, as lean as a browser's (no client library:
    with 500 viewers, a Python HTTP client's own work would be most of what is timed)."""

    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.reader is None or self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self.reader, self.writer

    async def send(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
        """Send a GET and read the status and headers of its answer."""
        reader, writer = await self.open()
        lines = [f"GET {path} HTTP/1.1", f"Host: {self.host}:{self.port}", *(f"{k}: {v}" for k, v in headers.items())]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        status = int((await reader.readline()).split()[1])
        found = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            found[name.strip().lower()] = value.strip()
        return status, found

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """GET ``path`` and read the whole answer (once more on a connection closed meanwhile)."""
        for attempt in range(2):
            try:
                status, found = await self.send(path, headers)
                body = await self.reader.readexactly(int(found.get("content-length", 0)))  # type: ignore[union-attr]
                return status, found, body
            except (ConnectionError, asyncio.IncompleteReadError, IndexError, ValueError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def view(base: str, viewer: Viewer, stop: asyncio.Event) -> None:
    """What the page's script does: listen to /live; on each new version, load the page
    again (the browser revalidates with If-None-Match) and read all of it."""
    stream, page = Connection(base), Connection(base)
    etag = ""
    try:
        status, _ = await stream.send("/live", {"Accept": "text/event-stream"})
        if status != 200:
            raise ConnectionError(f"/live: HTTP {status}")
        viewer.connected.set()
        seen = None
        as_of = 0.0
        reader = stream.reader
        assert reader is not None
        while not stop.is_set():
            line = await reader.readline()
            if not line:
                break
            if line.startswith(b": as of "):
                as_of = float(line[8:])
            if not line.startswith(b"data: "):
                continue
            version = line[6:].strip()
            if seen is not None and version != seen:
                start = time.time()
                _, headers, _ = await page.get(
                    viewer.page, {"Accept": "text/html", **({"If-None-Match": etag} if etag else {})}
                )
                etag = headers.get("etag", etag)
                viewer.loads.append((as_of, start, time.time()))
            seen = version
    except (OSError, asyncio.IncompleteReadError, asyncio.CancelledError, ValueError, IndexError):
        if not stop.is_set():
            viewer.errors += 1
        viewer.connected.set()
    finally:
        stream.close()
        page.close()


async def page_loads(client: httpx.AsyncClient, base: str, urls: list[str], count: int) -> list[float]:
    times: list[float] = []
    timed: list[tuple[float, str]] = []
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
            timed.append((times[-1], url))

    await asyncio.gather(*(worker() for _ in range(8)))
    if DETAIL:
        for seconds, url in sorted(timed, reverse=True)[:12]:
            print(f"    page load {seconds * 1000:.0f} ms: {url}", file=sys.stderr)
    return times


async def watch_commits(db: Path, commits: list[float], stop: asyncio.Event) -> None:
    """Each commit's time: that of the last check that did not see it yet (so a commit is
    never timed later than it happened: the lags below are, if anything, too long)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    last = conn.execute("PRAGMA data_version").fetchone()[0]
    before = time.time()
    while not stop.is_set():
        checked = time.time()
        value = conn.execute("PRAGMA data_version").fetchone()[0]
        if value != last:
            commits.append(before)
            last = value
        before = checked
        await asyncio.sleep(0.01)
    conn.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def wave(base: str, db: Path, pid: int, viewers: int, urls: list[str], seconds: float) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=30) as loader:
        pids = serving(pid)
        helpers = pids[1:]
        before, helpers_before = rss_mb([pid]), rss_mb(helpers, "VmHWM")
        stop = asyncio.Event()
        # Half watch the event's standings, half a board.
        crowd = [Viewer(page=f"/events/{EVENT}" if i % 2 == 0 else "/competitions/board-0") for i in range(viewers)]
        tasks = [asyncio.create_task(view(base, v, stop)) for v in crowd]
        await asyncio.wait_for(asyncio.gather(*(v.connected.wait() for v in crowd)), timeout=60)
        commits: list[float] = []
        watcher = asyncio.create_task(watch_commits(db, commits, stop))
        cpu0, clock0 = cpu_seconds(pids), time.monotonic()
        loads = await page_loads(loader, base, urls, 200)
        remaining = seconds - (time.monotonic() - clock0)
        if remaining > 0:
            await asyncio.sleep(remaining)
        cpu = cpu_seconds(pids) - cpu0
        elapsed = time.monotonic() - clock0
        during = rss_mb([pid])
        await asyncio.sleep(3)  # let the last updates finish
        settled = time.time() - 2.5  # commits before this had time to reach everyone
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await watcher
    await asyncio.sleep(3)
    after, helpers_after = rss_mb([pid]), rss_mb(helpers, "VmHWM")
    lags: dict[str, list[float]] = {"event": [], "board": []}
    for commit in (c for c in commits if c < settled):
        for kind in lags:
            worst = 0.0
            for viewer in crowd:
                if viewer.page.startswith("/events/") != (kind == "event"):
                    continue
                # Updated: a page loaded for a version whose data were checked after the commit.
                done = [end for as_of, start, end in viewer.loads if as_of > commit]
                worst = max(worst, min(done) - commit if done else float("inf"))  # inf: never updated
            lags[kind].append(worst)
            if DETAIL:
                covering = [
                    min((load for load in viewer.loads if load[0] > commit), default=None, key=lambda load: load[2])
                    for viewer in crowd
                ]
                starts = [load[1] for load in covering if load is not None]
                heard = f"; heard {min(starts) - commit:.2f}-{max(starts) - commit:.2f} s after" if starts else ""
                print(f"    commit at {commit:.3f}: {kind} viewers' worst {worst:.2f} s{heard}", file=sys.stderr)
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
        "worker peak before": helpers_before,
        "worker peak after": helpers_after,
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
    async with httpx.AsyncClient(timeout=120) as client:
        for url in urls:  # warm up: each page rendered once
            await get(client, base + url)
        # ... and one tick's syncs followed, as one viewer would, so the server and its
        # standings worker are at their working size before the first wave is measured.
        until = time.monotonic() + interval + 4
        while time.monotonic() < until:
            for url in (f"/events/{EVENT}", "/competitions/board-0"):
                await get(client, base + url)
            await asyncio.sleep(1)
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
    parser.add_argument("--log", type=Path, help="keep the server's log file here (default: thrown away)")
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
        env = {**os.environ, "HOME": str(scratch), "KAGSYNC_LOG_FILE": str(args.log or scratch / "serve.log")}
        print(f"Building an event of {BOARDS} boards of {TEAMS:,} teams...", flush=True)
        clock = time.monotonic()
        db, boards = build(scratch, source, kagsync, env)
        print(f"  built in {time.monotonic() - clock:.0f} s", flush=True)
        port = free_port()
        server = subprocess.Popen(
            [
                kagsync,
                *(["--verbose"] if args.log else []),  # the log then times each render and new version
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
    print("Update: from a commit to the last viewer's page loaded after it (board page; event standings page).")
    print("RSS: the server's process; worker peak: the standings worker's high-water mark, before -> after.")
    print("CPU: the server and its worker (not the watch), per viewer and second.")
    print(
        f"{'viewers':>8} {'page p50':>9} {'page p95':>9} {'commits':>8} {'board p50':>10} {'board max':>10} "
        f"{'event p50':>10} {'event max':>10} {'RSS before':>11} {'during':>8} {'after':>8} {'worker peak':>12} "
        f"{'CPU/viewer/s':>13} {'errors':>7}"
    )
    for r in results:
        print(
            f"{r['viewers']:>8} {r['page p50'] * 1000:>7.0f}ms {r['page p95'] * 1000:>7.0f}ms {r['commits']:>8} "
            f"{r['update p50']:>9.2f}s {r['update max']:>9.2f}s {r['event update p50']:>9.2f}s "
            f"{r['event update max']:>9.2f}s {r['rss before']:>9.0f}MB "
            f"{r['rss during']:>6.0f}MB {r['rss after']:>6.0f}MB "
            f"{r['worker peak before']:>4.0f}->{r['worker peak after']:<4.0f}MB "
            f"{r['cpu per viewer-second (ms)']:>11.2f}ms {r['stream errors']:>7}"
        )
    checks = Checks("Targets (issue 18)")
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
        checks.at_most(f"memory after {n} viewers left, growth (server)", growth, MEMORY_SLACK_MB, "MB")
        growth = r["worker peak after"] - r["worker peak before"]
        checks.at_most(
            f"memory after {n} viewers left, growth (standings worker's peak)", growth, MEMORY_SLACK_MB, "MB"
        )
    return 0 if checks.print() else 1


if __name__ == "__main__":
    raise SystemExit(main())
