"""Regenerate the bundled example leaderboards (synthetic, deterministic).

    python examples/make_examples.py

Writes, in the three shapes Kaggle serves (C current and zipped, B one row per team,
A history with several rows per team):

- ``examples/snapshots/1/`` and ``examples/snapshots/2/``: earlier states of each
  running competition's public board;
- ``examples/leaderboards/``: the latest state (the one the README's first command
  imports), each competition's details as Kaggle's ``GetCompetition`` JSON
  (``<slug>.json``), and, for the competition that has closed, its private (final)
  board ``<slug>.private.zip`` in the order Kaggle's paged leaderboard gives it.

Between snapshots some teams improve (and the board re-ranks), a few join, one leaves:
so the demo shows movement, movers, history and rank-over-time charts.
"""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).parent
LATEST = ROOT / "leaderboards"
SNAPSHOTS = ROOT / "snapshots"
FIRST = [
    "Ada",
    "Linus",
    "Grace",
    "Alan",
    "Hedy",
    "Yann",
    "Fei-Fei",
    "Andrej",
    "Chloé",
    "Jürgen",
    "Zoë",
    "Ngozi",
    "Ravi",
    "Mei",
    "Søren",
    "Ömer",
    "Ana",
    "Kenji",
    "Laila",
    "Tomás",
]
LAST = [
    "Lovelace",
    "Torvalds",
    "Hopper",
    "Turing",
    "Lamarr",
    "LeCun",
    "Li",
    "Karpathy",
    "Dubois",
    "Schmidhuber",
    "Okafor",
    "Patel",
    "Wang",
    "Kierkegaard",
    "Yılmaz",
    "Silva",
    "Sato",
    "Haddad",
]
TEAM_STYLE = ["{f} {l}", "{f}", "Team {l}", '{f} "{l}" {f}', "{l}, {f} & co", "{f}_{n}", "🚀 {f}", "{n}"]
HEADER_C = ["Rank", "TeamId", "TeamName", "LastSubmissionDate", "Score", "SubmissionCount", "TeamMemberUserNames"]
HEADER_AB = ["TeamId", "TeamName", "SubmissionDate", "Score"]
SNAPSHOT_DAYS = (20, 24, 28)  # the day of November 2026 of each snapshot
# A few teams the README and the docs name, with the members of examples/club.csv. Each
# is a team the generator already made (it is on every snapshot and climbs); only its
# name and members are set, at writing time, so every other row stays as it was.
NAMED = {
    ("titanic", 10007952): ("Data Wizards", "kenji1231,alice-data"),  # #76, #12, then #7
    ("titanic", 10008330): ("Night Owls", "carolchen"),  # #1 throughout
    ("spaceship-titanic", 10005943): ("Data Wizards", "kenji1231"),  # #18, then #4
    # house-prices' files carry no members: a roster finds this team by its name.
    ("house-prices-advanced-regression-techniques", 20001743): ("Carol Chen", ""),  # #88, #31, #2
}


def _name(rng: random.Random) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return rng.choice(TEAM_STYLE).format(f=first, l=last, n=rng.randint(1, 99999))


def _user(rng: random.Random) -> str:
    plain = rng.choice(FIRST).lower()
    for accented, ascii_letter in (("é", "e"), ("ü", "u"), ("ë", "e"), ("ø", "o"), ("ö", "o"), ("á", "a")):
        plain = plain.replace(accented, ascii_letter)
    return f"{plain}{rng.randint(1, 9999)}"


@dataclass
class Team:
    team_id: int
    name: str
    members: str
    score: float
    submissions: int
    last: str
    benchmark: bool = False
    history: list[tuple[str, float]] = field(default_factory=list)


def _date(rng: random.Random, day: int) -> str:
    return f"2026-11-{day:02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"


def _teams(rng: random.Random, count: int, low: float, high: float, base_id: int, step: int) -> list[Team]:
    teams = []
    for i in range(count):
        score = rng.uniform(low, high)
        date = _date(rng, rng.randint(1, SNAPSHOT_DAYS[0]))
        members = ",".join(_user(rng) for _ in range(rng.choice([1, 1, 1, 2, 3])))
        teams.append(
            Team(base_id + i * step, _name(rng), members, score, rng.randint(1, 30), date, history=[(date, score)])
        )
    return teams


