"""Readiness says why it is not ready: still loading, or which startup model failed to load and
why, and tagging requests' 503 say the same, so that an orchestrator's endless not-ready loop
shows its cause."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import prometheus_client.values
import pytest
from fastapi.testclient import TestClient

from model.store import Store
from service.app import create_app
from service.settings import Settings
from tests.service.conftest import damaged_first_version


def test_a_startup_model_that_fails_to_load_makes_readyz_and_tagging_say_which_and_why(
    store: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = damaged_first_version(store, tmp_path)
    why = "startup model tcws failed to load: checksum failed for weights.safetensors of tcws@1"
    app = create_app(Settings(models=["tcws"], device="cpu"), Store(root=root, shipped=tmp_path / "none"))
    with caplog.at_level(logging.ERROR, logger="zhtag.registry"), TestClient(app) as client:
        for _ in range(600):
            ready = client.get("/readyz")
            if ready.json()["status"] != "loading":
                break
            time.sleep(0.05)
        assert ready.status_code == 503 and ready.json()["status"] == "failed" and ready.json()["detail"].startswith(why)
        tagged = client.post("/v1/segment", json={"texts": ["你好"]})
        assert tagged.status_code == 503 and tagged.json()["error"] == "NotReady" and tagged.json()["detail"].startswith(why)
        assert any(r.getMessage().startswith(why) for r in caplog.records), "logged at once, not at shutdown"


def wait_for_readiness(client: TestClient) -> dict:
    """The first /readyz answer past the startup models' loading."""
    for _ in range(600):
        ready = client.get("/readyz").json()
        if ready.get("detail") != "models are still loading; retry shortly":
            return ready
        time.sleep(0.05)
    raise AssertionError("the startup models never loaded")


def test_with_several_workers_readyz_waits_for_every_one_of_them(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A probe reaches one worker; ready must mean no worker would still answer 503."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setattr(prometheus_client.values, "ValueClass", prometheus_client.values.MultiProcessValue())  # as in a worker started with the variable set
    app = create_app(Settings(models=["tcws"], device="cpu", workers=2), Store(root=store, shipped=tmp_path / "none"))
    (tmp_path / "gauge_livesum_notapid.db").write_bytes(b"")  # not prometheus-client's: left alone
    not_yet = {"status": "loading", "detail": "1 of 2 workers are ready; retry shortly"}
    other_worker = "import sys, time; from service.metrics import Metrics; Metrics().warm.set(1); print(flush=True); time.sleep(120)"
    with TestClient(app) as client:
        assert wait_for_readiness(client) == not_yet
        other = subprocess.Popen([sys.executable, "-c", other_worker], stdout=subprocess.PIPE, env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
        try:
            other.stdout.readline()  # its gauge is set
            assert client.get("/readyz").json() == {"status": "ready"}
        finally:
            other.kill()
            other.wait()
        assert client.get("/readyz").json() == not_yet, "a worker that died without shutting down no longer counts"


def test_a_worker_whose_values_are_not_shared_speaks_for_itself(store: Path, tmp_path: Path) -> None:
    """ZHTAG_WORKERS above 1 with no shared directory (the app run by another server than
    `zhtag serve`): no other worker can be counted, so this one's readiness is the answer."""
    app = create_app(Settings(models=["tcws"], device="cpu", workers=2), Store(root=store, shipped=tmp_path / "none"))
    with TestClient(app) as client:
        assert wait_for_readiness(client) == {"status": "ready"}
