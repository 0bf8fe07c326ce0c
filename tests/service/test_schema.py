"""Schemathesis drives every operation of the live OpenAPI schema with generated requests
(bounded examples, the admin token given so admin routes are reached too): none gets a 5xx,
and every answer's status, content type and body are ones the schema documents, errors too.
Training submissions are left out: each would start a training process (tests/service/routes
/test_jobs.py covers their bad input)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance, status_code_conformance

from model.store import Store
from service.app import create_app
from service.settings import Settings

TOKEN = "schema-admin"


@pytest.fixture(scope="module")
def app(store: Path, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("schema-store")
    for name in ("tcws", "tner", "tpos"):
        (root / name).symlink_to(store / name, target_is_directory=True)
    config = Settings(models=[], device="cpu", admin_token=TOKEN, max_wait_ms=0, max_text_chars=500)  # nothing to warm: calls may restart the lifespan
    application = create_app(config, Store(root=root, shipped=root / "none"))
    with TestClient(application) as client:
        for route, model in (("segment", "tcws"), ("ner", "tner"), ("pos", "tpos")):  # loaded once, here
            assert client.post(f"/v1/{route}", json={"texts": ["你好"], "model": model}).status_code == 200
        yield application


def operations(app) -> list[schemathesis.APIOperation]:
    return [result.ok() for result in schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path="/v1/train").get_all_operations()]


def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(app) -> None:
    """Each operation in turn, driven by hypothesis directly rather than through
    schemathesis's pytest plugin, which follows pytest's internals less closely."""
    checked = operations(app)
    assert len(checked) > 10
    for operation in checked:

        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def no_server_error(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=[not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance])

        no_server_error()


def test_admin_routes_declare_the_bearer_scheme_and_patterns_are_ecma_262(app) -> None:
    """Generated clients and the docs' Authorize button read `security`; JSON Schema patterns
    are ECMA-262, where Python's named groups `(?P<...>)` are a syntax error."""
    spec = app.openapi()
    secured = {path for path, methods in spec["paths"].items() for op in methods.values() if op.get("security")}
    assert {"/v1/train", "/v1/models/{name}/activate", "/v1/dictionaries/{name}"} <= secured
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "(?P<" not in json.dumps(spec)
