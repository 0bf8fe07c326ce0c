"""Configurations: `ModelConfig` rebuilds the network from a checkpoint's config.json alone;
`TrainConfig` records how a version was trained, saved beside it."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class ModelConfig:
    task: str  # cws | pos | ner
    tags: list[str]  # BMESO tags, index = CRF state
    char_vocab_size: int
    bigram_vocab_size: int
    char_dim: int = 100
    bigram_dim: int = 50
    hidden: int = 200  # per direction
    layers: int = 1
    dropout: float = 0.2
    lexicon: str | None = "jieba"  # lexicon features source, None to disable
    user_flags: bool = False  # user-dictionary words flagged apart from jieba's, trained on sampled gold words
    max_len: int = 150  # longer inputs are split at punctuation before the model sees them

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class TrainConfig:
    epochs: int = 12
    patience: int = 3  # epochs without dev F1 gain before stopping
    lr: float = 2e-3
    batch_chars: int = 4000  # padded characters per batch
    clip: float = 5.0
    seed: int = 1
    min_bigram_count: int = 2
    max_bigrams: int = 80000
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
