"""The training loop: corpus in, best-on-dev model out as a new store version.

Every epoch ends by writing a resumable state (weights, optimizer, counters) into
`<store>/.training/<name>/`, atomically; `resume=True` picks it up after a kill. Each epoch's
randomness (shuffle, dropout) is seeded from (seed, epoch) alone, so a resumed run and an
uninterrupted one with the same seed produce the same model on the same CPU. The state
records the run it belongs to (`_fingerprint`), so a resume with another corpus or other
sizes is refused rather than mixed into one model.
"""
from __future__ import annotations

import hashlib
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from data.batches import Encoded, bigram_strings, length_batches
from data.corpus import Sentence, model_pieces
from data.errors import InputError, ModelNotFound
from data.formats import detect_format, read_corpus, read_raw
from data.lexicon import jieba_tags, marks
from data.schemes import spans_to_tags, tag_set
from data.text import fold
from data.vocab import Vocab
from model.config import TASKS, ModelConfig, TrainConfig
from model.embeddings import VECTORS, Embeddings
from model.evaluate import evaluate
from model.grow import transfer
from model.network import BiLSTMCRF
from model.store import Store, check_name, parse_ref
from model.tagger import CONFIG, Tagger
from model.teacher import SHARED_RUN, taught_sentences
from model.curve import plot_curve
from model.distributed import World, join, leave
from model.trainstate import CONTENTS, FORMAT, Progress, TrainState, resume_progress, sha256_file

# Options a resumed run may change: where it runs, how far its schedule goes (a user may resume
# with more epochs, or more patience), what happens once it ends, and where its files lie (their
# contents are compared). Every other option, and every file's contents, must be the killed
# run's: otherwise two runs mix in one model.
RESUMABLE_CHANGES = frozenset({
    "resume", "dry_run", "device", "epochs", "patience", "auto_promote", "min_gain", "train", "dev", "raw", "embeddings",
})
MISSING = "missing"  # a file's contents in a fingerprint where there is no file
DRY_RUN_DEV = 50  # dev sentences a dry run scores: it checks the pipeline end to end, not the model

EXACT = "float32"  # taggers training loads score dev as training computes, on any CPU, so runs and resumes agree
CURVE = "curve.png"  # stored with each trained version
METRICS = "metrics.json"  # stored with each version (`Tagger.files`)


@dataclass
class TrainOptions:
    task: str
    train: Path
    dev: Path | None = None
    dev_ratio: float = 0.05  # without `dev`: the share of sentences `split_dev` sets apart
    parent: str | None = None
    labels: str = "keep"  # with a parent: "keep" its labels and add the corpus's, or "replace" them by the corpus's
    auto_promote: bool = True  # activate the new version if it passes the gate (see `promotion`)
    min_gain: float = 0.0  # dev F1 points the new version must gain over its parent to be activated
    name: str | None = None
    format: str | None = None
    skip_bad: bool = False
    device: str = "auto"
    resume: bool = False
    dry_run: bool = False
    embeddings: Path | None = None  # pretrained vectors (`zhtag pretrain`) to start a new model from
    word_vectors: bool = False  # feed the embeddings' lexicon-word vectors too (data.softlexicon)
    raw: Path | None = None  # raw text, a text a line, that `teacher` tags into more training sentences (model.teacher)
    teacher: str | None = None
    train_config: TrainConfig = field(default_factory=TrainConfig)
    model_overrides: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainResult:
    ref: str | None  # None for a dry run, which stores nothing
    metrics: dict[str, Any]


def load_sentences(
    path: Path, task: str, fmt: str | None, skip_bad: bool, max_len: int, log: Callable[[str], None] = print
) -> list[Sentence]:
    """Sentences of `path` shaped for `task`, cut into model-sized pieces."""
    return [piece for s in sentences_for(path, task, fmt, skip_bad, log) for piece in model_pieces(s, max_len)]


CORPUS_KINDS = {  # what each task learns from, as a refusal names it
    "cws": "a segmented corpus (seg, pos, or conll with B/M/E/S tags)",
    "pos": "words with their tags (pos: word/TAG tokens)",
    "ner": "typed entities (conll BIO/BIOES/BMES, jsonl, or pos, whose nr/ns/nt words are read as entities)",
}


