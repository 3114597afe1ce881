"""Where a leaderboard comes from: Kaggle, one local file, or a folder of files.

A source only produces a file (a Kaggle zip or CSV) in a working folder; parsing and
storing are the same whatever the source, so a test stand-in, a mirror, a file saved
by hand and production Kaggle all go through one path.
"""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from kagsync.errors import SourceError

# Competition details as kagsync.kaggle returns them (snake_case keys of ApiCompetition).
Details = dict[str, object]

# (bytes received so far, total bytes or None when unknown)
ProgressCallback = Callable[[int, "int | None"], None]


class LeaderboardSource(Protocol):
    """Anything that can fetch the leaderboard file of a competition."""

    def describe(self, slug: str) -> str:
        """A short, secret-free description recorded with each run."""
        ...

    def fetch(self, slug: str, workdir: Path, on_progress: ProgressCallback | None = None) -> Path:
        """Return the path of a .zip or .csv leaderboard for ``slug``.

        ``workdir`` is a private temporary folder the caller removes afterwards.
        """
        ...


@runtime_checkable
class DetailsSource(Protocol):
    """A source that also knows competitions' details (title, dates, metric...)."""

    def details(self, slug: str) -> Details | None:
        """The competition's details, or None when this source has none for it.

        Raises :class:`~kagsync.errors.KaggleNotFoundError` when the competition
        does not exist at all.
        """
        ...


@runtime_checkable
class PrivateBoardSource(Protocol):
    """A source that can also serve Kaggle's private (final) leaderboard after close."""

    def private_released(self, slug: str) -> bool:
        """Whether the private board is out."""
        ...

    def fetch_private(self, slug: str, workdir: Path) -> Path | None:
        """A leaderboard file (any of the three shapes) of the private board, or None
        when it is not released. Ranks follow the order of the file's rows for Kaggle's
        paged board (written as shape C); members may be missing."""
        ...

    def public_top(self, slug: str) -> list[int] | None:
        """The team ids of the first page of the *public* board as the paged API serves
        it, to check that a download after the deadline is still the public board; None
        where the source cannot tell."""
        ...


def write_board_rows(rows: Sequence[Mapping[str, object]], path: Path) -> Path:
    """Kaggle's paged board rows (in board order) as a shape-C leaderboard CSV.

    The paged API gives no rank, no submission count and no members: ranks are the
    rows' order; counts are 0 and members empty, for the sync to join from the public
    board by team id.
    """
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["Rank", "TeamId", "TeamName", "LastSubmissionDate", "Score", "SubmissionCount", "TeamMemberUserNames"]
        )
        for rank, row in enumerate(rows, start=1):
            writer.writerow(
                [rank, row["team_id"], row["team_name"], row.get("submission_date") or "", row["score"], 0, ""]
            )
    return path


