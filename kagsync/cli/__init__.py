"""kagsync's command line: a thin layer over the library.

Importing this package registers every command on :data:`app`.
"""

from kagsync.cli import catalog, final, notify, roster, running, serve, syncing, views  # noqa: F401  (registers the commands)
from kagsync.cli.app import app, run_app

main = run_app

__all__ = ["app", "main"]
