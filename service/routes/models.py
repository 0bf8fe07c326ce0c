"""Model listing and activation."""
from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParameter
from fastapi.concurrency import run_in_threadpool

from model.store import NAME_PATTERN, parse_ref
from service.deps import AdminDep, RegistryDep
from service.schemas import ActivateRequest, ModelRef

router = APIRouter(prefix="/v1/models", tags=["models"])
Name = Annotated[str, PathParameter(pattern=f"^{NAME_PATTERN}$", description="a model name, e.g. 'cws'")]  # a malformed one is a 422 before the store is asked


@router.get("")
def list_models(registry: RegistryDep) -> list[dict]:
    """Names, versions, active version, metrics and lineage (parent of each version)."""
    return [asdict(info) for info in registry.store.list()]


@router.post("/{name}/activate", dependencies=[AdminDep])
async def activate(name: Name, body: ActivateRequest, registry: RegistryDep) -> ModelRef:
    """Load, verify and warm the version off the request path, then make it active: requests
    already in flight finish on the old one. A version that fails to load changes nothing."""
    await run_in_threadpool(registry.activate, f"{name}@{body.version}")
    return ModelRef(name=name, version=body.version)


@router.post("/{name}/rollback", dependencies=[AdminDep])
async def rollback(name: Name, registry: RegistryDep) -> ModelRef:
    """Make the version that was active before the current one active again, loaded and
    warmed first; 409 when there is none."""
    name, version = parse_ref(await run_in_threadpool(registry.rollback, name))
    return ModelRef(name=name, version=version or 0)