def sentences_for(path: Path, task: str, fmt: str | None = None, skip_bad: bool = False, log: Callable[[str], None] = print) -> list[Sentence]:
    """Sentences of `path`, checked to be of the kind `task` learns from and is scored on:
    a model scored on the wrong kind of corpus prints a figure that looks real."""
    if task not in TASKS:
        raise InputError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    corpus = read_corpus(path, fmt, skip_bad=skip_bad, entities_from_pos=task == "ner")
    if corpus.skipped:
        log(f"{path}: skipped {corpus.skipped_text}")
    if task in ("cws", "pos") and not all(_tiles(s) for s in corpus.sentences):
        raise InputError(f"{path}: task {task} needs {CORPUS_KINDS[task]}, got {corpus.format} entities")
    if task in ("pos", "ner") and not corpus.labelled:
        raise InputError(f"{path}: task {task} needs {CORPUS_KINDS[task]}, and the {corpus.format} corpus holds no labels")
    if task == "ner" and not any(s.spans for s in corpus.sentences):
        raise InputError(f"{path}: no entity in {len(corpus.sentences)} sentences: an entity model learns nothing from it, and scores nothing on it")
    return [s.unlabelled() for s in corpus.sentences] if task == "cws" else corpus.sentences


def _tiles(sentence: Sentence) -> bool:
    return sum(s.end - s.start for s in sentence.spans) == len(sentence.text)


def check_splittable(sentences: Sequence[Sentence]) -> None:
    """Refuse a training corpus too small to split a dev set off (one given alone): copies of a
    sentence fall on one side, so it takes two different sentences."""
    texts = len({s.text for s in sentences})
    if texts < 2:
        raise InputError(f"need at least 2 different sentences to split off a dev set, got {texts}; give a dev corpus as well")


def check_dev_ratio(ratio: float) -> None:
    if not 0 < ratio < 1:
        raise InputError(f"--dev-ratio must be between 0 and 1, got {ratio}")


def split_dev(sentences: list[Sentence], ratio: float) -> tuple[list[Sentence], list[Sentence]]:
    """(training side, dev side), each in corpus order. A sentence's side depends on its text
    alone: it is dev when its text's hash (`_dev_key`) falls below `ratio`. So a sentence stays
    on its side as the corpus grows and whatever the seed, and the promotion gate, which compares
    only versions whose dev sets were drawn alike (`dev_split`), never scores the active version
    on dev sentences it trained on; copies of a sentence share a side, so none leaks dev into
    training. Each side holds at least one text: the lowest key goes to dev, the highest to
    training, whatever the ratio."""
    check_dev_ratio(ratio)
    check_splittable(sentences)
    keys = [_dev_key(s.text) for s in sentences]
    lowest, highest = min(keys), max(keys)
    dev = [key == lowest or (key < ratio and key != highest) for key in keys]
    return [s for s, d in zip(sentences, dev) if not d], [s for s, d in zip(sentences, dev) if d]


def _dev_key(text: str) -> float:
    """Where `text` falls in [0, 1): a hash that is the same in every process and on every
    machine (Python's `hash` of a str is salted per process)."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def build_tagger(
    task: str, sentences: list[Sentence], cfg: TrainConfig, overrides: dict, parent: Tagger | None, labels: str = "keep",
    embeddings: Embeddings | None = None, taught: Sequence[Sentence] = (),
) -> Tagger:
    """A fresh tagger sized for `sentences` and `taught` (a teacher's, `model.teacher`; its
    embeddings started from `embeddings`), or `parent` grown to cover them. With
    `labels="replace"` the tag set is the corpus's alone; tags it shares with the parent by name
    still start from the parent's weights. The training words, against which OOV and unseen
    entities are counted, are the labelled sentences' alone, as the standard measures define them."""
    every = [*sentences, *taught]
    char_counts = Counter(ch for s in every for ch in fold(s.text))
    bigram_counts = Counter(b for s in every for pair in bigram_strings(s.text) for b in pair)
    chars = Vocab.from_counts(char_counts)
    bigrams = Vocab.from_counts(bigram_counts, cfg.min_bigram_count, cfg.max_bigrams)
    tags = tag_set({span.label for s in every for span in s.spans}, outside=task == "ner")
    words = {w for s in sentences for w in s.words()}  # ner: the entities, for unseen-entity recall
    if parent is not None:
        chars, bigrams = _grown(parent.chars, chars), _grown(parent.bigrams, bigrams)
        if labels == "keep":
            tags = parent.config.tags + [t for t in tags if t not in parent.config.tags]
        words |= parent.train_words
        base = parent.config.to_dict()
    else:
        base = {"task": task, "user_flags": task != "ner", **overrides, **_embedding_dims(embeddings, overrides)}
        base["user_words_mute_vectors"] = bool(base["user_flags"] and base.get("word_dim"))
        if embeddings is not None:
            embeddings.extend(chars, bigrams)
    base.update(tags=tags, char_vocab_size=len(chars), bigram_vocab_size=len(bigrams))
    network = BiLSTMCRF(ModelConfig.from_dict(base))
    if parent is not None:
        transfer(parent.network, parent.chars, parent.bigrams, network, chars, bigrams)
    elif embeddings is not None:
        embeddings.initialise(network.char_embed, chars, network.bigram_embed, bigrams)
        if network.config.word_dim:
            embeddings.initialise_words(network.word_vectors, network.word_weights)
    return Tagger(network, chars, bigrams, words, lexicon_words=parent.lexicon_words if parent else embeddings.words if network.config.word_dim else None)


