"""Real `kill -9`s: of training mid-epoch, which `--resume` then finishes with the very model
an uninterrupted run makes; and of the server while a job trains, after which the store still
verifies and the job ends properly. Nothing half-written is ever visible."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import httpx

from bench.soak import serve
from model.store import Store
from tests.service.conftest import FIXTURES, free_port

TRAIN = ["train", "--task", "cws", "--name", "k", "--hidden", "8", "--epochs", "4", "--dev-ratio", "0.1", "--seed", "3"]
TOKEN = "faults-admin"


CLI = [sys.executable, "-m", "service.cli"]


def zhtag(store: Path, *argv: str, launcher: Sequence[str] = CLI, stderr: int | IO[bytes] = subprocess.DEVNULL) -> subprocess.Popen:
    """`zhtag ARGV` on `store`, started by `launcher` (torchrun, say), one torch thread."""
    env = {**os.environ, "ZHTAG_STORE": str(store), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([*launcher, *argv], env=env, stdout=subprocess.PIPE, stderr=stderr)


def big_corpus(tmp_path: Path) -> Path:
    """The fixture corpus 300 times over: epochs of about a second, long enough to land a kill in."""
    corpus = tmp_path / "corpus.pos.txt"
    corpus.write_text((FIXTURES / "train.pos.txt").read_text(encoding="utf-8") * 300, encoding="utf-8")
    return corpus


def wait_for(path: Path, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def test_kill_9_mid_epoch_then_resume_gives_the_model_of_an_uninterrupted_run(tmp_path: Path) -> None:
    corpus = big_corpus(tmp_path)
    reference = zhtag(tmp_path / "reference", *TRAIN, "--train", str(corpus))
    assert reference.wait() == 0

    killed = zhtag(tmp_path / "killed", *TRAIN, "--train", str(corpus))
    wait_for(tmp_path / "killed" / ".training" / "k" / "epoch-1", killed)
    killed.send_signal(signal.SIGKILL)
    assert killed.wait() == -signal.SIGKILL
    store = Store(root=tmp_path / "killed", shipped=tmp_path / "none")
    assert store.list() == [], "a killed run publishes nothing"

    resumed = zhtag(tmp_path / "killed", *TRAIN, "--train", str(corpus), "--resume")
    assert resumed.wait() == 0
    weights = lambda root: Store(root=root, shipped=tmp_path / "none").resolve("k@1").read_bytes("weights.safetensors")  # noqa: E731
    assert weights(tmp_path / "killed") == weights(tmp_path / "reference")
    assert store.verify() == {"k@1": None}



def test_kill_9_of_the_server_during_a_job_leaves_the_store_and_job_table_consistent(store: Path, tmp_path: Path) -> None:
    root = tmp_path / "store"
    shutil.copytree(store / "tcws", root / "tcws")
    corpus = big_corpus(tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = serve(root, ["tcws"], port, admin_token=TOKEN)
    try:
        with corpus.open("rb") as upload:
            job = httpx.post(f"{base}/v1/train", data={"task": "cws", "name": "jobcws", "epochs": "3"}, files={"train": ("c.txt", upload)},
                             headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60).json()
        wait_for(root / ".training" / "jobcws" / "epoch-1", server)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()

    restarted = serve(root, ["tcws"], port, admin_token=TOKEN)
    try:
        deadline = time.monotonic() + 300
        while (status := httpx.get(f"{base}/v1/jobs/{job['id']}").json())["status"] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline, status
            time.sleep(0.5)
        listed = {f"{m['name']}@{v}" for m in httpx.get(f"{base}/v1/models").json() for v in m["versions"]}
    finally:
        restarted.terminate()
        restarted.wait(30)
    report = Store(root=root, shipped=tmp_path / "none").verify()
    assert report and all(problem is None for problem in report.values()), report
    assert not any(p.name.startswith(".tmp-") for p in root.rglob("*")), "no half-written version is left"
    if status["status"] == "succeeded":
        ref = f"{status['model']['name']}@{status['model']['version']}"
        assert ref in report and ref in listed


def test_a_client_trickling_its_body_cannot_hold_a_server_past_its_shutdown_timeout(store: Path) -> None:
    """SIGTERM waits for requests in flight, but no longer than `shutdown_timeout_s`: one slow
    client held a server 95 s past its SIGTERM (audit 40), and an orchestrator's grace
    period would then kill it, and its jobs, with SIGKILL."""
    port = free_port()
    server = serve(store, ["tcws"], port, shutdown_timeout_s="2", body_timeout_s="600")
    with socket.create_connection(("127.0.0.1", port)) as slow:
        slow.sendall(b"POST /v1/segment HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{")
        time.sleep(0.5)  # the request is in flight, its body still coming
        server.send_signal(signal.SIGTERM)
        try:
            assert server.wait(60) in (0, -signal.SIGTERM)  # uvicorn ends by its signal, once shut down
        finally:
            server.kill()
