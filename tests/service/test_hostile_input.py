"""No input yields a 500: arbitrary Unicode gets a 2xx with valid offsets, or a 4xx."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.store import Store
from service.app import create_app
from service.settings import Settings

NASTY = st.sampled_from(["\u3000", "\u200f", "\u0301", "😀", "\x00", "\x1b", "\ud800", "\udfff", "\ufeff", "\n", "中", "Ａ"])
TEXTS = st.lists(st.one_of(st.text(max_size=40), st.text(NASTY, max_size=40), NASTY.map(lambda c: c * 300)), min_size=1, max_size=4)


@pytest.fixture(scope="module")
def client(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    config = Settings(models=["tcws", "tner"], device="cpu", max_wait_ms=0)
    with TestClient(create_app(config, Store(root=store, shipped=tmp_path_factory.mktemp("none")))) as test_client:
        while test_client.get("/readyz").status_code != 200:
            time.sleep(0.05)
        yield test_client


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=TEXTS, route=st.sampled_from([("segment", "tcws", "tokens"), ("ner", "tner", "entities")]))
def test_arbitrary_unicode_gets_valid_offsets_or_a_4xx(client: TestClient, texts: list[str], route: tuple[str, str, str]) -> None:
    path, model, key = route
    body = json.dumps({"texts": texts, "model": model}).encode()  # ASCII escapes carry lone surrogates
    response = client.post(f"/v1/{path}", content=body, headers={"content-type": "application/json"})
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        sent = json.loads(body)["texts"]  # what the server saw: escaped surrogate pairs join
        for text, result in zip(sent, response.json()["results"], strict=True):
            for item in result[key]:
                assert 0 <= item["start"] < item["end"] <= len(text)
                assert text[item["start"] : item["end"]] == item["text"]
                assert not any(ch.isspace() for ch in item["text"])
