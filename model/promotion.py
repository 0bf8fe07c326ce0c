"""Publishing a trained version: the name it is stored under, what its metrics record of the
run that made it, and the promotion gate that decides whether it replaces the version its name
answers with now.

Apart from the training loop so that the gate can be read, and changed, without reading past
the epochs, and so that the HTTP route can check a job's name and base before queueing it
without importing the loop.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from data.corpus import Sentence
from data.errors import InputError, ModelNotFound
from model.build import EXACT
from model.corpora import dev_split
from model.curve import plot_curve
from model.embeddings import VECTORS
from model.evaluate import dev_scores
from model.store import METRICS, Store, check_name, parse_ref
from model.tagger import CONFIG, Tagger
from model.trainstate import Progress, TrainState, sha256_file

if TYPE_CHECKING:
    from model.train import Trainer, TrainOptions

CURVE = "curve.png"  # stored with each trained version


@dataclass
class TrainResult:
    ref: str | None  # None for a dry run, which stores nothing
    metrics: dict[str, Any]


def publish(
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
        **run_inputs(options, store, raw),
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
    drawn (None: not recorded), is `split`, this version's (`run_inputs`; else one of them may
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
        promoted, reason = True, "no version of its name is active"
    elif not same_labels:
        promoted, reason = False, f"its label set differs from {active.ref}'s, so they could not be compared: activate it yourself, or train it under a --name of its own"
    elif split is None:
        promoted, reason = False, (f"it was fine-tuned from {options.parent}, tuned on another dev split (this run's dev sentences "
                                   f"may be among those it trained on), so it could not be compared fairly with {active.ref}: "
                                   "activate it yourself (zhtag models activate NAME@VERSION)")
    elif not same_split:
        tuned = "records no dev split (it was tuned, or fine-tuned from a model tuned, on a split of its own, as the shipped models were)" \
            if active_split is None else "was tuned on another dev split"
        promoted, reason = False, (f"the active {active.ref} {tuned}: it may have trained on this run's dev sentences, so they "
                                   "could not be compared fairly: activate it yourself (zhtag models activate NAME@VERSION)")
    else:
        promoted = record["gain"] > options.min_gain
        reason = f"gain {record['gain']:+.2f} F1 over {active.ref} {'>' if promoted else '<='} min_gain {options.min_gain}"
    return {**record, "promoted": promoted, "reason": reason}


def run_inputs(options: TrainOptions, store: Store, raw: dict[str, Any] | None) -> dict[str, Any]:
    """What a run's metrics say it was given, a dry run's as a real one's: the training
    configuration, how its dev set was drawn (`dev_split`; None where a parent tuned on another
    split, or on one not recorded, may have taught its weights this dev set), the pretrained
    vectors and the teacher-tagged raw text (`raw`, as `_taught` of model.train records it), if any."""
    split = dev_split(options.dev, options.dev_ratio)
    inherited = store.resolve(options.parent).read_json(METRICS).get("dev_split") if options.parent else split
    return {
        "train": options.train_config.to_dict(),
        "dev_split": split if inherited == split else None,
        "embeddings": _provenance(options.embeddings),
        "raw": raw,
    }


def _provenance(embeddings: Path | None) -> dict[str, str] | None:
    """Which pretrained vectors a model started from, by content, in its metrics."""
    if embeddings is None:
        return None
    return {"path": str(embeddings), "sha256": sha256_file(embeddings / VECTORS)}


def _active(store: Store, name: str) -> tuple[Tagger | None, dict[str, Any] | None]:
    """The version `name` answers with now, which a new version must beat to replace it, and
    how its dev set was drawn (None where its metrics do not say: the shipped versions were
    tuned on a split of their own); (None, None) for a name with no active version, or none yet."""
    try:
        checkpoint = store.resolve(name)
    except ModelNotFound:
        return None, None
    return Tagger.from_checkpoint(checkpoint, precision=EXACT), checkpoint.read_json(METRICS).get("dev_split")


def check_parent(task: str, parent_task: str, parent_ref: str | None) -> None:
    if parent_task != task:
        raise InputError(f"cannot fine-tune {parent_ref} (task {parent_task}) for task {task}")


def check_target(store: Store, name: str, task: str, option: str = "--name") -> None:
    """Refuse a name that cannot be stored or that answers for another task, before any work;
    `option` is how the caller names the name (the CLI's option by default)."""
    check_name(name)
    try:
        answering = store.resolve(name)
    except ModelNotFound:  # no version yet, or none active (all stored inactive): then the newest says what the name is for
        answering = store.newest(name)
    held = answering.read_json(CONFIG)["task"] if answering is not None else task
    if held != task:
        raise InputError(f"{name!r} names {held} models; give this {task} model another {option}")


def run_name(options: TrainOptions) -> str:
    """The name a run stores its version (and its resumable state) under (`name_for`)."""
    return name_for(options.name, options.parent, options.task)


def name_for(name: str | None, parent: str | None, task: str) -> str:
    """`name` if given, else the parent's name, else the task's: the shipped model's, which the
    new version must then beat."""
    if name is not None:
        return name
    return parse_ref(parent)[0] if parent else task
