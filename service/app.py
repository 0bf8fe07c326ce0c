"""Builds the FastAPI app: settings, the tagger registry, routers, limits, metrics and the one
place where zhtag's errors become HTTP statuses."""
from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from http import HTTPStatus
from pathlib import Path

import torch
from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from data.errors import CheckpointError, CorpusError, InputError, ModelNotFound, ZhtagError
from model.store import Store
from model.tagger import pick_device
from service.batcher import DeadlineExceeded, QueueFull
from service.deps import admin_refusal
from service.dictionaries import Dictionaries, DictionaryNotFound
from service.jobrunner import JobRunner
from service.jobs import JobNotFound, JobStore, jobs_path
from service.metrics import Metrics
from service.registry import NotReady, Registry
from service.routes import ROUTERS
from service.routes.jobs import JobsUnavailable, PathRefused
from service.routes.tagging import ClientGone
from service.schemas import ERROR_RESPONSES
from service.settings import Settings

STATUS: list[tuple[type[ZhtagError], int]] = [
    (ModelNotFound, 404),
    (JobNotFound, 404),
    (DictionaryNotFound, 404),
    (PathRefused, 403),
    (CorpusError, 422),
    (JobsUnavailable, 503),
    (QueueFull, 429),
    (NotReady, 503),
    (DeadlineExceeded, 504),
    (ClientGone, 499),
    (InputError, 422),
    (CheckpointError, 409),
    (ZhtagError, 400),
]


def _status(err: ZhtagError) -> int:
    return next(code for cls, code in STATUS if isinstance(err, cls))


def error_response(
    status: int, error: str, detail: object, headers: Mapping[str, str] | None = None, **where: object
) -> JSONResponse:
    """Every error zhtag answers has this JSON shape; `where` adds fields a client can point
    at (a corpus error's file, line and problem)."""
    return JSONResponse(status_code=status, content={"error": error, "detail": detail, **where}, headers=headers)


CLEARER = {  # FastAPI's words for a body it could not read, and what they mean to a client
    "There was an error parsing the body": (
        "the body could not be read: it must be JSON in UTF-8, uncompressed, sent whole, and within the parser's limits "
        "(nesting, digits in a number)"
    ),
}


def framework_error(err: StarletteHTTPException) -> JSONResponse:
    """A framework error (400, 403, 404 route, 405, 413) in zhtag's shape, named by its reason
    phrase, e.g. `RequestEntityTooLarge`."""
    return error_response(err.status_code, phrase(err.status_code), CLEARER.get(err.detail, err.detail), err.headers)


def _problem(problem: dict) -> dict:
    """A validation problem as a client reads it: not the input (it can be megabytes), nor the
    exception object a validator raised (`ctx.error`, which JSON shows as `{}`)."""
    shown = {k: v for k, v in problem.items() if k not in ("input", "url")}
    ctx = {k: v for k, v in shown.pop("ctx", {}).items() if k != "error"}
    return shown | ({"ctx": ctx} if ctx else {})


def _job_store(root: Path) -> JobStore | None:
    """The store's job table, or None (jobs answer 503) where the root cannot hold one."""
    try:
        return JobStore(jobs_path(root))
    except (OSError, sqlite3.Error) as err:
        logging.getLogger("zhtag.jobs").warning("training jobs disabled: %s", err)
        return None


def phrase(status: int) -> str:
    return HTTPStatus(status).phrase.replace(" ", "")


