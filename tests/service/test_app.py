"""The HTTP API on tiny models: tagging through the batcher, errors as JSON with 4xx statuses,
input limits, readiness, metrics, and admin-only activation."""
from __future__ import annotations

import asyncio
import re
import shutil
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from model.store import Store
from service.app import create_app
from service.batcher import Batcher
from service.errors import DeadlineExceeded, QueueFull
from service.registry import Registry
from service.schemas import MAX_TEXTS
from service.settings import Settings
from tests.service.conftest import two_versions

TOKEN = "s3cret-admin"


def ready_client(store_root: Path, shipped: Path, models: tuple[str, ...] = ("tcws", "tner")) -> TestClient:
    config = Settings(models=list(models), device="cpu", admin_token=TOKEN, max_text_chars=50, max_body_bytes=20_000)
    return TestClient(create_app(config, Store(root=store_root, shipped=shipped)))


def wait_ready(client: TestClient) -> None:
    for _ in range(600):
        if client.get("/readyz").status_code == 200:
            return
        time.sleep(0.05)
    raise AssertionError("service never became ready")


@pytest.fixture(scope="module")
def client(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with ready_client(store, tmp_path_factory.mktemp("no-shipped")) as test_client:
        wait_ready(test_client)
        yield test_client


def test_tokens_carry_scores_when_asked_and_only_then(client: TestClient) -> None:
    for path, model in (("segment", "tcws"), ("pos", "tpos")):
        plain = client.post(f"/v1/{path}", json={"texts": ["今天天气很好。"], "model": model}).json()["results"][0]["tokens"]
        scored = client.post(f"/v1/{path}", json={"texts": ["今天天气很好。"], "model": model, "scores": True}).json()["results"][0]["tokens"]
        assert plain and all("score" not in t for t in plain)
        assert [{k: v for k, v in t.items() if k != "score"} for t in scored] == plain
        assert all(0.0 <= t["score"] <= 1.0 for t in scored)


def test_a_request_without_scores_gets_none_from_a_batch_another_request_asked_them_for(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = Batcher.submit_within

    async def in_a_scored_batch(self: Batcher, texts: list[str], user_words: object, timeout_s: float, scores: bool = False) -> object:
        return await shared(self, texts, user_words, timeout_s, True)

    monkeypatch.setattr(Batcher, "submit_within", in_a_scored_batch)
    for path, model in (("segment", "tcws"), ("pos", "tpos")):
        tokens = client.post(f"/v1/{path}", json={"texts": ["今天天气很好。"], "model": model}).json()["results"][0]["tokens"]
        assert tokens and all("score" not in t for t in tokens)


def test_segment_returns_tokens_whose_offsets_index_each_text(client: TestClient) -> None:
    texts = ["今天天气很好。", "", "王小明 在北京"]
    response = client.post("/v1/segment", json={"texts": texts, "model": "tcws"})
    body = response.json()
    assert response.status_code == 200 and body["model"] == {"name": "tcws", "version": 1}
    assert body["results"][1] == {"tokens": []}
    for text, result in zip(texts, body["results"], strict=True):
        assert "".join(t["text"] for t in result["tokens"]) == "".join(text.split())
        assert all(text[t["start"] : t["end"]] == t["text"] for t in result["tokens"])


def test_traditional_texts_come_back_in_their_own_characters(client: TestClient) -> None:
    texts = ["我們在臺灣學習漢語。"]
    for script in ("auto", "traditional", "simplified"):
        response = client.post("/v1/segment", json={"texts": texts, "model": "tcws", "script": script})
        tokens = response.json()["results"][0]["tokens"]
        assert response.status_code == 200 and "".join(t["text"] for t in tokens) == texts[0]
        assert all(texts[0][t["start"] : t["end"]] == t["text"] for t in tokens)
    assert client.post("/v1/segment", json={"texts": texts, "script": "klingon"}).status_code == 422


def test_min_score_leaves_out_entities_below_it(client: TestClient) -> None:
    texts = ["王小明在北京工作。", "李华去南京。"]
    every = client.post("/v1/ner", json={"texts": texts, "model": "tner"}).json()["results"]
    scores = [e["score"] for result in every for e in result["entities"]]
    threshold = sorted(scores)[len(scores) // 2] if scores else 0.5
    kept = client.post("/v1/ner", json={"texts": texts, "model": "tner", "min_score": threshold}).json()["results"]
    assert [[e for e in r["entities"] if e["score"] >= threshold] for r in every] == [r["entities"] for r in kept]
    assert client.post("/v1/ner", json={"texts": texts, "min_score": 1.5}).status_code == 422


def test_ner_returns_typed_entities(client: TestClient) -> None:
    response = client.post("/v1/ner", json={"texts": ["王小明在北京工作。"], "model": "tner"})
    assert response.status_code == 200
    for entity in response.json()["results"][0]["entities"]:
        assert entity["type"] in {"PER", "LOC", "ORG"}


def test_pos_tokens_carry_a_tag(client: TestClient) -> None:
    response = client.post("/v1/pos", json={"texts": ["今天天气很好"], "model": "tpos"})
    assert response.status_code == 200
    assert all(token["tag"] for token in response.json()["results"][0]["tokens"])


def test_a_user_dictionary_is_accepted_per_request(client: TestClient) -> None:
    response = client.post("/v1/segment", json={"texts": ["今天天气很好"], "model": "tcws", "user_dict": ["天气很好"]})
    assert response.status_code == 200
    assert "".join(t["text"] for t in response.json()["results"][0]["tokens"]) == "今天天气很好"


def test_a_forced_user_dictionary_keeps_its_words_whole(client: TestClient) -> None:
    body = {"texts": ["今天天气很好"], "model": "tcws", "user_dict": ["天天气很"], "user_dict_mode": "force"}
    tokens = client.post("/v1/segment", json=body).json()["results"][0]["tokens"]
    assert {"text": "天天气很", "start": 1, "end": 5} in tokens


def test_a_tagged_word_of_the_request_is_held_to_its_entity_type_or_outside_in_force_mode(client: TestClient) -> None:
    def entities(user_dict: list[str]) -> list[dict]:
        body = {"texts": ["今天天气很好"], "model": "tner", "user_dict": user_dict, "user_dict_mode": "force"}
        return client.post("/v1/ner", json=body).json()["results"][0]["entities"]

    held = [(e["text"], e["type"]) for e in entities(["天气 LOC"])]
    assert ("天气", "LOC") in held
    assert not [e for e in entities(["天气 O"]) if e["start"] < 4 and e["end"] > 2], "tagged O: outside every entity"


def test_an_unknown_model_is_a_404_with_a_json_body(client: TestClient) -> None:
    response = client.post("/v1/segment", json={"texts": ["你好"], "model": "nosuch"})
    assert response.status_code == 404
    assert response.json()["error"] == "ModelNotFound" and "nosuch" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"texts": []},
        {"texts": ["好"] * (MAX_TEXTS + 1)},
        {"texts": "not a list"},
        {"model": "tcws"},
        {"texts": ["好"], "model": "a@b"},
        {"texts": ["好"], "user_dict": [""]},
    ],
)
def test_bad_requests_are_refused_with_4xx_and_a_json_body(client: TestClient, body: dict) -> None:
    response = client.post("/v1/segment", json=body)
    assert 400 <= response.status_code < 500 and response.json()["error"] and response.json()["detail"]


