"""Tagging endpoints: segmentation, POS and entities for a list of texts, through the batcher.

Responses carry `X-Queue-Time` and `X-Inference-Time` (milliseconds) so clients can tell
waiting from computing.
"""
from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError

from data.corpus import Span
from data.lexicon import Lexicon
from model.store import parse_ref
from service.deps import MetricsDep, ReadyRegistryDep, SettingsDep
from service.schemas import (
    Entities,
    Entity,
    ModelRef,
    NerResponse,
    PosResponse,
    SegmentResponse,
    TaggedToken,
    TaggedTokens,
    TagRequest,
    Token,
    Tokens,
)

router = APIRouter(prefix="/v1", tags=["tagging"])


def _check_lengths(request: TagRequest, limit: int) -> None:
    errors = [
        {"type": "string_too_long", "loc": ["body", "texts", i], "msg": f"text longer than max_text_chars ({limit})", "input": None}
        for i, text in enumerate(request.texts)
        if len(text) > limit
    ]
    if errors:
        raise RequestValidationError(errors)


async def _tag(
    request: TagRequest, default: str, registry: ReadyRegistryDep, settings: SettingsDep, metrics: MetricsDep, response: Response
) -> tuple[ModelRef, list[list[Span]]]:
    _check_lengths(request, settings.max_text_chars)
    tagger = await run_in_threadpool(registry.load, request.model or default)
    user_words = Lexicon(request.user_dict) if request.user_dict else None
    spans, timing = await registry.batcher(tagger).submit(request.texts, user_words)
    metrics.batch_wait.observe(timing.queue_ms / 1000)
    response.headers["X-Queue-Time"] = f"{timing.queue_ms:.2f}"
    response.headers["X-Inference-Time"] = f"{timing.inference_ms:.2f}"
    name, version = parse_ref(tagger.ref or "")
    return ModelRef(name=name, version=version or 0), spans


def _tokens(text: str, spans: list[Span]) -> Tokens:
    return Tokens(tokens=[Token(text=text[s.start : s.end], start=s.start, end=s.end) for s in spans])


def _tagged(text: str, spans: list[Span]) -> TaggedTokens:
    return TaggedTokens(tokens=[TaggedToken(text=text[s.start : s.end], start=s.start, end=s.end, tag=s.label or "") for s in spans])


def _entities(text: str, spans: list[Span]) -> Entities:
    return Entities(entities=[Entity(text=text[s.start : s.end], type=s.label or "", start=s.start, end=s.end) for s in spans])


@router.post("/segment")
async def segment(
    request: TagRequest, registry: ReadyRegistryDep, settings: SettingsDep, metrics: MetricsDep, response: Response
) -> SegmentResponse:
    model, results = await _tag(request, "cws", registry, settings, metrics, response)
    return SegmentResponse(model=model, results=[_tokens(t, s) for t, s in zip(request.texts, results, strict=True)])


@router.post("/pos")
async def pos(
    request: TagRequest, registry: ReadyRegistryDep, settings: SettingsDep, metrics: MetricsDep, response: Response
) -> PosResponse:
    model, results = await _tag(request, "pos", registry, settings, metrics, response)
    return PosResponse(model=model, results=[_tagged(t, s) for t, s in zip(request.texts, results, strict=True)])


@router.post("/ner")
async def ner(
    request: TagRequest, registry: ReadyRegistryDep, settings: SettingsDep, metrics: MetricsDep, response: Response
) -> NerResponse:
    model, results = await _tag(request, "ner", registry, settings, metrics, response)
    return NerResponse(model=model, results=[_entities(t, s) for t, s in zip(request.texts, results, strict=True)])
