"""Builds the FastAPI app: settings, the tagger registry, routers and error mapping."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from data.errors import CheckpointError, InputError, ModelNotFound, ZhtagError
from model.store import Store
from model.tagger import pick_device
from service.batcher import QueueFull
from service.registry import Registry
from service.routes import models, tagging
from service.settings import Settings

STATUS: list[tuple[type[ZhtagError], int]] = [
    (ModelNotFound, 404),
    (QueueFull, 429),
    (InputError, 422),
    (CheckpointError, 400),
    (ZhtagError, 400),
]


def _status(err: ZhtagError) -> int:
    return next(code for cls, code in STATUS if isinstance(err, cls))


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registry = Registry(store or Store(), settings, str(pick_device(settings.device)))
        for ref in settings.models:
            registry.get(ref)
        app.state.registry = registry
        yield
        await registry.close()

    app = FastAPI(title="zhtag", version="0.1.0", lifespan=lifespan)
    app.include_router(tagging.router)
    app.include_router(models.router)

    @app.exception_handler(ZhtagError)
    async def zhtag_error(request: Request, err: ZhtagError) -> JSONResponse:
        headers = {"Retry-After": "1"} if isinstance(err, QueueFull) else None
        content = {"error": type(err).__name__, "detail": str(err)}
        return JSONResponse(status_code=_status(err), content=content, headers=headers)

    return app
