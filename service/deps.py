"""Dependency aliases for route signatures. They are `async def` because FastAPI runs a plain
`def` dependency in its thread pool: three thread hops per request, each waiting for the GIL
while a batch computes, kept batches small under load."""
from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.metrics import Metrics
from service.registry import Registry
from service.settings import Settings


async def _registry(request: Request) -> Registry:
    return request.app.state.registry


async def _ready_registry(request: Request) -> Registry:
    """The registry once the startup models are warm; its NotReady says why not (loading, or
    which startup model failed to load and why)."""
    registry: Registry = request.app.state.registry
    registry.check_ready()
    return registry


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _metrics(request: Request) -> Metrics:
    return request.app.state.metrics


def admin_refusal(settings: Settings, authorization: str | None) -> HTTPException | None:
    """Why a request may not use a mutating endpoint, or None when it may: it needs
    `Authorization: Bearer $ZHTAG_ADMIN_TOKEN`; with no token configured they are closed (403)
    rather than open. Compared in constant time."""
    token = settings.admin_token
    if token is None:
        return HTTPException(403, "admin endpoints are disabled: set ZHTAG_ADMIN_TOKEN to enable them")
    scheme, _, given = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.get_secret_value().encode()):  # schemes ignore case (RFC 9110)
        return HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})
    return None


BEARER = HTTPBearer(auto_error=False, description="Authorization: Bearer $ZHTAG_ADMIN_TOKEN")


async def _admin(request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]) -> None:
    """`_` declares the bearer scheme in the OpenAPI schema (the docs' Authorize button,
    generated clients); the header itself is checked by `admin_refusal`, as the upload paths'
    middleware checks it before a body is read."""
    refusal = admin_refusal(request.app.state.settings, request.headers.get("authorization"))
    if refusal is not None:
        raise refusal


RegistryDep = Annotated[Registry, Depends(_registry)]
ReadyRegistryDep = Annotated[Registry, Depends(_ready_registry)]
SettingsDep = Annotated[Settings, Depends(_settings)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
AdminDep = Depends(_admin)
