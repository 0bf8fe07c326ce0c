"""Liveness, readiness and Prometheus metrics."""
from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from service.deps import MetricsDep, RegistryDep, SettingsDep
from service.errors import NotReady

router = APIRouter(tags=["health"])


@router.head("/livez")  # some probes ask with HEAD; a route per method keeps OpenAPI's operation ids unique
@router.get("/livez")
def livez() -> dict[str, str]:
    return {"status": "alive"}


@router.head("/readyz")
@router.get("/readyz")
def readyz(registry: RegistryDep, metrics: MetricsDep, settings: SettingsDep) -> JSONResponse:
    """200 once the startup models are loaded and warmed in every worker process, 503 before:
    `loading`, or `failed` with the model and the reason, so that an orchestrator's restart
    loop shows its cause."""
    try:
        registry.check_ready()
    except NotReady as err:
        return JSONResponse({"status": "failed" if registry.failure else "loading", "detail": str(err)}, status_code=503)
    if metrics.shared and (ready := metrics.workers_ready()) < settings.workers:  # unshared, a worker speaks for itself
        return JSONResponse({"status": "loading", "detail": f"{ready} of {settings.workers} workers are ready; retry shortly"}, status_code=503)
    return JSONResponse({"status": "ready"})


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition"}})
def metrics(metrics: MetricsDep) -> Response:
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
