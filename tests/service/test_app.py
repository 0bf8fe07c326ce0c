"""The HTTP API on tiny models: tagging, errors as JSON with 4xx statuses, input limits."""
from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from model.store import Store
from service.app import create_app
from service.batcher import Batcher, QueueFull
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


def test_responses_report_queue_and_inference_time(client: TestClient) -> None:
    response = client.post("/v1/segment", json={"texts": ["今天天气很好"], "model": "tcws"})
    assert float(response.headers["X-Queue-Time"]) >= 0
    assert float(response.headers["X-Inference-Time"]) >= 0


def test_concurrent_clients_get_the_answers_they_would_get_alone(client: TestClient) -> None:
    texts = [f"王小明{i}在北京工作。今天天气很好" * (1 + i % 3) for i in range(24)]
    alone = [client.post("/v1/ner", json={"texts": [t], "model": "tner"}).json() for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda t: client.post("/v1/ner", json={"texts": [t], "model": "tner"}).json(), texts))
    assert together == alone


def test_a_full_queue_is_a_429_with_retry_after(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(self: Batcher, texts: list[str]) -> None:
        raise QueueFull("512 requests already queued")

    monkeypatch.setattr(Batcher, "submit", refuse)
    response = client.post("/v1/segment", json={"texts": ["你好"], "model": "tcws"})
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert response.json()["error"] == "QueueFull"
