"""kagsync: keep full Kaggle competition leaderboards in a local SQLite database.

The public Python API::

    import kagsync

    with kagsync.open("club.db", source="examples/leaderboards") as ks:
        ks.add_competition("titanic", status="ongoing")
        print(ks.leaderboard("titanic", top=10))

See :class:`kagsync.api.Kagsync` for every method, :mod:`kagsync.models` for the
types they return and :mod:`kagsync.errors` for the exceptions they raise.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

__all__ = ["Competition", "Event", "Kagsync", "KagsyncError", "Saved", "SyncOutcome", "__version__", "open"]

if TYPE_CHECKING:
    from kagsync.api import Kagsync, open
    from kagsync.errors import KagsyncError
    from kagsync.models import Competition, Event, Saved, SyncOutcome

# Imported on first use: `kagsync --help` imports this package too, and must not pay
# for the sync machinery (about 0.1 s) that it does not use.
_LAZY = {
    "Kagsync": "kagsync.api",
    "open": "kagsync.api",
    "KagsyncError": "kagsync.errors",
    "Competition": "kagsync.models",
    "Event": "kagsync.models",
    "Saved": "kagsync.models",
    "SyncOutcome": "kagsync.models",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'kagsync' has no attribute {name!r}")
