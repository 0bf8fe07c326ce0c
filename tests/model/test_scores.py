"""Entity scores are the CRF's marginal probabilities of the decoded spans: between 0 and 1,
and higher for what the model decodes than for spans picked at random."""
from __future__ import annotations

import random

import pytest
import torch

from model.store import Store
from model.tagger import Tagger

SENTENCES = [
    "江泽民在北京会见联合国秘书长安南。",
    "新华社记者从上海报道，浦东新区今年的外资增长很快。",
    "李鹏总理昨天在人民大会堂会见了日本首相。",
    "中国足球队在广州战胜了韩国队。",
]


@pytest.fixture(scope="module")
def ner(tmp_path_factory: pytest.TempPathFactory) -> Tagger:
    return Tagger.load("ner", Store(root=tmp_path_factory.mktemp("empty-user-store")))


def test_entity_scores_are_probabilities(ner: Tagger) -> None:
    scores = [span.score for spans in ner.tag(SENTENCES) for span in spans]
    assert len(scores) >= 8 and all(0.0 <= s <= 1.0 for s in scores)


def test_decoded_entities_score_higher_on_average_than_random_spans(ner: Tagger) -> None:
    encoded = ner.encoder.encode(SENTENCES)
    decoded = ner.network.decode(encoded.batch(range(len(SENTENCES))))
    tags = ner.config.tags
    decoded_scores = [span.score for spans in ner.tag(SENTENCES) for span in spans]
    rng = random.Random(7)
    label = lambda prefix, kind: tags.index(f"{prefix}-{kind}")  # noqa: E731
    random_tags = decoded.tags.clone()
    rows, starts, ends = [], [], []
    for row, text in enumerate(SENTENCES):
        start = rng.randrange(len(text) - 4)
        length, kind = rng.randint(1, 4), rng.choice(["PER", "LOC", "ORG"])
        path = [label("S", kind)] if length == 1 else [label("B", kind), *[label("M", kind)] * (length - 2), label("E", kind)]
        random_tags[row, start : start + length] = torch.tensor(path)
        rows.append(row), starts.append(start), ends.append(start + length)
    spans = (torch.tensor(rows), torch.tensor(starts), torch.tensor(ends))
    random_scores = ner.network.crf.span_log_probs(decoded.emissions, decoded.mask, random_tags, *spans).exp().tolist()
    assert sum(decoded_scores) / len(decoded_scores) > 0.9 > sum(random_scores) / len(random_scores)


@pytest.fixture(scope="module")
def cws(tmp_path_factory: pytest.TempPathFactory) -> Tagger:
    return Tagger.load("cws", Store(root=tmp_path_factory.mktemp("empty-user-store")))


def test_words_get_scores_only_when_asked(cws: Tagger) -> None:
    assert all(span.score is None for spans in cws.tag(SENTENCES) for span in spans)
    scores = [span.score for spans in cws.tag(SENTENCES, scores=True) for span in spans]
    assert len(scores) > 30 and all(0.0 <= s <= 1.0 for s in scores)


def test_decoded_words_score_higher_on_average_than_random_spans(cws: Tagger) -> None:
    decoded_scores = [span.score for spans in cws.tag(SENTENCES, scores=True) for span in spans]
    decoded = cws.network.decode(cws.encoder.encode(SENTENCES).batch(range(len(SENTENCES))))
    rng = random.Random(7)
    random_tags, rows, starts, ends = decoded.tags.clone(), [], [], []
    for row, text in enumerate(SENTENCES):
        for _ in range(3):
            start, length = rng.randrange(len(text) - 4), rng.randint(1, 4)
            path = ["S"] if length == 1 else ["B", *["M"] * (length - 2), "E"]
            random_tags[row, start : start + length] = torch.tensor([cws.config.tags.index(t) for t in path])
            rows.append(row), starts.append(start), ends.append(start + length)
    spans = (torch.tensor(rows), torch.tensor(starts), torch.tensor(ends))
    random_scores = cws.network.crf.span_log_probs(decoded.emissions, decoded.mask, random_tags, *spans).exp().tolist()
    assert sum(decoded_scores) / len(decoded_scores) > 0.9 > sum(random_scores) / len(random_scores)