@pytest.mark.parametrize("body", [{"texts": ["好"], "model": "a@b"}, {"texts": ["好"], "user_dict_mod": "force"}, {"texts": ["好"], "user_dict": ["天安 门"]}, {"texts": ["好"], "scores": "yes"}])
def test_a_malformed_reference_a_misspelled_field_or_a_spaced_word_is_a_422(client: TestClient, body: dict) -> None:
    response = client.post("/v1/segment", json=body)
    assert response.status_code == 422 and response.json()["error"] == "ValidationError"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_json_sent_under_another_content_type_is_a_415_saying_so(client: TestClient, content_type: str) -> None:
    response = client.post("/v1/segment", content='{"texts": ["你好"]}'.encode(), headers={"content-type": content_type})
    assert response.status_code == 415 and response.json()["error"] == "UnsupportedMediaType"
    assert f"this one came as {content_type}" in response.json()["detail"]


def test_a_validation_error_names_the_field_without_echoing_the_input(client: TestClient) -> None:
    response = client.post("/v1/segment", json={"texts": ["好好"] * (MAX_TEXTS + 1)})
    problem = response.json()["detail"][0]
    assert response.status_code == 422 and problem["loc"] == ["body", "texts"] and "input" not in problem
    assert len(response.content) < 1000


@pytest.mark.parametrize(("path", "model"), [("/v1/segment", "tner"), ("/v1/pos", "tcws"), ("/v1/ner", "tpos")])
def test_a_model_of_another_task_is_a_422_naming_both(client: TestClient, path: str, model: str) -> None:
    response = client.post(path, json={"texts": ["江泽民在北京"], "model": model})
    assert response.status_code == 422 and f"{model}@1 is a" in response.json()["detail"]