def _embedding_dims(embeddings: Embeddings | None, overrides: dict) -> dict[str, int]:
    """Embedding sizes taken from pretrained vectors; a size asked for that differs is refused."""
    if embeddings is None:
        return {}
    dims = dict(zip(("char_dim", "bigram_dim"), embeddings.dims))
    for key, size in dims.items():
        if overrides.get(key, size) != size:
            raise InputError(f"--{key.replace('_', '-')} {overrides[key]} differs from the pretrained embeddings' {size}")
    words = {"word_dim": embeddings.word_vectors.shape[1], "word_vocab_size": len(embeddings.words)} if embeddings.words else {}
    return dims | words


def _grown(old: Vocab, new: Vocab) -> Vocab:
    grown = Vocab.from_list(old.tokens)
    grown.extend(new.tokens)
    return grown


def dev_scores(tagger: Tagger, dev: list[Sentence]) -> dict[str, Any]:
    tagger.network.eval()
    return evaluate(tagger.config.task, dev, tagger.tag([s.text for s in dev]), tagger.train_words)


class UserWords:
    """Made-up user dictionaries for a model with user flags: each epoch, about half the
    sentences get one holding some of their own words, plus a few wrong words (real words
    shifted by a character), so the model learns to follow a user's words, yet weigh them."""

    SHARE_WITH_DICTIONARY, SHARE_OF_WORDS, SHARE_WRONG = 0.5, 0.3, 0.1

    def __init__(self, train: list[Sentence], encoded: Encoded) -> None:
        rows = [(encoded.starts[i] + s.start, encoded.starts[i] + s.end, i) for i, sentence in enumerate(train) for s in sentence.spans if s.end - s.start > 1]
        self.starts, self.ends, self.sentence = (np.array([r[k] for r in rows], dtype=np.int64) for k in range(3))  # (words,) each
        self.owner = np.full(len(encoded.chars), -1, dtype=np.int64)  # (rows,): sentence of each character row
        real = np.arange(len(encoded.chars) - 1)
        piece = np.repeat(np.arange(len(encoded.lengths)), encoded.lengths + 1)
        inside = real - encoded.starts[piece] < encoded.lengths[piece]
        self.owner[real[inside]] = piece[inside]
        self.sentences = len(encoded.lengths)

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """(rows, FEATURES) flags of this epoch's user dictionaries."""
        chosen = (rng.random(self.sentences) < self.SHARE_WITH_DICTIONARY)[self.sentence] & (rng.random(len(self.starts)) < self.SHARE_OF_WORDS)
        starts, ends = self.starts[chosen], self.ends[chosen]
        wrong = rng.random(len(starts)) < self.SHARE_WRONG
        shift = rng.choice(np.array([-1, 1]), size=int(wrong.sum()))
        moved_starts, moved_ends = starts[wrong] + shift, ends[wrong] + shift
        same = (self.owner[moved_starts] == self.owner[starts[wrong]]) & (self.owner[moved_ends - 1] == self.owner[starts[wrong]])
        starts = np.concatenate([starts, moved_starts[same]])
        ends = np.concatenate([ends, moved_ends[same]])
        return marks(len(self.owner), starts, ends)


