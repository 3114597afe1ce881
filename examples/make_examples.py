"""Regenerate the bundled example leaderboards (synthetic, deterministic).

    python examples/make_examples.py

Writes examples/leaderboards/<slug>.zip|.csv in the three shapes Kaggle serves:
C (current, zipped), B (one row per team) and A (history: several rows per team).
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from pathlib import Path

HERE = Path(__file__).parent / "leaderboards"
FIRST = ["Ada", "Linus", "Grace", "Alan", "Hedy", "Yann", "Fei-Fei", "Andrej", "Chloé", "Jürgen",
         "Zoë", "Ngozi", "Ravi", "Mei", "Søren", "Ömer", "Ana", "Kenji", "Laila", "Tomás"]
LAST = ["Lovelace", "Torvalds", "Hopper", "Turing", "Lamarr", "LeCun", "Li", "Karpathy", "Dubois",
        "Schmidhuber", "Okafor", "Patel", "Wang", "Kierkegaard", "Yılmaz", "Silva", "Sato", "Haddad"]
TEAM_STYLE = ["{f} {l}", "{f}", "Team {l}", '{f} "{l}" {f}', "{l}, {f} & co", "{f}_{n}", "🚀 {f}", "{n}"]


def _name(rng: random.Random) -> str:
    f, l = rng.choice(FIRST), rng.choice(LAST)
    return rng.choice(TEAM_STYLE).format(f=f, l=l, n=rng.randint(1, 99999))


def _user(rng: random.Random) -> str:
    return f"{rng.choice(FIRST).lower().replace('é', 'e').replace('ü', 'u').replace('ë', 'e').replace('ø', 'o').replace('ö', 'o').replace('á', 'a')}{rng.randint(1, 9999)}"


def _write_csv(rows: list[list[object]], header: list[str]) -> bytes:
    buffer = io.StringIO()
    # Kaggle quotes only fields with a space, comma or quote; QUOTE_MINIMAL is close
    # enough for the parser, and dates are written quoted as Kaggle does.
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def shape_c(slug: str, teams: int, seed: int) -> None:
    rng = random.Random(seed)
    scores = sorted((rng.uniform(0.60, 0.83) for _ in range(teams)), reverse=True)
    rows, rank = [], 0
    for i, score in enumerate(scores):
        benchmark = i in (teams // 3, teams - 5)
        if not benchmark:
            rank += 1
        members = "" if benchmark else ",".join(_user(rng) for _ in range(rng.choice([1, 1, 1, 2, 3])))
        name = "Gender Model Benchmark" if benchmark else _name(rng)
        rows.append([0 if benchmark else rank, 10_000_000 + i * 7, name,
                     f"2026-11-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
                     f"{score:.5f}", 0 if benchmark else rng.randint(1, 40), members])
    data = _write_csv(rows, ["Rank", "TeamId", "TeamName", "LastSubmissionDate", "Score", "SubmissionCount", "TeamMemberUserNames"])
    with zipfile.ZipFile(HERE / f"{slug}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{slug}-publicleaderboard-2026-11-29T12:00:00.csv", data)


def shape_b(slug: str, teams: int, seed: int) -> None:
    rng = random.Random(seed)
    rows = [[20_000_000 + i * 3, _name(rng), f"2026-11-{rng.randint(1, 28):02d} 10:{rng.randint(0, 59):02d}:00",
             f"{rng.uniform(0.11, 0.45):.5f}"] for i in range(teams)]
    (HERE / f"{slug}.csv").write_bytes(_write_csv(rows, ["TeamId", "TeamName", "SubmissionDate", "Score"]))


def shape_a(slug: str, teams: int, seed: int) -> None:
    rng = random.Random(seed)
    rows = []
    for i in range(teams):
        best = rng.uniform(0.5, 0.7)
        for day in range(1, rng.randint(2, 5)):
            best = min(0.86, best + rng.uniform(0, 0.05))
            rows.append([30_000_000 + i, _name(rng) if day == 1 else rows[-1][1],
                         f"2026-11-{day + 10:02d} 0{rng.randint(0, 9)}:00:00", f"{best:.5f}"])
    rows.sort(key=lambda row: row[2])
    (HERE / f"{slug}.csv").write_bytes(_write_csv(rows, ["TeamId", "TeamName", "SubmissionDate", "Score"]))


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    shape_c("titanic", 1500, 1)
    shape_c("spaceship-titanic", 900, 2)
    shape_b("house-prices-advanced-regression-techniques", 600, 3)
    shape_a("nlp-getting-started", 400, 4)
    print("wrote", ", ".join(sorted(p.name for p in HERE.iterdir())))
