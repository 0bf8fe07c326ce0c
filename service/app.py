"""Builds the FastAPI app: settings, the tagger registry, routers, limits, metrics and the one
place where zhtag's errors become HTTP statuses."""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from data.errors import CheckpointError, InputError, ModelNotFound, ZhtagError
from model.store import Store
from model.tagger import pick_device
from service.batcher import DeadlineExceeded, QueueFull
from service.metrics import Metrics
from service.registry import NotReady, Registry
from service.routes import demo, health, models, tagging
from service.routes.tagging import ClientGone
from service.settings import Settings

STATUS: list[tuple[type[ZhtagError], int]] = [
    (ModelNotFound, 404),
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


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registry = Registry(store or Store(), settings, metrics, str(pick_device(settings.device)))
        app.state.registry, app.state.settings, app.state.metrics = registry, settings, metrics
        for ref in settings.models:
            registry.store.locate(ref)  # an unknown startup model stops the start, not /readyz
        warming = asyncio.get_running_loop().run_in_executor(None, registry.warm, settings.models)
        yield
        await asyncio.gather(warming, return_exceptions=True)
        await registry.close()

    app = FastAPI(title="zhtag", version="0.1.0", lifespan=lifespan)
    for router in (tagging.router, models.router, health.router, demo.router):
        app.include_router(router)

    @app.middleware("http")
    async def limits_and_metrics(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        if int(request.headers.get("content-length") or 0) > settings.max_body_bytes:
            response: Response = JSONResponse(
                {"error": "PayloadTooLarge", "detail": f"body over max_body_bytes ({settings.max_body_bytes})"}, status_code=413
            )
        else:
            response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        metrics.requests.labels(route, str(response.status_code)).inc()
        metrics.latency.labels(route).observe(time.perf_counter() - started)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, err: RequestValidationError) -> Response:
        """422 naming each bad field; ASCII-escaped because the offending input may hold lone
        surrogates, which UTF-8 cannot encode (FastAPI's own handler answers 500 then)."""
        body = json.dumps({"detail": jsonable_encoder(err.errors())}, ensure_ascii=True)
        return Response(body, status_code=422, media_type="application/json")

    @app.exception_handler(ZhtagError)
    async def zhtag_error(request: Request, err: ZhtagError) -> JSONResponse:
        headers = {"Retry-After": "1"} if isinstance(err, (QueueFull, NotReady)) else None
        content = {"error": type(err).__name__, "detail": str(err)}
        return JSONResponse(status_code=_status(err), content=content, headers=headers)

    return app
