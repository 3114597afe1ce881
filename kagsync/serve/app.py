"""The Starlette application: read-only pages, JSON beside each, a live event stream.

URLs (each HTML page has its JSON at the same path + ``.json``):

- ``/``: events and their competitions, status, last sync, health (``/index.json``);
- ``/events/{slug}``: the event's standings (``?scheme=``, ``?everyone=1``, ``?group=``);
- ``/competitions/{slug}``: its board (``?page=``, ``?q=`` team or member, ``?board=``
  public/private, ``?since=`` previous/start/a date);
- ``/competitions/{slug}/teams/{team_id}``: a team's rank over time;
- ``/members/{username}``: a Kaggle user's teams and their rank over time;
- ``/live``: Server-Sent Events, one ``version`` event per database change;
- ``?projector=1`` on event and competition pages: the room's screen.

Only GET and HEAD are served; nothing is ever written. See :mod:`kagsync.serve.guard`
for the token, the allowed hosts and the security headers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from kagsync.errors import KagsyncError, NoBoardError, NotFoundError, StoreError, ValidationError
from kagsync.serve.data import PAGE_SIZE, BoardQuery, Reader, ReaderPool
from kagsync.serve.guard import Guard, GuardConfig
from kagsync.serve.live import CachedPage, ChangeFeed, PageCache, etag_of
from kagsync.serve.render import STATIC_FILES, Links, render, static_text
from kagsync.standings import SCHEMES
from kagsync.values import parse_board

log = logging.getLogger("kagsync.serve")

PROJECTOR_ROWS = 100
# Read-only connections for the pages: a slow page (the standings of a big event) does
# not hold up the others.
READERS = 3
STANDINGS_PAGE = 100
MAX_QUERY = 200

# What a page builder returns: the template and its context, and the JSON data.
Built = tuple[str, dict[str, Any], Any]


@dataclass
class Services:
    """What the handlers share: the pages' readers, the change feed, the page cache."""

    readers: ReaderPool
    feed: ChangeFeed
    cache: PageCache
    root: str = ""
    pending: dict[tuple[int, str], asyncio.Task[CachedPage]] = field(default_factory=dict)


class HttpError(Exception):
    """A status and a message for the error page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "") in ("1", "true", "yes", "on")


def _text(request: Request, name: str) -> str | None:
    value = request.query_params.get(name, "").strip()
    if len(value) > MAX_QUERY:
        raise ValidationError(f"{name}: at most {MAX_QUERY} characters")
    return value or None


def _page_number(request: Request) -> int:
    text = request.query_params.get("page", "1").strip() or "1"
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 10**6:
        raise ValidationError(f"page: expected a page number, got {text[:20]!r}")
    return int(text)


def _without_charts(value: Any) -> Any:
    """The JSON form of page data: the API's keys, without the drawing of the charts."""
    if isinstance(value, dict):
        return {k: _without_charts(v) for k, v in value.items() if k != "chart"}
    if isinstance(value, list):
        return [_without_charts(v) for v in value]
    return value


# -- the pages ------------------------------------------------------------------


def _home(s: Services, r: Reader, request: Request) -> Built:
    data = r.home()
    by_slug = {c["slug"]: c for c in data["competitions"]}
    loose = [c for c in data["competitions"] if not c["events"]]
    return "home.html", {"data": data, "by_slug": by_slug, "loose": loose}, data


def _event(s: Services, r: Reader, request: Request, slug: str) -> Built:
    scheme = _text(request, "scheme")
    if scheme is not None and scheme not in SCHEMES:
        raise ValidationError(f"scheme: expected one of {', '.join(SCHEMES)}")
    projector = _flag(request, "projector")
    data = r.event(
        slug,
        scheme=scheme,
        everyone=_flag(request, "everyone"),
        group=_text(request, "group"),
        page=1 if projector else _page_number(request),
        size=PROJECTOR_ROWS if projector else STANDINGS_PAGE,
    )
    comps = data["competitions"]
    next_url = None
    if projector and comps:
        next_url = f"{s.root}/competitions/{comps[0]['slug']}?projector=1&event={data['event']['slug']}"
    context = {"data": data, "projector": projector, "next_url": next_url}
    return "event.html", context, data


def _competition(s: Services, r: Reader, request: Request, slug: str) -> Built:
    projector = _flag(request, "projector")
    board = _text(request, "board")
    event = _text(request, "event")
    query = BoardQuery(
        board=parse_board(board) if board else None,
        q=None if projector else _text(request, "q"),
        page=1 if projector else _page_number(request),
        size=PROJECTOR_ROWS if projector else PAGE_SIZE,
        since=_text(request, "since") or "previous",
        event=event,
        chart=not projector,
    )
    data = r.competition(slug, query)
    next_url = None
    if projector and event:
        with contextlib.suppress(NotFoundError):
            slugs = r.event_competitions(event)
            after = slugs[slugs.index(slug) + 1 :] if slug in slugs else []
            next_url = (
                f"{s.root}/competitions/{after[0]}?projector=1&event={event}"
                if after
                else f"{s.root}/events/{event}?projector=1"
            )
    context = {"data": data, "projector": projector, "next_url": next_url, "event": event}
    return "competition.html", context, data


def _team(s: Services, r: Reader, request: Request, slug: str, team_id: int) -> Built:
    try:
        data = r.team(slug, team_id)
    except (ValidationError, NoBoardError) as error:
        raise NotFoundError(str(error)) from None
    return "team.html", {"data": data}, data["history"]


def _member(s: Services, r: Reader, request: Request, username: str) -> Built:
    data = r.member(username)
    return "member.html", {"data": data}, data


