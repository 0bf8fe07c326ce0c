"""The demo page: paste Chinese text, see words and colour-coded entities. It is a static page
that calls the public API like any other client."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["demo"])
PAGE = (Path(__file__).parents[1] / "static" / "index.html").read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def demo() -> HTMLResponse:
    return HTMLResponse(PAGE)