class Trainer:
    def __init__(self, tagger: Tagger, train: list[Sentence], cfg: TrainConfig, device: torch.device, world: World = World()) -> None:
        self.tagger, self.cfg, self.device, self.world = tagger, cfg, device, world
        self.network = tagger.network.to(device)
        self.model = world.wrap(self.network, device)  # what the steps call: across ranks, it averages gradients
        tag_index = {t: i for i, t in enumerate(tagger.config.tags)}
        tags = [[tag_index[t] for t in spans_to_tags(len(s.text), s.spans)] for s in train]
        self.encoded = tagger.encoder.encode([s.text for s in train], tags=tags)
        self.chars = int(self.encoded.lengths.sum())
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=cfg.lr)
        self.user_words = UserWords(train, self.encoded) if tagger.config.user_flags and tagger.config.lexicon else None
        self._muted: tuple[np.ndarray, np.ndarray] | None = None  # rows whose word vectors a user word muted, and the vectors

    def _sample_user_words(self, rng: np.random.Generator) -> None:
        """This epoch's user dictionaries into their flag columns; a model whose user words
        mute the word vectors gets them zeroed where those words lie, as tagging does (the
        rows muted last epoch are given their vectors back first)."""
        encoder, lexicon = self.tagger.encoder, self.encoded.lexicon
        lexicon[:, encoder.user_columns] = flags = self.user_words.sample(rng)
        if not encoder.mute_vectors:
            return
        vectors = lexicon[:, encoder.soft_columns]  # (rows, 3*word_dim), a view
        if self._muted is not None:
            vectors[self._muted[0]] = self._muted[1]
        rows = np.flatnonzero(flags.any(axis=1))
        self._muted = (rows, vectors[rows])  # fancy indexing copies
        vectors[rows] = 0

    def epoch_batches(self, epoch: int) -> list[list[int]]:
        """This rank's batches of `epoch`, in the order its steps take them: the same shuffle
        on every rank, so each rank's share of a step holds batch_chars / ranks characters."""
        rng = random.Random(self.cfg.seed * 1000 + epoch)
        per_rank = self.cfg.batch_chars // self.world.size
        return self.world.shard(length_batches(self.encoded.lengths.tolist(), per_rank, rng))

    def run_epoch(self, epoch: int, max_batches: int | None = None) -> float:
        """One pass over this rank's share of the data; returns its mean loss per character."""
        torch.manual_seed((self.cfg.seed * 1000 + epoch) * self.world.size + self.world.rank)  # each rank its own dropout
        if self.user_words is not None:
            self._sample_user_words(np.random.default_rng(self.cfg.seed * 1000 + epoch))
        for group in self.optimizer.param_groups:
            group["lr"] = self.cfg.lr * 0.9**epoch
        self.network.train()
        lengths = self.encoded.lengths.tolist()
        batches = self.epoch_batches(epoch)[:max_batches]
        total_chars = sum(lengths[i] for b in batches for i in b)
        loss_sum = 0.0
        with tqdm(total=total_chars, unit="char", unit_scale=True, desc=f"epoch {epoch + 1}", leave=False, disable=not self.world.main) as bar:
            for index in batches:
                batch = self.encoded.batch(index).to(self.device)
                loss = self.model(batch)
                self.optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.network.parameters(), self.cfg.clip)
                self.optimizer.step()
                n = int(batch.lengths.sum())
                loss_sum += loss.item() * n
                bar.update(n)
                bar.set_postfix(loss=f"{loss.item():.3f}")
        self.network.eval()
        return loss_sum / max(1, total_chars)


def train(
    options: TrainOptions,
    store: Store | None = None,
    log: Callable[[str], None] = print,
    on_epoch: Callable[[Progress], None] = lambda progress: None,
    before_save: Callable[[], None] = lambda: None,
) -> TrainResult:
    """Train (or fine-tune from `options.parent`) and publish the best-on-dev epoch;
    `on_epoch` sees the progress after every epoch (a job reports it), and `before_save` is
    called just before the version is written, where a job that was cancelled raises rather
    than publish. Under torchrun every rank calls this; only rank 0 logs, scores dev and
    writes, and all return its result."""
    world, device = join(options.device)
    try:
        return _train(options, store or Store(), world, device, log if world.main else lambda line: None, on_epoch, before_save)
    finally:
        leave()


