"""The club's view on the public API: rosters and notifications.

:class:`ClubMixin` adds these methods to :class:`kagsync.api.Kagsync`. It is kept in
its own module so the roster and notification features live beside each other, apart
from the sync machinery.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kagsync.db import Database
    from kagsync.models import SyncOutcome
    from kagsync.settings import Settings


class ClubMixin:
    """Roster and notification methods of :class:`kagsync.api.Kagsync`."""

    if TYPE_CHECKING:
        settings: Settings

        @property
        def database(self) -> Database: ...

    def after_pass(self, outcomes: Sequence[SyncOutcome]) -> None:
        """Called once after every sync pass (a ``sync``, an ``import``, a ``watch`` tick),
        with its outcomes, after everything was committed."""
