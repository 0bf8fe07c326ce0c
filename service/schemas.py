"""Request and response bodies; input limits live here so FastAPI refuses oversize input
with a 422 before any tagging starts."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

MAX_TEXTS = 256
MAX_TEXT_CHARS = 100_000


class TagRequest(BaseModel):
    texts: list[Annotated[str, Field(max_length=MAX_TEXT_CHARS)]] = Field(..., min_length=1, max_length=MAX_TEXTS)
    model: str | None = Field(None, max_length=80, description="model reference, e.g. 'cws' or 'cws@2'")


class Token(BaseModel):
    text: str
    start: int
    end: int
    tag: str | None = None


class Entity(BaseModel):
    text: str
    type: str
    start: int
    end: int


class SegmentResponse(BaseModel):
    model: str
    tokens: list[list[Token]]


class EntityResponse(BaseModel):
    model: str
    entities: list[list[Entity]]
