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
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from kagsync.errors import KagsyncError, NoBoardError, NotFoundError, StoreError, ValidationError
from kagsync.serve.data import PAGE_SIZE, BoardQuery, Data, Reader, ReaderPool
from kagsync.serve.guard import Guard, GuardConfig
from kagsync.serve.live import CachedPage, ChangeFeed, PageCache, etag_of
from kagsync.serve.render import STATIC_FILES, Links, render, static_text
from kagsync.serve.worker import EventQuery, EventWorker, event_data
from kagsync.standings import SCHEMES
from kagsync.values import parse_board

log = logging.getLogger("kagsync.serve")

PROJECTOR_ROWS = 100
# Read-only connections for the pages: a slow page (a search of a big board) does not
# hold up the others.
READERS = 3
STANDINGS_PAGE = 100
MAX_QUERY = 200
# When the data change: the pages viewers asked for lately are rendered again before
# the change is announced: the most asked (at most WARM_FIRST, each asked at least
# WARM_SHARE as often as the most asked one) at once, and the announcement waits for
# them; then the others (at most WARM_PAGES in all), one at a time, not to slow them.
WARM_PAGES = 32
WARM_FIRST = 4
WARM_SHARE = 0.2
# Event pages' data kept (the newest for each query), shared by a page's HTML and JSON.
KEPT_EVENTS = 16


@dataclass(frozen=True)
class PageRequest:
    """What a page is made from: its path and its query, and the version of the data it
    is rendered for. Not the live request: a page is also rendered ahead of any
    request, when the data change."""

    path: str
    query_params: QueryParams
    version: int = 0

    @classmethod
    def of(cls, request: Request) -> PageRequest:
        return cls(request.url.path, request.query_params)


@dataclass(frozen=True)
class Built:
    """What a page builder returns: the template and its context, and the JSON data."""

    template: str
    context: dict[str, object]
    data: object


Builder = Callable[..., Built]


@dataclass(frozen=True)
class Page:
    """One page, as it can be rendered again for a newer version of the data."""

    builder: Builder
    args: tuple[str | int, ...]
    as_json: bool
    request: PageRequest

    @property
    def key(self) -> str:
        return ("json " if self.as_json else "html ") + self.request.path + "?" + str(self.request.query_params)


@dataclass
class Asked:
    """How much a page was asked for lately: a count that halves with every version."""

    page: Page
    version: int
    score: float = 0.0

    def at(self, version: int) -> float:
        return self.score * 0.5 ** max(0, version - self.version)


@dataclass
class Services:
    """What the handlers share: the pages' readers, the change feed, the page cache, the
    event worker (None: event pages are computed in this process) and what was asked."""

    readers: ReaderPool
    feed: ChangeFeed
    cache: PageCache
    root: str = ""
    worker: EventWorker | None = None
    pending: dict[tuple[int, str], asyncio.Task[CachedPage]] = field(default_factory=dict)
    asked: dict[str, Asked] = field(default_factory=dict)
    background: set[asyncio.Task[None]] = field(default_factory=set)
    events: dict[EventQuery, tuple[int, Future[Data]]] = field(default_factory=dict)
    events_lock: threading.Lock = field(default_factory=threading.Lock)

    def event(self, query: EventQuery, version: int) -> Data:
        """An event page's data for ``version`` (or a newer one): computed once for the
        HTML and the JSON of the page alike."""
        with self.events_lock:
            found = self.events.get(query)
            mine = found is None or found[0] < version
            if mine:
                future: Future[Data] = Future()
                self.events[query] = (version, future)
                while len(self.events) > KEPT_EVENTS:
                    del self.events[next(iter(self.events))]
            else:
                assert found is not None
                future = found[1]
        if mine:
            try:
                future.set_result(self._event(query))
            except Exception as error:  # noqa: BLE001 -- said to every page waiting for it
                future.set_exception(error)
                with self.events_lock:  # the next ask tries again
                    if self.events.get(query, (0, None))[1] is future:
                        del self.events[query]
        return future.result()

    def _event(self, query: EventQuery) -> Data:
        """An event page's data: from the worker processes when there are some."""
        if self.worker is not None and not self.worker.closed:
            try:
                return self.worker.event(query)
            except BrokenProcessPool:
                log.warning("serve: no standings worker can be started; computing the page here")
        with self.readers.borrow() as reader:
            return event_data(reader, query)

    def note(self, key: str, page: Page | None, build: Callable[[], Page]) -> None:
        """One more ask of this page (kept to render it again when the data change)."""
        version = self.feed.version
        entry = self.asked.get(key)
        if entry is None:
            entry = self.asked[key] = Asked(page or build(), version)
        elif entry.version != version:
            entry.score, entry.version = entry.at(version), version
        entry.score += 1