def _train(
    options: TrainOptions, store: Store, world: World, device: torch.device, log: Callable[[str], None], on_epoch: Callable[[Progress], None],
    before_save: Callable[[], None],
) -> TrainResult:
    _check_options(options)
    options = _pinned(options, store)
    run = _fingerprint(options)
    check_dev_apart(options.train, options.dev)
    if world.size > 1:
        world.check_same(run)
    torch.manual_seed(options.train_config.seed)  # before the parent loads: building its network draws from it
    parent = Tagger.load(options.parent, store, precision=EXACT) if options.parent else None
    if parent is not None:
        check_parent(options.task, parent.config.task, parent.ref or options.parent)
    name = run_name(options)
    check_target(store, name, options.task)
    if world.main:
        store.check_writable()
    kept = {key: value for key, value in run.items() if key not in RESUMABLE_CHANGES}  # what a resume must match
    state = TrainState.in_store(store.root, name, kept)
    saved = world.share(_saved(options, state, name, log) if world.main else None)  # before the corpora: refused in no time
    train_set, dev = _datasets(options, parent, log)
    taught, provenance = _taught(options, store, dev, _max_len(options, parent), log)
    tagger = Tagger.from_files(saved, precision=EXACT) if saved else _start(options, train_set, taught, parent, world)
    _check_dev_labels(dev, options.dev, tagger, name, log)
    train_set = train_set + taught
    trainer = Trainer(tagger, train_set, options.train_config, device, world)
    if options.dry_run:
        loss = trainer.run_epoch(0, max_batches=1)
        scores = dev_scores(tagger, dev[:DRY_RUN_DEV])
        return TrainResult(None, {"dry_run": True, "loss": round(loss, 4), "dev": scores, **_inputs(options, store, provenance)})
    pieces = f"pieces of at most {_max_len(options, parent)} characters"  # a longer sentence is cut: these are what epochs and dev count
    log(f"training {name}: {len(train_set)} {pieces}, {sum(len(s.text) for s in train_set)} chars; dev {len(dev)} pieces; {world.size} process(es)")
    if saved is None and world.main:
        _discard(state, name, log)
    progress = _fit(trainer, state, dev, saved, log, on_epoch)
    result = _publish(options, store, name, parent, trainer, state, progress, dev, provenance, before_save) if world.main else None
    return world.share(result)


def _check_options(options: TrainOptions) -> None:
    """Refuse options that cannot go together, or a value out of range, before any file is read."""
    if options.embeddings is not None and options.parent is not None:
        raise InputError("--embeddings starts a new model; a model fine-tuned --from another keeps its embeddings")
    if (options.raw is None) != (options.teacher is None):
        raise InputError("--raw FILE and --teacher REF go together: the teacher tags the raw text")
    if options.labels == "replace" and options.parent is None:
        raise InputError("--labels replace goes with --from: a new model's labels are its corpus's already")
    shaping = [f"--{key.replace('_', '-')}" for key in [*options.model_overrides, *(["word_vectors"] if options.word_vectors else [])]]
    if options.parent is not None and shaping:
        raise InputError(f"{', '.join(shaping)} {'shapes' if len(shaping) == 1 else 'shape'} a new model; one fine-tuned --from {options.parent} "
                         "keeps its parent's: leave them out")
    check_dev_ratio(options.dev_ratio)
    _check_gazetteers(options.model_overrides.get("gazetteers", []))


def check_dev_apart(train: Path, dev: Path | None, names: tuple[str, str] | None = None) -> None:
    """Refuse a dev corpus that is the training corpus (the same file, or a copy of it): every
    dev score, and the promotion gate's, would be of sentences the model trained on. `names`
    are the two as the caller knows them (the CLI's options by default)."""
    if dev is None or not (train.is_file() and dev.is_file()) or sha256_file(dev) != sha256_file(train):
        return
    train_name, dev_name = names or (f"--train {train}", f"--dev {dev}")
    raise InputError(f"{dev_name} holds the same text as {train_name}: dev must be sentences the model does not train on")


def run_name(options: TrainOptions) -> str:
    """The name a run stores its version (and its resumable state) under (`name_for`)."""
    return name_for(options.name, options.parent, options.task)


def name_for(name: str | None, parent: str | None, task: str) -> str:
    """`name` if given, else the parent's name, else the task's: the shipped model's, which the
    new version must then beat."""
    if name is not None:
        return name
    return parse_ref(parent)[0] if parent else task


def _pinned(options: TrainOptions, store: Store) -> TrainOptions:
    """`options` with its parent and teacher as the exact versions (`name@N`) they name now:
    the fingerprint then holds them, so a resume after another version was activated is
    refused rather than fine-tuned from, or taught by, another model."""
    pin = lambda ref: ref and store.locate(ref)  # noqa: E731
    return replace(options, parent=pin(options.parent), teacher=pin(options.teacher))


def _fingerprint(options: TrainOptions) -> dict[str, str | None]:
    """What sets a run's course: each option (the training schedule's and the new model's
    sizes one by one, so a difference is named; the name the run is stored under, whether
    given or taken), each corpus's format (as given, else as detected: the same run either way),
    and the contents of the files they name (a copy of another corpus at the same path trains
    a worse model silently). Every rank of a distributed run must share it,
    and a resumed run must be the run it continues."""
    values = asdict(options) | {"name": run_name(options)}
    values.update(values.pop("train_config"), **values.pop("model_overrides"))
    record = {key: None if value is None else str(value) for key, value in values.items()}
    corpora = {"train": options.train, "dev": options.dev}
    record.update({f"{key}{FORMAT}": options.format or detect_format(path) for key, path in corpora.items() if path and path.is_file()})
    files = {"train": options.train, "dev": options.dev, "raw": options.raw, "embeddings": options.embeddings and options.embeddings / VECTORS}
    record.update({f"{key}{CONTENTS}": sha256_file(path) if path.is_file() else MISSING for key, path in files.items() if path})
    return record


