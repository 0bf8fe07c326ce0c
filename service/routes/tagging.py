"""Tagging endpoints: segmentation, POS and entities for a list of texts, through the batcher.

Responses carry `X-Queue-Time` and `X-Inference-Time` (milliseconds) so clients can tell
waiting from computing. Bodies are built as plain dicts and written by pydantic's serializer
(`Answer`): the declared `response_model` documents them, and skipping its per-token
validation halves the event loop's work per request under load.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pydantic_core

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import Receive

from data.corpus import Span
from data.lexicon import Lexicon
from data.script import for_model, user_lexicon
from model.spans import confident
from model.store import parse_ref
from model.config import ANSWERS, check_answers
from service.deps import MetricsDep, ReadyRegistryDep, SettingsDep
from service.errors import ClientGone
from service.schemas import NerResponse, PosResponse, SegmentResponse, TagRequest

router = APIRouter(prefix="/v1", tags=["tagging"])
Render = Callable[[str, Span, bool], dict]
T = TypeVar("T")


class Answer(JSONResponse):
    """JSON written by pydantic's Rust serializer: for a 1M-character text's 530k tokens it
    took 0.08 s where `json.dumps` took 0.34-0.46 s, time in which the event loop answers no
    other request. The JSON is equal, not always the same bytes (a score of 1e-05 is written
    0.00001). Texts hold no lone surrogate (`TagRequest` refuses them), so every answer
    encodes."""

    def render(self, content: Any) -> bytes:
        return pydantic_core.to_json(content)


def _token(text: str, span: Span, scored: bool) -> dict:
    """`scored`: the request asked for scores (entities always have them). A batch computes
    scores for all its texts when any of its requests asks, so the others' are left out here."""
    token = {"text": text[span.start : span.end], "start": span.start, "end": span.end}
    return {**token, "score": span.score} if scored else token


def _tagged(text: str, span: Span, scored: bool) -> dict:
    return {**_token(text, span, scored), "tag": span.label or ""}


def _entity(text: str, span: Span, scored: bool) -> dict:
    return {**_token(text, span, True), "type": span.label or ""}


def _check_lengths(request: TagRequest, limit: int) -> None:
    errors = [
        {"type": "string_too_long", "loc": ["body", "texts", i], "msg": f"text longer than ZHTAG_MAX_TEXT_CHARS ({limit})", "input": None}
        for i, text in enumerate(request.texts)
        if len(text) > limit
    ]
    if errors:
        raise RequestValidationError(errors)


async def unless_client_gone(receive: Receive, work: Awaitable[T]) -> T:
    """Await `work`, cancelling it if the client disconnects first: a cancelled request is
    skipped by its batch, so a client that gave up costs no tagging. Once the body is read,
    the server's `receive` yields only `http.disconnect`, so waiting on it costs no polling."""
    task = asyncio.ensure_future(work)
    gone = asyncio.ensure_future(_disconnect(receive))
    try:
        await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if task.done():
        return task.result()
    task.cancel()
    raise ClientGone("the client disconnected before its answer was ready")


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _user_words(http_request: Request, request: TagRequest) -> Lexicon | None:
    """The request's own words and those of the dictionary it names, as one lexicon."""
    force, own = request.user_dict_mode == "force", request.user_words
    if request.dictionary is None:
        return user_lexicon(own, force=force, tags=own) if own else None
    named = await run_in_threadpool(http_request.app.state.dictionaries.lexicon, request.dictionary, force)
    return user_lexicon(named.words | own.keys(), force=force, tags=named.tags | {w: t for w, t in own.items() if t}) if own else named


async def _answer(
    http_request: Request,
    request: TagRequest,
    command: str,
    key: str,
    render: Render,
    registry: ReadyRegistryDep,
    settings: SettingsDep,
    metrics: MetricsDep,
) -> JSONResponse:
    _check_lengths(request, settings.max_text_chars)
    ref = request.model or ANSWERS[command][0]
    tagger = registry.loaded(ref) or await run_in_threadpool(registry.load, ref)
    check_answers(tagger, command)
    user_words = await _user_words(http_request, request)
    texts = await run_in_threadpool(for_model, request.texts, request.script)  # same lengths: offsets index request.texts
    async with registry.batcher(tagger) as batcher:
        work = batcher.submit_within(texts, user_words, settings.request_timeout_ms / 1000, request.scores)
        spans, timing = await unless_client_gone(http_request.receive, work)
    metrics.batch_wait.observe(timing.queue_ms / 1000)
    name, version = parse_ref(tagger.ref or "")
    results = [{key: [render(text, s, request.scores) for s in confident(found, request.min_score)]} for text, found in zip(request.texts, spans, strict=True)]
    headers = {"X-Queue-Time": f"{timing.queue_ms:.2f}", "X-Inference-Time": f"{timing.inference_ms:.2f}"}
    return Answer({"model": {"name": name, "version": version}, "results": results}, headers=headers)


def _endpoint(command: str, key: str, render: Render) -> Callable[..., Awaitable[JSONResponse]]:
    """The route answering `command`. The three routes differ only in what they answer with;
    each is a function of its own because FastAPI reads a route's inputs from its signature."""

    async def endpoint(
        http_request: Request, request: TagRequest, registry: ReadyRegistryDep, settings: SettingsDep, metrics: MetricsDep
    ) -> JSONResponse:
        return await _answer(http_request, request, command, key, render, registry, settings, metrics)

    return endpoint


for _command, _key, _render, _response in (
    ("segment", "tokens", _token, SegmentResponse),
    ("pos", "tokens", _tagged, PosResponse),
    ("ner", "entities", _entity, NerResponse),
):
    router.add_api_route(f"/{_command}", _endpoint(_command, _key, _render), methods=["POST"], name=_command, response_model=_response)
