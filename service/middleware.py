"""The service's middlewares, innermost first as `create_app` stacks them: body limits, admin
refusal before an upload's body is read, metrics per route, and a request id on every answer.
Plain ASGI: Starlette's `BaseHTTPMiddleware` spends a task group and two memory streams on
every request."""
from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Mapping, Sequence

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.deps import admin_refusal
from service.errors import framework_error
from service.metrics import Metrics
from service.settings import Settings


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
        too_large = lambda: StarletteHTTPException(413, f"body over {'max_upload_bytes' if upload else 'max_body_bytes'} ({limit})")  # noqa: E731  made when refused
        deadline = asyncio.get_running_loop().time() + self.timeout_s
        announced, received, whole = _content_length(scope), 0, False

        async def receive_limited() -> Message:
            """The next message, within the limits until the body is whole; after it, the
            wait for a disconnect lasts as long as the answer takes."""
            nonlocal received, whole
            if whole:
                return await receive()
            if announced > limit:
                raise too_large()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise StarletteHTTPException(408, f"body not received whole within {self.timeout_s:g} s (body_timeout_s)", {"Connection": "close"}) from None
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large()
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
    """Counts requests by route and status and times them. FastAPI's own routes name
    themselves in the scope; Starlette's (/docs, /openapi.json) leave only their endpoint,
    found among `routes`."""

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


REQUEST_ID = re.compile(r"[!-~]{1,128}")  # a client's own X-Request-ID is kept if a header and a log line can carry it


class RequestId:
    """`X-Request-ID` on every answer: the client's own (printable ASCII, at most 128
    characters), else a new one, so that a client's report of a failed request finds its
    log line (`service.errors`). Outermost but for Starlette's error handling, which answers
    a 500 itself (and names the id there)."""

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
