"""Configurations: `ModelConfig` rebuilds the network from a checkpoint's config.json alone;
`TrainConfig` records how a version was trained, saved beside it."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, get_args

from data.errors import InputError

Task = Literal["cws", "ner", "pos"]  # the type of a task field (an HTTP form's choices)
TASKS: tuple[str, ...] = get_args(Task)
DEV_RATIO = 0.05  # the share of a training corpus set apart as dev where no dev file is given
MAX_PIECE = 100_000  # the longest piece of text a model may read at once (max_len): a bound on a forged config.json
ANSWERS = {"segment": ("cws", "pos"), "pos": ("pos",), "ner": ("ner",)}  # tasks whose models can answer each request; the first is its default


def check_answers(model: Any, request: str) -> None:
    """Refuse a model (a `Tagger`) that would answer `request` wrongly, where a typo in a
    reference would otherwise print plausible garbage: a ner model's spans are entities, not
    words, and a cws model has no tags."""
    if model.config.task not in ANSWERS[request]:
        raise InputError(f"{model.ref} is a {model.config.task} model: {request} needs a {' or '.join(ANSWERS[request])} model")


def is_tag_prefix(text: object) -> bool:
    """A jieba POS tag or the start of one, as `ModelConfig.gazetteers` lists them: ns, nr."""
    return isinstance(text, str) and text.isascii() and text.isalpha()



def code_version() -> str:
    """The installed zhtag's version, which every manifest records and the CLI, the Python
    API and the HTTP API report; "0+unknown" for a checkout run without being installed."""
    from importlib import metadata  # here: 7-9 ms of every start-up otherwise

    try:
        return metadata.version("zhtag")
    except metadata.PackageNotFoundError:
        return "0+unknown"

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
    gazetteers: list[str] = field(default_factory=list)  # jieba POS tag prefixes (nr, ns, nt) whose words get flags of their own
    word_dim: int = 0  # size of the pretrained lexicon-word vectors pooled at each character (data.softlexicon); 0: none
    word_vocab_size: int = 0  # lexicon words with a vector
    user_words_mute_vectors: bool = False  # where a user-dictionary word lies, the pooled word vectors are zeroed, in training as in tagging
    max_len: int = 150  # longer inputs are split at punctuation before the model sees them

    def __post_init__(self) -> None:
        """A config.json is input like any other: odd values are refused here, by name,
        rather than met later as a crash or a loop that never ends."""
        sizes = ("char_vocab_size", "bigram_vocab_size", "char_dim", "bigram_dim", "hidden", "layers", "max_len")
        bad = [k for k in sizes if type(getattr(self, k)) is not int or getattr(self, k) < 1]
        if bad:
            raise ValueError(f"config sizes must be positive integers: {', '.join(bad)}")
        if self.max_len > MAX_PIECE:
            raise ValueError(f"max_len must be at most {MAX_PIECE:,}, got {self.max_len:,}")
        if any(type(getattr(self, k)) is not int or getattr(self, k) < 0 for k in ("word_dim", "word_vocab_size")):
            raise ValueError("word_dim and word_vocab_size must be integers >= 0")
        if self.user_words_mute_vectors is not False and not (self.user_words_mute_vectors is True and self.word_dim and self.user_flags):
            raise ValueError("user_words_mute_vectors must be a boolean, and true only with word vectors (word_dim) and user_flags")
        if self.word_dim and not self.lexicon:
            raise ValueError("word vectors (word_dim) pool the lexicon's words: they need a lexicon")
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}")
        if not isinstance(self.tags, list) or not self.tags or not all(isinstance(t, str) for t in self.tags) or len(set(self.tags)) < len(self.tags):
            raise ValueError("tags must be a non-empty list of distinct strings")
        if not isinstance(self.gazetteers, list) or not all(map(is_tag_prefix, self.gazetteers)):
            raise ValueError(f"gazetteers must be a list of POS tag prefixes such as 'ns', got {self.gazetteers!r}")
        if type(self.dropout) not in (int, float) or not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        if not isinstance(data, dict):
            raise ValueError(f"config.json must hold a JSON object, not a {type(data).__name__}")
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
