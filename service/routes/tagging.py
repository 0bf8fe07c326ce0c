"""Tagging endpoints: segmentation, POS and entities for a list of texts, through the batcher.

Responses carry `X-Queue-Time` and `X-Inference-Time` (milliseconds) so clients can tell
waiting from computing.
"""
from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool

from data.corpus import Span
from model.tagger import Tagger
from service.deps import RegistryDep
from service.schemas import Entity, EntityResponse, SegmentResponse, TagRequest, Token

router = APIRouter(prefix="/v1", tags=["tagging"])


async def _tag(registry: RegistryDep, request: TagRequest, default: str, response: Response) -> tuple[Tagger, list[list[Span]]]:
    tagger = await run_in_threadpool(registry.get, request.model or default)
    spans, timing = await registry.batcher(tagger).submit(request.texts)
    response.headers["X-Queue-Time"] = f"{timing.queue_ms:.2f}"
    response.headers["X-Inference-Time"] = f"{timing.inference_ms:.2f}"
    return tagger, spans


async def _tokens(registry: RegistryDep, request: TagRequest, default: str, response: Response) -> SegmentResponse:
    tagger, results = await _tag(registry, request, default, response)
    tokens = [
        [Token(text=text[s.start : s.end], start=s.start, end=s.end, tag=s.label) for s in spans]
        for text, spans in zip(request.texts, results, strict=True)
    ]
    return SegmentResponse(model=tagger.ref or "", tokens=tokens)


@router.post("/segment")
async def segment(request: TagRequest, registry: RegistryDep, response: Response) -> SegmentResponse:
    return await _tokens(registry, request, "cws", response)


@router.post("/pos")
async def pos(request: TagRequest, registry: RegistryDep, response: Response) -> SegmentResponse:
    return await _tokens(registry, request, "pos", response)


@router.post("/ner")
async def ner(request: TagRequest, registry: RegistryDep, response: Response) -> EntityResponse:
    tagger, results = await _tag(registry, request, "ner", response)
    entities = [
        [Entity(text=text[s.start : s.end], type=s.label or "", start=s.start, end=s.end) for s in spans]
        for text, spans in zip(request.texts, results, strict=True)
    ]
    return EntityResponse(model=tagger.ref or "", entities=entities)
