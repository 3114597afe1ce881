"""``kagsync serve``: a read-only, live web scoreboard over a kagsync database.

- :mod:`kagsync.serve.data`: every read of kagsync data (through the public API);
- :mod:`kagsync.serve.render`: the templates and their filters, shared with the report;
- :mod:`kagsync.serve.charts`: rank-over-time charts as SVG geometry;
- :mod:`kagsync.serve.live`: the one shared change check behind the live pages, and the page cache;
- :mod:`kagsync.serve.worker`: the event pages' standings, computed in worker processes;
- :mod:`kagsync.serve.app`: the Starlette application;
- :mod:`kagsync.serve.server`: running it with uvicorn (and the watch loop in a child process).
"""
