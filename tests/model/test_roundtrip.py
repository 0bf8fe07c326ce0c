"""Specification: a trained model is published to the store as a complete, verified version,
and loading it back rebuilds exactly the tagger that training produced, refusing any damage."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from data.errors import CheckpointError
from model.store import Store
from model.tagger import CONFIG, HALF_PRECISION, VOCAB, WEIGHTS, Tagger

TEXTS = [
    "今天天气很好。",
    "我们一起去公园散步吧",
    "小猫 在窗台上睡觉",
    "他买了三本新书，明天早上八点出发。没见过的字龘靐齉",
    "",
    "２０２４年ABC",
]


def copy_store(trained, tmp_path: Path) -> Store:
    shutil.copytree(trained.store.root, tmp_path / "store")
    return Store(root=tmp_path / "store", shipped=tmp_path / "none")


def test_training_publishes_the_first_version_with_every_checkpoint_file(trained_cws) -> None:
    assert trained_cws.ref == "cws@1"
    version = trained_cws.store.root / "cws" / "1"
    assert sorted(p.name for p in version.iterdir()) == sorted(
        ["weights.safetensors", "config.json", "vocab.json", "metrics.json", "curve.png", "manifest.json"]
    )
    manifest = json.loads((version / "manifest.json").read_text())
    assert sorted(manifest["files"]) == sorted(["weights.safetensors", "config.json", "vocab.json", "metrics.json", "curve.png"])
    assert manifest["parent"] is None
    corpus = trained_cws.corpus.read_bytes()
    assert manifest["corpus"] == {"sha256": hashlib.sha256(corpus).hexdigest(), "size": len(corpus)}
    assert json.loads((version / "metrics.json").read_text()) == trained_cws.metrics
    assert trained_cws.metrics["epochs_run"] == 2


def test_training_leaves_no_resumable_state_behind(trained_cws) -> None:
    assert not (trained_cws.store.root / ".training" / "cws").exists()


def test_stored_config_is_the_tiny_one_asked_for(trained_cws) -> None:
    config = json.loads((trained_cws.store.root / "cws" / "1" / "config.json").read_text())
    assert (config["task"], config["hidden"], config["char_dim"], config["bigram_dim"]) == ("cws", 8, 8, 4)
    assert config["tags"] == ["B", "M", "E", "S"]  # every span length, though the corpus has no 3-character word


def test_loaded_tagger_has_the_trained_weights_embeddings_rounded_to_half_and_the_vocabularies(trained_cws) -> None:
    loaded = Tagger.load(trained_cws.ref, trained_cws.store)
    trained = trained_cws.tagger
    assert loaded.ref == "cws@1"
    assert loaded.config == trained.config
    assert loaded.chars.tokens == trained.chars.tokens
    assert loaded.bigrams.tokens == trained.bigrams.tokens
    assert loaded.train_words == trained.train_words
    expected = trained.network.state_dict()
    actual = loaded.network.state_dict()
    assert actual.keys() == expected.keys()
    for key in expected:
        stored = expected[key].half().float() if key in HALF_PRECISION else expected[key]  # published compact
        assert torch.equal(actual[key], stored), key


def test_loaded_tagger_predicts_what_the_trained_tagger_predicts(trained_cws) -> None:
    loaded = Tagger.load(trained_cws.ref, trained_cws.store)
    assert loaded.tag(TEXTS) == trained_cws.tagger.tag(TEXTS)
    assert loaded.tag(["今天天气很好。", "好"]) == trained_cws.tagger.tag(["今天天气很好。", "好"])


def test_bare_name_loads_the_active_version(trained_cws) -> None:
    assert Tagger.load("cws", trained_cws.store).ref == "cws@1"


def test_a_corrupted_weights_byte_is_refused_by_resolve(trained_cws, tmp_path: Path) -> None:
    store = copy_store(trained_cws, tmp_path)
    weights = store.root / "cws" / "1" / WEIGHTS
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0x01  # inside the tensor data, so the file still parses as safetensors
    weights.write_bytes(bytes(data))
    load_tensors(bytes(data))
    with pytest.raises(CheckpointError, match="checksum"):
        store.resolve("cws@1")
    with pytest.raises(CheckpointError, match="checksum"):
        Tagger.load("cws@1", store)


def test_a_missing_checkpoint_file_is_refused(trained_cws, tmp_path: Path) -> None:
    store = copy_store(trained_cws, tmp_path)
    (store.root / "cws" / "1" / VOCAB).unlink()
    with pytest.raises(CheckpointError):
        Tagger.load("cws@1", store)


def checkpoint_files(trained_cws) -> dict[str, bytes]:
    checkpoint = trained_cws.store.resolve(trained_cws.ref)
    return {name: checkpoint.read_bytes(name) for name in (WEIGHTS, CONFIG, VOCAB)}


def test_weights_missing_a_tensor_are_refused(trained_cws) -> None:
    files = checkpoint_files(trained_cws)
    tensors = load_tensors(files[WEIGHTS])
    del tensors["crf.transitions"]
    with pytest.raises(CheckpointError, match="cannot be rebuilt"):
        Tagger.from_files({**files, WEIGHTS: save_tensors(tensors)})


def test_weights_with_an_unknown_tensor_are_refused(trained_cws) -> None:
    files = checkpoint_files(trained_cws)
    tensors = {**load_tensors(files[WEIGHTS]), "extra.weight": torch.zeros(2)}
    with pytest.raises(CheckpointError, match="cannot be rebuilt"):
        Tagger.from_files({**files, WEIGHTS: save_tensors(tensors)})


def test_weights_that_do_not_fit_the_config_are_refused(trained_cws) -> None:
    files = checkpoint_files(trained_cws)
    config = json.loads(files[CONFIG])
    config["hidden"] = 16
    with pytest.raises(CheckpointError, match="cannot be rebuilt"):
        Tagger.from_files({**files, CONFIG: json.dumps(config).encode()})


def test_files_of_a_loaded_tagger_rebuild_it_byte_for_byte(trained_cws) -> None:
    files = checkpoint_files(trained_cws)
    again = Tagger.from_files(files).files(compact=True)
    assert {name: again[name] for name in files} == files
