"""Request and response bodies. Input limits live here as `Field` constraints, so FastAPI
refuses oversize input with a 422 naming the field before any tagging starts."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

MAX_TEXTS = 256
MAX_TEXT_CHARS = 10_000
MAX_USER_WORDS = 10_000


class TagRequest(BaseModel):
    texts: list[Annotated[str, Field(max_length=MAX_TEXT_CHARS)]] = Field(..., min_length=1, max_length=MAX_TEXTS)
    model: str | None = Field(None, max_length=80, description="model reference, e.g. 'cws' or 'cws@2'")
    user_dict: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        default_factory=list, max_length=MAX_USER_WORDS, description="extra words for the lexicon features"
    )


class ModelRef(BaseModel):
    name: str
    version: int


class Token(BaseModel):
    text: str
    start: int
    end: int


class TaggedToken(Token):
    tag: str


class Entity(BaseModel):
    text: str
    type: str
    start: int
    end: int
    score: float = Field(..., ge=0, le=1, description="the entity's marginal probability under the CRF")


class Tokens(BaseModel):
    tokens: list[Token]


class TaggedTokens(BaseModel):
    tokens: list[TaggedToken]


class Entities(BaseModel):
    entities: list[Entity]


class SegmentResponse(BaseModel):
    model: ModelRef
    results: list[Tokens]


class PosResponse(BaseModel):
    model: ModelRef
    results: list[TaggedTokens]


class NerResponse(BaseModel):
    model: ModelRef
    results: list[Entities]


class ActivateRequest(BaseModel):
    version: int = Field(..., ge=1)