class BodyLimit:
    """413 for a body over `limit` bytes, whether announced by Content-Length (refused at the
    first read, before any of it is received) or streamed in chunks (refused as soon as the
    count passes the limit); 408 for a body not received whole within `timeout_s`, so that a
    client trickling its body holds no connection, nor the shutdown, for longer. Refusing at
    the first read rather than on arrival lets the router name the route first: refusals are
    counted under their route in /metrics, not as "unmatched"."""

    def __init__(self, app: ASGIApp, limit: int, limits: Mapping[str, int], timeout_s: float) -> None:
        """`limit` for every path but those starting with a prefix `limits` names (uploads)."""
        self.app, self.limit, self.limits, self.timeout_s = app, limit, limits, timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        upload = next((value for prefix, value in self.limits.items() if scope["path"].startswith(prefix)), None)
        limit = upload or self.limit
        too_large = StarletteHTTPException(413, f"body over {'max_upload_bytes' if upload else 'max_body_bytes'} ({limit})")
        too_slow = StarletteHTTPException(408, f"body not received whole within {self.timeout_s:g} s (body_timeout_s)", {"Connection": "close"})
        deadline = asyncio.get_running_loop().time() + self.timeout_s
        announced, received, whole = _content_length(scope), 0, False

        async def receive_limited() -> Message:
            """The next message, within the limits until the body is whole; after it, the
            wait for a disconnect lasts as long as the answer takes."""
            nonlocal received, whole
            if whole:
                return await receive()
            if announced > limit:
                raise too_large
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise too_slow from None
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large
            whole = not message.get("more_body", False)
            return message

        await self.app(scope, receive_limited, send)


def _content_length(scope: Scope) -> int:
    value = dict(scope["headers"]).get(b"content-length", b"0")
    return int(value) if value.isdigit() else 0


REFUSED_ROUTE = "zhtag.refused_route"  # the route a request refused before routing was for, for /metrics


class AdminBeforeBody:
    """Refuses a request to an admin upload path before its body is read: FastAPI parses a
    form before it runs dependencies, so without this anyone could make the server spool an
    upload of `max_upload_bytes` to disk just to be told 401."""

    def __init__(self, app: ASGIApp, settings: Settings, paths: frozenset[str]) -> None:
        self.app, self.settings, self.paths = app, settings, paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.paths:
            authorization = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1") or None
            refusal = admin_refusal(self.settings, authorization)
            if refusal is not None:
                scope[REFUSED_ROUTE] = scope["path"]  # refused before routing; the path is the route's whole template
                return await framework_error(refusal)(scope, receive, send)
        await self.app(scope, receive, send)


class RequestMetrics:
    """Counts requests by route and status and times them. Plain ASGI: Starlette's
    `BaseHTTPMiddleware` spends a task group and two memory streams on every request.
    FastAPI's own routes name themselves in the scope; Starlette's (/docs, /openapi.json)
    leave only their endpoint, found among `routes`."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: Sequence[BaseRoute]) -> None:
        self.app, self.metrics, self.routes = app, metrics, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            route = self._route(scope)
            self.metrics.requests.labels(route, str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)

    def _route(self, scope: Scope) -> str:
        """The matched route's path template, "unmatched" for none: never the path itself,
        whose every distinct value would be a new time series."""
        endpoint = scope.get("endpoint")
        route = scope.get("route") or next((r for r in self.routes if endpoint is not None and getattr(r, "endpoint", None) is endpoint), None)
        return getattr(route, "path", None) or scope.get(REFUSED_ROUTE, "unmatched")


log = logging.getLogger("zhtag.http")
REQUEST_ID = re.compile(r"[!-~]{1,128}")  # a client's own X-Request-ID is kept if a header and a log line can carry it


class RequestId:
    """`X-Request-ID` on every answer: the client's own (printable ASCII, at most 128
    characters), else a new one, so that a client's report of a failed request finds its
    log line (`_unexpected_error`). Plain ASGI, outermost but for Starlette's error handling,
    which answers a 500 itself (and names the id there)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        await self.app(scope, receive, send_with_id)


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = Metrics()
    lifespan = _lifespan(settings, store, metrics)
    app = FastAPI(title="zhtag", version="0.1.0", lifespan=lifespan, responses=ERROR_RESPONSES, redirect_slashes=False)  # the error body, documented on every route
    for router in ROUTERS:
        app.include_router(router)

    uploads = {"/v1/train": settings.max_upload_bytes, "/v1/dictionaries/": settings.max_upload_bytes}
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, limits=uploads, timeout_s=settings.body_timeout_s)
    app.add_middleware(AdminBeforeBody, settings=settings, paths=frozenset({"/v1/train"}))  # outside: auth first
    app.add_middleware(RequestMetrics, metrics=metrics, routes=app.routes)
    if settings.cors_origins:  # closed unless configured: browsers on other origins cannot call the API
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST", "PUT", "DELETE"], allow_headers=["Authorization", "Content-Type", "X-Request-ID"], expose_headers=["X-Request-ID"])
    app.add_middleware(RequestId)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ZhtagError, _zhtag_error)
    app.add_exception_handler(Exception, _unexpected_error)
    return app


