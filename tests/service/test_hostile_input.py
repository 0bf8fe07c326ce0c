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

from data.text import SEPARATOR
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


def post(client: TestClient, path: str, body: bytes, headers: dict | None = None):
    return client.post(path, content=body, headers={"content-type": "application/json", **(headers or {})})


def test_a_body_that_cannot_be_read_is_a_400_saying_what_it_must_be(client: TestClient) -> None:
    response = post(client, "/v1/segment", b'{"texts": ["\xff"]}')
    assert response.status_code == 400 and "must be JSON in UTF-8" in response.json()["detail"]


@pytest.mark.parametrize("body", [
    b'{"texts": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # nested past any parser's recursion limit
    b'{"texts": ["a"], "min_score": 1' + b"0" * 5000 + b"}",  # an integer of 5,000 digits
    b'{"texts": ["a"], "min_score": 1e999999}',  # a float that overflows to infinity
    b'{"texts": ["a"], "min_score": NaN}',
    b'{"texts": ["\\ud800 lone", "\\udfff"], "model": "tcws"}',
    b'{"texts": ["a\\u0000b"], "model": "tcws"}',
    b"\xff\xfe not UTF-8",
    b"",
])
def test_odd_json_gets_a_json_4xx_or_a_valid_answer(client: TestClient, body: bytes) -> None:
    response = post(client, "/v1/segment", body)
    assert response.status_code < 500 and response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("text", ["   \t ", "，。！？……", "😀🎉👍" * 50, "Hello世界123ｆｕｌｌ한국어Ελληνικά", "\x00\x00"])
def test_texts_of_only_whitespace_punctuation_emoji_or_mixed_scripts_tile_back(client: TestClient, text: str) -> None:
    response = client.post("/v1/segment", json={"texts": [text], "model": "tcws"})
    assert response.status_code == 200
    tokens = response.json()["results"][0]["tokens"]
    assert "".join(t["text"] for t in tokens) == SEPARATOR.sub("", text)  # whitespace and control characters separate, in no token


@pytest.mark.parametrize("ref", ["../../etc/passwd", "a/b", "tcws\x00", "x" * 10_000, "..", "tcws@-1", "tcws@99999999999999999999"])
def test_model_references_that_escape_or_overflow_are_a_4xx(client: TestClient, ref: str) -> None:
    response = client.post("/v1/segment", json={"texts": ["你好"], "model": ref})
    assert 400 <= response.status_code < 500, response.text


@pytest.mark.parametrize("name", ["..%2F..%2Fetc", "a%00b", "x" * 5000, "%2E%2E"])
def test_names_in_admin_paths_that_escape_or_overflow_are_a_4xx(client: TestClient, name: str) -> None:
    for method, path in (("POST", f"/v1/models/{name}/activate"), ("PUT", f"/v1/dictionaries/{name}"), ("DELETE", f"/v1/jobs/{name}")):
        response = client.request(method, path, content=b"{}")
        assert 400 <= response.status_code < 500, (method, path, response.status_code)