def test_a_text_over_max_text_chars_is_a_422_naming_it(client: TestClient) -> None:
    response = client.post("/v1/segment", json={"texts": ["好", "长" * 51], "model": "tcws"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "texts", 1]


def test_a_body_over_max_body_bytes_is_a_413(client: TestClient) -> None:
    response = client.post("/v1/segment", json={"texts": ["好" * 40] * 200, "model": "tcws"})
    assert response.status_code == 413 and response.json()["error"] == "RequestEntityTooLarge"


def test_malformed_json_is_a_422(client: TestClient) -> None:
    response = client.post("/v1/segment", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_responses_report_queue_and_inference_time(client: TestClient) -> None:
    """A lone request waits `max_wait_ms` for a batch to join, and both times lie within the
    time the client waited (the headers are rounded to 0.01 ms: far less than the HTTP round trip)."""
    started = time.perf_counter()
    response = client.post("/v1/segment", json={"texts": ["今天天气很好"], "model": "tcws"})
    elapsed_ms = (time.perf_counter() - started) * 1000
    queue_ms, inference_ms = float(response.headers["X-Queue-Time"]), float(response.headers["X-Inference-Time"])
    assert queue_ms >= client.app.state.settings.max_wait_ms - 0.01 and inference_ms > 0, (queue_ms, inference_ms)
    assert queue_ms + inference_ms <= elapsed_ms, (queue_ms, inference_ms, elapsed_ms)


def test_concurrent_clients_get_the_answers_they_would_get_alone(client: TestClient) -> None:
    texts = [f"王小明{i}在北京工作。今天天气很好" for i in range(24)]
    alone = [client.post("/v1/ner", json={"texts": [t], "model": "tner"}).json() for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda t: client.post("/v1/ner", json={"texts": [t], "model": "tner"}).json(), texts))
    assert together == alone


def test_a_full_queue_is_a_429_with_retry_after(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(self: Batcher, texts: list[str], user_words: object = None, scores: bool = False) -> None:
        raise QueueFull("512 requests already queued")

    monkeypatch.setattr(Batcher, "submit", refuse)
    response = client.post("/v1/segment", json={"texts": ["你好"], "model": "tcws"})
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert response.json()["error"] == "QueueFull"


def test_health_and_metrics(client: TestClient) -> None:
    assert client.get("/livez").status_code == 200
    assert client.get("/readyz").json() == {"status": "ready"}
    assert client.head("/livez").status_code == client.head("/readyz").status_code == 200  # probes that ask with HEAD
    client.post("/v1/segment", json={"texts": ["你好"], "model": "tcws"})
    exposition = client.get("/metrics").text
    for name in ("zhtag_requests_total", "zhtag_request_seconds", "zhtag_batch_texts", "zhtag_batch_wait_seconds", "zhtag_queue_depth"):
        assert name in exposition
    assert 'zhtag_model_active_version{name="tcws"} 1.0' in exposition


def test_metrics_name_every_route_by_its_template_and_unknown_paths_as_unmatched(client: TestClient) -> None:
    for path in ("/docs", "/openapi.json", "/v1/jobs/abc", "/no/such/path", "/no/such/other"):
        client.get(path)
    exposition = client.get("/metrics").text
    for route in ("/docs", "/openapi.json", "/v1/jobs/{job_id}"):
        assert f'zhtag_requests_total{{route="{route}"' in exposition
    assert "/no/such" not in exposition and 'route="unmatched",status="404"} 2.0' in exposition


def test_a_path_with_a_trailing_slash_is_a_json_404_naming_it_not_a_redirect(client: TestClient) -> None:
    response = client.put("/v1/dictionaries/", content=b"x", follow_redirects=False)
    assert response.status_code == 404 and "PUT /v1/dictionaries/" in response.json()["detail"]


def test_openapi_says_offsets_count_code_points(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("Token", "TaggedToken", "Entity"):
        assert all("code points" in schemas[name]["properties"][field]["description"] for field in ("start", "end"))


def test_openapi_operation_ids_are_unique(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    ids = [operation["operationId"] for methods in paths.values() for operation in methods.values()]
    assert len(ids) == len(set(ids)) and "head" in paths["/livez"]


def test_models_lists_the_store_with_lineage(client: TestClient) -> None:
    models = {m["name"]: m for m in client.get("/v1/models").json()}
    assert {"tcws", "tner", "tpos"} <= set(models)
    assert models["tcws"]["active"] == 1 and models["tcws"]["parents"] == {"1": None}


def test_activation_needs_the_admin_token(client: TestClient) -> None:
    url = "/v1/models/tcws/activate"
    assert client.post(url, json={"version": 1}).status_code == 401
    assert client.post(url, json={"version": 1}, headers={"Authorization": "Bearer wrong"}).status_code == 401


@pytest.mark.parametrize("name", ["%2e%2e", ".jobs", "a" * 70])
@pytest.mark.parametrize("action", ["activate", "rollback"])
def test_a_malformed_model_name_in_an_admin_path_is_a_422_that_reads_nothing(client: TestClient, name: str, action: str) -> None:
    response = client.post(f"/v1/models/{name}/{action}", json={"version": 1}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 422 and response.json()["error"] == "ValidationError"


def test_with_no_admin_token_configured_activation_is_closed(store: Path, tmp_path: Path) -> None:
    config = Settings(models=["tcws"], device="cpu")
    with TestClient(create_app(config, Store(root=store, shipped=tmp_path))) as plain:
        response = plain.post("/v1/models/tcws/activate", json={"version": 1}, headers={"Authorization": "Bearer "})
        assert response.status_code == 403


def test_activation_switches_versions_and_a_corrupt_one_changes_nothing(store: Path, tmp_path: Path) -> None:
    root = two_versions(store, tmp_path)
    shutil.copytree(store / "tcws" / "1", root / "tcws" / "3")
    with (root / "tcws" / "3" / "weights.safetensors").open("r+b") as weights:
        weights.seek(-1, 2)
        weights.write(b"\x00" if weights.read(1) != b"\x00" else b"\x01")
    admin = {"Authorization": f"Bearer {TOKEN}"}
    with ready_client(root, tmp_path / "none", models=("tcws",)) as client:
        wait_ready(client)
        assert client.post("/v1/models/tcws/activate", json={"version": 2}, headers=admin).json() == {"name": "tcws", "version": 2}
        assert client.post("/v1/segment", json={"texts": ["你好"], "model": "tcws"}).json()["model"]["version"] == 2
        refused = client.post("/v1/models/tcws/activate", json={"version": 3}, headers=admin)
        assert refused.status_code == 409 and "checksum" in refused.json()["detail"]
        assert client.post("/v1/segment", json={"texts": ["你好"], "model": "tcws"}).json()["model"]["version"] == 2


def test_until_the_models_are_warm_readyz_and_tagging_answer_503(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    warm = Registry.warm

    def slow_warm(self: Registry, refs: list[str]) -> None:
        release.wait(timeout=30)
        warm(self, refs)

    monkeypatch.setattr(Registry, "warm", slow_warm)
    with ready_client(store, tmp_path, models=("tcws",)) as client:
        assert client.get("/readyz").status_code == 503
        response = client.post("/v1/segment", json={"texts": ["你好"], "model": "tcws"})
        assert response.status_code == 503 and response.json()["error"] == "NotReady"
        assert client.get("/livez").status_code == 200
        release.set()
        wait_ready(client)
        assert client.post("/v1/segment", json={"texts": ["你好"], "model": "tcws"}).status_code == 200


def test_an_empty_admin_token_closes_admin_endpoints() -> None:
    assert Settings(admin_token="  ").admin_token is None


def test_entities_carry_their_probability(client: TestClient) -> None:
    response = client.post("/v1/ner", json={"texts": ["王小明在北京工作。李华去上海。"] * 3, "model": "tner"})
    for result in response.json()["results"]:
        assert all(0 <= entity["score"] <= 1 for entity in result["entities"])


def test_a_request_past_its_deadline_is_a_504(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    async def too_slow(self: Batcher, texts: list[str], user_words: object, timeout_s: float, scores: bool = False) -> None:
        raise DeadlineExceeded("not answered within 10 ms")

    monkeypatch.setattr(Batcher, "submit_within", too_slow)
    response = client.post("/v1/segment", json={"texts": ["你好"], "model": "tcws"})
    assert response.status_code == 504 and response.json()["error"] == "DeadlineExceeded"


def test_versions_swap_back_and_forth_under_concurrent_load_without_a_failed_request(store: Path, tmp_path: Path) -> None:
    root = two_versions(store, tmp_path)
    admin = {"Authorization": f"Bearer {TOKEN}"}
    with ready_client(root, tmp_path / "none", models=("tcws",)) as client:
        wait_ready(client)

        def send(i: int) -> tuple[int, int]:
            response = client.post("/v1/segment", json={"texts": [f"今天天气很好{i}"], "model": "tcws"})
            return response.status_code, response.json()["model"]["version"]

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = pool.map(send, range(80))
            for version in (2, 1, 2, 1, 2, 1):
                assert client.post("/v1/models/tcws/activate", json={"version": version}, headers=admin).status_code == 200
            answers = list(answers)
    assert all(status == 200 for status, _ in answers)
    assert {version for _, version in answers} <= {1, 2}


def test_the_demo_page_is_served_and_uses_the_public_api(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert '"/v1/segment"' in response.text and '"/v1/ner"' in response.text


def test_a_streamed_body_over_max_body_bytes_is_a_413(client: TestClient) -> None:
    chunks = (b'{"texts": ["' + "好".encode() * 1000 + b'"' for _ in range(10))
    response = client.post("/v1/segment", content=chunks, headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["error"] == "RequestEntityTooLarge"


def test_a_version_activated_by_another_process_is_served_within_the_watch_interval(store: Path, tmp_path: Path) -> None:
    root = two_versions(store, tmp_path)
    config = Settings(models=["tcws"], device="cpu", watch_interval_s=0.1)
    with TestClient(create_app(config, Store(root=root, shipped=tmp_path / "none"))) as client:
        wait_ready(client)
        version = lambda: client.post("/v1/segment", json={"texts": ["你好"], "model": "tcws"}).json()["model"]["version"]  # noqa: E731
        assert version() == 1
        Store(root=root, shipped=tmp_path / "none").activate("tcws@2")  # as the CLI or another worker would
        deadline = time.monotonic() + 10
        while version() != 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert version() == 2


def test_rollback_serves_the_previous_version_and_needs_the_admin_token(store: Path, tmp_path: Path) -> None:
    root = two_versions(store, tmp_path)
    admin = {"Authorization": f"Bearer {TOKEN}"}
    with ready_client(root, tmp_path / "none", models=("tcws",)) as client:
        wait_ready(client)
        assert client.post("/v1/models/tcws/activate", json={"version": 2}, headers=admin).status_code == 200
        assert client.post("/v1/models/tcws/rollback").status_code == 401
        assert client.post("/v1/models/tcws/rollback", headers=admin).json() == {"name": "tcws", "version": 1}
        assert client.post("/v1/segment", json={"texts": ["你好"], "model": "tcws"}).json()["model"]["version"] == 1
        refused = client.post("/v1/models/tcws/rollback", headers=admin)
        assert refused.status_code == 409 and "nothing to roll back to" in refused.json()["detail"]


def test_a_named_dictionary_is_uploaded_once_and_used_by_requests(client: TestClient) -> None:
    admin = {"Authorization": f"Bearer {TOKEN}"}
    assert client.put("/v1/dictionaries/weather", content="天天气很\n".encode()).status_code == 401
    stored = client.put("/v1/dictionaries/weather", content="天天气很 3 n\n".encode(), headers=admin)
    assert stored.json() == {"name": "weather", "words": 1} and "weather" in client.get("/v1/dictionaries").json()
    body = {"texts": ["今天天气很好"], "model": "tcws", "dictionary": "weather", "user_dict_mode": "force"}
    tokens = client.post("/v1/segment", json=body).json()["results"][0]["tokens"]
    assert {"text": "天天气很", "start": 1, "end": 5} in tokens
    assert client.get("/v1/dictionaries/weather").text == "天天气很 3 n\n"
    bad = client.put("/v1/dictionaries/weather", content="好 x y z\n".encode(), headers=admin)
    assert bad.status_code == 422 and bad.json()["line"] == 1
    as_json = client.put("/v1/dictionaries/weather", json=["天气", "很好"], headers=admin)
    assert as_json.status_code == 422 and "not JSON" in as_json.json()["detail"]
    assert client.delete("/v1/dictionaries/weather", headers=admin).status_code == 200
    missing = client.post("/v1/segment", json=body)
    assert missing.status_code == 404 and missing.json()["error"] == "DictionaryNotFound"
    assert client.get("/v1/dictionaries/weather").status_code == 404


def test_an_unexpected_error_is_a_json_500_that_tells_nothing_of_the_servers_internals_and_names_its_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: Registry, ref: str) -> None:
        raise OSError(5, "Input/output error", "/srv/zhtag/store/tcws/1/weights.safetensors")

    monkeypatch.setattr(Registry, "loaded", broken)
    config = Settings(models=[], device="cpu")
    with TestClient(create_app(config, Store(root=tmp_path / "store", shipped=tmp_path / "none")), raise_server_exceptions=False) as client:
        response = client.post("/v1/segment", json={"texts": ["你好"], "model": "tcws"}, headers={"X-Request-ID": "client-7"})
    assert response.status_code == 500 and response.headers["content-type"] == "application/json"
    assert response.json()["error"] == "InternalServerError" and "/srv" not in response.text and "OSError" not in response.text
    assert response.headers["x-request-id"] == "client-7" and "(request client-7)" in response.json()["detail"]
    assert "request client-7 (POST /v1/segment) failed with OSError" in caplog.text, "the log line a client's report finds"


@pytest.mark.parametrize(("given", "kept"), [("abc-123", True), (None, False), ("has space", False), ("x" * 129, False)])
def test_every_answer_carries_a_request_id_the_clients_own_where_a_header_can_carry_it(
    client: TestClient, given: str | None, kept: bool
) -> None:
    response = client.get("/livez", headers={"X-Request-ID": given} if given else {})
    request_id = response.headers["x-request-id"]
    assert request_id == given if kept else re.fullmatch("[0-9a-f]{32}", request_id)
    assert client.post("/v1/segment", json={}).headers["x-request-id"] != client.post("/v1/segment", json={}).headers["x-request-id"]


def answer_in_process(app: FastAPI, body: AsyncIterator[bytes]) -> httpx.Response:
    """POST /v1/segment with `body` streamed, to the app and its lifespan in this process: a
    client that stalls mid-body stalls only its own request. Given up after 60 s, so that a
    server that waits for the rest of the body forever fails the test rather than hangs it."""

    async def scenario() -> httpx.Response:
        async with app.router.lifespan_context(app), asyncio.timeout(60):
            await asyncio.to_thread(app.state.registry.ready.wait, 60)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://zhtag") as client:
                return await client.post("/v1/segment", content=body, headers={"content-type": "application/json"})

    return asyncio.run(scenario())


def test_a_body_not_received_whole_within_body_timeout_s_is_a_json_408_that_closes_the_connection(store: Path, tmp_path: Path) -> None:
    async def stalled() -> AsyncIterator[bytes]:
        yield b'{"texts": ["'
        await asyncio.Event().wait()

    config = Settings(models=["tcws"], device="cpu", body_timeout_s=0.2)
    response = answer_in_process(create_app(config, Store(root=store, shipped=tmp_path)), stalled())
    assert response.status_code == 408 and response.headers["connection"] == "close"
    assert response.json()["error"] == "RequestTimeout" and "body_timeout_s" in response.json()["detail"]


def test_body_timeout_s_bounds_receiving_the_body_not_computing_the_answer(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    submit_within = Batcher.submit_within

    async def slow(self: Batcher, *args: object, **kwargs: object) -> object:
        await asyncio.sleep(0.5)
        return await submit_within(self, *args, **kwargs)

    async def whole() -> AsyncIterator[bytes]:
        yield '{"texts": ["你好"], "model": "tcws"}'.encode()

    monkeypatch.setattr(Batcher, "submit_within", slow)
    config = Settings(models=["tcws"], device="cpu", body_timeout_s=0.2)
    response = answer_in_process(create_app(config, Store(root=store, shipped=tmp_path)), whole())
    assert response.status_code == 200 and response.json()["model"] == {"name": "tcws", "version": 1}
