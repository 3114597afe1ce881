"""Where a leaderboard comes from: Kaggle, one local file, or a folder of files.

A source only produces a file (a Kaggle zip or CSV) in a working folder; parsing and
storing are the same whatever the source, so a test stand-in, a mirror, a file saved
by hand and production Kaggle all go through one path.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from kagsync.errors import SourceError

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


class KaggleSource:
    """The full-leaderboard download of the Kaggle API (or ``KAGSYNC_KAGGLE_ENDPOINT``).

    ``max_bytes`` and ``deadline`` cap each download's size and overall time;
    ``max_attempts`` bounds the retries of 429, 5xx and network failures.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        max_bytes: int | None = None,
        deadline: float | None = None,
        max_attempts: int = 4,
    ) -> None:
        self.endpoint = endpoint
        self.max_bytes = max_bytes
        self.deadline = deadline
        self.max_attempts = max_attempts

    def describe(self, slug: str) -> str:
        # kaggle_client imports kagglesdk only inside its functions: this stays cheap.
        from kagsync.kaggle_client import describe_endpoint

        return describe_endpoint(self.endpoint)

    def fetch(self, slug: str, workdir: Path, on_progress: ProgressCallback | None = None) -> Path:
        from kagsync import kaggle_client

        limits: dict[str, float] = {}
        if self.max_bytes is not None:
            limits["max_bytes"] = self.max_bytes
        if self.deadline is not None:
            limits["deadline"] = self.deadline
        return kaggle_client.download_leaderboard(
            slug, workdir, endpoint=self.endpoint, on_progress=on_progress, max_attempts=self.max_attempts,
            **limits,  # type: ignore[arg-type]
        )


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

    def _find(self, slug: str) -> Path | None:
        for suffix in (".zip", ".csv"):
            candidate = self.folder / f"{slug}{suffix}"
            if candidate.is_file():
                return candidate
        return None

    def describe(self, slug: str) -> str:
        found = self._find(slug)
        return f"folder:{(found or self.folder / slug).resolve()}"

    def fetch(self, slug: str, workdir: Path, on_progress: ProgressCallback | None = None) -> Path:
        if not self.folder.is_dir():
            raise SourceError(f"{self.folder}: source folder does not exist")
        found = self._find(slug)
        if found is None:
            raise SourceError(
                f"no leaderboard for {slug!r} in {self.folder} (expected {slug}.zip or {slug}.csv)"
            )
        return found


def choose_source(
    folder: Path | None = None,
    from_file: Path | None = None,
    *,
    max_bytes: int | None = None,
    deadline: float | None = None,
) -> LeaderboardSource:
    """The source for this invocation: an explicit file, else a folder, else Kaggle."""
    if from_file is not None:
        return FileSource(from_file)
    if folder is not None:
        return FolderSource(folder)
    return KaggleSource(max_bytes=max_bytes, deadline=deadline)
