"""Named user dictionaries: upload one (jieba format) and let tagging requests name it with
`"dictionary": NAME`, instead of sending the same words with every request."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from data.errors import InputError
from service.deps import AdminDep
from service.dictionaries import Dictionaries

router = APIRouter(prefix="/v1/dictionaries", tags=["dictionaries"])


def _dictionaries(request: Request) -> Dictionaries:
    return request.app.state.dictionaries


@router.put("/{name}", dependencies=[AdminDep], openapi_extra={"requestBody": {"content": {"text/plain": {}}, "required": True}})
async def put_dictionary(name: str, request: Request) -> dict[str, object]:
    """Store or replace a dictionary from the request body, `word [freq] [tag]` a line (UTF-8);
    a malformed line is a 422 naming it, and nothing is replaced. A JSON body is refused: the
    rest of the API speaks JSON, and a JSON list read as text would be stored as one word."""
    if request.headers.get("content-type", "").startswith("application/json"):
        raise InputError("send the dictionary as text (content-type text/plain), `word [freq] [tag]` a line, not JSON")
    words = await run_in_threadpool(_dictionaries(request).put, name, await request.body())
    return {"name": name, "words": words}


@router.get("")
async def list_dictionaries(request: Request) -> list[str]:
    return _dictionaries(request).names()


@router.get("/{name}", response_class=Response, responses={200: {"content": {"text/plain": {}}, "description": "the dictionary as stored"}})
async def get_dictionary(name: str, request: Request) -> PlainTextResponse:
    """The dictionary as it was stored, so a client can check or edit what requests use."""
    return PlainTextResponse(await run_in_threadpool(_dictionaries(request).content, name))


@router.delete("/{name}", dependencies=[AdminDep])
async def delete_dictionary(name: str, request: Request) -> dict[str, str]:
    await run_in_threadpool(_dictionaries(request).delete, name)
    return {"deleted": name}
