"""The training loop: corpus in, best-on-dev model out as a new store version.

Reading the corpora and the dev split are `model.corpora`'s, building the first tagger is
`model.build`'s, storing the result and the promotion gate are `model.promotion`'s; this module
checks a run's options, runs its epochs and resumes them.

Every epoch ends by writing a resumable state (weights, optimizer, counters) into
`<store>/.training/<name>/`, atomically; `resume=True` picks it up after a kill. Each epoch's
randomness (shuffle, dropout) is seeded from (seed, epoch) alone, so a resumed run and an
uninterrupted one with the same seed produce the same model on the same CPU. The state
records the run it belongs to (`_fingerprint`), so a resume with another corpus or other
sizes is refused rather than mixed into one model.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from data.batches import length_batches
from data.corpus import Sentence
from data.errors import InputError
from data.formats import detect_format, read_raw
from data.jiebadict import jieba_tags
from data.schemes import spans_to_tags
from model.build import EXACT, build_tagger, load_embeddings
from model.config import DEV_RATIO, ModelConfig, TrainConfig
from model.corpora import check_dev_apart, check_dev_ratio, check_dev_sentences_apart, check_raw_teacher, load_sentences, split_dev
from model.distributed import World, join, leave
from model.embeddings import VECTORS
from model.evaluate import dev_scores, labels_of, unlearned_labels
from model.promotion import TrainResult, check_parent, check_target, publish, run_inputs, run_name
from model.store import Store
from model.tagger import Tagger
from model.teacher import SHARED_RUN, taught_sentences
from model.trainstate import CONTENTS, FORMAT, Progress, TrainState, resume_progress, sha256_file
from model.userwords import UserWords

# Options a resumed run may change: where it runs, how far its schedule goes (a user may resume
# with more epochs, or more patience), what happens once it ends, and where its files lie (their
# contents are compared). Every other option, and every file's contents, must be the killed
# run's: otherwise two runs mix in one model.
RESUMABLE_CHANGES = frozenset({
    "resume", "dry_run", "device", "epochs", "patience", "auto_promote", "min_gain", "train", "dev", "raw", "embeddings",
})
MISSING = "missing"  # a file's contents in a fingerprint where there is no file
DRY_RUN_DEV = 50  # dev sentences a dry run scores: it checks the pipeline end to end, not the model


@dataclass
class TrainOptions:
    task: str
    train: Path
    dev: Path | None = None
    dev_ratio: float = DEV_RATIO  # without `dev`: the share of sentences `split_dev` sets apart
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

    def _epoch_seed(self, epoch: int) -> int:
        """The seed of `epoch`'s randomness (shuffle, dropout, user words): (seed, epoch) alone,
        so a resumed run draws what an uninterrupted one drew."""
        return self.cfg.seed * 1000 + epoch

    def epoch_batches(self, epoch: int) -> list[list[int]]:
        """This rank's batches of `epoch`, in the order its steps take them: the same shuffle
        on every rank, so each rank's share of a step holds batch_chars / ranks characters."""
        rng = random.Random(self._epoch_seed(epoch))
        per_rank = self.cfg.batch_chars // self.world.size
        return self.world.shard(length_batches(self.encoded.lengths.tolist(), per_rank, rng))

    def run_epoch(self, epoch: int, max_batches: int | None = None) -> float:
        """One pass over this rank's share of the data; returns its mean loss per character."""
        torch.manual_seed(self._epoch_seed(epoch) * self.world.size + self.world.rank)  # each rank its own dropout
        if self.user_words is not None:
            self._sample_user_words(np.random.default_rng(self._epoch_seed(epoch)))
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
        return TrainResult(None, {"dry_run": True, "loss": round(loss, 4), "dev": scores, **run_inputs(options, store, provenance)})
    pieces = f"pieces of at most {_max_len(options, parent)} characters"  # a longer sentence is cut: these are what epochs and dev count
    log(f"training {name}: {len(train_set)} {pieces}, {sum(len(s.text) for s in train_set)} chars; dev {len(dev)} pieces; {world.size} process(es)")
    if saved is None and world.main:
        _discard(state, name, log)
    progress = _fit(trainer, state, dev, saved, log, on_epoch)
    result = publish(options, store, name, parent, trainer, state, progress, dev, provenance, before_save) if world.main else None
    return world.share(result)


def _check_options(options: TrainOptions) -> None:
    """Refuse options that cannot go together, or a value out of range, before any file is read."""
    if options.embeddings is not None and options.parent is not None:
        raise InputError("--embeddings starts a new model; a model fine-tuned --from another keeps its embeddings")
    check_raw_teacher(options.raw is not None, options.teacher is not None)
    if options.labels == "replace" and options.parent is None:
        raise InputError("--labels replace goes with --from: a new model's labels are its corpus's already")
    shaping = [f"--{key.replace('_', '-')}" for key in [*options.model_overrides, *(["word_vectors"] if options.word_vectors else [])]]
    if options.parent is not None and shaping:
        raise InputError(f"{', '.join(shaping)} {'shapes' if len(shaping) == 1 else 'shape'} a new model; one fine-tuned --from {options.parent} "
                         "keeps its parent's: leave them out")
    check_dev_ratio(options.dev_ratio)
    _check_gazetteers(options.model_overrides.get("gazetteers", []))


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
        embeddings = load_embeddings(options.embeddings, options.word_vectors)
        built = build_tagger(options.task, train_set, options.train_config, options.model_overrides, parent, options.labels, embeddings, taught)
    files = world.share(built.files() if built is not None and world.size > 1 else None)
    return built if built is not None else Tagger.from_files(files, precision=EXACT)


def _check_gazetteers(prefixes: Sequence[str]) -> None:
    """A prefix no jieba tag begins with would flag nothing: a typo, refused before any work."""
    tags = jieba_tags() if prefixes else set()
    unknown = [prefix for prefix in prefixes if not any(tag.startswith(prefix) for tag in tags)]
    if unknown:
        raise InputError(f"--gazetteers {','.join(unknown)}: no word of jieba's dictionary has a tag beginning so (nr, ns and nt name persons, places, organisations)")


def _max_len(options: TrainOptions, parent: Tagger | None) -> int:
    return parent.config.max_len if parent else options.model_overrides.get("max_len", ModelConfig.max_len)


def _datasets(options: TrainOptions, parent: Tagger | None, log: Callable[[str], None]) -> tuple[list[Sentence], list[Sentence]]:
    load = lambda path: load_sentences(path, options.task, options.format, options.skip_bad, _max_len(options, parent), log)  # noqa: E731
    if options.dev is None:
        return split_dev(load(options.train), options.dev_ratio)
    train, dev = load(options.train), load(options.dev)
    check_dev_sentences_apart(train, dev, f"--dev {options.dev}")
    return train, dev


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