class HttpError(Exception):
    """A status and a message for the error page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _flag(request: PageRequest, name: str) -> bool:
    return request.query_params.get(name, "") in ("1", "true", "yes", "on")


def _text(request: PageRequest, name: str) -> str | None:
    value = request.query_params.get(name, "").strip()
    if len(value) > MAX_QUERY:
        raise ValidationError(f"{name}: at most {MAX_QUERY} characters")
    return value or None


def _page_number(request: PageRequest) -> int:
    text = request.query_params.get("page", "1").strip() or "1"
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 10**6:
        raise ValidationError(f"page: expected a page number, got {text[:20]!r}")
    return int(text)


def _without_charts(value: object) -> object:
    """The JSON form of page data: the API's keys, without the drawing of the charts."""
    if isinstance(value, dict):
        return {k: _without_charts(v) for k, v in value.items() if k != "chart"}
    if isinstance(value, list):
        return [_without_charts(v) for v in value]
    return value


# -- the pages ------------------------------------------------------------------


def _home(s: Services, request: PageRequest) -> Built:
    with s.readers.borrow() as r:
        data = r.home()
    by_slug = {c["slug"]: c for c in data["competitions"]}
    loose = [c for c in data["competitions"] if not c["events"]]
    return Built("home.html", {"data": data, "by_slug": by_slug, "loose": loose}, data)


def _event(s: Services, request: PageRequest, slug: str) -> Built:
    scheme = _text(request, "scheme")
    if scheme is not None and scheme not in SCHEMES:
        raise ValidationError(f"scheme: expected one of {', '.join(SCHEMES)}")
    projector = _flag(request, "projector")
    data = s.event(
        EventQuery(
            slug,
            scheme=scheme,
            everyone=_flag(request, "everyone"),
            group=_text(request, "group"),
            page=1 if projector else _page_number(request),
            size=PROJECTOR_ROWS if projector else STANDINGS_PAGE,
        ),
        request.version,
    )
    comps = data["competitions"]
    next_url = None
    if projector and comps:
        next_url = f"{s.root}/competitions/{comps[0]['slug']}?projector=1&event={data['event']['slug']}"
    context = {"data": data, "projector": projector, "next_url": next_url}
    return Built("event.html", context, data)


def _competition(s: Services, request: PageRequest, slug: str) -> Built:
    with s.readers.borrow() as r:
        return _competition_of(s, r, request, slug)


def _competition_of(s: Services, r: Reader, request: PageRequest, slug: str) -> Built:
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
    return Built("competition.html", context, data)


def _team(s: Services, request: PageRequest, slug: str, team_id: int) -> Built:
    try:
        with s.readers.borrow() as r:
            data = r.team(slug, team_id)
    except (ValidationError, NoBoardError) as error:
        raise NotFoundError(str(error)) from None
    return Built("team.html", {"data": data}, data["history"])


def _member(s: Services, request: PageRequest, username: str) -> Built:
    with s.readers.borrow() as r:
        data = r.member(username)
    return Built("member.html", {"data": data}, data)


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


def _build(s: Services, page: Page, version: int) -> CachedPage:
    """Render a page (in a worker thread): its data read in one read transaction."""
    started = time.monotonic()
    try:
        return _built(s, page, version)
    finally:
        log.debug("serve: rendered %s in %.3f s", page.key, time.monotonic() - started)