# -- responses ------------------------------------------------------------------


def _respond(request: Request, page: CachedPage) -> Response:
    headers = {"ETag": page.etag, "Cache-Control": "no-cache"}
    wanted = request.headers.get("if-none-match", "")
    if page.status == 200 and page.etag in [tag.strip() for tag in wanted.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(page.body, status_code=page.status, media_type=page.media_type, headers=headers)


def _error_page(s: Services, status: int, message: str, as_json: bool) -> CachedPage:
    if as_json:
        body = json.dumps({"error": message, "status": status}).encode()
        return CachedPage(body, "application/json", etag_of(body), status)
    html = render(
        "error.html", status=status, message=message, links=Links(s.root), projector=False, next_url=None, query={}
    )
    body = html.encode()
    return CachedPage(body, "text/html; charset=utf-8", etag_of(body), status)


def _build(
    s: Services, request: Request, builder: Callable[..., Built], as_json: bool, args: tuple[Any, ...]
) -> CachedPage:
    """Render a page (in a worker thread): its data read in one read transaction."""
    try:
        with s.readers.borrow() as reader:
            template, context, data = builder(s, reader, request, *args)
    except (NotFoundError, NoBoardError) as error:
        return _error_page(s, 404, str(error), as_json)
    except ValidationError as error:
        return _error_page(s, 400, str(error), as_json)
    except StoreError:
        log.exception("serve: the database cannot be read")
        return _error_page(s, 503, "the database cannot be read right now; try again in a moment", as_json)
    except KagsyncError as error:
        return _error_page(s, 400, str(error), as_json)
    if as_json:
        body = json.dumps(_without_charts(data), ensure_ascii=False, indent=1).encode()
        return CachedPage(body, "application/json", etag_of(body))
    context.setdefault("projector", False)
    context.setdefault("next_url", None)
    html = render(template, links=Links(s.root), query=request.query_params, **context)
    body = html.encode()
    return CachedPage(body, "text/html; charset=utf-8", etag_of(body))


def _handler(builder: Callable[..., Built], *names: str, as_json: bool = False) -> Callable[[Request], Any]:
    async def handle(request: Request) -> Response:
        s: Services = request.app.state.services
        args = tuple(request.path_params[name] for name in names)
        key = ("json " if as_json else "html ") + request.url.path + "?" + str(request.query_params)
        version = s.feed.version
        page = s.cache.get(version, key)
        if page is None:
            page = await asyncio.shield(_rendering(s, version, key, request, builder, as_json, args))
        return _respond(request, page)

    return handle


def _rendering(
    s: Services,
    version: int,
    key: str,
    request: Request,
    builder: Callable[..., Built],
    as_json: bool,
    args: tuple[Any, ...],
) -> asyncio.Task[CachedPage]:
    """The one render of this page for this version: viewers asking at the same time
    share it (a sync landing must not start one render per open page)."""
    task = s.pending.get((version, key))
    if task is None:
        task = asyncio.get_running_loop().create_task(run_in_threadpool(_build, s, request, builder, as_json, args))
        s.pending[(version, key)] = task

        def done(finished: asyncio.Task[CachedPage]) -> None:
            s.pending.pop((version, key), None)
            if not finished.cancelled() and finished.exception() is None:
                s.cache.put(version, key, finished.result())

        task.add_done_callback(done)
    return task


async def _static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC_FILES:
        s: Services = request.app.state.services
        return _respond(request, _error_page(s, 404, "no such file", False))
    body = static_text(name).encode()
    return _respond(request, CachedPage(body, STATIC_FILES[name] + "; charset=utf-8", etag_of(body)))


async def _live(request: Request) -> Response:
    s: Services = request.app.state.services
    return StreamingResponse(
        s.feed.stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _not_found(request: Request, exc: Exception) -> Response:
    s: Services = request.app.state.services
    status = getattr(exc, "status_code", 404)
    message = "no such page" if status == 404 else "not allowed"
    return _respond(request, _error_page(s, status, message, request.url.path.endswith(".json")))


def create_app(
    db: Path | str, config: GuardConfig | None = None, *, root: str = "", poll: float | None = None
) -> Starlette:
    """The web app over the database at ``db``, opened read-only now (a missing or damaged
    file raises :class:`~kagsync.errors.StoreError` here, before anything is served)."""
    readers = ReaderPool(db, READERS)
    checker = Reader.open(db)
    feed = ChangeFeed(checker.data_version, **({"interval": poll} if poll else {}))
    services = Services(readers, feed, PageCache(), root.rstrip("/"))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        feed.start()
        try:
            yield
        finally:
            await feed.stop()
            readers.close()
            checker.close()

    routes = [
        Route("/", _handler(_home)),
        Route("/index.json", _handler(_home, as_json=True)),
        Route("/events/{slug}.json", _handler(_event, "slug", as_json=True)),
        Route("/events/{slug}", _handler(_event, "slug")),
        Route("/competitions/{slug}/teams/{team_id:int}.json", _handler(_team, "slug", "team_id", as_json=True)),
        Route("/competitions/{slug}/teams/{team_id:int}", _handler(_team, "slug", "team_id")),
        Route("/competitions/{slug}.json", _handler(_competition, "slug", as_json=True)),
        Route("/competitions/{slug}", _handler(_competition, "slug")),
        Route("/members/{username}.json", _handler(_member, "username", as_json=True)),
        Route("/members/{username}", _handler(_member, "username")),
        Route("/live", _live),
        Route("/static/{name}", _static),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: _not_found, 405: _not_found})
    app.state.services = services
    app.add_middleware(Guard, config=config or GuardConfig())
    return app
