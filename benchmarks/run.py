#!/usr/bin/env python3
"""kagsync benchmarks (issues 6 and 11): ingest, re-sync, history, watch ticks, reading.

Run from the repository with the Python that has kagsync installed (the venv's own
python finds the ``kagsync`` and ``sqlite-utils`` commands beside it)::

    python benchmarks/run.py              # everything, about 8-10 minutes on 2 cores
    python benchmarks/run.py --quick      # a development run, about 2 minutes
    python benchmarks/run.py --workdir ~/.cache/kagsync-bench   # keep generated boards

Cases, each as whole processes timed by wall clock and CPU (user + system, from the
child's own rusage), median of the repetitions:

1. **Ingest** (10k, 100k and 1M teams of synthetic shape-C zips, cached in the work dir):
   ``kagsync sync bench --from board.zip`` into a fresh database, an identical
   re-sync (another zip of the same CSV), a 1%-changed re-sync (name, submissions or an
   in-between score: no rank moves), and the fresh sync from the extracted CSV;
   against ``sqlite3 .import --csv`` (the floor) and ``sqlite-utils insert --csv``. The
   per-stage table comes from the sync's own timings (its log's ``timings:`` line).
2. **History**: a 20,000-team board synced N times (300; 40 with ``--quick``), each time
   with 200 teams improving their score and the board re-ranked as Kaggle does; the
   database's growth per sync (after a WAL checkpoint, over the second half), then
   ``movers``, ``history --team`` and ``report`` as processes.
3. **Watch tick**: ``watch --once --jobs 4`` over 20 competitions of 20,000 teams, each
   with 1% of its teams improving (re-ranked), then the same tick with nothing changed;
   CPU time against ``.import`` of the same 400,000 rows.
4. **Reading**: ``event standings --everyone --csv`` over four 20,000-team boards with
   60,000 distinct participants, ``report`` of that event, ``leaderboard --csv`` of
   100,000 teams.
5. **Memory** (peak RSS of every sync, from ``os.wait4``) and **start-up** (``--help``,
   ``competition list``; neither may import the Kaggle client).

Then it prints the targets with PASS or MISS (a miss says by how much). The exit
status is 0 when every checked target passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

SLUG = "bench"
GENERATOR_VERSION = 6  # bump when the generated data changes: invalidates the cache
CSV_NAME = f"{SLUG}-publicleaderboard-2026-05-05T15:36:33.csv"
HEADER = "Rank,TeamId,TeamName,LastSubmissionDate,Score,SubmissionCount,TeamMemberUserNames"
KAGGLE_CLIENT_MODULES = ("kaggle", "kagglesdk", "requests")

# -- targets (issue 11) ---------------------------------------------------------------
FRESH_VS_IMPORT = {100_000: 4.0, 1_000_000: 3.0}  # first sync <= x .import
IDENTICAL_VS_IMPORT = {100_000: 1.5, 1_000_000: 0.5}  # unchanged download <= x .import
CHANGED_VS_IMPORT = {1_000_000: 2.5}  # 1%-changed re-sync <= x .import
TICK_CPU_VS_IMPORT = 2.5  # a watch tick, 1% changed, CPU <= x .import of its rows
QUIET_TICK_CPU_VS_IMPORT = 0.5  # the same tick when nothing changed
GROWTH_LIMIT_KB = 60.0  # database growth per busy sync
VIEW_LIMIT = 1.0  # movers, history --team, report after the history syncs (seconds)
READ_LIMIT = 2.0  # standings, report, leaderboard --csv (seconds)
RSS_SIZE = 1_000_000
RSS_LIMIT_MB = 200.0
STARTUP_LIMIT = 0.3

# -- synthetic leaderboards ----------------------------------------------------------

_FIRST = [
    "Anna",
    "Bo",
    "Chen",
    "Dmitri",
    "Élodie",
    "Fatima",
    "Giovanni",
    "Hiroshi",
    "Ines",
    "José",
    "Kwame",
    "Lena",
    "Mateus",
    "Nguyễn",
    "Olga",
    "Priya",
    "Quentin",
    "Raúl",
    "Sören",
    "Tomasz",
    "Ümit",
    "Valentina",
    "Wei",
    "Xavier",
    "Yuki",
    "Zoë",
    "Larry",
    "Mohammed",
    "Aleksandr",
    "Camille",
]
_LAST = [
    "Smith",
    "Müller",
    "Wang",
    "Kowalski",
    "García",
    "Ivanov",
    "Tanaka",
    "O'Brien",
    "Dubois",
    "Rossi",
    "Silva",
    "Kim",
    "Nakamura",
    "Öztürk",
    "Novák",
    "Hernández",
    "Johansson",
    "Papadopoulos",
    "Singh",
    "Łukasz",
    "Cukierski",
    "Nguyen",
    "Abebe",
    "Fernández",
    "Jensen",
]
_WORDS = [
    "gradient",
    "boost",
    "random",
    "forest",
    "deep",
    "neural",
    "kaggle",
    "grandmaster",
    "data",
    "wizard",
    "tensor",
    "lightgbm",
    "xgb",
    "catboost",
    "stack",
    "blend",
    "overfit",
    "leak",
    "hunter",
    "ensemble",
    "bayes",
    "dropout",
    "lambda",
    "vector",
    "transformer",
    "attention",
    "pixel",
    "token",
    "cv",
    "lb",
    "shake",
    "up",
]
_SPECIAL = [
    'Larry "DJ" Cukierski',
    "Smith, Jones & Co",
    "赵云龙",
    "Álvaro",
    "Leszek Góra",
    "寿!",
    " Haris Zuber",
    "98074",
    "01520410",
    "747.",
    "[Deleted]",
    "🚀 Rocket Science",
    "Team Ωmega",
    "naïve bayes",
    'The "Overfitters", Inc.',
    "データサイエンス",
    "Команда Альфа",
    "فريق البيانات",
    "ñandú, ñandú",
    "a,b,c",
]


def _team_name(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.05:
        return rng.choice(_SPECIAL)
    if roll < 0.45:
        return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    if roll < 0.75:
        return f"{rng.choice(_WORDS)}_{rng.choice(_WORDS)}{rng.randrange(1000)}"
    if roll < 0.90:
        return f"{rng.choice(_WORDS).title()}, {rng.choice(_WORDS).title()} & {rng.choice(_LAST)}"
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)} ({rng.choice(_WORDS)})"


def _user(rng: random.Random) -> str:
    first = rng.choice(_FIRST).lower().encode("ascii", "ignore").decode()
    last = rng.choice(_LAST).lower().encode("ascii", "ignore").decode().replace("'", "")
    # Kaggle usernames are letters and digits.
    style = rng.randrange(3)
    if style == 0:
        return f"{first}{last}{rng.randrange(10_000)}"
    if style == 1:
        return f"{last}{rng.randrange(100)}"
    return f"{first}{rng.randrange(1_000_000)}"


def _quote(text: str, always: bool = False) -> str:
    """Quote as Kaggle does: when needed (space, comma, quote, line break), dates always."""
    if always or any(c in text for c in ' ,"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _score_text(units: int) -> str:
    return f"{units // 100_000}.{units % 100_000:05d}"


@dataclass
class Board:
    """The generated files of one size and what the 1%-changed copy changed."""

    n: int
    zip: Path
    changed_zip: Path
    csv: Path
    changed: int  # teams whose row differs in the changed copy
    rank_or_score_changed: int  # of those, teams whose rank or score differs


def generate_board(n: int, workdir: Path, *, seed: int | None = None) -> Board:
    """Write board-N.zip, board-N-changed.zip and board-N.csv into ``workdir``, streaming.

    Deterministic: the seed defaults to ``n``.
    """
    seed = n if seed is None else seed
    workdir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    ids = rng.sample(range(10_000_000, 10_000_000 + 20 * n + 1000), n)
    # Scores in 1e-5 units, descending (higher is better), about one tie in ten.
    units = [0] * n
    value = 99_000 + 40 * n
    for i in range(n):
        if i and rng.random() > 0.1:
            value -= rng.choice([10, 20, 30, 50, 100, 7, 13])
        units[i] = value
    change_rng = random.Random(seed + 1)
    chosen = sorted(change_rng.sample(range(n), n // 100))
    changed_at = set(chosen)
    start = datetime(2026, 4, 1)
    span = 34 * 24 * 3600
    paths = Board(
        n,
        workdir / f"board-{n}.zip",
        workdir / f"board-{n}-changed.zip",
        workdir / f"board-{n}.csv",
        len(chosen),
        0,
    )
    tmp = [p.with_suffix(p.suffix + ".part") for p in (paths.zip, paths.changed_zip, paths.csv)]
    score_changes = 0
    with (
        zipfile.ZipFile(tmp[0], "w") as zip_a,
        zipfile.ZipFile(tmp[1], "w") as zip_b,
        open(tmp[2], "wb") as plain,
        zip_a.open(_member(), "w") as out_a,
        zip_b.open(_member(), "w") as out_b,
    ):
        head = ("\ufeff" + HEADER + "\n").encode("utf-8")
        out_a.write(head)
        out_b.write(head)
        plain.write(head)
        batch_a: list[str] = []
        batch_b: list[str] = []
        for i in range(n):
            members = [_user(rng) for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4)))]
            when = start + timedelta(seconds=rng.randrange(span))
            row = [
                str(i + 1),
                str(ids[i]),
                _team_name(rng),
                when.strftime("%Y-%m-%d %H:%M:%S"),
                _score_text(units[i]),
                str(rng.randrange(1, 200)),
                ",".join(members),
            ]
            line = _line(row)
            batch_a.append(line)
            if i in changed_at:
                row = _change(row, i, units, change_rng, when)
                if row[4] != _score_text(units[i]):
                    score_changes += 1
                line = _line(row)
            batch_b.append(line)
            if len(batch_a) >= 10_000:
                _flush(batch_a, out_a, plain)
                _flush(batch_b, out_b)
        _flush(batch_a, out_a, plain)
        _flush(batch_b, out_b)
    for part, final in zip(tmp, (paths.zip, paths.changed_zip, paths.csv), strict=False):
        part.replace(final)
    paths.rank_or_score_changed = score_changes
    return paths


def _member() -> zipfile.ZipInfo:
    """A fresh ZipInfo per archive: writing fills in its CRC and sizes."""
    info = zipfile.ZipInfo(CSV_NAME, date_time=(2026, 5, 5, 15, 36, 32))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _line(row: list[str]) -> str:
    return ",".join(_quote(v, always=(k == 3)) for k, v in enumerate(row)) + "\n"


def _flush(lines: list[str], *outs: Any) -> None:
    data = "".join(lines).encode("utf-8")
    for out in outs:
        out.write(data)
    lines.clear()


def _change(row: list[str], i: int, units: list[int], rng: random.Random, when: datetime) -> list[str]:
    """One change that keeps every team's rank: name, activity, or an in-between score."""
    row = list(row)
    kind = rng.randrange(3)
    if kind == 2:
        # Only a team strictly between its neighbours can move its score and keep its
        # rank (ties keep their order by submission time, which we do not model).
        above = units[i - 1] if i else None
        below = units[i + 1] if i + 1 < len(units) else None
        if (above is None or above > units[i] + 1) and (below is None or below < units[i]):
            row[4] = _score_text(units[i] + 1)
            row[5] = str(int(row[5]) + 1)
            row[3] = (when + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
            return row
        kind = 1
    if kind == 0:
        row[2] = row[2] + " (renamed)"
    else:
        row[5] = str(int(row[5]) + 1)
        row[3] = (when + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    return row


def board_files(n: int, workdir: Path) -> Board:
    """The cached files of size ``n``, generated when missing or stale."""
    meta_path = workdir / f"board-{n}.json"
    try:
        meta = json.loads(meta_path.read_text())
        if meta["version"] == GENERATOR_VERSION and all(Path(meta[k]).exists() for k in ("zip", "changed_zip", "csv")):
            return Board(
                n,
                Path(meta["zip"]),
                Path(meta["changed_zip"]),
                Path(meta["csv"]),
                meta["changed"],
                meta["rank_or_score_changed"],
            )
    except (OSError, ValueError, KeyError):
        pass
    clock = time.perf_counter()
    print(f"generating {n:,} teams ...", end=" ", flush=True, file=sys.stderr)
    made = generate_board(n, workdir)
    print(f"{time.perf_counter() - clock:.1f} s", file=sys.stderr)
    meta_path.write_text(
        json.dumps(
            {
                "version": GENERATOR_VERSION,
                "zip": str(made.zip),
                "changed_zip": str(made.changed_zip),
                "csv": str(made.csv),
                "changed": made.changed,
                "rank_or_score_changed": made.rank_or_score_changed,
            }
        )
    )
    return made


# -- busy boards: improvements, re-ranked as Kaggle does ------------------------------


class BusyBoard:
    """A shape-C board whose ``changes`` teams improve at each :meth:`advance`; the board
    is then re-ranked by score (ties: the earlier submission first), as Kaggle does, so
    most teams move although only a few did anything. Two benchmarks sit at rank 0.

    ``members``: the usernames of team ``k`` (its position when made) is
    ``user{members(k)}``; by default each team has its own.
    """

    def __init__(self, n: int, changes: int, seed: int, members: Any = None) -> None:
        rng = random.Random(seed)
        self.rng = rng
        self.changes = changes
        self.ids = rng.sample(range(10_000_000, 10_000_000 + 20 * n + 1000), n)
        self.scores = {tid: 40_000 + rng.randrange(50_000) for tid in self.ids}
        self.when = {tid: f"2026-04-{1 + rng.randrange(28):02d} {rng.randrange(24):02d}:00:00" for tid in self.ids}
        self.subs = {tid: 1 + rng.randrange(40) for tid in self.ids}
        self.names = {tid: _quote(_team_name(rng)) for tid in self.ids}
        self.members = {tid: f"user{members(k) if members else tid}" for k, tid in enumerate(self.ids)}
        self.step = 0

    def advance(self) -> None:
        self.step += 1
        day = datetime(2026, 5, 1) + timedelta(minutes=5 * self.step)
        for tid in self.rng.sample(self.ids, self.changes):
            self.scores[tid] += 1 + self.rng.randrange(3000)
            self.subs[tid] += 1
            self.when[tid] = day.strftime("%Y-%m-%d %H:%M:%S")

    def csv(self) -> bytes:
        order = sorted(self.ids, key=lambda tid: (-self.scores[tid], self.when[tid]))
        lines = [
            "\ufeff" + HEADER,
            '0,1,Sample Benchmark,"2026-04-01 00:00:00",0.60000,1,',
            '0,2,Starter Benchmark,"2026-04-01 00:00:00",0.45000,1,',
        ]
        scores, when, subs, names, members = self.scores, self.when, self.subs, self.names, self.members
        for rank, tid in enumerate(order, 1):
            lines.append(
                f'{rank},{tid},{names[tid]},"{when[tid]}",{scores[tid] // 100_000}.{scores[tid] % 100_000:05d},'
                f"{subs[tid]},{members[tid]}"
            )
        return ("\n".join(lines) + "\n").encode("utf-8")

    def write_zip(self, path: Path, slug: str = SLUG) -> Path:
        info = zipfile.ZipInfo(f"{slug}-publicleaderboard.csv", date_time=(2026, 5, 5, 15, 36, 32))
        info.compress_type = zipfile.ZIP_DEFLATED
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(info, self.csv())
        return path


# -- running and measuring processes -------------------------------------------------


@dataclass
class Measured:
    seconds: float  # wall clock
    cpu: float  # user + system CPU seconds of the process (all its threads)
    max_rss_mb: float


def measure(argv: list[str], *, env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> Measured:
    """Run ``argv`` to completion; wall seconds, CPU seconds and that child's peak RSS."""
    clock = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    # os.wait4 returns the rusage of this one child (getrusage(RUSAGE_CHILDREN) would
    # give the running maximum over every child so far).
    stderr_data = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - clock
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode not in ok:
        raise SystemExit(
            f"command failed ({proc.returncode}): {' '.join(argv)}\n" + stderr_data.decode("utf-8", "replace")
        )
    return Measured(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)  # KiB


def median_of(repeat: int, argv: list[str], env: dict[str, str]) -> Measured:
    runs = [measure(argv, env=env) for _ in range(repeat)]
    return Measured(
        statistics.median(r.seconds for r in runs),
        statistics.median(r.cpu for r in runs),
        max(r.max_rss_mb for r in runs),
    )


def find_tool(name: str) -> str | None:
    """A console script beside this interpreter (the venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    return shutil.which(name)


def fresh(path: Path) -> Path:
    """Remove a database and its companions (WAL, SHM, logs, locks)."""
    for extra in ("", "-wal", "-shm", "-journal", ".locks"):
        target = Path(str(path) + extra)
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    return path


def last_run(db: Path) -> dict[str, int]:
    """created/updated/removed of the latest sync run, its change records and frame bytes."""
    conn = sqlite3.connect(db)
    try:
        run_id, status, created, updated, removed, error = conn.execute(
            "SELECT id, status, created, updated, removed, error FROM sync_runs ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if status != "ok":
            raise SystemExit(f"sync failed: {error}")
        changes = conn.execute("SELECT count(*) FROM entry_changes WHERE run_id = ?", (run_id,)).fetchone()[0]
        try:
            frame = conn.execute(
                "SELECT coalesce(length(delta), 0) + coalesce(length(keyframe), 0) FROM rank_frames WHERE run_id = ?",
                (run_id,),
            ).fetchone()
        except sqlite3.OperationalError:  # a kagsync before schema 8 (--kagsync)
            frame = None
    finally:
        conn.close()
    return {
        "created": created,
        "updated": updated,
        "removed": removed,
        "entry_rows": created + updated + removed,
        "change_rows": changes,
        "frame_bytes": frame[0] if frame else 0,
    }


_TIMINGS = re.compile(r" INFO (\S+): timings: (.*)$")


def last_timings(log: Path, slug: str = SLUG) -> dict[str, float]:
    """The stages of the latest sync of ``slug`` as its log line gives them."""
    found: dict[str, float] = {}
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return found
    for line in reversed(lines):
        match = _TIMINGS.search(line)
        if match and match.group(1) == slug:
            for part in match.group(2).split(", "):
                stage, seconds, _ = part.rsplit(" ", 2)
                found[stage] = float(seconds)
            break
    return found


def _checkpointed_size(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return db.stat().st_size


# -- 1. ingest -------------------------------------------------------------------------


@dataclass
class SizeResult:
    n: int
    timings: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    rss: dict[str, list[float]] = field(default_factory=dict)
    writes: dict[str, dict[str, int]] = field(default_factory=dict)
    stages: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    expected_changed: int = 0
    expected_score_changes: int = 0

    def add(self, key: str, m: Measured, *, rss: bool = False) -> None:
        self.timings.setdefault(key, []).append(m.seconds)
        self.cpu.setdefault(key, []).append(m.cpu)
        if rss:
            self.rss.setdefault(key, []).append(m.max_rss_mb)

    def t(self, key: str) -> float | None:
        """Median wall-clock seconds."""
        values = self.timings.get(key)
        return statistics.median(values) if values else None

    def c(self, key: str) -> float | None:
        """Median CPU seconds (user + system)."""
        values = self.cpu.get(key)
        return statistics.median(values) if values else None

    def stage(self, key: str, stage: str) -> float | None:
        values = [s[stage] for s in self.stages.get(key, []) if stage in s]
        return statistics.median(values) if values else None

    def peak(self, key: str | None = None) -> float | None:
        keys = [key] if key else list(self.rss)
        values = [v for k in keys for v in self.rss.get(k, [])]
        return max(values) if values else None


def bench_size(
    b: Board,
    repeat: int,
    kagsync: str,
    sqlite3_shell: str | None,
    sqlite_utils: str | None,
    scratch: Path,
    env: dict[str, str],
) -> SizeResult:
    result = SizeResult(b.n, expected_changed=b.changed, expected_score_changes=b.rank_or_score_changed)
    db = scratch / "kagsync.db"
    log = Path(env["KAGSYNC_LOG_FILE"])
    # The identical download is another zip of the same CSV (Kaggle's zips differ every
    # time: their timestamp), so the unchanged-content test cannot look at file bytes.
    again = scratch / f"board-{b.n}-again.zip"
    with zipfile.ZipFile(b.zip) as source, zipfile.ZipFile(again, "w", zipfile.ZIP_DEFLATED) as target:
        (name,) = source.namelist()
        info = zipfile.ZipInfo(name, date_time=(2026, 5, 5, 15, 41, 7))
        info.compress_type = zipfile.ZIP_DEFLATED
        with source.open(name) as reader, target.open(info, "w") as writer:
            shutil.copyfileobj(reader, writer, 1 << 20)
    for rep in range(repeat):
        print(f"  {b.n:,} teams: repetition {rep + 1}/{repeat}", file=sys.stderr, flush=True)
        fresh(db)
        measure([kagsync, "--db", str(db), "competition", "add", SLUG, "--no-sync"], env=env)
        sync = [kagsync, "--db", str(db), "-q", "sync", SLUG, "--from"]
        for key, path in (("fresh", b.zip), ("same", again), ("changed", b.changed_zip)):
            result.add(key, measure([*sync, str(path)], env=env), rss=True)
            result.writes[key] = last_run(db)
            result.stages.setdefault(key, []).append(last_timings(log))
        fresh(db)
        measure([kagsync, "--db", str(db), "competition", "add", SLUG, "--no-sync"], env=env)
        result.add("fresh_csv", measure([*sync, str(b.csv)], env=env), rss=True)
        fresh(db)
        base = scratch / "baseline.db"
        if sqlite3_shell:
            fresh(base)
            result.add("import", measure([sqlite3_shell, str(base), f".import --csv {b.csv} t"]))
        if sqlite_utils and (b.n < 1_000_000 or rep == 0):
            fresh(base)
            result.add("sqlite_utils", measure([sqlite_utils, "insert", str(base), "t", str(b.csv), "--csv"]))
        fresh(base)
    again.unlink()
    return result


# -- 2. history ------------------------------------------------------------------------


def _in_process() -> Any:
    """kagsync's modules, for driving many syncs without a process each."""
    from kagsync import db as dbmod
    from kagsync.repository import Repository
    from kagsync.sources import FileSource
    from kagsync.sync import Syncer

    return dbmod, Repository, FileSource, Syncer


def bench_history(syncs: int, kagsync: str, scratch: Path, env: dict[str, str], repeat: int) -> dict[str, Any]:
    """A busy 20,000-team board synced ``syncs`` times; growth per sync and view times."""
    dbmod, Repository, FileSource, Syncer = _in_process()
    db = fresh(scratch / "history.db")
    measure([kagsync, "--db", str(db), "event", "add", "History", "--slug", "history"], env=env)
    measure(
        [
            kagsync,
            "--db",
            str(db),
            "competition",
            "add",
            "busy",
            "--event",
            "history",
            "--status",
            "ongoing",
            "--no-sync",
        ],
        env=env,
    )
    database = dbmod.connect(db, mode="write")
    competition = Repository(database).get_competition("busy")
    database.close()
    board = BusyBoard(20_000, 200, seed=11)
    path = scratch / "busy.zip"
    sizes: list[int] = []
    cpu: list[float] = []
    clock = time.perf_counter()
    for number in range(syncs):
        if number:
            board.advance()
        board.write_zip(path, "busy")
        started = time.process_time()
        outcome = Syncer(db, FileSource(path)).sync(competition, "watch")
        cpu.append(time.process_time() - started)
        if not outcome.ok:
            raise SystemExit(f"history sync {number + 1} failed: {outcome.error}")
        sizes.append(_checkpointed_size(db))
        if (number + 1) % 50 == 0:
            print(f"  history: {number + 1}/{syncs} syncs", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - clock
    half = max(1, syncs // 2)
    growth = (sizes[-1] - sizes[half - 1]) / max(1, syncs - half)
    conn = sqlite3.connect(db)
    try:
        frames = conn.execute(
            "SELECT count(*), coalesce(sum(length(delta)), 0), coalesce(sum(length(keyframe)), 0),"
            " count(keyframe) FROM rank_frames"
        ).fetchone()
        records = conn.execute("SELECT count(*) FROM entry_changes").fetchone()[0]
        updated = conn.execute("SELECT avg(updated) FROM sync_runs WHERE id > 1").fetchone()[0] or 0
        team = conn.execute("SELECT team_id FROM entries WHERE rank > 0 ORDER BY rank LIMIT 1").fetchone()[0]
    finally:
        conn.close()
    views = {
        "movers": median_of(repeat, [kagsync, "--db", str(db), "movers", "busy"], env),
        "history --team": median_of(repeat, [kagsync, "--db", str(db), "history", "busy", "--team", str(team)], env),
        "report": median_of(
            repeat, [kagsync, "--db", str(db), "report", "history", "-o", str(scratch / "history.html")], env
        ),
    }
    return {
        "syncs": syncs,
        "teams": 20_000,
        "improving": 200,
        "seconds": seconds,
        "cpu_per_sync": statistics.median(cpu[1:]) if len(cpu) > 1 else cpu[0],
        "growth_bytes": growth,
        "size_bytes": sizes[-1],
        "frames": frames[0],
        "delta_bytes": frames[1],
        "keyframe_bytes": frames[2],
        "keyframes": frames[3],
        "change_records": records,
        "moved_per_sync": updated,
        "views": {label: m.seconds for label, m in views.items()},
    }


# -- 3. a watch tick --------------------------------------------------------------------


def bench_tick(
    kagsync: str, sqlite3_shell: str | None, scratch: Path, env: dict[str, str], repeat: int
) -> dict[str, Any]:
    """``watch --once --jobs 4`` over 20 boards of 20,000 teams: 1% improved, then unchanged."""
    dbmod, Repository, _, _ = _in_process()
    folder = scratch / "tick"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    db = fresh(scratch / "tick.db")
    slugs = [f"tick-{k:02d}" for k in range(20)]
    boards = {slug: BusyBoard(20_000, 200, seed=100 + k) for k, slug in enumerate(slugs)}
    database = dbmod.connect(db)
    repository = Repository(database)
    for slug in slugs:
        repository.add_competition(slug, status="ongoing", sync=False)
        boards[slug].write_zip(folder / f"{slug}.zip", slug)
    database.close()
    tick = [kagsync, "--db", str(db), "--source", str(folder), "-q", "watch", "--once", "--jobs", "4"]
    first = measure(tick, env=env)
    busy: list[Measured] = []
    quiet: list[Measured] = []
    for _ in range(repeat):
        for slug in slugs:
            boards[slug].advance()
            boards[slug].write_zip(folder / f"{slug}.zip", slug)
        busy.append(measure(tick, env=env))
        quiet.append(measure(tick, env=env))
    result: dict[str, Any] = {
        "competitions": len(slugs),
        "teams": 20_000,
        "rows": 20 * 20_002,
        "first": first.seconds,
        "first_cpu": first.cpu,
        "busy": statistics.median(m.seconds for m in busy),
        "busy_cpu": statistics.median(m.cpu for m in busy),
        "quiet": statistics.median(m.seconds for m in quiet),
        "quiet_cpu": statistics.median(m.cpu for m in quiet),
        "import": None,
        "import_cpu": None,
    }
    if sqlite3_shell:
        csvs = []
        for slug in slugs:
            path = folder / f"{slug}.csv"
            path.write_bytes(boards[slug].csv())
            csvs.append(path)
        runs = []
        for _ in range(max(repeat, 3)):
            base = fresh(scratch / "tick-import.db")
            commands = [f".import --csv {csvs[0]} t"] + [f".import --csv --skip 1 {p} t" for p in csvs[1:]]
            runs.append(measure([sqlite3_shell, str(base), *commands]))
        result["import"] = statistics.median(m.seconds for m in runs)
        result["import_cpu"] = statistics.median(m.cpu for m in runs)
    return result


# -- 4. reading ------------------------------------------------------------------------


def bench_reading(
    kagsync: str,
    scratch: Path,
    workdir: Path,
    env: dict[str, str],
    repeat: int,
) -> dict[str, float]:
    dbmod, Repository, FileSource, Syncer = _in_process()
    db = fresh(scratch / "reading.db")
    measure([kagsync, "--db", str(db), "event", "add", "Reading", "--slug", "reading"], env=env)
    database = dbmod.connect(db)
    repository = Repository(database)
    path = scratch / "reading.zip"
    # Four 20,000-team boards of one member each; board k's usernames are
    # user{(k*13333 + j) % 60000}: 60,000 distinct participants, many on two boards.
    for k in range(4):
        slug = f"read-{k}"
        competition = repository.add_competition(slug, event="reading", status="ongoing", sync=False).competition
        board = BusyBoard(20_000, 200, seed=200 + k, members=lambda j, k=k: (k * 13_333 + j) % 60_000)
        for _ in range(2):  # twice: movement and charts
            board.write_zip(path, slug)
            if not Syncer(db, FileSource(path)).sync(competition, "manual").ok:
                raise SystemExit(f"reading: the sync of {slug} failed")
            board.advance()
    big = board_files(100_000, workdir)
    competition = repository.add_competition(SLUG, sync=False).competition
    for source in (big.zip, big.changed_zip):
        if not Syncer(db, FileSource(source)).sync(competition, "manual").ok:
            raise SystemExit("reading: the 100,000-team sync failed")
    database.close()
    participants = (
        sqlite3.connect(db)
        .execute(
            "SELECT count(DISTINCT value) FROM entries, json_each(members) WHERE competition_id IN"
            " (SELECT id FROM competitions WHERE slug LIKE 'read-%')"
        )
        .fetchone()[0]
    )
    out = {
        "participants": participants,
        "event standings": median_of(
            repeat, [kagsync, "--db", str(db), "event", "standings", "reading", "--everyone", "--csv"], env
        ).seconds,
        "report": median_of(
            repeat, [kagsync, "--db", str(db), "report", "reading", "-o", str(scratch / "reading.html")], env
        ).seconds,
        "leaderboard --csv (100k)": median_of(
            repeat, [kagsync, "--db", str(db), "leaderboard", SLUG, "--csv"], env
        ).seconds,
    }
    return out


# -- 5. start-up -------------------------------------------------------------------------


def bench_startup(kagsync: str, scratch: Path, repeat: int, env: dict[str, str]) -> dict[str, object]:
    db = fresh(scratch / "startup.db")
    measure([kagsync, "--db", str(db), "event", "add", "Startup"], env=env)  # create the file
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "kagsync --help": [kagsync, "--help"],
        "kagsync competition list": [kagsync, "--db", str(db), "competition", "list"],
    }
    out: dict[str, object] = {}
    for label, argv in commands.items():
        measure(argv, env=env)  # warm the page cache
        out[label] = statistics.median(measure(argv, env=env).seconds for _ in range(repeat))
    # Which modules each command imports: run the CLI in-process, then list sys.modules.
    # The python running kagsync is the one in the console script's shebang.
    python = _script_python(kagsync)
    probe = (
        "import sys\n"
        "from kagsync.cli import main\n"
        "sys.argv = ['kagsync'] + sys.argv[1:]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"found = sorted(m for m in sys.modules if m.split('.')[0] in {KAGGLE_CLIENT_MODULES!r})\n"
        "sys.stderr.write('MODULES ' + ' '.join(found) + '\\n')\n"
    )
    for label, args in (
        ("kagsync --help", ["--help"]),
        ("kagsync competition list", ["--db", str(db), "competition", "list"]),
    ):
        done = subprocess.run([python, "-c", probe, *args], capture_output=True, text=True, env=env, check=False)
        line = [x for x in done.stderr.splitlines() if x.startswith("MODULES")]
        out[label + " imports"] = line[0].split()[1:] if line else ["?"]
    fresh(db)
    return out


def _script_python(script: str) -> str:
    try:
        with open(script, "rb") as handle:
            first = handle.readline().decode().strip()
        if first.startswith("#!") and "python" in first:
            return first[2:].strip().split()[0]
    except OSError:
        pass
    return sys.executable


# -- report --------------------------------------------------------------------------


def _fmt(x: float | None, unit: str = "s") -> str:
    if x is None:
        return "-"
    return f"{x:.2f} {unit}" if unit == "s" else f"{x:.0f} {unit}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def _table(head: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=False)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=False)) + " |")


class Checks:
    """Targets with PASS/MISS; a miss says by how much."""

    def __init__(self, title: str = "Targets (issue 11)") -> None:
        self.title = title
        self.rows: list[tuple[str, str, bool | None]] = []

    def at_most(self, name: str, value: float | None, limit: float, unit: str = "x") -> None:
        if value is None:
            self.rows.append((name, "not run", None))
            return
        shown = f"{value:.2f}{unit}" if unit == "x" else f"{value:.2f} {unit}".rstrip()
        if value > limit:
            shown += f"  ({value / limit:.1f} times the limit)" if limit else ""
        self.rows.append((name, shown, value <= limit))

    def holds(self, name: str, figure: str, ok: bool | None) -> None:
        self.rows.append((name, figure, ok))

    def print(self) -> bool:
        print()
        print(f"{self.title}:")
        width = max(len(c[0]) for c in self.rows)
        all_ok = True
        for name, figure, ok in self.rows:
            verdict = "----" if ok is None else ("PASS" if ok else "MISS")
            all_ok = all_ok and ok is not False
            print(f"  {verdict}  {name:<{width}}  {figure}")
        return all_ok


STAGES = ("download", "digest", "parse", "prepare", "write")


def report(
    results: list[SizeResult],
    startup: dict[str, object] | None,
    repeats: dict[int, int],
    history: dict[str, Any] | None,
    tick: dict[str, Any] | None,
    reading: dict[str, Any] | None,
) -> bool:
    checks = Checks()
    print()
    print("1. Ingest: whole processes, median of the repetitions. kagsync reads the zip;")
    print("   .import and sqlite-utils read the extracted CSV (their unzip is not timed).")
    print()
    head = [
        "teams",
        "reps",
        "fresh",
        "fresh (csv)",
        "identical",
        "1% changed",
        ".import",
        "sqlite-utils",
        "fresh/.import",
        "identical/.import",
        "changed/.import",
        "sqlite-utils/fresh",
        "peak RSS",
    ]
    _table(
        head,
        [
            [
                f"{r.n:,}",
                str(repeats[r.n]),
                _fmt(r.t("fresh")),
                _fmt(r.t("fresh_csv")),
                _fmt(r.t("same")),
                _fmt(r.t("changed")),
                _fmt(r.t("import")),
                _fmt(r.t("sqlite_utils")),
                _ratio(r.t("fresh"), r.t("import")),
                _ratio(r.t("same"), r.t("import")),
                _ratio(r.t("changed"), r.t("import")),
                _ratio(r.t("sqlite_utils"), r.t("fresh")),
                _fmt(r.peak(), "MB"),
            ]
            for r in results
        ],
    )
    print()
    print("The same runs in CPU seconds (user + system; less sensitive to other load on the machine):")
    head = [
        "teams",
        "fresh",
        "fresh (csv)",
        "identical",
        "1% changed",
        ".import",
        "sqlite-utils",
        "fresh/.import",
        "identical/.import",
        "changed/.import",
    ]
    _table(
        head,
        [
            [
                f"{r.n:,}",
                _fmt(r.c("fresh")),
                _fmt(r.c("fresh_csv")),
                _fmt(r.c("same")),
                _fmt(r.c("changed")),
                _fmt(r.c("import")),
                _fmt(r.c("sqlite_utils")),
                _ratio(r.c("fresh"), r.c("import")),
                _ratio(r.c("same"), r.c("import")),
                _ratio(r.c("changed"), r.c("import")),
            ]
            for r in results
        ],
    )
    print()
    print("Stages of each sync, from its own log line (median seconds; the rest of the wall time is")
    print("start-up, opening the database and recording the run):")
    rows = []
    for r in results:
        for key, label in (("fresh", "fresh"), ("same", "identical"), ("changed", "1% changed")):
            rows.append([f"{r.n:,}", label, *(_fmt(r.stage(key, s)) for s in STAGES), _fmt(r.t(key))])
    _table(["teams", "sync", *STAGES, "whole process"], rows)
    print()
    print("Rows written by each sync (entry rows created+updated+removed / change records / frame bytes):")
    head = [
        "teams",
        "fresh",
        "identical",
        "1% changed",
        "expected (1% changed)",
        "peak RSS fresh / identical / changed",
    ]
    _table(
        head,
        [
            [
                f"{r.n:,}",
                f"{r.writes['fresh']['entry_rows']:,} / {r.writes['fresh']['change_rows']:,} / {r.writes['fresh']['frame_bytes']:,}",
                f"{r.writes['same']['entry_rows']:,} / {r.writes['same']['change_rows']:,} / {r.writes['same']['frame_bytes']:,}",
                f"{r.writes['changed']['entry_rows']:,} / {r.writes['changed']['change_rows']:,}"
                f" / {r.writes['changed']['frame_bytes']:,}",
                f"{r.expected_changed:,} / {r.expected_changed:,} / 0",
                " / ".join(_fmt(r.peak(k), "MB") for k in ("fresh", "same", "changed")),
            ]
            for r in results
        ],
    )
    by_n = {r.n: r for r in results}
    for n, limit in FRESH_VS_IMPORT.items():
        r = by_n.get(n)
        checks.at_most(
            f"fresh sync of {n:,} <= {limit:g}x .import",
            r.t("fresh") / r.t("import") if r and r.t("import") else None,
            limit,
        )
    for n, limit in IDENTICAL_VS_IMPORT.items():
        r = by_n.get(n)
        checks.at_most(
            f"identical re-sync of {n:,} <= {limit:g}x .import",
            r.t("same") / r.t("import") if r and r.t("import") else None,
            limit,
        )
    for n, limit in CHANGED_VS_IMPORT.items():
        r = by_n.get(n)
        checks.at_most(
            f"1%-changed re-sync of {n:,} <= {limit:g}x .import",
            r.t("changed") / r.t("import") if r and r.t("import") else None,
            limit,
        )
    for r in results:
        same = r.writes["same"]
        checks.holds(
            f"identical re-sync of {r.n:,} writes nothing",
            f"{same['entry_rows'] + same['change_rows'] + same['frame_bytes']} rows/bytes",
            same["entry_rows"] + same["change_rows"] + same["frame_bytes"] == 0,
        )
        w = r.writes["changed"]
        ok = (
            w["created"] == 0
            and w["removed"] == 0
            and w["updated"] == r.expected_changed
            and w["change_rows"] == r.expected_changed
            and w["frame_bytes"] == 0
        )
        checks.holds(
            f"1%-changed re-sync of {r.n:,} writes only the changed rows",
            f"{w['entry_rows']:,} entries + {w['change_rows']:,} change records + {w['frame_bytes']} frame bytes"
            f" (expected {r.expected_changed:,} + {r.expected_changed:,} + 0)",
            ok,
        )
    r = by_n.get(RSS_SIZE)
    checks.at_most(f"{RSS_SIZE:,} teams: peak RSS <= {RSS_LIMIT_MB:g} MB", r.peak() if r else None, RSS_LIMIT_MB, "MB")

    if history:
        print()
        print(
            f"2. History: a {history['teams']:,}-team board synced {history['syncs']} times, "
            f"{history['improving']} teams improving each time, re-ranked"
        )
        print(
            f"   syncs: {history['seconds']:.0f} s in all, {history['cpu_per_sync']:.2f} s CPU each; "
            f"{history['moved_per_sync']:,.0f} entry rows updated per sync (ranks that moved)"
        )
        print(
            f"   database: {history['size_bytes'] / 1e6:.1f} MB, growing {history['growth_bytes'] / 1024:.1f} KB "
            "per sync (second half of the syncs)"
        )
        print(
            f"   rank frames: {history['frames']} ({history['delta_bytes'] / max(1, history['frames']):,.0f} bytes"
            f" of delta each, {history['keyframes']} keyframes of "
            f"{history['keyframe_bytes'] / max(1, history['keyframes']):,.0f} bytes); "
            f"{history['change_records']:,} change records"
        )
        for label, seconds in history["views"].items():
            print(f"   {label:<16} {seconds:.2f} s")
        checks.at_most(
            f"history: growth per sync <= {GROWTH_LIMIT_KB:g} KB", history["growth_bytes"] / 1024, GROWTH_LIMIT_KB, "KB"
        )
        for label, seconds in history["views"].items():
            checks.at_most(
                f"history: {label} after {history['syncs']} syncs < {VIEW_LIMIT:g} s", seconds, VIEW_LIMIT, "s"
            )
    if tick:
        print()
        print(
            f"3. Watch tick: watch --once --jobs 4 over {tick['competitions']} boards of {tick['teams']:,} teams "
            f"({tick['rows']:,} rows)"
        )
        head = ["tick", "wall", "CPU", "CPU / .import CPU"]
        _table(
            head,
            [
                [
                    "first (every board new)",
                    _fmt(tick["first"]),
                    _fmt(tick["first_cpu"]),
                    _ratio(tick["first_cpu"], tick["import_cpu"]),
                ],
                [
                    "1% of each board improved",
                    _fmt(tick["busy"]),
                    _fmt(tick["busy_cpu"]),
                    _ratio(tick["busy_cpu"], tick["import_cpu"]),
                ],
                [
                    "nothing changed",
                    _fmt(tick["quiet"]),
                    _fmt(tick["quiet_cpu"]),
                    _ratio(tick["quiet_cpu"], tick["import_cpu"]),
                ],
                [".import of the same rows", _fmt(tick["import"]), _fmt(tick["import_cpu"]), "1.00x"],
            ],
        )
        imp = tick["import_cpu"]
        checks.at_most(
            f"watch tick, 1% changed: CPU <= {TICK_CPU_VS_IMPORT:g}x .import",
            tick["busy_cpu"] / imp if imp else None,
            TICK_CPU_VS_IMPORT,
        )
        checks.at_most(
            f"watch tick, nothing changed: CPU <= {QUIET_TICK_CPU_VS_IMPORT:g}x .import",
            tick["quiet_cpu"] / imp if imp else None,
            QUIET_TICK_CPU_VS_IMPORT,
        )
    if reading:
        print()
        print(f"4. Reading (wall clock; {reading['participants']:,} distinct participants on the four boards):")
        for label in ("event standings", "report", "leaderboard --csv (100k)"):
            print(f"   {label:<26} {reading[label]:.2f} s")
            checks.at_most(f"reading: {label} < {READ_LIMIT:g} s", reading[label], READ_LIMIT, "s")
    if startup:
        print()
        print("5. Start-up (median wall clock):")
        for label in ("python -c pass", "kagsync --help", "kagsync competition list"):
            extra = startup.get(label + " imports")
            imports = "" if extra is None else f"   Kaggle client modules imported: {' '.join(extra) or 'none'}"  # type: ignore[arg-type]
            print(f"  {label:<26} {startup[label]:.3f} s{imports}")
        for label in ("kagsync --help", "kagsync competition list"):
            seconds = startup[label]
            imported = startup[label + " imports"]
            checks.at_most(f"{label} starts in < {STARTUP_LIMIT} s", seconds, STARTUP_LIMIT, "s")  # type: ignore[arg-type]
            checks.holds(
                f"{label} does not import the Kaggle client", " ".join(imported) or "none imported", not imported
            )  # type: ignore[arg-type]
    return checks.print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="a development run: 10k and 100k teams once, 40 history syncs, one tick"
    )
    parser.add_argument("--sizes", default=None, help="comma-separated team counts (default: 10000,100000,1000000)")
    parser.add_argument("--repeat", type=int, default=None, help="repetitions per size (median; default 3)")
    parser.add_argument(
        "--repeat-large", type=int, default=1, help="repetitions for sizes of 1,000,000 and more (default 1)"
    )
    parser.add_argument("--history-syncs", type=int, default=None, help="syncs of the busy board (default 300)")
    parser.add_argument("--startup-repeat", type=int, default=None, help="start-up repetitions (default 10)")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where generated boards are cached (default: a temp dir, removed after)",
    )
    for case in ("startup", "baselines", "history", "tick", "reading"):
        parser.add_argument(f"--no-{case}", action="store_true", help=f"skip the {case} case")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw figures here")
    parser.add_argument(
        "--kagsync",
        default=None,
        help="the kagsync command to time (default: the one beside this python, else on PATH)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    sizes = [
        int(s.replace("_", ""))
        for s in (
            args.sizes if args.sizes is not None else ("10000,100000" if quick else "10000,100000,1000000")
        ).split(",")
        if s.strip()
    ]
    repeat = args.repeat or (1 if quick else 3)
    history_syncs = args.history_syncs or (40 if quick else 300)
    view_repeat = 1 if quick else 3
    kagsync = args.kagsync or find_tool("kagsync")
    if kagsync is None:
        parser.error("kagsync is not installed (no kagsync command beside this python or on PATH)")
    sqlite3_shell = None if args.no_baselines else shutil.which("sqlite3")
    sqlite_utils = None if args.no_baselines else find_tool("sqlite-utils")
    if not args.no_baselines:
        for name, found in (("sqlite3", sqlite3_shell), ("sqlite-utils", sqlite_utils)):
            if not found:
                print(f"warning: {name} not found; its baseline is skipped", file=sys.stderr)

    own_workdir = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="kagsync-bench-")) if own_workdir else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="kagsync-bench-db-", dir=workdir))
    # Keep the runs hermetic: no user config, no Kaggle credentials, no log elsewhere.
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAGSYNC_")}
    env["KAGSYNC_LOG_FILE"] = str(scratch / "kagsync.log")
    env["XDG_CONFIG_HOME"] = str(scratch / "config")  # an empty folder: no settings file
    env["COLUMNS"] = "120"
    clock = time.perf_counter()
    try:
        boards = [board_files(n, workdir) for n in sizes]
        results = []
        repeats = {}
        for b in boards:
            repeats[b.n] = args.repeat_large if b.n >= 1_000_000 else repeat
            results.append(bench_size(b, repeats[b.n], kagsync, sqlite3_shell, sqlite_utils, scratch, env))
        history = None
        if not args.no_history:
            print(f"  history: {history_syncs} syncs of a busy 20,000-team board", file=sys.stderr, flush=True)
            history = bench_history(history_syncs, kagsync, scratch, env, view_repeat)
        tick = None
        if not args.no_tick:
            print("  watch ticks over 20 boards of 20,000 teams", file=sys.stderr, flush=True)
            tick = bench_tick(kagsync, sqlite3_shell, scratch, env, 1 if quick else 2)
        reading = None
        if not args.no_reading:
            print("  reading: standings, report, leaderboard --csv", file=sys.stderr, flush=True)
            reading = bench_reading(kagsync, scratch, workdir, env, view_repeat)
        startup = None
        if not args.no_startup:
            startup = bench_startup(kagsync, scratch, args.startup_repeat or (3 if quick else 10), env)
        print(f"\n(benchmark ran {time.perf_counter() - clock:.0f} s)")
        ok = report(results, startup, repeats, history, tick, reading)
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "sizes": [
                            {
                                "n": r.n,
                                "timings": r.timings,
                                "cpu": r.cpu,
                                "rss_mb": r.rss,
                                "writes": r.writes,
                                "stages": r.stages,
                                "expected_changed": r.expected_changed,
                            }
                            for r in results
                        ],
                        "history": history,
                        "tick": tick,
                        "reading": reading,
                        "startup": startup,
                    },
                    indent=2,
                )
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
