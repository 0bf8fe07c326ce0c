"""A store whose user root is an S3 bucket, against a real S3 server the tests start
(`tests/s3server.py`: Ceph's radosgw, else moto's server mode, else skipped). The same promises as a local store: versions appear
whole or not at all, racing writers get distinct versions, and no activation is lost."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from data.errors import CheckpointError
from model.objectroot import KEPT_GENERATIONS
from model.store import Store
from model.tagger import Tagger
from tests.service.conftest import FIXTURES, TINY, free_port, run



def s3_store(bucket: str, tmp_path: Path) -> Store:
    return Store(root=f"s3://{bucket}/store", shipped=tmp_path / "none", workdir=tmp_path / "work")


def test_versions_saved_to_a_bucket_resolve_verify_and_switch(bucket: str, tmp_path: Path) -> None:
    store = s3_store(bucket, tmp_path)
    assert [store.save("cws", {"w": content}) for content in (b"one", b"two")] == ["cws@1", "cws@2"]
    assert store.resolve("cws").read_bytes("w") == b"two"
    assert store.activate("cws@1") == "cws@1" and store.locate("cws") == "cws@1"
    assert store.rollback("cws") == "cws@2"
    assert [(m.name, m.versions, m.active) for m in store.list()] == [("cws", [1, 2], 2)]
    assert store.verify() == {"cws@1": None, "cws@2": None}
    assert s3_store(bucket, tmp_path).locate("cws") == "cws@2", "another process sees the same store"


def test_a_version_still_uploading_is_invisible_and_its_number_is_skipped(bucket: str, tmp_path: Path) -> None:
    store = s3_store(bucket, tmp_path)
    store.save("cws", {"w": b"one"})
    fs = store.user.fs
    fs.pipe_file(f"{bucket}/store/cws/2/.claim", b"a writer that died")
    fs.pipe_file(f"{bucket}/store/cws/2/w", b"half")
    assert store.list()[0].versions == [1] and store.locate("cws") == "cws@1"
    assert store.save("cws", {"w": b"three"}) == "cws@3"


def test_a_damaged_object_is_refused_by_checksum_naming_the_version(bucket: str, tmp_path: Path) -> None:
    store = s3_store(bucket, tmp_path)
    store.save("cws", {"w": b"one"})
    store.user.fs.pipe_file(f"{bucket}/store/cws/1/w", b"bit rot")
    with pytest.raises(CheckpointError, match="checksum failed for w of cws@1"):
        store.resolve("cws")


def test_racing_writers_get_distinct_versions_and_lose_no_activation(bucket: str, tmp_path: Path) -> None:
    stores = [s3_store(bucket, tmp_path) for _ in range(6)]
    with ThreadPoolExecutor(6) as pool:
        refs = list(pool.map(lambda i: stores[i].save("cws", {"w": str(i).encode()}), range(6)))
    assert sorted(refs) == [f"cws@{v}" for v in range(1, 7)]
    history = stores[0].user.aliases("cws").history
    assert sorted(history) == [1, 2, 3, 4, 5, 6], "every writer's activation is on the stack"
    assert stores[0].locate("cws") == f"cws@{history[-1]}"


def test_zhtag_train_publishes_to_the_bucket_and_the_model_tags_from_it(bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**os.environ, "ZHTAG_STORE": f"s3://{bucket}/store", "ZHTAG_WORKDIR": str(tmp_path / "work")}
    train = [sys.executable, "-m", "service.cli", "train", "--task", "cws", "--train", str(FIXTURES / "train.pos.txt"), "--name", "s3cws", *TINY]
    printed = subprocess.run(train, env=env, capture_output=True, text=True, timeout=300)
    assert printed.returncode == 0, printed.stderr[-2000:]
    assert json.loads(printed.stdout)["model"] == "s3cws@1"
    text = "今天天气很好"
    (spans,) = Tagger.load("s3cws", s3_store(bucket, tmp_path)).tag([text])
    assert "".join(text[s.start : s.end] for s in spans) == text


def test_zhtag_train_to_a_bucket_that_does_not_exist_stops_before_training(bucket: str, tmp_path: Path) -> None:
    env = {**os.environ, "ZHTAG_STORE": f"s3://{bucket}-missing/store", "ZHTAG_WORKDIR": str(tmp_path / "work")}
    train = [sys.executable, "-m", "service.cli", "train", "--task", "cws", "--train", str(FIXTURES / "train.pos.txt"), *TINY]
    printed = subprocess.run(train, env=env, capture_output=True, text=True, timeout=300)
    assert printed.returncode == 1 and printed.stderr.count("\n") == 1, printed.stderr[-2000:]
    assert printed.stderr.startswith(f"zhtag: error: cannot write to the store s3://{bucket}-missing/store: ")
    assert "training" not in printed.stderr


def test_a_stores_probe_leaves_no_object_behind(bucket: str, tmp_path: Path) -> None:
    store = s3_store(bucket, tmp_path)
    store.check_writable()
    assert store.user.fs.find(bucket) == []


def test_any_fsspec_url_holds_a_store(tmp_path: Path) -> None:
    store = Store(root=f"memory://zhtag-{time.monotonic_ns()}/store", shipped=tmp_path / "none", workdir=tmp_path / "work")
    assert store.save("cws", {"w": b"one"}) == "cws@1"
    assert store.resolve("cws").read_bytes("w") == b"one" and store.root == tmp_path / "work"


def test_old_alias_records_are_pruned_and_the_history_stays_whole(tmp_path: Path) -> None:
    store = Store(root=f"memory://zhtag-{time.monotonic_ns()}/store", shipped=tmp_path / "none", workdir=tmp_path / "work")
    for i in range(3):
        store.save("cws", {"w": str(i).encode()})
    for _ in range(10):
        store.activate("cws@1"), store.activate("cws@2")
    records = store.user.fs.ls(store.user._key("cws", "aliases"), detail=False)
    assert len(records) == KEPT_GENERATIONS
    assert store.locate("cws") == "cws@2" and store.rollback("cws") == "cws@1"


@pytest.mark.parametrize(("url", "options", "problem"), [
    ("nosuchprotocol://bucket/store", "{}", "nosuchprotocol"),
    ("memory://bucket/store", "not json", "Expecting value"),
    ("memory://bucket/store", "[1, 2]", "must be a JSON object"),
])
def test_a_store_that_cannot_be_opened_is_one_clear_error(url: str, options: str, problem: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHTAG_STORE_OPTIONS", options)
    with pytest.raises(CheckpointError, match=f"cannot open the store {url}: .*{problem}"):
        Store(root=url, shipped=tmp_path / "none")


def test_a_store_out_of_reach_is_one_line_from_the_cli_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """botocore's own errors (here: no server at the endpoint) are said as the store's."""
    options = {"endpoint_url": f"http://127.0.0.1:{free_port()}", "key": "k", "secret": "s",
               "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 1}}
    monkeypatch.setenv("ZHTAG_STORE_OPTIONS", json.dumps(options))
    monkeypatch.setenv("ZHTAG_STORE", "s3://nowhere/store")
    monkeypatch.setenv("ZHTAG_WORKDIR", str(tmp_path / "work"))
    code, _ = run("models")
    said = capsys.readouterr().err
    assert code == 1 and said.count("\n") == 1
    assert said.startswith("zhtag: error: cannot use the store s3://nowhere/store: EndpointConnectionError")
