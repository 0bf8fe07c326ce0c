"""Shared fixtures: tiny training options, throwaway stores, one tiny trained model, and an S3
server with a fresh bucket per test.

Every model here is a few hundred parameters trained for two epochs on a five-line corpus, so
the whole suite stays fast on a busy two-core machine. Torch is held to one thread: tiny
tensors gain nothing from more, and a background training run keeps the other core busy.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch

from model.config import TrainConfig
from model.store import Store
from model.tagger import Tagger
from model.train import TrainOptions, train
from model.trainstate import TrainState
from tests.s3server import KEY, SECRET, start_server

torch.set_num_threads(1)
os.environ.setdefault("ZHTAG_CACHE", tempfile.mkdtemp(prefix="zhtag-test-cache-"))  # never the user's own cache

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CORPORA = FIXTURES / "corpora"
TINY_MODEL = {"hidden": 8, "char_dim": 8, "bigram_dim": 4}


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    """Sets the process's umask for one test, restoring the old one after."""
    old = os.umask(0o022)
    os.umask(old)
    yield os.umask
    os.umask(old)


def _tiny_options(task: str, corpus: Path, **options: Any) -> TrainOptions:
    """TrainOptions for a tiny CPU model: 2 epochs unless `train_config` says otherwise;
    `model_overrides` are applied over the tiny sizes, which a model fine-tuned from a parent
    takes from it instead."""
    options.setdefault("train_config", TrainConfig(epochs=2, batch_chars=500))
    sizes = TINY_MODEL if options.get("parent") is None else {}
    options["model_overrides"] = {**sizes, **options.get("model_overrides", {})}
    options.setdefault("device", "cpu")
    return TrainOptions(task=task, train=Path(corpus), **options)


@pytest.fixture
def tiny_options() -> Callable[..., TrainOptions]:
    return _tiny_options


@pytest.fixture
def make_store(tmp_path: Path) -> Callable[[str], Store]:
    """A fresh empty store under tmp_path, with no shipped models behind it."""

    def make(label: str = "store") -> Store:
        return Store(root=tmp_path / label, shipped=tmp_path / f"{label}-shipped-none")

    return make


@dataclass(frozen=True)
class Trained:
    """A model trained once per session; tests must not write into its store (copy it)."""

    store: Store
    ref: str
    metrics: dict[str, Any]
    tagger: Tagger  # the in-memory tagger whose files train() published
    corpus: Path


@pytest.fixture(scope="session")
def trained_cws(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """cws@1 trained on tiny.seg.txt (jieba lexicon features on, as by default)."""
    root = tmp_path_factory.mktemp("trained")
    store = Store(root=root / "store", shipped=root / "none")
    captured: list[Tagger] = []
    original = TrainState.best_tagger

    def spy(self: TrainState, tagger: Tagger) -> Tagger:
        best = original(self, tagger)
        captured.append(best)
        return best

    corpus = CORPORA / "tiny.seg.txt"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TrainState, "best_tagger", spy)
        result = train(_tiny_options("cws", corpus), store, log=lambda line: None)
    assert result.ref is not None and len(captured) == 1
    return Trained(store, result.ref, result.metrics, captured[0], corpus)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    pytest.importorskip("s3fs", reason="s3fs is not installed (pip install '.[s3]')")
    name, endpoint, stop = start_server()
    print(f"S3 server: {name} at {endpoint}")
    try:
        yield endpoint
    finally:
        stop()


@pytest.fixture
def bucket(s3_server: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """A fresh bucket, with zhtag's store options pointing at the server."""
    import s3fs

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    options = {"endpoint_url": s3_server, "key": KEY, "secret": SECRET}
    monkeypatch.setenv("ZHTAG_STORE_OPTIONS", json.dumps(options))
    name = f"zt-{request.node.name.lower().replace('_', '-')[:40]}-{time.monotonic_ns() % 10**6}"
    s3fs.S3FileSystem(endpoint_url=s3_server, key=KEY, secret=SECRET, skip_instance_cache=True).mkdir(name)
    return name
