"""The package's exception hierarchy.

Every error a user can cause or meet derives from :class:`KagsyncError`. Its message
is one line meant for a person; only the CLI turns it into output and an exit code.
"""

from __future__ import annotations


class KagsyncError(Exception):
    """Base class: a problem kagsync can explain in one line."""

    exit_code: int = 1


class ValidationError(KagsyncError):
    """Input that cannot be accepted (a slug, a date, a status, a CSV line...)."""

    exit_code = 2


class NotFoundError(KagsyncError):
    """An event or competition that does not exist."""


class AlreadyExistsError(KagsyncError):
    """A slug that is already taken."""


class ConfigError(KagsyncError):
    """A settings file or value that cannot be used."""

    exit_code = 2


class StoreError(KagsyncError):
    """The database cannot be opened, created or migrated."""


class SyncError(KagsyncError):
    """A leaderboard sync that did not complete."""


class SyncBusyError(SyncError):
    """Another process kept the competition's sync lock for longer than we waited."""


class LeaderboardFormatError(SyncError):
    """A leaderboard file that is not a readable Kaggle leaderboard (names file and line)."""


class SourceError(SyncError):
    """A leaderboard source that could not provide the file."""


class KaggleError(SourceError):
    """The Kaggle API refused or failed the request."""


class CredentialsError(KaggleError):
    """No usable Kaggle credentials were found."""


class KaggleAuthError(KaggleError):
    """HTTP 401: the credentials were rejected."""


class KaggleForbiddenError(KaggleError):
    """HTTP 403: usually the competition's rules have not been accepted."""


class KaggleNotFoundError(KaggleError):
    """HTTP 404: no such competition (or no leaderboard for it)."""


class KaggleRateLimitError(KaggleError):
    """HTTP 429 after every retry."""


class KaggleServerError(KaggleError):
    """HTTP 5xx after every retry."""


class KaggleConnectionError(KaggleError):
    """The endpoint could not be reached after every retry."""
