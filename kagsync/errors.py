"""The package's exception hierarchy.

Every error a user can cause or meet derives from :class:`KagsyncError`. Its message
is one line meant for a person; only the CLI turns it into output and an exit code.
Each class also names an :data:`~kagsync.models.ErrorKind`, which a failed sync run
stores (``sync_runs.error_kind``) so that ``watch`` and scripts act on the kind of
failure instead of matching message text.
"""

from __future__ import annotations

from kagsync.models import ErrorKind
from kagsync.models import Hint as Hint  # re-exported: errors carry hints, and callers import both here


class KagsyncError(Exception):
    """Base class: a problem kagsync can explain in one line.

    ``hint`` (a :class:`Hint`) says what the caller can do about it, and ``subject``
    what the hint is about (a slug); both are None when there is nothing to add.
    A notification error may carry a plain token instead (``"notify.kinds"``).
    """

    exit_code: int = 1
    kind: ErrorKind = "internal"
    hint: Hint | str | None = None

    def __init__(self, *args: object, hint: Hint | str | None = None, subject: str | None = None) -> None:
        super().__init__(*args)
        if hint is not None:
            self.hint = hint
        self.subject = subject


class ValidationError(KagsyncError):
    """Input that cannot be accepted (a slug, a date, a status, a CSV line...)."""

    exit_code = 2
    kind: ErrorKind = "invalid"


class NotFoundError(KagsyncError):
    """An event or competition that does not exist."""

    kind: ErrorKind = "not_found"


class AlreadyExistsError(KagsyncError):
    """A slug that is already taken."""

    kind: ErrorKind = "invalid"


class ConfigError(KagsyncError):
    """A settings file or value that cannot be used."""

    exit_code = 2
    kind: ErrorKind = "invalid"


class StoreError(KagsyncError):
    """The database cannot be opened, created or migrated."""

    kind: ErrorKind = "database"


class SyncError(KagsyncError):
    """A leaderboard sync that did not complete."""


class SyncBusyError(SyncError):
    """Another process kept the competition's sync lock for longer than we waited."""

    kind: ErrorKind = "busy"


class SyncInterruptedError(SyncError):
    """The sync was stopped (Ctrl-C, SIGTERM, or a watch that is stopping)."""

    kind: ErrorKind = "interrupted"


class CompetitionRemovedError(SyncError):
    """The competition was removed while its sync ran: nothing was written."""

    kind: ErrorKind = "not_found"


class LeaderboardFormatError(SyncError):
    """A leaderboard file that is not a readable Kaggle leaderboard (names file and line)."""

    kind: ErrorKind = "bad_file"


class SourceError(SyncError):
    """A leaderboard source that could not provide the file."""

    kind: ErrorKind = "source"


class KaggleError(SourceError):
    """The Kaggle API refused or failed the request."""

    kind: ErrorKind = "server"


class CredentialsError(KaggleError):
    """No usable Kaggle credentials were found."""

    kind: ErrorKind = "auth"


class KaggleAuthError(KaggleError):
    """HTTP 401: the credentials were rejected."""

    kind: ErrorKind = "auth"


class KaggleForbiddenError(KaggleError):
    """HTTP 403: usually the competition's rules have not been accepted."""

    kind: ErrorKind = "forbidden"


class KaggleNotFoundError(KaggleError):
    """HTTP 404: no such competition (or no leaderboard for it)."""

    kind: ErrorKind = "not_found"


class KaggleRateLimitError(KaggleError):
    """HTTP 429 after every retry."""

    kind: ErrorKind = "rate_limited"


class KaggleServerError(KaggleError):
    """HTTP 5xx after every retry."""

    kind: ErrorKind = "server"


class KaggleConnectionError(KaggleError):
    """The endpoint could not be reached after every retry."""

    kind: ErrorKind = "network"


class DownloadLimitError(KaggleError):
    """A download went past its size cap or its overall deadline."""

    kind: ErrorKind = "too_large"


class SuspectBoardError(SyncError):
    """A new board that looks wrong (empty, shrunk, all scores equal): held back, not applied."""

    kind: ErrorKind = "suspect"
    hint: Hint | None = Hint.FORCE


class UnknownCompetitionError(ValidationError):
    """Kaggle has no competition with this slug: nothing is saved."""

    kind: ErrorKind = "not_found"


class NoBoardError(KagsyncError):
    """A view that needs a stored board, of a competition never synced successfully."""

    kind: ErrorKind = "not_found"
