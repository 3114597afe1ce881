"""Small real leaderboard files for tests: CSV text in Kaggle's shapes, zipped or not."""

from __future__ import annotations

import zipfile
from pathlib import Path

HEADER_C = "Rank,TeamId,TeamName,LastSubmissionDate,Score,SubmissionCount,TeamMemberUserNames"
HEADER_AB = "TeamId,TeamName,SubmissionDate,Score"


def csv_c(rows: list[tuple]) -> str:
    """Shape C text from (rank, team_id, name, date, score, count, members) tuples."""
    lines = [HEADER_C]
    for rank, team_id, name, date, score, count, members in rows:
        lines.append(f'{rank},{team_id},{_q(name)},"{date}",{score},{count},{_q(members)}')
    return "\ufeff" + "\n".join(lines) + "\n"


def csv_ab(rows: list[tuple]) -> str:
    """Shape A/B text from (team_id, name, date, score) tuples."""
    lines = [HEADER_AB] + [f'{t},{_q(n)},"{d}",{s}' for t, n, d, s in rows]
    return "\ufeff" + "\n".join(lines) + "\n"


def _q(text: str) -> str:
    if any(ch in text for ch in ' ,"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_zip(path: Path, text: str, *, slug: str = "comp") -> Path:
    """A Kaggle-style zip holding one CSV."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{slug}-publicleaderboard-2026-05-05T15:36:33.csv", text.encode("utf-8"))
    return path


BOARD_1 = [
    (1, 101, "Alpha", "2026-05-01 10:00:00", "0.91000", 3, "alice,bob"),
    (2, 102, 'Beta "B" Team', "2026-05-01 11:00:00", "0.90000", 2, "carol"),
    (0, 999, "Sample Benchmark", "2026-04-01 00:00:00", "0.85000", 1, ""),
    (3, 103, "Gamma, Inc", "2026-05-02 09:30:00", "0.80000", 5, "dave,erin,frank"),
]

# Beta climbs to 1, Alpha falls to 2, Gamma leaves, Delta arrives, Alpha's name changes.
BOARD_2 = [
    (1, 102, 'Beta "B" Team', "2026-05-03 11:00:00", "0.92500", 3, "carol"),
    (2, 101, "Alpha Renamed", "2026-05-01 10:00:00", "0.91000", 3, "alice,bob"),
    (0, 999, "Sample Benchmark", "2026-04-01 00:00:00", "0.85000", 1, ""),
    (3, 104, "Delta", "2026-05-03 12:00:00", "0.70000", 1, "gina"),
]