def _saved(options: TrainOptions, state: TrainState, name: str, log: Callable[[str], None]) -> dict[str, bytes] | None:
    """The killed run's last completed epoch, when resuming (`TrainState.resumable` refuses
    another run's); None for a fresh run."""
    if not options.resume:
        return None
    files = state.resumable()
    log(f"resuming {name} after epoch {state.saved_epoch()}")
    return files


def _discard(state: TrainState, name: str, log: Callable[[str], None]) -> None:
    """Clear an earlier run's resumable state before a fresh run saves its own, saying so: a
    user who meant to continue it learns how, if too late for this one."""
    epoch = state.saved_epoch()
    if epoch is not None:
        log(f"discarding the saved state of an earlier run of {name} after epoch {epoch}: --resume would have continued it")
    state.clear()


def labels_of(sentences: Iterable[Sentence]) -> set[str]:
    """The labels the sentences' spans carry: entity types, POS tags, none for segmentation."""
    return {span.label for s in sentences for span in s.spans if span.label is not None}


def unlearned_labels(gold: set[str], tagger: Tagger, gold_name: str, model: str) -> str | None:
    """Why scores on `gold_name` (whose labels are `gold`) understate `tagger`: the labels it
    never learned count as missed. `model` names it as the subject of a verb ("ner@1 tags")."""
    unknown = gold - tagger.types
    if not unknown:
        return None
    kind = "entity types" if tagger.config.task == "ner" else "POS tags"
    known = ", ".join(sorted(tagger.types))
    return f"the {gold_name}'s {kind} {', '.join(sorted(unknown))} are not among those {model} ({known}): they count as missed"


def _check_dev_labels(dev: list[Sentence], given: Path | None, tagger: Tagger, name: str, log: Callable[[str], None]) -> None:
    """Before the first epoch: warn of dev labels the model will not learn (from the training
    corpus, the teacher's sentences, and the parent's labels where they are kept), and refuse
    an entity dev corpus `given` that shares no type with them (another corpus's label names):
    its F1 would be 0 at every epoch, so early stopping would keep the first. A dev set split
    off the training corpus shares its labels but for the luck of the split: a warning tells."""
    gold = labels_of(dev)
    if given is not None and tagger.config.task == "ner" and gold and not gold & tagger.types:
        raise InputError(f"--dev {given}: its entity types ({', '.join(sorted(gold))}) and those {name} learns "
                         f"({', '.join(sorted(tagger.types))}) share none, so every dev F1 would be 0")
    warning = unlearned_labels(gold, tagger, "dev set", f"{name} learns")
    if warning:
        log(f"warning: {warning}")


def _start(options: TrainOptions, train_set: list[Sentence], taught: list[Sentence], parent: Tagger | None, world: World) -> Tagger:
    """A new tagger, built on rank 0 and sent to the others, so all start from the same
    vocabularies and weights."""
    built = None
    if world.main:
        embeddings = _embeddings(options)
        built = build_tagger(options.task, train_set, options.train_config, options.model_overrides, parent, options.labels, embeddings, taught)
    files = world.share(built.files() if built is not None and world.size > 1 else None)
    return built if built is not None else Tagger.from_files(files, precision=EXACT)


def _embeddings(options: TrainOptions) -> Embeddings | None:
    """The pretrained vectors a new model starts from, with their word vectors only if asked for."""
    if options.embeddings is None:
        if options.word_vectors:
            raise InputError("--word-vectors takes the word vectors of --embeddings DIR; none was given")
        return None
    embeddings = Embeddings.load(options.embeddings)
    if options.word_vectors and not embeddings.words:
        raise InputError(f"{options.embeddings} holds no word vectors (make them with `zhtag pretrain --word-dim N`)")
    return embeddings if options.word_vectors else replace(embeddings, words=[], word_vectors=torch.empty(0, 0))


