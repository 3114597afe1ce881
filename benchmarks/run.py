#!/usr/bin/env python3
"""kagsync benchmarks (issue 6): ingest speed, re-sync cost, memory and start-up.

Run from the repository (any Python >= 3.11 with kagsync installed; the venv's own
python finds the ``kagsync`` and ``sqlite-utils`` commands beside it)::

    python benchmarks/run.py                          # 10k, 100k, 1M teams, 3 repetitions
    python benchmarks/run.py --sizes 10000,100000     # quick run
    python benchmarks/run.py --workdir ~/.cache/kagsync-bench --repeat 5

What it does, all as whole processes timed by wall clock (median of the repetitions):

1. generates synthetic shape-C leaderboards as real zips (names with quotes, commas,
   non-ASCII and emoji; 1-4 members per team; random TeamIds), a copy in which exactly
   1% of the teams changed without changing the rank order (new name, or more
   submissions and a later last submission, or a score that stays strictly between
   its neighbours'), and the extracted CSV. Files are cached in the work dir;
2. ``kagsync --db fresh.db sync bench --from board.zip`` into a fresh database (the
   competition was added with ``competition add --no-sync`` first, not timed), an
   identical re-sync, and the 1%-changed re-sync; also the fresh sync from the
   extracted CSV, to show what the zip costs;
3. the baselines on the extracted CSV (they get no zip: unzipping is not timed for
   them): the ``sqlite3`` shell's ``.import --csv`` (the floor) and ``sqlite-utils
   insert --csv``;
4. the peak RSS of every kagsync run (``os.wait4`` gives that one child's rusage);
5. start-up: ``kagsync --help`` and ``kagsync --db X competition list``, and whether
   either imports the Kaggle client (``kaggle``, ``kagglesdk``, ``requests``).

Then it prints the figures, the targets of issue 6 and PASS/MISS for each. The exit
status is 0 when every checked target passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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

# -- targets (issue 6) ---------------------------------------------------------------
TARGET_SIZE = 100_000
FRESH_VS_IMPORT = 2.5  # first ingest <= 2.5 x .import
SQLITE_UTILS_VS_FRESH = 8.0  # sqlite-utils insert >= 8 x slower than kagsync
RESYNC_VS_IMPORT = 2.0  # identical re-sync <= 2 x .import
RSS_SIZE = 1_000_000
RSS_LIMIT_MB = 300.0
STARTUP_LIMIT = 0.3

# -- synthetic leaderboards ----------------------------------------------------------

_FIRST = [
    "Anna", "Bo", "Chen", "Dmitri", "Élodie", "Fatima", "Giovanni", "Hiroshi", "Ines",
    "José", "Kwame", "Lena", "Mateus", "Nguyễn", "Olga", "Priya", "Quentin", "Raúl",
    "Sören", "Tomasz", "Ümit", "Valentina", "Wei", "Xavier", "Yuki", "Zoë", "Larry",
    "Mohammed", "Aleksandr", "Camille",
]
_LAST = [
    "Smith", "Müller", "Wang", "Kowalski", "García", "Ivanov", "Tanaka", "O'Brien",
    "Dubois", "Rossi", "Silva", "Kim", "Nakamura", "Öztürk", "Novák", "Hernández",
    "Johansson", "Papadopoulos", "Singh", "Łukasz", "Cukierski", "Nguyen", "Abebe",
    "Fernández", "Jensen",
]
_WORDS = [
    "gradient", "boost", "random", "forest", "deep", "neural", "kaggle", "grandmaster",
    "data", "wizard", "tensor", "lightgbm", "xgb", "catboost", "stack", "blend",
    "overfit", "leak", "hunter", "ensemble", "bayes", "dropout", "lambda", "vector",
    "transformer", "attention", "pixel", "token", "cv", "lb", "shake", "up",
]
_SPECIAL = [
    'Larry "DJ" Cukierski', "Smith, Jones & Co", "赵云龙", "Álvaro", "Leszek Góra", "寿!",
    " Haris Zuber", "98074", "01520410", "747.", "[Deleted]", "🚀 Rocket Science",
    "Team Ωmega", "naïve bayes", 'The "Overfitters", Inc.', "データサイエンス",
    "Команда Альфа", "فريق البيانات", "ñandú, ñandú", "a,b,c",
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
    for part, final in zip(tmp, (paths.zip, paths.changed_zip, paths.csv)):
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


def _change(
    row: list[str], i: int, units: list[int], rng: random.Random, when: datetime
) -> list[str]:
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


def board(n: int, workdir: Path) -> Board:
    """The cached files of size ``n``, generated when missing or stale."""
    meta_path = workdir / f"board-{n}.json"
    try:
        meta = json.loads(meta_path.read_text())
        if meta["version"] == GENERATOR_VERSION and all(
            Path(meta[k]).exists() for k in ("zip", "changed_zip", "csv")
        ):
            return Board(
                n, Path(meta["zip"]), Path(meta["changed_zip"]), Path(meta["csv"]),
                meta["changed"], meta["rank_or_score_changed"],
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


# -- running and measuring processes -------------------------------------------------


@dataclass
class Measured:
    seconds: float  # wall clock
    cpu: float  # user + system CPU seconds of the process
    max_rss_mb: float


def measure(argv: list[str], *, env: dict[str, str] | None = None) -> Measured:
    """Run ``argv`` to completion; wall seconds and that child's peak RSS."""
    clock = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    # os.wait4 returns the rusage of this one child (getrusage(RUSAGE_CHILDREN) would
    # give the running maximum over every child so far).
    stderr_data = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - clock
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(
            f"command failed ({proc.returncode}): {' '.join(argv)}\n"
            + stderr_data.decode("utf-8", "replace")
        )
    return Measured(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)  # KiB


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
    log = path.with_name("kagsync.log")
    if log.exists():
        log.unlink()
    return path


