"""Tagging endpoints: segmentation, POS and entities for a list of texts."""
from __future__ import annotations

from fastapi import APIRouter

from service.deps import RegistryDep
from service.schemas import Entity, EntityResponse, SegmentResponse, TagRequest, Token

router = APIRouter(prefix="/v1", tags=["tagging"])


def _tokens(registry: RegistryDep, request: TagRequest, default: str) -> SegmentResponse:
    tagger = registry.get(request.model or default)
    results = tagger.tag(request.texts)
    tokens = [
        [Token(text=text[s.start : s.end], start=s.start, end=s.end, tag=s.label) for s in spans]
        for text, spans in zip(request.texts, results)
    ]
    return SegmentResponse(model=tagger.ref or "", tokens=tokens)


@router.post("/segment")
def segment(request: TagRequest, registry: RegistryDep) -> SegmentResponse:
    return _tokens(registry, request, "cws")


@router.post("/pos")
def pos(request: TagRequest, registry: RegistryDep) -> SegmentResponse:
    return _tokens(registry, request, "pos")


@router.post("/ner")
def ner(request: TagRequest, registry: RegistryDep) -> EntityResponse:
    tagger = registry.get(request.model or "ner")
    results = tagger.tag(request.texts)
    entities = [
        [Entity(text=text[s.start : s.end], type=s.label or "", start=s.start, end=s.end) for s in spans]
        for text, spans in zip(request.texts, results)
    ]
    return EntityResponse(model=tagger.ref or "", entities=entities)
