"""Measure the Kaggle client: import time, a 200k-row leaderboard download, lines of code.

Three clients are compared, each in fresh subprocesses against the local stand-in
(tests/kaggle_standin.py):

- ``new``: kagsync.kaggle (plain requests, this tree);
- ``baseline``: the old kagsync/kaggle_client.py (a kagglesdk subclass overriding its
  private members), run from a checkout of main (``--baseline``, default /work/main);
- ``kagglesdk``: kagglesdk's public ``KaggleClient`` used as its authors intend. It only
  knows fixed endpoints, so the stand-in is started on localhost:7777
  (``KAGGLE_API_ENVIRONMENT=TEST``); where that port is taken the row is skipped. It
  has no timeout, no retries and no deadline: its figures are a floor, not a peer.

The baseline and kagglesdk need kagglesdk installed: ``--baseline-python`` names an
interpreter that has it (default: /work/venv-main/bin/python when present).

Times are the best of the runs, wall clock and CPU (the machine may be shared: noise
only adds time): the import of the client and the HTTP stack a sync loads, then
downloads with the imports done (``--downloads`` in a row, the time per download). The peak RSS of the download process is a median. Lines
are those of kagsync/kaggle/, retry.py and secrets.py against the old kaggle_client.py;
"code" counts lines without blanks, comments and docstrings.

Usage: python benchmarks/kaggle_client.py [--rows 200000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import tokenize
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.kaggle_standin import KaggleStandin  # noqa: E402

SLUG = "big-board"
KAGGLESDK_PORT = 7777
SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Each probe prints one JSON object on its last line.
IMPORT_PROBES = {
    # What a sync pays: the client module and the HTTP stack it loads on its first call.
    "new": "import kagsync.kaggle.download, requests",
    "baseline": "import kagsync.kaggle_client as k, kagglesdk, requests; k._sdk_client_class()",
    "kagglesdk": "from kagglesdk import KaggleClient; import requests",
}

# Peak RSS from /proc/self/status VmHWM: ru_maxrss would carry over the parent's peak
# (this script holds the board in memory) across fork and exec on Linux.
_MEASURE = """
import json, sys, time
{setup}
started, cpu = time.perf_counter(), time.process_time()
{code}
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
if "DOWNLOADS" in globals():  # per download
    seconds, cpu = seconds / DOWNLOADS, cpu / DOWNLOADS
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({{"seconds": seconds, "cpu": cpu, "peak_rss_kib": peak}}))
"""

# (untimed set-up: the imports; timed: one download into sys.argv[1])
DOWNLOAD_PROBES = {
    "new": (
        IMPORT_PROBES["new"] + "\nfrom pathlib import Path\nfrom kagsync.kaggle import download_leaderboard",
        "for _ in range(DOWNLOADS):\n    download_leaderboard({slug!r}, Path(sys.argv[1]))",
    ),
    "baseline": (
        IMPORT_PROBES["baseline"]
        + "\nfrom pathlib import Path\nfrom kagsync.kaggle_client import download_leaderboard",
        "for _ in range(DOWNLOADS):\n    download_leaderboard({slug!r}, Path(sys.argv[1]))",
    ),
    "kagglesdk": (
        IMPORT_PROBES["kagglesdk"] + "\n"
        "import os\n"
        "from pathlib import Path\n"
        "from kagglesdk.kaggle_env import KaggleEnv\n"
        "from kagglesdk.competitions.types.competition_api_service import ApiDownloadLeaderboardRequest",
        "client = KaggleClient(env=KaggleEnv.TEST, username=os.environ['KAGGLE_USERNAME'], "
        "password=os.environ['KAGGLE_KEY'])\n"
        "request = ApiDownloadLeaderboardRequest()\n"
        "request.competition_name = {slug!r}\n"
        "for _ in range(DOWNLOADS):\n"
        "    response = client.competitions.competition_api_client.download_leaderboard(request)\n"
        "    with open(Path(sys.argv[1]) / ({slug!r} + '.zip'), 'wb') as out:\n"
        "        for chunk in response.iter_content(65536):\n"
        "            out.write(chunk)",
    ),
}


def board_zip(rows: int) -> bytes:
    """A shape-C leaderboard zip of ``rows`` teams (about 73 bytes a team, as real ones)."""
    text = io.StringIO()
    text.write("\ufeffRank,TeamId,TeamName,LastSubmissionDate,Score,SubmissionCount,TeamMemberUserNames\n")
    for rank in range(1, rows + 1):
        text.write(
            f'{rank},{10_000_000 + rank},Team {rank},"2026-05-01 12:00:00",{1 - rank / rows:.5f},{rank % 9 + 1},user{rank}\n'
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{SLUG}-publicleaderboard-2026-05-05T15:36:33.csv", text.getvalue())
    return buffer.getvalue()


def run(python: str, code: str, env: dict[str, str], *args: str, setup: str = "") -> dict[str, float]:
    script = _MEASURE.format(setup=setup, code=code)
    done = subprocess.run([python, "-c", script, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def environment(pythonpath: Path, standin: KaggleStandin, home: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAGGLE_")}
    env.update(standin.env(config_dir=home, home=home))
    env.update(PYTHONPATH=str(pythonpath), NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    return env


def lines(paths: list[Path]) -> int:
    return sum(len(path.read_text(encoding="utf-8").splitlines()) for path in paths)


def code_lines(paths: list[Path]) -> int:
    """Lines holding code: no blank lines, comments or docstrings."""
    total = 0
    for path in paths:
        text = path.read_text(encoding="utf-8")
        docstrings: set[int] = set()
        for node in ast.walk(ast.parse(text)):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
                value = body[0].value
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    docstrings.update(range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1))
        skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
        found = {
            token.start[0] for token in tokenize.generate_tokens(io.StringIO(text).readline) if token.type not in skip
        }
        total += len(found - docstrings)
    return total


def baseline_files(baseline: Path) -> list[Path]:
    path = baseline / "kagsync" / "kaggle_client.py"
    return [path] if path.is_file() else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--downloads", type=int, default=10, help="downloads per process (times are per download)")
    parser.add_argument("--baseline", type=Path, default=Path("/work/main"))
    default_python = "/work/venv-main/bin/python" if Path("/work/venv-main/bin/python").exists() else sys.executable
    parser.add_argument("--baseline-python", default=default_python)
    options = parser.parse_args()

    data = board_zip(options.rows)
    print(f"board: {options.rows} rows, {len(data) / 1024:.0f} KiB zipped; best of {options.repeat} runs (RSS: median)")
    results: dict[str, dict[str, float | None]] = {}
    with tempfile.TemporaryDirectory() as home, KaggleStandin() as standin:
        standin.serve_zip(SLUG, data)
        try:
            fixed = KaggleStandin(port=KAGGLESDK_PORT).start()
            fixed.serve_zip(SLUG, data)
        except OSError:
            fixed = None
        clients = {
            "new": (sys.executable, ROOT, standin),
            "baseline": (options.baseline_python, options.baseline, standin),
            "kagglesdk": (options.baseline_python, ROOT, fixed),
        }
        for name, (python, path, server) in clients.items():
            if server is None or (name == "baseline" and not baseline_files(options.baseline)):
                print(f"{name}: skipped (no stand-in on port {KAGGLESDK_PORT} or no baseline checkout)")
                continue
            env = environment(path, server, home)
            env["KAGGLE_API_ENVIRONMENT"] = "TEST"
            imports = [run(python, IMPORT_PROBES[name], env) for _ in range(options.repeat)]
            downloads = []
            for _ in range(options.repeat):
                # In memory where possible: the disk's fsync would drown the client's own cost.
                with tempfile.TemporaryDirectory(dir=SCRATCH) as dest:
                    setup, timed = DOWNLOAD_PROBES[name]
                    setup += f"\nDOWNLOADS = {options.downloads}"
                    downloads.append(run(python, timed.format(slug=SLUG), env, dest, setup=setup))
            # Minimum times: on a shared machine, noise only ever adds time.
            results[name] = {
                "import_s": min(i["seconds"] for i in imports),
                "import_cpu_s": min(i["cpu"] for i in imports),
                "download_s": min(d["seconds"] for d in downloads),
                "download_cpu_s": min(d["cpu"] for d in downloads),
                "peak_rss_mib": statistics.median(d["peak_rss_kib"] for d in downloads) / 1024,
            }
        if fixed is not None:
            fixed.stop()

    package = ROOT / "kagsync"
    new_files = [*sorted((package / "kaggle").glob("*.py")), package / "retry.py", package / "secrets.py"]
    old_files = baseline_files(options.baseline)
    results.setdefault("new", {}).update(lines=lines(new_files), code_lines=code_lines(new_files))
    if old_files:
        results.setdefault("baseline", {}).update(lines=lines(old_files), code_lines=code_lines(old_files))

    base = results.get("baseline", {})
    print(
        f"{'client':<10} {'import s':>9} {'cpu s':>6} {'download s':>11} {'cpu s':>6} {'peak RSS MiB':>13} "
        f"{'lines':>6} {'code':>6}"
    )
    for name, figures in results.items():
        cells = []
        columns = (
            ("import_s", 9, ".3f"),
            ("import_cpu_s", 6, ".3f"),
            ("download_s", 11, ".3f"),
            ("download_cpu_s", 6, ".3f"),
            ("peak_rss_mib", 13, ".1f"),
        )
        for key, width, fmt in columns:
            value = figures.get(key)
            cells.append(f"{value:{width}{fmt}}" if value is not None else f"{'-':>{width}}")
        for key in ("lines", "code_lines"):
            count = figures.get(key)
            cells.append(f"{count:>6}" if count is not None else f"{'-':>6}")
        print(f"{name:<10} " + " ".join(cells))
    new = results.get("new", {})
    ratios = []
    for key in ("import_s", "import_cpu_s", "download_s", "download_cpu_s", "peak_rss_mib", "lines", "code_lines"):
        a, b = new.get(key), base.get(key)
        ratios.append(f"{key} {a / b:.2f}" if a and b else f"{key} -")
    print("new/baseline: " + ", ".join(ratios))


if __name__ == "__main__":
    main()