def last_run(db: Path) -> dict[str, int]:
    """created/updated/removed of the latest sync run, and its entry_changes rows."""
    conn = sqlite3.connect(db)
    try:
        run_id, status, created, updated, removed, error = conn.execute(
            "SELECT id, status, created, updated, removed, error FROM sync_runs"
            " ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if status != "ok":
            raise SystemExit(f"sync failed: {error}")
        changes = conn.execute(
            "SELECT count(*) FROM entry_changes WHERE run_id = ?", (run_id,)
        ).fetchone()[0]
    finally:
        conn.close()
    return {
        "created": created, "updated": updated, "removed": removed,
        "entry_rows": created + updated + removed, "change_rows": changes,
    }


# -- the benchmark -------------------------------------------------------------------


@dataclass
class SizeResult:
    n: int
    timings: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    rss: dict[str, list[float]] = field(default_factory=dict)
    writes: dict[str, dict[str, int]] = field(default_factory=dict)
    expected_changed: int = 0
    expected_change_rows: int = 0

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

    def peak(self, key: str | None = None) -> float | None:
        keys = [key] if key else list(self.rss)
        values = [v for k in keys for v in self.rss.get(k, [])]
        return max(values) if values else None


def bench_size(
    b: Board, repeat: int, kagsync: str, sqlite3_shell: str | None, sqlite_utils: str | None,
    scratch: Path, env: dict[str, str],
) -> SizeResult:
    result = SizeResult(b.n, expected_changed=b.changed, expected_change_rows=b.rank_or_score_changed)
    db = scratch / "kagsync.db"
    for rep in range(repeat):
        print(f"  {b.n:,} teams: repetition {rep + 1}/{repeat}", file=sys.stderr, flush=True)
        # kagsync: fresh ingest from the zip, identical re-sync, 1%-changed re-sync.
        fresh(db)
        measure([kagsync, "--db", str(db), "competition", "add", SLUG, "--no-sync"], env=env)
        sync = [kagsync, "--db", str(db), "-q", "sync", SLUG, "--from"]
        result.add("fresh", measure(sync + [str(b.zip)], env=env), rss=True)
        result.writes["fresh"] = last_run(db)
        result.add("same", measure(sync + [str(b.zip)], env=env), rss=True)
        result.writes["same"] = last_run(db)
        result.add("changed", measure(sync + [str(b.changed_zip)], env=env), rss=True)
        result.writes["changed"] = last_run(db)
        # kagsync from the extracted CSV (what the zip costs).
        fresh(db)
        measure([kagsync, "--db", str(db), "competition", "add", SLUG, "--no-sync"], env=env)
        result.add("fresh_csv", measure(sync + [str(b.csv)], env=env), rss=True)
        fresh(db)
        # Baselines, on the extracted CSV.
        base = scratch / "baseline.db"
        if sqlite3_shell:
            fresh(base)
            result.add("import", measure([sqlite3_shell, str(base), f".import --csv {b.csv} t"]))
        if sqlite_utils:
            fresh(base)
            result.add("sqlite_utils", measure([sqlite_utils, "insert", str(base), "t", str(b.csv), "--csv"]))
        fresh(base)
    return result


def bench_startup(kagsync: str, scratch: Path, repeat: int, env: dict[str, str]) -> dict[str, object]:
    db = fresh(scratch / "startup.db")
    measure([kagsync, "--db", str(db), "competition", "list"], env=env)  # create the file
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
    for label, args in (("kagsync --help", ["--help"]),
                        ("kagsync competition list", ["--db", str(db), "competition", "list"])):
        done = subprocess.run(
            [python, "-c", probe, *args], capture_output=True, text=True, env=env, check=False
        )
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


def report(results: list[SizeResult], startup: dict[str, object] | None, repeats: dict[int, int]) -> bool:
    print()
    print("Whole processes, wall clock, median of the repetitions. kagsync reads the zip;")
    print(".import and sqlite-utils read the extracted CSV (their unzip is not timed).")
    print()
    head = [
        "teams", "reps", "fresh", "fresh (csv)", "identical", "1% changed", ".import",
        "sqlite-utils", "fresh/.import", "identical/.import", "sqlite-utils/fresh", "peak RSS",
    ]
    rows = []
    for r in results:
        rows.append([
            f"{r.n:,}", str(repeats[r.n]), _fmt(r.t("fresh")), _fmt(r.t("fresh_csv")),
            _fmt(r.t("same")), _fmt(r.t("changed")), _fmt(r.t("import")), _fmt(r.t("sqlite_utils")),
            _ratio(r.t("fresh"), r.t("import")), _ratio(r.t("same"), r.t("import")),
            _ratio(r.t("sqlite_utils"), r.t("fresh")), _fmt(r.peak(), "MB"),
        ])
    _table(head, rows)
    print()
    print("The same runs in CPU seconds (user + system; less sensitive to other load on the machine):")
    head = ["teams", "fresh", "fresh (csv)", "identical", "1% changed", ".import", "sqlite-utils",
            "fresh/.import", "identical/.import", "sqlite-utils/fresh"]
    rows = []
    for r in results:
        rows.append([
            f"{r.n:,}", _fmt(r.c("fresh")), _fmt(r.c("fresh_csv")), _fmt(r.c("same")),
            _fmt(r.c("changed")), _fmt(r.c("import")), _fmt(r.c("sqlite_utils")),
            _ratio(r.c("fresh"), r.c("import")), _ratio(r.c("same"), r.c("import")),
            _ratio(r.c("sqlite_utils"), r.c("fresh")),
        ])
    _table(head, rows)
    print()
    print("Rows written by each kagsync sync (entries created+updated+removed / entry_changes rows):")
    head = ["teams", "fresh", "identical re-sync", "1% changed re-sync", "expected (1% changed)",
            "peak RSS fresh / identical / 1% changed"]
    rows = []
    for r in results:
        w = r.writes
        rows.append([
            f"{r.n:,}",
            f"{w['fresh']['entry_rows']:,} / {w['fresh']['change_rows']:,}",
            f"{w['same']['entry_rows']:,} / {w['same']['change_rows']:,}",
            f"{w['changed']['entry_rows']:,} / {w['changed']['change_rows']:,}",
            f"{r.expected_changed:,} / {r.expected_change_rows:,}",
            " / ".join(_fmt(r.peak(k), "MB") for k in ("fresh", "same", "changed")),
        ])
    _table(head, rows)
    if startup:
        print()
        print("Start-up (median wall clock):")
        for label in ("python -c pass", "kagsync --help", "kagsync competition list"):
            extra = startup.get(label + " imports")
            imports = "" if extra is None else f"   Kaggle client modules imported: {' '.join(extra) or 'none'}"
            print(f"  {label:<26} {startup[label]:.3f} s{imports}")

    # Targets.
    checks: list[tuple[str, str, bool | None]] = []
    by_n = {r.n: r for r in results}
    r = by_n.get(TARGET_SIZE)
    if r and r.t("import"):
        ratio = r.t("fresh") / r.t("import")
        checks.append((f"first ingest of 100k <= {FRESH_VS_IMPORT}x .import", f"{ratio:.2f}x", ratio <= FRESH_VS_IMPORT))
    else:
        checks.append((f"first ingest of 100k <= {FRESH_VS_IMPORT}x .import", "not run", None))
    if r and r.t("sqlite_utils"):
        ratio = r.t("sqlite_utils") / r.t("fresh")
        checks.append((f"first ingest of 100k >= {SQLITE_UTILS_VS_FRESH:g}x faster than sqlite-utils", f"{ratio:.2f}x", ratio >= SQLITE_UTILS_VS_FRESH))
    else:
        checks.append((f"first ingest of 100k >= {SQLITE_UTILS_VS_FRESH:g}x faster than sqlite-utils", "not run", None))
    if r and r.t("import"):
        ratio = r.t("same") / r.t("import")
        written = r.writes["same"]["entry_rows"] + r.writes["same"]["change_rows"]
        checks.append((f"identical re-sync of 100k <= {RESYNC_VS_IMPORT:g}x .import", f"{ratio:.2f}x", ratio <= RESYNC_VS_IMPORT))
        checks.append(("identical re-sync of 100k writes zero entry rows", f"{written} rows", written == 0))
    else:
        checks.append((f"identical re-sync of 100k <= {RESYNC_VS_IMPORT:g}x .import", "not run", None))
    for r in results:
        w = r.writes["changed"]
        ok = (w["created"] == 0 and w["removed"] == 0 and w["updated"] == r.expected_changed
              and w["change_rows"] == r.expected_change_rows)
        checks.append((
            f"1%-changed re-sync of {r.n:,} writes only the changed rows",
            (f"{w['entry_rows']:,} entries + {w['change_rows']:,} change records"
             f" (expected {r.expected_changed:,} + {r.expected_change_rows:,})"),
            ok,
        ))
    r = by_n.get(RSS_SIZE)
    if r:
        peak = r.peak()
        checks.append((f"1M teams: peak RSS <= {RSS_LIMIT_MB:g} MB", f"{peak:.0f} MB", peak <= RSS_LIMIT_MB))
    else:
        checks.append((f"1M teams: peak RSS <= {RSS_LIMIT_MB:g} MB", "not run", None))
    if startup:
        for label in ("kagsync --help", "kagsync competition list"):
            seconds = startup[label]
            imported = startup[label + " imports"]
            checks.append((f"{label} starts in < {STARTUP_LIMIT} s", f"{seconds:.3f} s", seconds < STARTUP_LIMIT))
            checks.append((f"{label} does not import the Kaggle client",
                           " ".join(imported) or "none imported", not imported))
    print()
    print("Targets (issue 6):")
    width = max(len(c[0]) for c in checks)
    all_ok = True
    for name, figure, ok in checks:
        verdict = "----" if ok is None else ("PASS" if ok else "MISS")
        all_ok = all_ok and ok is not False
        print(f"  {verdict}  {name:<{width}}  {figure}")
    return all_ok


def _table(head: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(r, widths)) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="comma-separated team counts (default: 10000,100000,1000000)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per size (median; default 3)")
    parser.add_argument("--repeat-large", type=int, default=1,
                        help="repetitions for sizes of 1,000,000 and more (default 1)")
    parser.add_argument("--startup-repeat", type=int, default=10, help="start-up repetitions (default 10)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where generated boards are cached (default: a temp dir, removed after)")
    parser.add_argument("--no-startup", action="store_true", help="skip the start-up measurements")
    parser.add_argument("--no-baselines", action="store_true", help="skip .import and sqlite-utils")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw figures here")
    parser.add_argument("--kagsync", default=None,
                        help="the kagsync command to time (default: the one beside this python, else on PATH)")
    args = parser.parse_args(argv)

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
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
    try:
        boards = [board(n, workdir) for n in sizes]
        results = []
        repeats = {}
        for b in boards:
            repeats[b.n] = args.repeat_large if b.n >= 1_000_000 else args.repeat
            results.append(bench_size(b, repeats[b.n], kagsync, sqlite3_shell, sqlite_utils, scratch, env))
        startup = None if args.no_startup else bench_startup(kagsync, scratch, args.startup_repeat, env)
        ok = report(results, startup, repeats)
        if args.json:
            args.json.write_text(json.dumps({
                "sizes": [
                    {"n": r.n, "timings": r.timings, "cpu": r.cpu, "rss_mb": r.rss, "writes": r.writes,
                     "expected_changed": r.expected_changed,
                     "expected_change_rows": r.expected_change_rows}
                    for r in results
                ],
                "startup": startup,
            }, indent=2))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
