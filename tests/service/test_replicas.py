"""Two `zhtag serve` processes on one store: a version activated through one replica is served
by both within 5 s (each watches the store's active versions, and logs the swap), and no
request fails meanwhile."""
from __future__ import annotations

import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from bench.soak import serve
from model.store import Store
from tests.service.conftest import free_port, two_versions

TOKEN = "replica-admin"
BODY = {"texts": ["今天天气很好"], "model": "tcws"}


def served_version(base: str) -> int:
    return httpx.post(f"{base}/v1/segment", json=BODY, timeout=30).json()["model"]["version"]


def test_a_version_activated_through_one_replica_is_served_by_both_within_5_s(store: Path, tmp_path: Path) -> None:
    assert_both_replicas_serve_an_activation_within_5_s(two_versions(store, tmp_path))


def assert_both_replicas_serve_an_activation_within_5_s(store: Path | str, **settings: str) -> None:
    """Two replicas on `store`, which holds tcws@1 (active) and tcws@2, under steady requests."""
    bases = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    logs = [tempfile.TemporaryFile() for _ in bases]
    servers = [serve(store, ["tcws"], int(base.rsplit(":", 1)[1]), log, admin_token=TOKEN, watch_interval_s="1", **settings) for base, log in zip(bases, logs)]
    statuses: Counter[str] = Counter()
    stop = threading.Event()

    def keep_asking(base: str) -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            while not stop.is_set():
                try:
                    statuses[str(http.post("/v1/segment", json=BODY).status_code)] += 1
                except httpx.HTTPError as err:
                    statuses[type(err).__name__] += 1

    clients = [threading.Thread(target=keep_asking, args=(base,)) for base in bases]
    try:
        assert [served_version(base) for base in bases] == [1, 1]
        for client in clients:
            client.start()
        activated = httpx.post(f"{bases[0]}/v1/models/tcws/activate", json={"version": 2}, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        assert activated.status_code == 200, activated.text
        started = time.monotonic()
        while {served_version(base) for base in bases} != {2}:
            assert time.monotonic() - started < 5.0, "both replicas should serve tcws@2 within 5 s"
            time.sleep(0.1)
    finally:
        stop.set()
        for client in clients:
            if client.is_alive():
                client.join()
        for server in servers:
            server.terminate()
            server.wait(30)
    assert set(statuses) == {"200"} and statuses["200"] > 10, statuses
    logs[1].seek(0)
    assert "INFO zhtag.registry: now serving tcws@2 (was tcws@1)" in logs[1].read().decode(), "the other replica logs its swap"


def test_two_replicas_on_one_bucket_serve_an_activation_within_5_s(bucket: str, store: Path, tmp_path: Path) -> None:
    shared = Store(root=f"s3://{bucket}/store", shipped=tmp_path / "none", workdir=tmp_path / "work")
    tcws = Store(root=store, shipped=tmp_path / "none").resolve("tcws@1")
    files = {f: tcws.read_bytes(f) for f in tcws.manifest["files"]}
    assert [shared.save("tcws", files) for _ in range(2)] == ["tcws@1", "tcws@2"]
    shared.activate("tcws@1")
    assert_both_replicas_serve_an_activation_within_5_s(shared.location, workdir=str(tmp_path / "work"))
