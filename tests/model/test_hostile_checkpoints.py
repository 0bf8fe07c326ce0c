"""A checkpoint is input: forged or absurd files are refused with a CheckpointError that names
the version, before any memory is spent on what they ask for, and nothing in them runs."""
from __future__ import annotations

import json
import struct

import pytest
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from data.errors import CheckpointError
from model.tagger import CONFIG, VOCAB, WEIGHTS, Tagger


@pytest.fixture
def files(trained_cws) -> dict[str, bytes]:
    return trained_cws.tagger.files()


def rebuilt(files: dict[str, bytes], **changes: bytes) -> Tagger:
    return Tagger.from_files({**files, **changes}, "mine@3")


def config_with(files: dict[str, bytes], **values: object) -> bytes:
    return json.dumps({**json.loads(files[CONFIG]), **values}).encode()


def weights_with(files: dict[str, bytes], change) -> bytes:
    tensors = load_tensors(files[WEIGHTS])
    change(tensors)
    return save_tensors(tensors)


def test_the_untouched_files_rebuild(files: dict[str, bytes]) -> None:
    assert rebuilt(files).tag(["我爱北京"])


@pytest.mark.parametrize("forged", [
    struct.pack("<Q", 2**62) + b"{}",  # a header length no file could hold
    struct.pack("<Q", 10) + b'{"a": 1}  ',  # a header that is not a tensor table
    b"\x80\x04K\x01.",  # a pickle
    b"",
])
def test_forged_weight_headers_are_refused(files: dict[str, bytes], forged: bytes) -> None:
    with pytest.raises(CheckpointError, match="mine@3 cannot be rebuilt"):
        rebuilt(files, **{WEIGHTS: forged})


def test_weights_of_another_dtype_are_refused(files: dict[str, bytes]) -> None:
    def to_double(tensors: dict) -> None:
        tensors["emit.bias"] = tensors["emit.bias"].double()

    with pytest.raises(CheckpointError, match="these are not: emit.bias"):
        rebuilt(files, **{WEIGHTS: weights_with(files, to_double)})


def test_weights_of_another_shape_or_an_extra_tensor_are_refused(files: dict[str, bytes]) -> None:
    def reshape(tensors: dict) -> None:
        tensors["char_embed.weight"] = tensors["char_embed.weight"][:-1]

    def add(tensors: dict) -> None:
        tensors["extra"] = torch.zeros(2)

    with pytest.raises(CheckpointError, match="char_embed.weight"):
        rebuilt(files, **{WEIGHTS: weights_with(files, reshape)})
    with pytest.raises(CheckpointError, match="extra"):
        rebuilt(files, **{WEIGHTS: weights_with(files, add)})


@pytest.mark.parametrize("values, problem", [
    ({"char_vocab_size": 10**12}, "needs char_embed.weight of shape"),  # refused before a terabyte is asked for
    ({"hidden": 2**40}, "needs lstm.weight_hh_l0"),
    ({"layers": 10**6}, "needs lstm.weight_hh_l999999"),
    ({"max_len": 0}, "positive integers: max_len"),
    ({"max_len": 10**15}, "max_len must be at most 100,000"),
    ({"hidden": -3, "char_dim": 1.5}, "positive integers: char_dim, hidden"),
    ({"task": "../x"}, "unknown task"),
    ({"tags": "BMES"}, "tags must be"),
    ({"dropout": 7}, "dropout"),
    ({"gazetteers": "ns"}, "gazetteers must be"),
    ({"gazetteers": ["../x"]}, "gazetteers must be"),
    ({"gazetteers": ["ns"]}, "lstm.weight_ih_l0"),  # weights trained without it
    ({"word_dim": -1}, "word_dim and word_vocab_size"),
    ({"word_dim": 50, "word_vocab_size": 10**12}, "needs word_vectors of shape"),
    ({"word_dim": 50, "lexicon": None}, "need a lexicon"),
    ({"word_vocab_size": 3}, "3 word vectors"),  # vocab.json names none
    ({"user_words_mute_vectors": "yes"}, "user_words_mute_vectors must be a boolean"),
    ({"user_words_mute_vectors": True}, "true only with word vectors"),  # this model has none
])
def test_absurd_config_values_are_refused_by_name(files: dict[str, bytes], values: dict, problem: str) -> None:
    with pytest.raises(CheckpointError, match=problem):
        rebuilt(files, **{CONFIG: config_with(files, **values)})


@pytest.mark.parametrize("config", [b"[1, 2, 3]", b'"cws"', b"null"])
def test_a_config_that_is_not_a_json_object_is_refused(files: dict[str, bytes], config: bytes) -> None:
    with pytest.raises(CheckpointError, match="config.json must hold a JSON object"):
        rebuilt(files, **{CONFIG: config})


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_weights_holding_nan_or_infinity_are_refused_at_load(files: dict[str, bytes], value: float) -> None:
    """A diverged training's weights would otherwise load, then fail every tagging call."""
    def spoil(tensors: dict) -> None:
        tensors["crf.transitions"] = torch.full_like(tensors["crf.transitions"], value)

    with pytest.raises(CheckpointError, match="NaN or infinite values .*: crf.transitions"):
        rebuilt(files, **{WEIGHTS: weights_with(files, spoil)})


def test_unknown_config_keys_are_ignored_for_forward_compatibility(files: dict[str, bytes]) -> None:
    assert rebuilt(files, **{CONFIG: config_with(files, added_in_a_later_version=True)}).tag(["我爱北京"])


def test_a_vocabulary_that_disagrees_with_the_config_is_refused(files: dict[str, bytes]) -> None:
    vocab = json.loads(files[VOCAB])
    vocab["chars"] = vocab["chars"][:-1]
    with pytest.raises(CheckpointError, match="vocab.json lists"):
        rebuilt(files, **{VOCAB: json.dumps(vocab).encode()})