def _built(s: Services, page: Page, version: int) -> CachedPage:
    as_json = page.as_json
    try:
        built = page.builder(s, replace(page.request, version=version), *page.args)
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
        body = json.dumps(_without_charts(built.data), ensure_ascii=False, indent=1).encode()
        return CachedPage(body, "application/json", etag_of(body))
    context = {"projector": False, "next_url": None, **built.context}
    html = render(built.template, links=Links(s.root), query=page.request.query_params, **context)
    body = html.encode()
    return CachedPage(body, "text/html; charset=utf-8", etag_of(body))


def _handler(builder: Builder, *names: str, as_json: bool = False) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        s: Services = request.app.state.services
        key = ("json " if as_json else "html ") + request.url.path + "?" + str(request.query_params)
        version = s.feed.version

        def page_of() -> Page:
            args = tuple(request.path_params[name] for name in names)
            return Page(builder, args, as_json, PageRequest.of(request))

        cached = s.cache.get(version, key)
        if cached is None:
            page = page_of()
            cached = await asyncio.shield(_rendering(s, version, page))
            s.note(key, page, page_of)
        else:
            s.note(key, None, page_of)
        return _respond(request, cached)

    return handle


def _rendering(s: Services, version: int, page: Page) -> asyncio.Task[CachedPage]:
    """The one render of this page for this version: viewers asking at the same time
    share it (a sync landing must not start one render per open page)."""
    key = page.key
    task = s.pending.get((version, key))
    if task is None:
        task = asyncio.get_running_loop().create_task(run_in_threadpool(_build, s, page, version))
        s.pending[(version, key)] = task

        def done(finished: asyncio.Task[CachedPage]) -> None:
            s.pending.pop((version, key), None)
            if not finished.cancelled() and finished.exception() is None:
                s.cache.put(version, key, finished.result())

        task.add_done_callback(done)
    return task


async def _prepare(s: Services, version: int) -> None:
    """Render the pages asked for lately for ``version``, before it is announced: the
    viewers' reloads are then cache hits. Waits for the most asked ones."""
    now = s.feed.version
    ranked = sorted(s.asked.values(), key=lambda entry: entry.at(now), reverse=True)
    kept = [entry for entry in ranked[:WARM_PAGES] if entry.at(now) >= 0.25]
    s.asked = {entry.page.key: entry for entry in kept}  # what is no longer asked for is forgotten
    if not kept:
        return
    top = kept[0].at(now)
    first = [entry.page for entry in kept[:WARM_FIRST] if entry.at(now) >= WARM_SHARE * top]
    rest = [entry.page for entry in kept[len(first) :]]
    await asyncio.gather(*(_rendering(s, version, page) for page in first), return_exceptions=True)
    if rest:
        s.background.add(asyncio.get_running_loop().create_task(_warm_rest(s, version, rest)))


async def _warm_rest(s: Services, version: int, pages: list[Page]) -> None:
    """Render the less asked pages of ``version`` one after another (until a newer one)."""
    try:
        for page in pages:
            if s.feed.preparing > version or s.feed.closed:
                return  # a newer version is coming: its pages come first
            with contextlib.suppress(Exception):
                await _rendering(s, version, page)
    finally:
        task = asyncio.current_task()
        if task is not None:
            s.background.discard(task)


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
    db: Path | str,
    config: GuardConfig | None = None,
    *,
    root: str = "",
    poll: float | None = None,
    render_process: bool = False,
) -> Starlette:
    """The web app over the database at ``db``, opened read-only now (a missing or damaged
    file raises :class:`~kagsync.errors.StoreError` here, before anything is served).

    ``render_process``: compute the event pages' standings in a worker process (what
    ``kagsync serve`` does); otherwise in this process's threads.
    """
    readers = ReaderPool(db, READERS)
    checker = Reader.open(db)
    services: Services

    async def prepare(version: int) -> None:
        await _prepare(services, version)

    feed = ChangeFeed(checker.data_version, prepare=prepare, **({"interval": poll} if poll else {}))
    worker = EventWorker(db) if render_process else None
    services = Services(readers, feed, PageCache(), root.rstrip("/"), worker)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if worker is not None:
            worker.start()
        feed.start()
        try:
            yield
        finally:
            await feed.stop()
            if worker is not None:
                await asyncio.to_thread(worker.close)
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
