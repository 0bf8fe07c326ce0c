"""/metrics counts every request under its route's template, refusals included."""
from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from model.store import Store
from service.app import create_app
from service.settings import Settings

TOKEN = "s3cret-admin"


def test_a_body_refused_for_the_size_its_content_length_announces_is_counted_under_its_route(tmp_path: Path) -> None:
    config = Settings(models=[], device="cpu", max_body_bytes=100, max_upload_bytes=100, admin_token=TOKEN)
    with TestClient(create_app(config, Store(root=tmp_path / "store", shipped=tmp_path / "none"))) as client:
        tagging = client.post("/v1/segment", content=b" " * 200, headers={"content-type": "application/json"})
        upload = client.put("/v1/dictionaries/big", content=b"x\n" * 100, headers={"Authorization": f"Bearer {TOKEN}"})
        assert tagging.status_code == upload.status_code == 413
        exposition = client.get("/metrics").text
    assert 'zhtag_requests_total{route="/v1/segment",status="413"} 1.0' in exposition
    assert 'zhtag_requests_total{route="/v1/dictionaries/{name}",status="413"} 1.0' in exposition
    assert 'route="unmatched"' not in exposition


def test_a_training_upload_refused_for_its_token_before_its_body_is_read_is_counted_under_its_route(tmp_path: Path) -> None:
    config = Settings(models=[], device="cpu", admin_token=TOKEN)
    with TestClient(create_app(config, Store(root=tmp_path / "store", shipped=tmp_path / "none"))) as client:
        assert client.post("/v1/train", data={"task": "cws"}, files={"train": ("a.txt", b"x")}).status_code == 401
        exposition = client.get("/metrics").text
    assert 'zhtag_requests_total{route="/v1/train",status="401"} 1.0' in exposition
    assert 'route="unmatched"' not in exposition