def _publish(
    options: TrainOptions, store: Store, name: str, parent: Tagger | None, trainer: Trainer, state: TrainState, progress: Progress, dev: list[Sentence],
    raw: dict[str, Any] | None, before_save: Callable[[], None],
) -> TrainResult:
    """Store the best epoch as a new version, with its metrics and learning curve."""
    published = Tagger.from_files(state.best_tagger(trainer.tagger).files(compact=True), precision=EXACT)  # what the store will hold
    metrics = {
        "dev": dev_scores(published, dev),  # the stored model's own scores, embeddings in float16
        "best_epoch": progress.best_epoch,
        "epochs_run": progress.epoch,
        "train_seconds": round(progress.seconds),
        "train_chars_per_second": round(progress.epoch * trainer.chars / max(progress.seconds, 1e-9)),
        "processes": trainer.world.size,
        "curve": progress.curve,
        **_inputs(options, store, raw),
    }
    metrics["promotion"] = promotion(options, metrics["dev_split"], *_active(store, name), dev, metrics["dev"]["f1"], published.config.tags)
    corpus = {"sha256": sha256_file(options.train), "size": options.train.stat().st_size}
    files = {**published.files(metrics, compact=True), CURVE: plot_curve(progress.curve, f"{name} ({options.task})")}
    before_save()
    ref = store.save(name, files, parent=parent.ref if parent else None, corpus=corpus, activate=metrics["promotion"]["promoted"])
    state.clear()
    return TrainResult(ref, metrics)


def promotion(
    options: TrainOptions, split: dict[str, Any] | None, active: Tagger | None, active_split: dict[str, Any] | None,
    dev: list[Sentence], dev_f1: float, tags: list[str],
) -> dict[str, Any]:
    """Whether the new version should replace the one its name answers with now (`active`,
    stored or shipped), and why. Comparing with that version rather than with the parent keeps
    a run from scratch, or from another model, from displacing a better model of its name.
    They are compared on this run's dev set where their label sets agree (a model cannot be
    scored on types it never learned) and `active_split`, how the active one's dev set was
    drawn (None: not recorded), is `split`, this version's (`_inputs`; else one of them may
    have trained, itself or through its parent, on the other's dev set, and score too high); with `auto_promote` the new one must gain more than `min_gain` F1 points.
    Where they cannot be compared, nothing shows the new one is better, so it is stored
    inactive: a run that left out --name must not replace a shipped model unseen."""
    record: dict[str, Any] = {"auto_promote": options.auto_promote, "min_gain": options.min_gain, "dev_f1": dev_f1}
    same_labels = active is not None and set(active.config.tags) == set(tags)
    same_split = split is not None and active_split == split
    comparable = same_labels and same_split
    if comparable:
        active_f1 = dev_scores(active, dev)["f1"]
        record.update(active=active.ref, active_dev_f1=active_f1, gain=round(dev_f1 - active_f1, 2))
    if not options.auto_promote:
        promoted, reason = False, "auto_promote is off: activate it yourself"
    elif active is None:
        promoted, reason = True, "the first version of its name"
    elif not same_labels:
        promoted, reason = False, f"its label set differs from {active.ref}'s, so they could not be compared: activate it yourself, or train it under a --name of its own"
    elif split is None:
        promoted, reason = False, (f"it was fine-tuned from {options.parent}, tuned on another dev split (this run's dev sentences "
                                   f"may be among those it trained on), so it could not be compared fairly with {active.ref}: "
                                   "activate it yourself (zhtag models activate NAME@VERSION)")
    elif not same_split:
        promoted, reason = False, (f"the active {active.ref} was tuned on another dev split (it may have trained on this run's "
                                   "dev sentences), so they could not be compared fairly: activate it yourself "
                                   "(zhtag models activate NAME@VERSION)")
    else:
        promoted = record["gain"] > options.min_gain
        reason = f"gain {record['gain']:+.2f} F1 over {active.ref} {'>' if promoted else '<='} min_gain {options.min_gain}"
    return {**record, "promoted": promoted, "reason": reason}


def _inputs(options: TrainOptions, store: Store, raw: dict[str, Any] | None) -> dict[str, Any]:
    """What a run's metrics say it was given, a dry run's as a real one's: the training
    configuration, how its dev set was drawn (`dev_split`; None where a parent tuned on another
    split, or on one not recorded, may have taught its weights this dev set), the pretrained
    vectors and the teacher-tagged raw text (`_taught`), if any."""
    split = dev_split(options)
    inherited = store.resolve(options.parent).read_json(METRICS).get("dev_split") if options.parent else split
    return {
        "train": options.train_config.to_dict(),
        "dev_split": split if inherited == split else None,
        "embeddings": _provenance(options.embeddings),
        "raw": raw,
    }


def dev_split(options: TrainOptions) -> dict[str, Any]:
    """How a run's dev set is drawn: the share of the training corpus `split_dev` sets apart,
    or the --dev file's contents. The gate compares two versions only where it is the same
    (a version tuned on another split may have trained on this run's dev sentences)."""
    return {"file": sha256_file(options.dev)} if options.dev else {"ratio": options.dev_ratio}


