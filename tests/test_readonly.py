"""Read commands on read-only media, and damaged or foreign files on every command."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _can_mount_read_only(folder: Path) -> bool:
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"mount --bind '{folder}' '{folder}' && mount -o remount,ro,bind '{folder}'"],
        capture_output=True,
    )
    return shutil.which("unshare") is not None and probe.returncode == 0


def test_read_commands_work_on_a_read_only_mount(cli, tmp_path):
    folder = tmp_path / "media"
    folder.mkdir()
    boards = tmp_path / "boards"
    boards.mkdir()
    (boards / "comp.csv").write_text(
        "Rank,TeamId,TeamName,LastSubmissionDate,Score,SubmissionCount,TeamMemberUserNames\n"
        '1,7,Ada,"2026-01-01 00:00:00",0.9,1,ada\n',
        encoding="utf-8",
    )
    cli.db_path = folder / "club.db"
    assert cli("--source", str(boards), "--offline", "competition", "add", "comp").exit_code == 0
    if not _can_mount_read_only(folder):
        pytest.skip("cannot make a read-only bind mount here (needs unshare -m and mount, as root)")
    # CI runs as root, so permission bits prove nothing: a read-only mount does.
    script = (
        f"mount --bind '{folder}' '{folder}' && mount -o remount,ro,bind '{folder}' && "
        f"'{sys.executable}' -m kagsync --db '{cli.db_path}' competition list --json && "
        f"'{sys.executable}' -m kagsync --db '{cli.db_path}' leaderboard comp --json"
    )
    result = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert '"slug": "comp"' in result.stdout and '"team_name": "Ada"' in result.stdout
    write = subprocess.run(
        [
            "unshare",
            "-m",
            "sh",
            "-c",
            f"mount --bind '{folder}' '{folder}' && mount -o remount,ro,bind '{folder}' && "
            f"'{sys.executable}' -m kagsync --db '{cli.db_path}' event add Night",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert write.returncode != 0
    assert "Traceback" not in write.stderr and len(write.stderr.strip().splitlines()) == 1, write.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["competition", "list"],
        ["competition", "remove", "x", "--yes"],
        ["export", "--competition", "x", "--format", "csv"],
        ["runs"],
        ["watch", "--once"],
        ["event", "add", "Night"],
    ],
)
def test_a_damaged_file_is_one_line_on_every_command(cli, tmp_path, args):
    damaged = tmp_path / "damaged.db"
    assert cli("--offline", "event", "add", "Seed").exit_code == 0
    data = bytearray(cli.db_path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # wreck the schema page
    damaged.write_bytes(bytes(data))
    cli.db_path = damaged
    result = cli(*args)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "is not a kagsync database or is damaged" in lines[0], result.stderr
    assert result.stdout == ""
