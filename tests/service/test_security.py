"""Who may do what: every admin route is closed without ZHTAG_ADMIN_TOKEN, refuses a wrong
token and admits the right one; browsers on other origins are refused unless configured; the
token never reaches the logs; and no code loads data through pickle or evaluates it."""
from __future__ import annotations

import ast
import logging
import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from model.store import Store
from service.app import create_app
from service.deps import _admin
from service.routes import ROUTERS
from service.settings import Settings

TOKEN = "s3cret-admin-token"
ROOT = Path(__file__).resolve().parents[2]


def app_with(tmp_path: Path, **settings: object):
    config = Settings(models=[], device="cpu", **settings)
    return create_app(config, Store(root=tmp_path / "store", shipped=tmp_path / "none"))


def admin_routes() -> list[tuple[str, str]]:
    """(method, path with placeholders filled) of every route guarded by the admin check."""
    found = []
    for route in (route for router in ROUTERS for route in router.routes):
        if isinstance(route, APIRoute) and any(d.call is _admin for d in route.dependant.dependencies):
            path = re.sub(r"\{[^}]+\}", "x", route.path)
            found.extend((method, path) for method in sorted(route.methods))
    return found


def test_the_admin_routes_are_the_mutating_ones(tmp_path: Path) -> None:
    assert set(admin_routes()) == {
        ("POST", "/v1/train"), ("DELETE", "/v1/jobs/x"), ("POST", "/v1/models/x/activate"),
        ("POST", "/v1/models/x/rollback"), ("PUT", "/v1/dictionaries/x"), ("DELETE", "/v1/dictionaries/x"),
    }


@pytest.mark.parametrize("token, header, status", [
    (None, f"Bearer {TOKEN}", 403),  # no token configured: closed to everyone
    (TOKEN, None, 401),
    (TOKEN, "Bearer wrong", 401),
    (TOKEN, f"Bearer {TOKEN}x", 401),
    (TOKEN, TOKEN, 401),  # not a bearer header
])
def test_every_admin_route_refuses_without_the_right_token(tmp_path: Path, token: str | None, header: str | None, status: int) -> None:
    app = app_with(tmp_path, admin_token=token)
    headers = {"Authorization": header} if header else {}
    with TestClient(app) as client:
        for method, path in admin_routes():
            response = client.request(method, path, headers=headers, content=b"x")
            assert response.status_code == status, (method, path, response.text)


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_every_admin_route_admits_the_right_token_whatever_the_schemes_case(tmp_path: Path, scheme: str) -> None:
    app = app_with(tmp_path, admin_token=TOKEN)
    with TestClient(app) as client:
        for method, path in admin_routes():
            response = client.request(method, path, headers={"Authorization": f"{scheme} {TOKEN}"}, content=b"x")
            assert response.status_code not in (401, 403), (method, path, response.text)


@pytest.mark.parametrize("token", ["sécret", "two words", "tab\tin"])
def test_a_token_no_http_header_can_carry_is_refused_at_start(token: str) -> None:
    with pytest.raises(ValueError, match="(?s)admin_token.*printable ASCII"):
        Settings(models=[], admin_token=token)


def test_the_token_never_reaches_the_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = app_with(tmp_path, admin_token=TOKEN)
    with TestClient(app) as client:
        for method, path in admin_routes():
            client.request(method, path, headers={"Authorization": f"Bearer {TOKEN}"}, content=b"x")
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(app.state.settings)


def test_browsers_on_other_origins_are_refused_by_default(tmp_path: Path) -> None:
    with TestClient(app_with(tmp_path)) as client:
        preflight = client.options("/v1/segment", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in preflight.headers


def test_configured_origins_are_allowed_and_only_they(tmp_path: Path) -> None:
    with TestClient(app_with(tmp_path, cors_origins=["https://app.example"])) as client:
        ask = lambda origin: client.options("/v1/segment", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})  # noqa: E731
        assert ask("https://app.example").headers["access-control-allow-origin"] == "https://app.example"
        assert "access-control-allow-origin" not in ask("https://evil.example").headers


def test_cors_origins_read_from_a_comma_separated_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHTAG_CORS_ORIGINS", "https://a.example, https://b.example")
    assert Settings().cors_origins == ["https://a.example", "https://b.example"]


UNSAFE_CALLS = {"eval", "exec", "torch.load", "yaml.load", "yaml.unsafe_load", "numpy.load", "np.load", "marshal.loads", "jsonpickle.decode"}
UNSAFE_MODULES = {"pickle", "cPickle", "dill", "cloudpickle", "shelve", "marshal", "joblib", "jsonpickle"}


def dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def unsafe_uses(source: Path) -> list[str]:
    found, name = [], source.relative_to(ROOT) if source.is_relative_to(ROOT) else source.name
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and dotted(node.func) in UNSAFE_CALLS:
            found.append(f"{name}:{node.lineno}: {dotted(node.func)}()")
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        found += [f"{name}:{node.lineno}: import {n}" for n in names if n.split(".")[0] in UNSAFE_MODULES]
    return found


def test_no_code_unpickles_or_evaluates_data() -> None:
    sources = [p for package in ("data", "model", "service", "zhtag", "bench") for p in (ROOT / package).rglob("*.py")]
    assert len(sources) > 30
    assert [use for source in sources for use in unsafe_uses(source)] == []


def test_the_check_sees_what_it_looks_for(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import pickle\nfrom dill import loads\nimport torch\ntorch.load('x')\neval('1')\n", encoding="utf-8")
    assert [line.split(": ", 1)[1] for line in unsafe_uses(bad)] == ["import pickle", "import dill", "torch.load()", "eval()"]
