"""Dependency aliases for route signatures."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.registry import Registry


def _registry(request: Request) -> Registry:
    return request.app.state.registry


RegistryDep = Annotated[Registry, Depends(_registry)]