def _provenance(embeddings: Path | None) -> dict[str, str] | None:
    """Which pretrained vectors a model started from, by content, in its metrics."""
    if embeddings is None:
        return None
    return {"path": str(embeddings), "sha256": sha256_file(embeddings / VECTORS)}


def _check_gazetteers(prefixes: Sequence[str]) -> None:
    """A prefix no jieba tag begins with would flag nothing: a typo, refused before any work."""
    tags = jieba_tags() if prefixes else set()
    unknown = [prefix for prefix in prefixes if not any(tag.startswith(prefix) for tag in tags)]
    if unknown:
        raise InputError(f"--gazetteers {','.join(unknown)}: no word of jieba's dictionary has a tag beginning so (nr, ns and nt name persons, places, organisations)")


def check_parent(task: str, parent_task: str, parent_ref: str | None) -> None:
    if parent_task != task:
        raise InputError(f"cannot fine-tune {parent_ref} (task {parent_task}) for task {task}")


def check_target(store: Store, name: str, task: str) -> None:
    """Refuse a name that cannot be stored or that answers for another task, before any work."""
    check_name(name)
    try:
        held = store.resolve(name).read_json(CONFIG)["task"]
    except ModelNotFound:
        return
    if held != task:
        raise InputError(f"{name!r} names {held} models; give this {task} model another --name")


def _active(store: Store, name: str) -> tuple[Tagger | None, dict[str, Any] | None]:
    """The version `name` answers with now, which a new version must beat to replace it, and
    how its dev set was drawn (None where its metrics do not say: the shipped versions were
    tuned on a split of their own); (None, None) for a name with no version yet."""
    try:
        checkpoint = store.resolve(name)
    except ModelNotFound:
        return None, None
    return Tagger.from_checkpoint(checkpoint, precision=EXACT), checkpoint.read_json(METRICS).get("dev_split")


def _max_len(options: TrainOptions, parent: Tagger | None) -> int:
    return parent.config.max_len if parent else options.model_overrides.get("max_len", ModelConfig.max_len)


def _datasets(options: TrainOptions, parent: Tagger | None, log: Callable[[str], None]) -> tuple[list[Sentence], list[Sentence]]:
    load = lambda path: load_sentences(path, options.task, options.format, options.skip_bad, _max_len(options, parent), log)  # noqa: E731
    if options.dev:
        return load(options.train), load(options.dev)
    return split_dev(load(options.train), options.dev_ratio)


def _taught(
    options: TrainOptions, store: Store, dev: list[Sentence], max_len: int, log: Callable[[str], None]
) -> tuple[list[Sentence], dict[str, Any] | None]:
    """The sentences `options.teacher` makes of `options.raw` (none without them), and where
    they came from, for the metrics."""
    if options.raw is None or options.teacher is None:
        return [], None
    teacher = Tagger.load(options.teacher, store)
    sentences, left_out = taught_sentences(teacher, options.task, read_raw(options.raw, skip_bad=options.skip_bad), dev, max_len)
    chars = sum(len(s.text) for s in sentences)
    log(f"{options.raw}: {len(sentences)} pieces ({chars} chars) tagged by {teacher.ref} join the training side; "
        f"{left_out} left out for being a dev sentence or sharing {SHARED_RUN} characters with one")
    return sentences, {"path": str(options.raw), "sha256": sha256_file(options.raw), "teacher": teacher.ref, "sentences": len(sentences), "chars": chars, "left_out": left_out}


def _fit(
    trainer: Trainer, state: TrainState, dev: list[Sentence], saved: dict[str, bytes] | None, log: Callable[[str], None], on_epoch: Callable[[Progress], None]
) -> Progress:
    """Epochs until the limit or patience runs out, rank 0 saving a resumable state after each.
    Rank 0 scores dev and tells the others, so all stop together."""
    cfg, world = trainer.cfg, trainer.world
    progress = resume_progress(trainer, saved) if saved else Progress()
    while progress.epoch < cfg.epochs and progress.stale < cfg.patience:
        started = time.time()
        loss = trainer.run_epoch(progress.epoch)
        seconds = time.time() - started
        scores = world.share(dev_scores(trainer.tagger, dev) if world.main else None)
        improved = scores["f1"] > progress.best_f1
        progress.advance(scores, improved, seconds, loss)
        best = " (best)" if improved else ""
        log(f"epoch {progress.epoch}: loss {loss:.4f}, dev f1 {scores['f1']:.2f}, {trainer.chars / seconds:,.0f} chars/s{best}")
        if world.main:
            state.save(trainer, progress, best=improved)
            on_epoch(progress)
    return progress