def _evolve(rng: random.Random, teams: list[Team], day: int, *, lower_is_better: bool, new_ids: int) -> list[Team]:
    """The next snapshot: 10% of the teams improve, a few join, one leaves."""
    nxt = [Team(**{**t.__dict__, "history": list(t.history)}) for t in teams]
    for team in rng.sample([t for t in nxt if not t.benchmark], k=max(3, len(nxt) // 10)):
        gain = rng.uniform(0.002, 0.03)
        team.score = team.score - gain if lower_is_better else team.score + gain
        team.submissions += rng.randint(1, 5)
        team.last = _date(rng, day)
        team.history.append((team.last, team.score))
    nxt.pop(rng.randrange(len(nxt)))
    for i in range(5):
        date = _date(rng, day)
        score = rng.uniform(0.2, 0.8)
        nxt.append(Team(new_ids + i, _name(rng), _user(rng), score, 1, date, history=[(date, score)]))
    return nxt


def _ranked(teams: list[Team], *, lower_is_better: bool) -> list[tuple[int, Team]]:
    ordered = sorted(teams, key=lambda t: (t.score if lower_is_better else -t.score, t.last, t.team_id))
    rows, rank = [], 0
    for team in ordered:
        if not team.benchmark:
            rank += 1
        rows.append((0 if team.benchmark else rank, team))
    return rows


def _label(slug: str, team: Team) -> tuple[str, str]:
    """The team's name and members as written: the generated ones, or those of ``NAMED``."""
    return NAMED.get((slug, team.team_id), (team.name, team.members))


def _csv(header: list[str], rows: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def _shape_c(slug: str, teams: list[Team], *, lower_is_better: bool) -> bytes:
    return _csv(
        HEADER_C,
        [
            [
                rank,
                t.team_id,
                _label(slug, t)[0],
                t.last,
                f"{t.score:.5f}",
                0 if t.benchmark else t.submissions,
                "" if t.benchmark else _label(slug, t)[1],
            ]
            for rank, t in _ranked(teams, lower_is_better=lower_is_better)
        ],
    )


def _zip(path: Path, slug: str, data: bytes, stamp: str, kind: str = "publicleaderboard") -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(f"{slug}-{kind}-{stamp}.csv", date_time=(2026, 11, 29, 12, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, data)


def _folder(snapshot: int) -> Path:
    folder = LATEST if snapshot == len(SNAPSHOT_DAYS) - 1 else SNAPSHOTS / str(snapshot + 1)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def running_c(slug: str, teams: int, seed: int) -> None:
    """A running competition served as shape C zips, with two host benchmarks."""
    rng = random.Random(seed)
    board = _teams(rng, teams, 0.60, 0.80, 10_000_000, 7)
    for index, bench in enumerate((board[teams // 3], board[-5])):
        bench.benchmark, bench.name, bench.members = True, ("Gender Model Benchmark", "All Zeros Benchmark")[index], ""
    for snapshot, day in enumerate(SNAPSHOT_DAYS):
        if snapshot:
            board = _evolve(rng, board, day, lower_is_better=False, new_ids=19_000_000 + snapshot * 100)
        _zip(
            _folder(snapshot) / f"{slug}.zip",
            slug,
            _shape_c(slug, board, lower_is_better=False),
            f"2026-11-{day:02d}T12:00:00",
        )


def running_b(slug: str, teams: int, seed: int) -> None:
    """A running lower-is-better competition served as shape B (one row per team, no ranks)."""
    rng = random.Random(seed)
    board = _teams(rng, teams, 0.11, 0.45, 20_000_000, 3)
    for snapshot, day in enumerate(SNAPSHOT_DAYS):
        if snapshot:
            board = _evolve(rng, board, day, lower_is_better=True, new_ids=29_000_000 + snapshot * 100)
        rows = [
            [t.team_id, _label(slug, t)[0], t.last, f"{t.score:.5f}"] for t in sorted(board, key=lambda t: t.team_id)
        ]
        (_folder(snapshot) / f"{slug}.csv").write_bytes(_csv(HEADER_AB, rows))


def running_a(slug: str, teams: int, seed: int) -> None:
    """A running competition served as shape A (each improving submission is a row)."""
    rng = random.Random(seed)
    board = _teams(rng, teams, 0.50, 0.70, 30_000_000, 1)
    for snapshot, day in enumerate(SNAPSHOT_DAYS):
        if snapshot:
            board = _evolve(rng, board, day, lower_is_better=False, new_ids=39_000_000 + snapshot * 100)
        rows = [[t.team_id, _label(slug, t)[0], date, f"{score:.5f}"] for t in board for date, score in t.history]
        rows.sort(key=lambda row: (str(row[2]), int(str(row[0]))))
        (_folder(snapshot) / f"{slug}.csv").write_bytes(_csv(HEADER_AB, rows))


def closed_with_private_board(slug: str, teams: int, seed: int) -> None:
    """A competition that has closed: its public board, and Kaggle's private (final) board.

    The private board is written as the paged GetLeaderboard serves it: in final order,
    without members or submission counts (kagsync joins those from the public board).
    """
    rng = random.Random(seed)
    board = _teams(rng, teams, 0.70, 0.90, 40_000_000, 11)
    public = _shape_c(slug, board, lower_is_better=False)
    # The private split scores each team a little differently: a real shake-up.
    for team in board:
        team.score = max(0.0, team.score + rng.gauss(0, 0.02))
    rows = [
        [rank, t.team_id, t.name, t.last, f"{t.score:.5f}", 0, ""] for rank, t in _ranked(board, lower_is_better=False)
    ]
    # It closed before the first snapshot: every snapshot serves the same two boards.
    for snapshot in range(len(SNAPSHOT_DAYS)):
        folder = _folder(snapshot)
        _zip(folder / f"{slug}.zip", slug, public, "2026-01-31T23:59:00")
        _zip(folder / f"{slug}.private.zip", slug, _csv(HEADER_C, rows), "2026-02-07T00:00:00", "privateleaderboard")


DETAILS = {
    "titanic": ("Titanic - Machine Learning from Disaster", "Categorization Accuracy", "2012-09-28", "2030-01-07"),
    "spaceship-titanic": ("Spaceship Titanic", "Categorization Accuracy", "2022-02-24", "2030-01-07"),
    "house-prices-advanced-regression-techniques": (
        "House Prices - Advanced Regression Techniques",
        "Root Mean Squared Error",
        "2016-08-30",
        "2030-01-07",
    ),
    "nlp-getting-started": (
        "Natural Language Processing with Disaster Tweets",
        "Mean F-Score",
        "2019-12-20",
        "2030-01-07",
    ),
    "winter-cup-2026": (
        "Winter Cup 2026",
        "Area Under Receiver Operating Characteristic Curve",
        "2026-01-05",
        "2026-02-01",
    ),
}


def details(slug: str) -> None:
    """``<slug>.json``: the competition as Kaggle's GetCompetition returns it (ApiCompetition)."""
    title, metric, start, end = DETAILS[slug]
    data = {
        "ref": f"https://www.kaggle.com/competitions/{slug}",
        "title": title,
        "url": f"https://www.kaggle.com/competitions/{slug}",
        "evaluationMetric": metric,
        "enabledDate": f"{start}T00:00:00Z",
        "deadline": f"{end}T23:59:00Z",
        "category": "Playground",
        "reward": "Knowledge",
        "maxTeamSize": 5,
        "description": f"<p>{title}: a bundled example.</p>",
    }
    for snapshot in range(len(SNAPSHOT_DAYS)):
        (_folder(snapshot) / f"{slug}.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    running_c("titanic", 1500, 1)
    running_c("spaceship-titanic", 900, 2)
    running_b("house-prices-advanced-regression-techniques", 600, 3)
    running_a("nlp-getting-started", 400, 4)
    closed_with_private_board("winter-cup-2026", 300, 5)
    for slug in DETAILS:
        details(slug)
    print("wrote", ", ".join(str(p.relative_to(ROOT)) for p in sorted(ROOT.rglob("*.*")) if p.suffix != ".py"))
