"""The service's own errors, and the one place where every zhtag error becomes an HTTP answer.

The service's errors join the tree rooted in data/errors.py, drawn here whole with the
status each is answered with (`data` never imports `service`, so it draws its part alone):

    ZhtagError                  400  anything zhtag refuses, with a message meant for the user
    ├── CorpusError             422  a corpus line that cannot be read (file, line, problem)
    ├── CheckpointError         409  a stored model that is missing, corrupt or unreadable
    │   └── ModelNotFound       404  a model reference that names nothing in the store
    ├── InputError              422  text or options a caller passed that cannot be tagged
    ├── QueueFull               429  more requests waiting than `max_queue` (Retry-After)
    ├── DeadlineExceeded        504  a request not answered within `request_timeout_ms`
    ├── NotReady                503  the startup models still loading, or one failed to (Retry-After)
    ├── ClientGone              499  the client disconnected before its answer was ready
    ├── DictionaryNotFound      404  no dictionary has that name
    ├── JobNotFound             404  no job has that id
    ├── JobsUnavailable         503  the store root cannot hold a job table
    ├── PathRefused             403  a corpus path outside `ZHTAG_CORPORA`
    └── JobCancelled            ---  a job process finding its job cancelled (never answered)

Every error body has one JSON shape (`error_response`, documented as `ErrorBody`), framework
errors and validation errors included.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from data.errors import CheckpointError, CorpusError, InputError, ModelNotFound, ZhtagError


class QueueFull(ZhtagError):
    """More requests are waiting than `max_queue`; the caller should retry later."""


class DeadlineExceeded(ZhtagError):
    """A request was not answered within its deadline; it is dropped if not yet computed."""


class NotReady(ZhtagError):
    """The startup models are still loading, or one of them failed to."""


class ClientGone(ZhtagError):
    """The client disconnected; its request was dropped (answered 499, which nobody reads)."""


class DictionaryNotFound(ZhtagError):
    """No dictionary has that name."""


class JobNotFound(ZhtagError):
    """No job has that id."""


class JobsUnavailable(ZhtagError):
    """The store root cannot hold a job table (read-only, say)."""


class PathRefused(ZhtagError):
    """A corpus path outside `ZHTAG_CORPORA` (or with corpus paths disabled)."""


class JobCancelled(ZhtagError):
    """The job was cancelled before it could publish its model."""


STATUS: list[tuple[type[ZhtagError], int]] = [  # the first class an error is an instance of gives its status
    (ModelNotFound, 404),
    (JobNotFound, 404),
    (DictionaryNotFound, 404),
    (PathRefused, 403),
    (CorpusError, 422),
    (JobsUnavailable, 503),
    (QueueFull, 429),
    (NotReady, 503),
    (DeadlineExceeded, 504),
    (ClientGone, 499),
    (InputError, 422),
    (CheckpointError, 409),
    (ZhtagError, 400),
]
RETRY_LATER = (QueueFull, NotReady)  # answered with Retry-After: the same request will succeed soon

log = logging.getLogger("zhtag.http")


def _status(err: ZhtagError) -> int:
    return next(code for cls, code in STATUS if isinstance(err, cls))


def error_response(
    status: int, error: str, detail: object, headers: Mapping[str, str] | None = None, **where: object
) -> JSONResponse:
    """Every error zhtag answers has this JSON shape; `where` adds fields a client can point
    at (a corpus error's file, line and problem)."""
    return JSONResponse(status_code=status, content={"error": error, "detail": detail, **where}, headers=headers)


CLEARER = {  # FastAPI's words for a body it could not read, and what they mean to a client
    "There was an error parsing the body": (
        "the body could not be read: it must be JSON in UTF-8, uncompressed, sent whole, and within the parser's limits "
        "(nesting, digits in a number)"
    ),
}


def phrase(status: int) -> str:
    """A status's reason phrase as an error name, `RequestEntityTooLarge`: a client matches
    on `error` alone, framework errors included."""
    return HTTPStatus(status).phrase.replace(" ", "")


def framework_error(err: StarletteHTTPException) -> JSONResponse:
    """A framework error (400, 403, 404 route, 405, 413) in zhtag's shape, named by its reason
    phrase, e.g. `RequestEntityTooLarge`."""
    return error_response(err.status_code, phrase(err.status_code), CLEARER.get(err.detail, err.detail), err.headers)


def _problem(problem: dict) -> dict:
    """A validation problem as a client reads it: not the input (it can be megabytes), nor the
    exception object a validator raised (`ctx.error`, which JSON shows as `{}`)."""
    shown = {k: v for k, v in problem.items() if k not in ("input", "url")}
    ctx = {k: v for k, v in shown.pop("ctx", {}).items() if k != "error"}
    return shown | ({"ctx": ctx} if ctx else {})


def add_error_handlers(app: FastAPI) -> None:
    """Every error, expected or not, answered in zhtag's shape."""
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ZhtagError, _zhtag_error)
    app.add_exception_handler(Exception, _unexpected_error)


async def _invalid_request(request: Request, err: RequestValidationError) -> Response:
    """422 naming each bad field, shaped like every other error. The offending input is
    not echoed: it can be megabytes. ASCII-escaped because messages may quote lone
    surrogates, which UTF-8 cannot encode (FastAPI's own handler answers 500 then)."""
    problems = [_problem(problem) for problem in err.errors()]
    sent = request.headers.get("content-type", "")
    if any(p["loc"] == ("body",) and p["type"] == "model_attributes_type" for p in problems) and not sent.startswith("application/json"):
        detail = f"send the body as JSON, with content-type application/json (this one came as {sent or 'no content type'})"
        return error_response(415, "UnsupportedMediaType", detail)  # curl -d sends a form's content type
    body = json.dumps({"error": "ValidationError", "detail": jsonable_encoder(problems)}, ensure_ascii=True)
    return Response(body, status_code=422, media_type="application/json")


async def _http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
    if err.status_code == 404 and err.detail == HTTPStatus.NOT_FOUND.phrase:  # no route: a trailing slash is no route either
        err = StarletteHTTPException(404, f"no route {request.method} {request.url.path}: the routes are listed at /docs")
    return framework_error(err)


async def _zhtag_error(request: Request, err: ZhtagError) -> JSONResponse:
    headers = {"Retry-After": "1"} if isinstance(err, RETRY_LATER) else None
    where = {"file": err.path, "line": err.line, "problem": err.problem} if isinstance(err, CorpusError) else {}
    return error_response(_status(err), type(err).__name__, str(err), headers, **where)


async def _unexpected_error(request: Request, err: Exception) -> JSONResponse:
    """A 500 in zhtag's shape for an error nothing else handles, telling nothing of the
    server's internals. Starlette raises the error on after this answer, and the server logs
    its traceback, once, after the line naming the request's id (`RequestId`)."""
    request_id = getattr(request.state, "request_id", "")
    log.error("request %s (%s %s) failed with %s; its traceback follows", request_id, request.method, request.url.path, type(err).__name__)
    detail = f"the server failed to answer this request; its log says why (request {request_id})"
    return error_response(500, "InternalServerError", detail, {"X-Request-ID": request_id} if request_id else None)