class KaggleSource:
    """The full-leaderboard download of the Kaggle API (or ``KAGSYNC_KAGGLE_ENDPOINT``).

    ``max_bytes`` and ``deadline`` cap each download's size and overall time;
    ``max_attempts`` bounds the retries of 429, 5xx and network failures.
    ``details_deadline`` caps the seconds one competition's details may take (10 s by
    default; details are a nicety). ``stop``, once set (by the first Ctrl-C or
    SIGTERM), ends every retry wait at once and abandons a details request in flight.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        max_bytes: int | None = None,
        deadline: float | None = None,
        max_attempts: int = 4,
        details_deadline: float | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.max_bytes = max_bytes
        self.deadline = deadline
        self.max_attempts = max_attempts
        self.details_deadline = details_deadline
        self.stop = stop

    def describe(self, slug: str) -> str:
        # kagsync.kaggle imports requests only inside its calls: this stays cheap.
        from kagsync.kaggle import describe_endpoint

        return describe_endpoint(self.endpoint)

    def fetch(self, slug: str, workdir: Path, on_progress: ProgressCallback | None = None) -> Path:
        from kagsync.kaggle import DEFAULT_DEADLINE, DEFAULT_MAX_BYTES, download_leaderboard

        return download_leaderboard(
            slug,
            workdir,
            endpoint=self.endpoint,
            on_progress=on_progress,
            max_attempts=self.max_attempts,
            max_bytes=DEFAULT_MAX_BYTES if self.max_bytes is None else self.max_bytes,
            deadline=DEFAULT_DEADLINE if self.deadline is None else self.deadline,
            stop=self.stop,
        )

    def details(self, slug: str) -> Details | None:
        from kagsync.kaggle.details import DETAILS_DEADLINE, fetch_competition_details

        deadline = DETAILS_DEADLINE if self.details_deadline is None else self.details_deadline
        return fetch_competition_details(
            slug, endpoint=self.endpoint, max_attempts=self.max_attempts, deadline=deadline, stop=self.stop
        )

    def private_released(self, slug: str) -> bool:
        from kagsync.kaggle import private_board_released

        return private_board_released(slug, endpoint=self.endpoint, max_attempts=self.max_attempts, stop=self.stop)

    def fetch_private(self, slug: str, workdir: Path) -> Path | None:
        from kagsync.kaggle import fetch_private_board

        rows = fetch_private_board(slug, endpoint=self.endpoint, max_attempts=self.max_attempts, stop=self.stop)
        if rows is None:
            return None
        return write_board_rows(rows, workdir / f"{slug}.private.csv")

    def public_top(self, slug: str) -> list[int] | None:
        from kagsync.kaggle import fetch_leaderboard_page

        rows, _ = fetch_leaderboard_page(
            slug, override_public=True, endpoint=self.endpoint, max_attempts=self.max_attempts, stop=self.stop
        )
        return [row["team_id"] for row in rows]


class FileSource:
    """One leaderboard file given on the command line (``sync SLUG --from FILE``)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def describe(self, slug: str) -> str:
        return f"file:{self.path.resolve()}"

    def fetch(self, slug: str, workdir: Path, on_progress: ProgressCallback | None = None) -> Path:
        if not self.path.is_file():
            raise SourceError(f"{self.path}: no such leaderboard file")
        if self.path.suffix.lower() not in (".zip", ".csv"):
            raise SourceError(f"{self.path}: expected a .zip or .csv leaderboard file")
        return self.path


class FolderSource:
    """A folder holding ``<slug>.zip`` or ``<slug>.csv`` per competition (``--source DIR``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _find(self, slug: str, board: str = "") -> Path | None:
        for suffix in (".zip", ".csv"):
            candidate = self.folder / f"{slug}{board}{suffix}"
            if candidate.is_file():
                return candidate
        return None

    def details(self, slug: str) -> Details | None:
        """``DIR/<slug>.json`` (Kaggle's ApiCompetition JSON) when present; one over 1 MiB
        is refused unread, as a reply from Kaggle would be."""
        from kagsync.kaggle.details import DETAILS_MAX_BYTES, competition_details_from_api

        path = self.folder / f"{slug}.json"
        if not path.is_file():
            return None
        try:
            if path.stat().st_size > DETAILS_MAX_BYTES:
                raise SourceError(f"{path}: competition details larger than {DETAILS_MAX_BYTES >> 20} MiB: not read")
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SourceError(f"{path}: not readable competition details ({exc})") from None
        if not isinstance(data, dict):
            raise SourceError(f"{path}: not readable competition details (expected a JSON object)")
        return competition_details_from_api(data, slug)

    def private_released(self, slug: str) -> bool:
        """True when ``DIR/<slug>.private.zip`` or ``.csv`` exists."""
        return self._find(slug, ".private") is not None

    def fetch_private(self, slug: str, workdir: Path) -> Path | None:
        return self._find(slug, ".private")

    def public_top(self, slug: str) -> list[int] | None:
        return None

    def describe(self, slug: str) -> str:
        found = self._find(slug)
        return f"folder:{(found or self.folder / slug).resolve()}"

    def fetch(self, slug: str, workdir: Path, on_progress: ProgressCallback | None = None) -> Path:
        if not self.folder.is_dir():
            raise SourceError(f"{self.folder}: source folder does not exist")
        found = self._find(slug)
        if found is None:
            raise SourceError(f"no leaderboard for {slug!r} in {self.folder} (expected {slug}.zip or {slug}.csv)")
        return found


def choose_source(
    folder: Path | None = None,
    from_file: Path | None = None,
    *,
    max_bytes: int | None = None,
    deadline: float | None = None,
    stop: threading.Event | None = None,
) -> LeaderboardSource:
    """The source for this invocation: an explicit file, else a folder, else Kaggle
    (whose waits and details requests end when ``stop`` is set)."""
    if from_file is not None:
        return FileSource(from_file)
    if folder is not None:
        return FolderSource(folder)
    return KaggleSource(max_bytes=max_bytes, deadline=deadline, stop=stop)
