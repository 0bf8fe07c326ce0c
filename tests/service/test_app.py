"""The HTTP API on tiny models: tagging, errors as JSON with 4xx statuses, input limits."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from model.store import Store
from service.app import create_app
from service.schemas import MAX_TEXTS
from service.settings import Settings


@pytest.fixture(scope="module")
def client(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(models=["tcws", "tner"], device="cpu")
    app = create_app(settings, Store(root=store, shipped=tmp_path_factory.mktemp("no-shipped")))
    with TestClient(app) as test_client:
        yield test_client


def test_segment_returns_tokens_whose_offsets_index_each_text(client: TestClient) -> None:
    texts = ["今天天气很好。", "", "王小明 在北京"]
    response = client.post("/v1/segment", json={"texts": texts, "model": "tcws"})
    body = response.json()
    assert response.status_code == 200 and body["model"] == "tcws@1"
    assert body["tokens"][1] == []
    for text, tokens in zip(texts, body["tokens"], strict=True):
        assert "".join(t["text"] for t in tokens) == "".join(text.split())
        assert all(text[t["start"] : t["end"]] == t["text"] for t in tokens)


def test_ner_returns_typed_entities(client: TestClient) -> None:
    response = client.post("/v1/ner", json={"texts": ["王小明在北京工作。"], "model": "tner"})
    assert response.status_code == 200
    for entity in response.json()["entities"][0]:
        assert entity["type"] in {"PER", "LOC", "ORG"}


def test_an_unknown_model_is_a_404_with_a_json_body(client: TestClient) -> None:
    response = client.post("/v1/segment", json={"texts": ["你好"], "model": "nosuch"})
    assert response.status_code == 404
    assert response.json()["error"] == "ModelNotFound" and "nosuch" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [{"texts": []}, {"texts": ["好"] * (MAX_TEXTS + 1)}, {"texts": "not a list"}, {"model": "tcws"}, {"texts": ["好"], "model": "a@b"}],
)
def test_bad_requests_are_refused_with_4xx(client: TestClient, body: dict) -> None:
    response = client.post("/v1/segment", json=body)
    assert 400 <= response.status_code < 500 and response.json()


def test_models_lists_the_store(client: TestClient) -> None:
    names = {m["name"] for m in client.get("/v1/models").json()}
    assert {"tcws", "tner", "tpos"} <= names
    assert client.get("/healthz").json() == {"status": "ok"}
