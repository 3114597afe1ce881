"""kagsync: keep full Kaggle competition leaderboards in a local SQLite database.

The public Python API::

    import kagsync

    with kagsync.open("club.db", source="examples/leaderboards") as ks:
        ks.competitions.add("titanic", kagsync.CompetitionFields(status="ongoing"))
        print(ks.boards.leaderboard("titanic", top=10))

See :class:`kagsync.api.Kagsync` and its nouns (``ks.events``, ``ks.competitions``,
``ks.boards``, ``ks.syncs``, ``ks.private``, ``ks.roster``, ``ks.notifications``),
:mod:`kagsync.models` for the types they return, :mod:`kagsync.rows` for the rows of
the views and :mod:`kagsync.errors` for the exceptions they raise and their hints.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

__all__ = [
    "Competition",
    "CompetitionFields",
    "Event",
    "Hint",
    "Kagsync",
    "KagsyncError",
    "Saved",
    "SyncOutcome",
    "__version__",
    "open",
]

if TYPE_CHECKING:
    from kagsync.api import Kagsync, open
    from kagsync.errors import Hint, KagsyncError
    from kagsync.models import Competition, CompetitionFields, Event, Saved, SyncOutcome

# Imported on first use: `kagsync --help` imports this package too, and must not pay
# for the sync machinery (about 0.1 s) that it does not use.
_LAZY = {
    "Kagsync": "kagsync.api",
    "open": "kagsync.api",
    "KagsyncError": "kagsync.errors",
    "Hint": "kagsync.errors",
    "CompetitionFields": "kagsync.models",
    "Competition": "kagsync.models",
    "Event": "kagsync.models",
    "Saved": "kagsync.models",
    "SyncOutcome": "kagsync.models",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'kagsync' has no attribute {name!r}")
