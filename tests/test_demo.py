"""The README's offline demo block runs as written on a fresh checkout, and shows the product."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def demo_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("The same offline, with the bundled files.")
    match = re.search(r"```bash\n(.*?)```", text[start:], re.S)
    assert match
    return match.group(1)


def test_the_readme_demo_block_runs_in_order_and_shows_movement(tmp_path):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    kagsync = str(Path(sys.executable).with_name("kagsync"))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    outputs = []
    for line in demo_block().strip().splitlines():
        args = line.split()
        assert args[0] == "kagsync"
        result = subprocess.run([kagsync, *args[1:]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, (line, result.stdout, result.stderr)
        outputs.append(result.stdout)
    leaderboard, movers, history, shakeup = outputs[3], outputs[4], outputs[5], outputs[6]
    assert re.search(r"\t[+-][1-9]\d*\t", leaderboard)  # moves since the previous sync (signed in a pipe)
    assert "climbers" in movers and "fallers" in movers
    assert len(history.strip().splitlines()) == 4  # a header and three syncs
    assert "Public" in shakeup and "Private" in shakeup
    html = (tmp_path / "results.html").read_text(encoding="utf-8")
    assert html.count("<path") >= 4  # the rank-over-time charts have lines
    assert "Shake-up" in html
