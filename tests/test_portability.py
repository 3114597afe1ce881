"""Nothing POSIX-only at import: kagsync starts where fcntl, termios and friends do not exist.

Only Linux runs here, so Windows is imitated by making the POSIX-only modules unimportable
in a fresh interpreter; what each platform then uses is said in the README.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BLOCK_POSIX = """
import sys
for name in ("fcntl", "termios", "pwd", "grp", "resource", "posix_ipc"):
    sys.modules[name] = None  # an import of it now raises ImportError, as on Windows
"""


def run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCK_POSIX + code, *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_every_module_imports_without_posix_only_modules():
    modules = sorted(
        "kagsync." + ".".join(path.relative_to(ROOT / "kagsync").with_suffix("").parts)
        for path in (ROOT / "kagsync").rglob("*.py")
        if path.name != "__main__.py"
    )
    result = run(
        "import importlib, sys\nfor name in sys.argv[1:]: importlib.import_module(name.removesuffix('.__init__'))",
        *modules,
    )
    assert result.returncode == 0, result.stderr


def test_the_cli_runs_and_syncs_without_fcntl(tmp_path):
    board = tmp_path / "comp.csv"
    board.write_text(
        "Rank,TeamId,TeamName,LastSubmissionDate,Score,SubmissionCount,TeamMemberUserNames\n"
        '1,7,Ada,"2026-01-01 00:00:00",0.9,1,ada\n',
        encoding="utf-8",
    )
    code = (
        "import sys\nfrom kagsync.cli import main\nsys.argv = ['kagsync'] + sys.argv[1:]\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    raise SystemExit(exit.code)\n"
    )
    db = str(tmp_path / "k.db")
    added = run(code, "--db", db, "--offline", "competition", "add", "comp", "--no-sync")
    assert added.returncode == 0, added.stderr
    synced = run(code, "--db", db, "sync", "comp", "--from", str(board))
    assert synced.returncode == 0, synced.stderr
