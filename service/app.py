"""Builds the FastAPI app: settings, the tagger registry, routers, middlewares and error
handlers (service/middleware.py, service/errors.py), and what runs while the app does."""
from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import torch
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from model.config import code_version
from model.device import pick_device
from model.store import Store
from service.dictionaries import Dictionaries
from service.errors import add_error_handlers
from service.jobrunner import JobRunner
from service.jobs import JobStore, jobs_path
from service.metrics import Metrics
from service.middleware import AdminBeforeBody, BodyLimit, RequestId, RequestMetrics
from service.registry import Registry
from service.routes import ROUTERS
from service.schemas import ERROR_RESPONSES
from service.settings import Settings


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """A factory (uvicorn's `factory=True`): each worker process builds its own app, registry
    and metrics from the same settings. `store` defaults to the one ZHTAG_STORE names."""
    settings = settings or Settings()
    metrics = Metrics()
    lifespan = _lifespan(settings, store, metrics)
    app = FastAPI(title="zhtag", version=code_version(), lifespan=lifespan, responses=ERROR_RESPONSES, redirect_slashes=False)  # the error body, documented on every route
    for router in ROUTERS:
        app.include_router(router)

    uploads = {"/v1/train": settings.max_upload_bytes, "/v1/dictionaries/": settings.max_upload_bytes}
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, limits=uploads, timeout_s=settings.body_timeout_s)
    app.add_middleware(AdminBeforeBody, settings=settings, paths=frozenset({"/v1/train"}))  # outside: auth first
    app.add_middleware(RequestMetrics, metrics=metrics, routes=app.routes)
    if settings.cors_origins:  # closed unless configured: browsers on other origins cannot call the API
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST", "PUT", "DELETE"], allow_headers=["Authorization", "Content-Type", "X-Request-ID"], expose_headers=["X-Request-ID"])
    app.add_middleware(RequestId)
    add_error_handlers(app)
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


def _job_store(root: Path) -> JobStore | None:
    """The store's job table, or None (jobs answer 503) where the root cannot hold one."""
    try:
        return JobStore(jobs_path(root))
    except (OSError, sqlite3.Error) as err:
        logging.getLogger("zhtag.jobs").warning("training jobs disabled: %s", err)
        return None