def _lifespan(settings: Settings, store: Store | None, metrics: Metrics) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start-up (models warming, the store watched, jobs run) and shutdown, in that order undone."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        threads = torch.get_num_threads()
        torch.set_num_threads(settings.torch_threads)
        registry = Registry(store or Store(), settings, metrics, str(pick_device(settings.device)))
        app.state.registry, app.state.settings, app.state.metrics = registry, settings, metrics
        for ref in settings.models:
            registry.store.locate(ref)  # an unknown startup model stops the start, not /readyz
        warming = asyncio.get_running_loop().run_in_executor(None, registry.warm, settings.models)
        watching = asyncio.create_task(registry.watch(settings.watch_interval_s))
        app.state.jobs = _job_store(registry.store.root)
        app.state.dictionaries = Dictionaries(registry.store.root, settings.max_cached_dictionaries)
        runs_jobs = app.state.jobs is not None and settings.max_running_jobs > 0  # else neither run nor reap: another node's jobs
        runner = JobRunner(app.state.jobs, registry.store, settings.max_running_jobs, shutdown_s=settings.shutdown_timeout_s) if runs_jobs else None
        running = [asyncio.create_task(runner.run())] if runner else []
        yield
        for task in (watching, *running):
            task.cancel()
        await asyncio.gather(warming, watching, *running, return_exceptions=True)
        await registry.close()
        torch.set_num_threads(threads)
        metrics.worker_exited()

    return lifespan


async def _invalid_request(request: Request, err: RequestValidationError) -> Response:
    """422 naming each bad field, shaped like every other error. The offending input is
    not echoed: it can be megabytes. ASCII-escaped because messages may quote lone
    surrogates, which UTF-8 cannot encode (FastAPI's own handler answers 500 then)."""
    problems = [_problem(problem) for problem in err.errors()]
    sent = request.headers.get("content-type", "")
    if any(p["loc"] == ("body",) and p["type"] == "model_attributes_type" for p in problems) and not sent.startswith("application/json"):
        detail = f"send the body as JSON, with content-type application/json (this one came as {sent or 'no content type'})"
        return error_response(415, "UnsupportedMediaType", detail)  # curl -d sends a form's content type
    body = json.dumps({"error": "ValidationError", "detail": jsonable_encoder(problems)}, ensure_ascii=True)
    return Response(body, status_code=422, media_type="application/json")


async def _http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
    if err.status_code == 404 and err.detail == HTTPStatus.NOT_FOUND.phrase:  # no route: a trailing slash is no route either
        err = StarletteHTTPException(404, f"no route {request.method} {request.url.path}: the routes are listed at /docs")
    return framework_error(err)


async def _zhtag_error(request: Request, err: ZhtagError) -> JSONResponse:
    headers = {"Retry-After": "1"} if isinstance(err, (QueueFull, NotReady)) else None
    where = {"file": err.path, "line": err.line, "problem": err.problem} if isinstance(err, CorpusError) else {}
    return error_response(_status(err), type(err).__name__, str(err), headers, **where)


async def _unexpected_error(request: Request, err: Exception) -> JSONResponse:
    """A 500 in zhtag's shape for an error nothing else handles, telling nothing of the
    server's internals. Starlette raises the error on after this answer, and the server logs
    its traceback, once, after the line naming the request's id."""
    request_id = getattr(request.state, "request_id", "")
    log.error("request %s (%s %s) failed with %s; its traceback follows", request_id, request.method, request.url.path, type(err).__name__)
    detail = f"the server failed to answer this request; its log says why (request {request_id})"
    return error_response(500, "InternalServerError", detail, {"X-Request-ID": request_id} if request_id else None)
