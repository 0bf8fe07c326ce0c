"""Specification: tagging on the CPU in bfloat16, which runs each LSTM direction on its own
over padded input, computes what training's packed bidirectional LSTM computes in float32, for
every shipped model: emissions a little apart, the same tags. Tagging in float32 is training's
own computation."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from data.errors import InputError
from data.formats import read_corpus
from model.config import ModelConfig
from model.device import cpu_precision
from model.network import BiLSTMCRF
from model.tagger import Tagger

CORPORA = Path(__file__).parents[1] / "fixtures" / "corpora"


def fixture_texts() -> list[str]:
    """Every sentence of the fixture corpora, from 1 to 24 characters: rows of many lengths."""
    texts = [s.text for corpus in ("tiny.bio", "tiny.pos.txt", "tiny.seg.txt", "tiny.jsonl") for s in read_corpus(CORPORA / corpus).sentences]
    assert len(texts) >= 15 and len({len(t) for t in texts}) >= 8
    return texts


@pytest.mark.parametrize("name", ["cws", "ner", "pos"])
@pytest.mark.parametrize("longest_first", [True, False])
def test_bfloat16_tagging_gives_the_training_path_emissions_and_tags(name: str, longest_first: bool) -> None:
    tagger = Tagger.load(name, precision="bfloat16")
    assert_bfloat16_tagging_matches_training(tagger.network, tagger, longest_first)


def test_bfloat16_tagging_of_stacked_layers_gives_the_training_path_emissions() -> None:
    """An untrained network's emissions are near-ties everywhere, so bfloat16's rounding may
    pick another of two paths that score alike: the one it picks must be best up to what that
    rounding can move a path's score."""
    shipped = Tagger.load("ner")
    config = ModelConfig.from_dict({**shipped.config.to_dict(), "layers": 2, "hidden": 16})
    torch.manual_seed(0)
    network = BiLSTMCRF(config).eval()
    network.tag_in(torch.bfloat16)
    assert_bfloat16_tagging_matches_training(network, shipped, longest_first=False, ties=True)


def assert_bfloat16_tagging_matches_training(network: BiLSTMCRF, tagger: Tagger, longest_first: bool, ties: bool = False) -> None:
    """`network` (in eval mode, tagging in bfloat16) against itself training without dropout, on
    the fixture texts as `tagger` encodes them: the same tags, or with `ties`, tags whose path
    scores within the rounding of the best."""
    texts = fixture_texts()
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i])) if longest_first else list(range(len(texts)))
    batch = tagger.encoder.encode(texts).batch(order)
    with torch.no_grad():
        tagging = network.emissions(batch)  # eval mode in bfloat16: each direction on its own
        network.dropout.p = network.lstm.dropout = 0.0
        training = network.train().emissions(batch)  # packed, both directions in one call, float32
    mask = batch.mask[..., None]  # (batch, seq, 1)
    torch.testing.assert_close(tagging * mask, training * mask, atol=0.1, rtol=0)
    chosen, best = network.crf.viterbi(tagging, batch.mask), network.crf.viterbi(training, batch.mask)
    if not ties:
        assert torch.equal(chosen[batch.mask], best[batch.mask])
        return
    with torch.no_grad():
        gap = network.crf.log_likelihood(training, best, batch.mask) - network.crf.log_likelihood(training, chosen, batch.mask)  # (batch,)
    rounding = 2 * ((tagging - training).abs() * mask).amax(-1).sum(-1)  # (batch,): the most rounding can move a path's score
    assert (gap >= -1e-4).all() and (gap <= rounding + 1e-4).all()


def test_precision_comes_from_the_argument_then_zhtag_precision_and_a_wrong_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHTAG_PRECISION", "float32")
    assert cpu_precision() == torch.float32
    assert cpu_precision("bfloat16") == torch.bfloat16
    assert Tagger.load("cws").network.tagging_dtype == torch.float32
    monkeypatch.setenv("ZHTAG_PRECISION", "half")
    with pytest.raises(InputError, match="ZHTAG_PRECISION.*'half'"):
        Tagger.load("cws")


def test_a_network_that_trains_again_tags_in_float32_for_its_bfloat16_tables_would_be_stale() -> None:
    network = Tagger.load("cws", precision="bfloat16").network
    assert network.tagging_dtype == torch.bfloat16
    network.train()
    network.eval()
    assert network.tagging_dtype == torch.float32
