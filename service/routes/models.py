"""Model listing and health."""
from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from service.deps import RegistryDep

router = APIRouter(tags=["models"])


@router.get("/v1/models")
def list_models(registry: RegistryDep) -> list[dict]:
    return [asdict(info) for info in registry.store.list()]


@router.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}
