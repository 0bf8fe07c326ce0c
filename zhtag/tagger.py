"""`zhtag.Tagger`: segmentation, POS and entities from Python, over the same
`model.tagger.Tagger` the CLI and the HTTP service run.

Each task has its own model (cws, ner, pos). A face holds one per task, loaded on first use,
so a caller who only segments never pays for the other two, and `import zhtag` loads nothing:
torch is imported with the first model.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import IO, TYPE_CHECKING, Literal, NoReturn, TypeVar, overload

from data.corpus import Span
from data.errors import CheckpointError, InputError
from data.dictfile import DICTIONARY_TAG
from data.script import SCRIPTS, Script, for_model
from model.config import TASKS
from zhtag.dictionary import UserDictionary
from zhtag.results import Entity, PosToken, Token

if TYPE_CHECKING:
    from model.tagger import Tagger as Model

R = TypeVar("R")


class Tagger:
    """Segment, tag and find entities in one text or many, with a user dictionary.

    Safe to share between threads: models load once under a lock, dictionary changes swap in
    a new snapshot, and tagging itself keeps no state between calls.
    """

    def __init__(
        self,
        device: str = "auto",
        store: str | os.PathLike[str] | None = None,
        dict_mode: Literal["prefer", "force"] = "prefer",
        script: Script = "auto",
    ) -> None:
        """Load nothing yet: each task's default model (`cws`, `ner`, `pos`: the store's active
        version, else the shipped one) loads on the first call that needs it. `store` is a
        store root, by default `$ZHTAG_STORE` or `~/.zhtag/store`, read at that first load.
        `dict_mode="force"` keeps added words whole wherever they cross no other added word,
        and for `ner` holds those tagged nr, ns, nt (or an entity type) to that entity (the
        default, `prefer`, lets the model weigh them). `script="traditional"` tags every
        text through a character-by-character mapping to simplified, `"auto"` the texts found
        to be traditional; answers keep the original characters and offsets."""
        if dict_mode not in ("prefer", "force"):
            raise InputError(f"dict_mode must be 'prefer' or 'force', got {dict_mode!r}")
        if script not in SCRIPTS:
            raise InputError(f"script must be one of {', '.join(SCRIPTS)}, got {script!r}")
        self.script = script
        self.device = device
        self.store = store
        self._refs = {task: task for task in TASKS}
        self._models: dict[str, Model] = {}
        self._lock = threading.Lock()
        self._words = UserDictionary(force=dict_mode == "force")

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        """Refused in words a user can act on: pickling (a process pool sending a bound method)
        and copying (which would share the user dictionary) both come here."""
        raise TypeError("a zhtag.Tagger cannot be pickled or copied: make one in each worker process (Tagger() or Tagger.load "
                        "in the pool's initializer); threads can share one")

    @classmethod
    def load(
        cls,
        ref: str | Sequence[str] = "cws",
        device: str = "auto",
        *,
        store: str | os.PathLike[str] | None = None,
        dict_mode: Literal["prefer", "force"] = "prefer",
        script: Script = "auto",
    ) -> Tagger:
        """A tagger with the model `ref` names (`name` or `name@N`) loaded now, so a bad
        reference fails here rather than mid-work. The model serves the task it was trained
        for; give several refs to choose models for several tasks (`["mycws", "myner@2"]`).
        Tasks no ref covers use their default model, loaded on first use."""
        tagger = cls(device, store, dict_mode, script)
        refs = [ref] if isinstance(ref, str) else list(ref) if isinstance(ref, Sequence) else None
        if not refs or not all(isinstance(one, str) for one in refs):
            raise InputError(f"ref must be a model reference such as 'cws' or 'mycws@2', or a list of them, got {ref!r}")
        for one in refs:
            model = tagger._load(one)
            task = model.config.task
            if task in tagger._models:
                raise InputError(f"{one!r} and {tagger._refs[task]!r} are both {task} models: give one per task")
            tagger._models[task], tagger._refs[task] = model, one
        return tagger

    @overload
    def segment(self, texts: str, scores: bool = False) -> list[Token]: ...
    @overload
    def segment(self, texts: Sequence[str], scores: bool = False) -> list[list[Token]]: ...
    def segment(self, texts: str | Sequence[str], scores: bool = False) -> list[Token] | list[list[Token]]:
        """Words of a text (or of each text of a list, tagged in batches); whitespace
        separates words and is never part of one. With `scores`, each word's `score` is its
        marginal probability under the CRF (a forward-backward pass more)."""
        return self._run("cws", texts, Token.of, scores)

    @overload
    def pos(self, texts: str, scores: bool = False) -> list[PosToken]: ...
    @overload
    def pos(self, texts: Sequence[str], scores: bool = False) -> list[list[PosToken]]: ...
    def pos(self, texts: str | Sequence[str], scores: bool = False) -> list[PosToken] | list[list[PosToken]]:
        """Words with their part of speech, segmented jointly by the pos model (so its words
        can differ from `segment`'s); `scores` as for `segment`, of the word and its tag."""
        return self._run("pos", texts, PosToken.of, scores)

    @overload
    def ner(self, texts: str) -> list[Entity]: ...
    @overload
    def ner(self, texts: Sequence[str]) -> list[list[Entity]]: ...
    def ner(self, texts: str | Sequence[str]) -> list[Entity] | list[list[Entity]]:
        """Named entities with their type and probability."""
        return self._run("ner", texts, Entity.of)

    def add_word(self, word: str, tag: str = "") -> None:
        """Mark `word` as a word in the lexicon features every model reads. The models weigh
        that evidence against the context, so this nudges rather than forces: a word of 2 to
        12 characters is usually kept whole, longer ones are ignored. With a jieba POS `tag`
        (nr, ns, nt), a model with gazetteers also sees it as a person's, place's or
        organisation's name."""
        if not isinstance(tag, str) or not (tag == "" or DICTIONARY_TAG.fullmatch(tag)):
            raise InputError(f"a tag must be a jieba POS tag such as 'nr' or 'ns', an entity type such as 'LOC' (or ''), got {tag!r}")
        self._words.add([word], {word: tag})

    def del_word(self, word: str) -> None:
        """Undo `add_word`, and take `word` out of jieba's dictionary too, so the models no
        longer see it marked anywhere (they may still find it from context)."""
        self._words.remove(word)

    def load_userdict(self, source: str | os.PathLike[str] | IO[str] | IO[bytes]) -> None:
        """`add_word` every word of a jieba-format dictionary (`word [freq] [tag]` a line;
        frequencies are read and ignored): a path or an open file, text or binary."""
        self._words.load(source)

    def __repr__(self) -> str:
        """Which version answers each task, once loaded: `name` alone would not say."""
        loaded = {task: model.ref for task, model in self._models.items()}
        models = ", ".join(f"{task}={loaded.get(task, self._refs[task] + ' (not loaded)')}" for task in TASKS)
        return f"zhtag.Tagger({models}, device={self.device!r})"

    def _run(self, task: str, texts: str | Sequence[str], result: Callable[[str, Span], R], scores: bool = False) -> list[R] | list[list[R]]:
        """Tagged in parts of about 150,000 characters, or of the network's batch on a GPU if
        that is more: one call over a million short texts held every piece's features at once
        (6 GB)."""
        batch = _as_batch(texts)
        model, words = self._model(task), self._words.lexicon()
        from model.parallel import CHUNK_CHARS, chunks  # torch: loaded by `_model`

        results: list[list[R]] = []
        for part in chunks(iter(batch), max_items=max(len(batch), 1), max_chars=max(CHUNK_CHARS, model.batch_chars)):
            found = model.tag(for_model(part, self.script), words, scores=scores or None)
            results += [[result(text, span) for span in spans] for text, spans in zip(part, found)]
        return results[0] if isinstance(texts, str) else results

    def _model(self, task: str) -> Model:
        model = self._models.get(task)
        if model is None:
            with self._lock:
                model = self._models.get(task)
                if model is None:
                    model = self._load(self._refs[task])
                    if model.config.task != task:
                        raise CheckpointError(f"{model.ref} is a {model.config.task} model, not the {task} model its name promises")
                    self._models[task] = model
        return model

    def _load(self, ref: str) -> Model:
        from model.collector import load_tagger  # imports torch: only now, so `import zhtag` stays fast

        return load_tagger(ref, self.store, self.device)


def _as_batch(texts: object) -> list[str]:
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, bytes | bytearray) or not isinstance(texts, Iterable):
        raise InputError(f"texts must be a str or a list of str, got {type(texts).__name__}")
    batch = list(texts)
    for i, text in enumerate(batch):
        if not isinstance(text, str):
            raise InputError(f"texts[{i}] must be a str, got {type(text).__name__}")
    return batch
