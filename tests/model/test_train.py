"""Specification of a training run (model/train.py, and the modules it calls for its corpora, dev
split, first tagger, user words and promotion gate: model/corpora.py, model/build.py,
model/userwords.py, model/promotion.py): reproducible from the seed, resumable
after a kill with the same result (and only with the same options and files), a dev split that
depends on the sentences' text alone, a dev set kept apart from training and checked against
the labels the model learns, a dry run that stores nothing, long sentences split rather than
dropped, corpora refused when they cannot teach the task, and fine-tuning from a parent."""
from __future__ import annotations

import dataclasses
import errno
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from data.batches import Encoder
from data.corpus import sentence_from_words
from data.errors import CheckpointError, InputError
from data.formats import read_corpus
from data.lexicon import Lexicon
from model.config import TrainConfig
from model import corpora
from model import train as train_module
from model.corpora import check_dev_sentences_apart, split_dev
from model.promotion import promotion
from model.store import Store
from model.tagger import WEIGHTS, Tagger
from model.train import Trainer, TrainOptions, train
from model.userwords import UserWords
from tests.model.test_batching import random_tagger
from model.trainstate import PROGRESS, RUN, TrainState
from data.vocab import Vocab

CORPORA = Path(__file__).resolve().parent.parent / "fixtures" / "corpora"
SEG = CORPORA / "tiny.seg.txt"
OTHER_SEG = CORPORA / "tiny.pos.txt"  # other sentences, read as segmentation: a dev set apart from SEG
QUIET = {"log": lambda line: None}


def untimed(metrics: dict) -> dict:
    """Metrics without the wall-clock figures, which no two runs share."""
    return {k: v for k, v in metrics.items() if k not in ("train_seconds", "train_chars_per_second")}


def weights(store: Store, ref: str) -> bytes:
    return store.resolve(ref).read_bytes(WEIGHTS)


def test_same_seed_trains_identical_weights(tiny_options, make_store) -> None:
    store = make_store()
    first = train(tiny_options("cws", SEG, name="first"), store, **QUIET)
    second = train(tiny_options("cws", SEG, name="second"), store, **QUIET)
    assert weights(store, first.ref) == weights(store, second.ref)
    assert untimed(first.metrics) == untimed(second.metrics)


def test_another_seed_trains_other_weights(tiny_options, make_store) -> None:
    store = make_store()
    first = train(tiny_options("cws", SEG, name="first"), store, **QUIET)
    other = TrainConfig(epochs=2, batch_chars=500, seed=2)
    second = train(tiny_options("cws", SEG, name="second", train_config=other), store, **QUIET)
    assert weights(store, first.ref) != weights(store, second.ref)


class Killed(Exception):
    """Stands in for a kill during an epoch."""


def saved_states_spy(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, bytes]]:
    """Records every epoch's saved training state (weights, best weights, optimizer), so
    that resuming is checked on the final epoch's whole state, not only on the best epoch's
    published weights."""
    seen: list[dict[str, bytes]] = []
    original = TrainState.save

    def spy(self: TrainState, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)
        seen.append({k: v for k, v in self.latest_files().items() if k != PROGRESS})  # progress holds timings

    monkeypatch.setattr(TrainState, "save", spy)
    return seen


def kill_in_second_epoch(options: TrainOptions, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Train until a kill during epoch 2: epoch 1's resumable state is left."""
    run_epoch = Trainer.run_epoch

    def killed(self: Trainer, epoch: int, max_batches: int | None = None) -> float:
        if epoch == 1:
            raise Killed
        return run_epoch(self, epoch, max_batches)

    with monkeypatch.context() as patch:
        patch.setattr(Trainer, "run_epoch", killed)
        with pytest.raises(Killed):
            train(options, store, **QUIET)


def test_resuming_a_killed_run_gives_the_model_of_an_uninterrupted_run(tiny_options, make_store, monkeypatch) -> None:
    saved_states = saved_states_spy(monkeypatch)
    options = tiny_options("cws", SEG, name="seg")
    reference_store = make_store("reference")
    reference = train(options, reference_store, **QUIET)

    store = make_store("killed")
    kill_in_second_epoch(options, store, monkeypatch)
    assert store.list() == [], "a killed run publishes nothing"
    saved = store.root / ".training" / "seg" / "epoch-1"
    assert saved.is_dir()

    resumed = train(dataclasses.replace(options, resume=True), store, **QUIET)
    assert resumed.ref == "seg@1"
    assert untimed(resumed.metrics) == untimed(reference.metrics)
    assert weights(store, resumed.ref) == weights(reference_store, reference.ref)
    reference_last, before_kill, resumed_last = saved_states[1], saved_states[2], saved_states[-1]
    assert len(saved_states) == 4, "two epochs for the reference, one before the kill, one after it"
    assert resumed_last == reference_last
    assert resumed_last[WEIGHTS] != before_kill[WEIGHTS], "epoch 2 never ran"
    assert not (store.root / ".training" / "seg").exists(), "state is cleared once published"


def test_resuming_with_other_options_or_another_corpus_is_refused_naming_each(
    tmp_path, tiny_options, make_store, monkeypatch
) -> None:
    """A resume continues the killed run's weights and optimizer: with other sizes or another
    corpus (at the same path) one model would mix two runs, its curve and manifest too."""
    corpus = tmp_path / "corpus.seg.txt"
    shutil.copy(SEG, corpus)
    store = make_store()
    options = tiny_options("cws", corpus, name="seg")
    kill_in_second_epoch(options, store, monkeypatch)
    shutil.copy(OTHER_SEG, corpus)
    other = dataclasses.replace(options, resume=True, format="pos", model_overrides={**options.model_overrides, "hidden": 16})
    changes = r"hidden \(8, now 16\), train \(contents\), train format \(seg, now pos\)"
    refusal = rf"^cannot resume seg: it was started with other {changes}; "
    with pytest.raises(InputError, match=refusal):
        train(other, store, **QUIET)
    assert (store.root / ".training" / "seg" / "epoch-1").is_dir() and store.list() == [], "the killed run can still be resumed"


def test_a_resume_of_another_run_is_refused_before_any_corpus_is_read(tiny_options, make_store, monkeypatch) -> None:
    """Reading the corpora, and a teacher tagging --raw, may take minutes: the refusal needs neither."""
    store = make_store()
    options = tiny_options("cws", SEG, name="seg")
    kill_in_second_epoch(options, store, monkeypatch)

    def unread(*args: object, **kwargs: object) -> None:
        raise AssertionError("a corpus was read")

    monkeypatch.setattr(corpora, "read_corpus", unread)
    other = dataclasses.replace(options, resume=True, model_overrides={**options.model_overrides, "hidden": 16})
    with pytest.raises(InputError, match=r"other hidden \(8, now 16\)"):
        train(other, store, **QUIET)


def test_a_resume_may_give_the_format_the_killed_run_detected(tiny_options, make_store, monkeypatch) -> None:
    store = make_store()
    options = tiny_options("cws", SEG, name="seg")
    kill_in_second_epoch(options, store, monkeypatch)
    assert train(dataclasses.replace(options, format="seg", resume=True), store, **QUIET).ref == "seg@1"


@pytest.mark.parametrize(("given", "resumed", "refused"), [(None, None, False), ("seg", "seg", False), (None, "pos", True), ("seg", None, True)])
def test_a_run_killed_before_formats_were_recorded_per_corpus_resumes_with_the_options_it_had(
    tiny_options, make_store, monkeypatch, given: str | None, resumed: str | None, refused: bool
) -> None:
    """A run saved by the zhtag before (its record holds `format` as given, and no corpus's
    format as read) resumes under this one with its options, as that zhtag resumed it, and
    is refused another --format: an upgrade between a kill and its resume must not cost the
    run, nor let another reading of the corpus into it."""
    store = make_store()
    options = tiny_options("cws", SEG, name="seg", format=given)
    kill_in_second_epoch(options, store, monkeypatch)
    record = store.root / ".training" / "seg" / "epoch-1" / RUN
    run = json.loads(record.read_text())
    del run["train format"]
    record.write_text(json.dumps(run))
    resume = dataclasses.replace(options, format=resumed, resume=True)
    if refused:
        with pytest.raises(InputError, match=r"other format \("):
            train(resume, store, **QUIET)
    else:
        assert train(resume, store, **QUIET).ref == "seg@1"


def test_a_resume_may_give_the_name_a_killed_run_took_by_default(tiny_options, make_store, monkeypatch) -> None:
    store = make_store()
    options = tiny_options("cws", SEG)  # stored under its task's name, cws
    kill_in_second_epoch(options, store, monkeypatch)
    assert train(dataclasses.replace(options, name="cws", resume=True), store, **QUIET).ref == "cws@1"


def copy_of(trained, tmp_path: Path) -> Store:
    """A writable copy of a session's trained store."""
    shutil.copytree(trained.store.root, tmp_path / "store")
    return Store(root=tmp_path / "store", shipped=tmp_path / "none")


def test_a_resume_after_the_teachers_active_version_changed_is_refused(trained_cws, tmp_path, tiny_options, monkeypatch) -> None:
    """A bare --teacher names the version active when the run started: another one would tag
    other training sentences into the resumed run."""
    store = copy_of(trained_cws, tmp_path)
    shutil.copytree(store.root / "cws" / "1", store.root / "cws" / "2")
    manifest = store.root / "cws" / "2" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"version": 1', '"version": 2'))
    raw = tmp_path / "raw.txt"
    raw.write_text("熊猫吃竹子。\n企鹅会游泳。\n", encoding="utf-8")
    options = tiny_options("cws", SEG, name="student", raw=raw, teacher="cws")
    kill_in_second_epoch(options, store, monkeypatch)
    store.activate("cws@2")
    with pytest.raises(InputError, match=r"other teacher \(cws@1, now cws@2\)"):
        train(dataclasses.replace(options, resume=True), store, **QUIET)


def test_a_resumed_run_says_where_it_resumes_and_may_run_more_epochs(tmp_path, tiny_options, make_store, monkeypatch) -> None:
    """The schedule's end may change (a user resumes with more epochs); so may the device, the
    promotion settings, which decide nothing of the training, and where the corpus lies."""
    store = make_store()
    options = tiny_options("cws", SEG, name="seg")
    kill_in_second_epoch(options, store, monkeypatch)
    moved = tmp_path / "moved.seg.txt"
    shutil.copy(SEG, moved)
    lines: list[str] = []
    longer = TrainConfig(epochs=3, patience=5, batch_chars=500)
    resumed_options = dataclasses.replace(options, train=moved, resume=True, train_config=longer, min_gain=-1.0)
    resumed = train(resumed_options, store, log=lines.append)
    assert lines[0] == "resuming seg after epoch 1"
    assert resumed.metrics["epochs_run"] == 3 and [point["epoch"] for point in resumed.metrics["curve"]] == [1, 2, 3]


def test_a_fresh_run_says_it_discards_the_state_a_resume_would_have_continued(tiny_options, make_store, monkeypatch) -> None:
    store = make_store()
    options = tiny_options("cws", SEG, name="seg")
    kill_in_second_epoch(options, store, monkeypatch)
    lines: list[str] = []
    assert train(options, store, log=lines.append).ref == "seg@1"
    assert "discarding the saved state of an earlier run of seg after epoch 1: --resume would have continued it" in lines
    again: list[str] = []
    train(options, store, log=again.append)
    assert not any("discarding" in line for line in again), "a published run leaves nothing to discard"


def test_a_state_saved_by_an_older_zhtag_with_fields_since_dropped_still_resumes(tiny_options, make_store, monkeypatch) -> None:
    """An older zhtag recorded `extra` (TrainConfig.extra) in run.json and `best_scores` in
    progress.json: dropping the fields must not strand its killed runs."""
    store = make_store()
    options = tiny_options("cws", SEG, name="seg")
    kill_in_second_epoch(options, store, monkeypatch)
    epoch = store.root / ".training" / "seg" / "epoch-1"
    for name, key, value in ((RUN, "extra", "{}"), (PROGRESS, "best_scores", {"f1": 1.0})):
        record = json.loads((epoch / name).read_bytes())
        (epoch / name).write_text(json.dumps({**record, key: value}), encoding="utf-8")
    assert train(dataclasses.replace(options, resume=True), store, **QUIET).ref == "seg@1"


def test_resuming_a_run_killed_while_publishing_publishes_the_same_model(tiny_options, make_store, monkeypatch) -> None:
    options = tiny_options("cws", SEG, name="seg")
    reference_store = make_store("reference")
    reference = train(options, reference_store, **QUIET)

    def killed_while_publishing(*args: object, **kwargs: object) -> str:
        raise Killed

    store = make_store("killed")
    with monkeypatch.context() as patch:
        patch.setattr(Store, "save", killed_while_publishing)
        with pytest.raises(Killed):
            train(options, store, **QUIET)
    assert (store.root / ".training" / "seg" / "epoch-2").is_dir()

    resumed = train(dataclasses.replace(options, resume=True), store, **QUIET)
    assert untimed(resumed.metrics) == untimed(reference.metrics)
    assert weights(store, resumed.ref) == weights(reference_store, reference.ref)


def test_a_full_disk_while_saving_the_training_state_is_named_and_leaves_no_half_written_epoch(tiny_options, make_store, monkeypatch) -> None:
    """The disk fills after the state's first file: neither that file's epoch nor its temp
    directory is left, so a resume finds no epoch rather than a half-written one."""
    store = make_store()
    written: list[Path] = []

    def full(path: Path, content: bytes) -> None:
        if written:
            raise OSError(errno.ENOSPC, "No space left on device")
        path.write_bytes(content)
        written.append(path)

    monkeypatch.setattr("data.atomic.write_synced", full)  # what each epoch's files are written with
    with pytest.raises(CheckpointError, match=r"cannot save epoch 1's training state in .*: No space left on device"):
        train(tiny_options("cws", SEG, name="full"), store, **QUIET)
    assert written and list((store.root / ".training" / "full").iterdir()) == [] and store.list() == []


def test_resume_without_saved_state_is_refused(tiny_options, make_store) -> None:
    with pytest.raises(CheckpointError, match="nothing to resume"):
        train(tiny_options("cws", SEG, name="never", resume=True), make_store(), **QUIET)


def test_dry_run_returns_no_ref_and_stores_nothing(tiny_options, make_store) -> None:
    store = make_store()
    result = train(tiny_options("cws", SEG, dry_run=True), store, **QUIET)
    assert result.ref is None
    assert store.list() == []
    assert not store.root.exists() or not any(store.root.rglob("*"))


def test_sentences_longer_than_max_len_are_split_not_dropped(tiny_options, make_store, monkeypatch) -> None:
    trained_lengths: list[list[int]] = []
    run_epoch = Trainer.run_epoch

    def spy(self: Trainer, epoch: int, max_batches: int | None = None) -> float:
        trained_lengths.append(self.encoded.lengths.tolist())
        return run_epoch(self, epoch, max_batches)

    monkeypatch.setattr(Trainer, "run_epoch", spy)
    store = make_store()
    lines: list[str] = []
    options = tiny_options(
        "cws", SEG, dev=OTHER_SEG, model_overrides={"max_len": 4}, train_config=TrainConfig(epochs=1, batch_chars=500)
    )
    result = train(options, store, log=lines.append)

    corpus_chars = sum(not ch.isspace() for ch in SEG.read_text(encoding="utf-8"))
    lengths = trained_lengths[0]
    assert sum(lengths) == corpus_chars
    assert max(lengths) <= 4
    assert f"{corpus_chars} chars" in lines[0]
    assert Tagger.load(result.ref, store).config.max_len == 4


@pytest.mark.parametrize(
    ("task", "corpus"),
    [
        ("cws", "tiny.jsonl"),  # entities do not tile the text
        ("cws", "tiny_cluener.json"),
        ("pos", "tiny.seg.txt"),  # words without tags
        ("pos", "tiny.cws.bmes"),
        ("pos", "tiny.bio"),
        ("ner", "tiny.seg.txt"),  # untyped words, no entities
        ("ner", "tiny.cws.bmes"),
        ("tagging", "tiny.seg.txt"),  # no such task
    ],
)
def test_a_corpus_that_cannot_teach_the_task_is_refused(task, corpus, tiny_options, make_store) -> None:
    store = make_store()
    with pytest.raises(InputError):
        train(tiny_options(task, CORPORA / corpus), store, **QUIET)
    assert store.list() == []


@pytest.mark.parametrize(
    ("task", "corpus"),
    [
        ("cws", "tiny.seg.txt"),
        ("cws", "tiny.cws.bmes"),
        ("cws", "tiny.pos.txt"),  # tags dropped
        ("pos", "tiny.pos.txt"),
        ("ner", "tiny.pos.txt"),  # nr/ns/nt tokens as entities
    ],
)
def test_a_corpus_that_fits_the_task_trains(task, corpus, tiny_options, make_store) -> None:
    store = make_store()
    options = tiny_options(task, CORPORA / corpus, train_config=TrainConfig(epochs=1, batch_chars=500))
    result = train(options, store, **QUIET)
    assert result.ref == f"{task}@1"
    assert Tagger.load(result.ref, store).config.task == task


@pytest.mark.parametrize("corpus", ["tiny.jsonl", "tiny_cluener.json", "tiny.bio", "tiny.bmes"])
def test_ner_trains_on_entity_corpora(corpus, tiny_options, make_store) -> None:
    store = make_store()
    options = tiny_options("ner", CORPORA / corpus, train_config=TrainConfig(epochs=1, batch_chars=500))
    result = train(options, store, **QUIET)
    assert Tagger.load(result.ref, store).config.task == "ner"


def test_an_entity_model_keeps_its_training_entities_and_scores_dev_recall_of_the_unseen(tiny_options, make_store) -> None:
    store = make_store()
    one_epoch = TrainConfig(epochs=1, batch_chars=500)
    options = tiny_options("ner", CORPORA / "tiny.bio", dev_ratio=0.5, train_config=one_epoch)  # dev: 3 sentences of 4
    result = train(options, store, **QUIET)
    train_side, _ = split_dev(read_corpus(CORPORA / "tiny.bio").sentences, options.dev_ratio)
    assert Tagger.load(result.ref, store).train_words == {w for s in train_side for w in s.words()}
    assert 0 <= result.metrics["dev"]["unseen_recall"] <= 100 and result.metrics["dev"]["unseen_rate"] > 0, "the tiny dev set has unseen entities"


@pytest.mark.parametrize(("task", "name", "text", "problem"), [
    ("cws", "one.seg.txt", "今天  天气  很  好  。\n", "got 1; give a dev corpus as well"),  # too small to split a dev set off
    ("ner", "none.bio", "我\tO\n爱\tO\n\n你\tO\n好\tO\n\n", "no entity in 2 sentences"),
])
def test_a_corpus_too_small_or_empty_of_entities_is_refused(task, name, text, problem, tmp_path, tiny_options, make_store) -> None:
    corpus = tmp_path / name
    corpus.write_text(text, encoding="utf-8")
    store = make_store()
    with pytest.raises(InputError, match=problem):
        train(tiny_options(task, corpus), store, **QUIET)
    assert store.list() == []


def test_a_one_sentence_corpus_trains_with_an_explicit_dev_set(tmp_path, tiny_options, make_store) -> None:
    corpus = tmp_path / "one.seg.txt"
    corpus.write_text("今天  天气  很  好  。\n", encoding="utf-8")
    options = tiny_options("cws", corpus, dev=SEG, train_config=TrainConfig(epochs=1, batch_chars=500))
    assert train(options, make_store(), **QUIET).ref == "cws@1"


NEW_CHARS_CORPUS = "熊猫  吃  竹子  。\n企鹅  会  游泳  ，  今天  很  冷  。\n"


def fine_tune(trained_cws, tmp_path: Path, tiny_options, lr: float) -> tuple[Store, str]:
    shutil.copytree(trained_cws.store.root, tmp_path / "store")
    store = Store(root=tmp_path / "store", shipped=tmp_path / "none")
    corpus = tmp_path / "new.seg.txt"
    corpus.write_text(NEW_CHARS_CORPUS, encoding="utf-8")
    config = TrainConfig(epochs=1, batch_chars=500, lr=lr)
    options = tiny_options("cws", corpus, dev=SEG, parent=trained_cws.ref, min_gain=-100.0, train_config=config)  # gate: apart
    result = train(options, store, **QUIET)
    return store, result.ref


def test_fine_tuning_publishes_a_child_version_that_names_its_parent(trained_cws, tmp_path, tiny_options) -> None:
    store, ref = fine_tune(trained_cws, tmp_path, tiny_options, lr=2e-3)
    assert ref == "cws@2"
    assert store.resolve(ref).manifest["parent"] == "cws@1"


def test_a_version_tuned_on_a_dev_file_is_not_compared_with_one_tuned_on_a_split(trained_cws, tmp_path, tiny_options) -> None:
    """cws@1 was tuned on a share of its corpus: it may have trained on the --dev file's sentences."""
    store, ref = fine_tune(trained_cws, tmp_path, tiny_options, lr=2e-3)
    metrics = json.loads(store.resolve(ref).read_bytes("metrics.json"))
    gate = metrics["promotion"]
    assert not gate["promoted"] and store.resolve("cws").ref == "cws@1" and "gain" not in gate
    assert gate["reason"].startswith("it was fine-tuned from cws@1, tuned on another dev split")
    assert metrics["dev_split"] is None, "its weights may know the dev file through cws@1: no later version is compared with it"


def test_fine_tuning_grows_the_vocabularies_and_keeps_the_parents_rows(trained_cws, tmp_path, tiny_options) -> None:
    """With a zero learning rate nothing moves, so every parent row must be found unchanged at
    its token's place in the child, and the new characters must have rows of their own."""
    store, ref = fine_tune(trained_cws, tmp_path, tiny_options, lr=0.0)
    parent, child = Tagger.load(trained_cws.ref, trained_cws.store), Tagger.load(ref, store)  # the parent as stored

    assert child.chars.tokens[: len(parent.chars)] == parent.chars.tokens
    assert {"熊", "竹", "企", "鹅"} <= set(child.chars.tokens) - set(parent.chars.tokens)
    assert child.bigrams.tokens[: len(parent.bigrams)] == parent.bigrams.tokens
    assert child.train_words >= parent.train_words | {"熊猫", "企鹅"}
    assert child.config.tags[: len(parent.config.tags)] == parent.config.tags
    assert child.config.hidden == parent.config.hidden

    old, new = parent.network, child.network
    n_chars, n_bigrams = len(parent.chars), len(parent.bigrams)
    assert new.char_embed.weight.shape[0] == len(child.chars) > n_chars
    assert torch.equal(new.char_embed.weight[:n_chars], old.char_embed.weight)
    assert torch.equal(new.bigram_embed.weight[:n_bigrams], old.bigram_embed.weight)
    for key, tensor in old.lstm.state_dict().items():
        assert torch.equal(new.lstm.state_dict()[key], tensor), key
    n_tags = len(parent.config.tags)
    assert torch.equal(new.emit.weight[:n_tags], old.emit.weight)
    assert torch.equal(new.crf.transitions[:n_tags, :n_tags], old.crf.transitions)


def test_fine_tuning_for_another_task_is_refused(trained_cws, tmp_path, tiny_options) -> None:
    shutil.copytree(trained_cws.store.root, tmp_path / "store")
    store = Store(root=tmp_path / "store", shipped=tmp_path / "none")
    with pytest.raises(InputError, match="fine-tune"):
        train(tiny_options("pos", CORPORA / "tiny.pos.txt", parent=trained_cws.ref), store, **QUIET)
    assert [info.versions for info in store.list()] == [[1]]


def test_stored_metrics_record_the_training_configuration(trained_cws) -> None:
    metrics = json.loads((trained_cws.store.root / "cws" / "1" / "metrics.json").read_text())
    assert metrics["train"]["epochs"] == 2 and metrics["train"]["seed"] == 1
    assert 1 <= metrics["best_epoch"] <= metrics["epochs_run"] == 2
    assert set(metrics["dev"]) >= {"precision", "recall", "f1", "oov_recall", "sentences", "chars"}


@pytest.mark.parametrize("labels", ["keep", "replace"])
def test_fine_tuning_on_new_entity_types_grows_or_replaces_the_label_set(labels, tiny_options, make_store) -> None:
    """A corpus with types the parent never saw (NAME, EDU) adds them to the parent's tags, or
    with `replace` becomes the whole tag set; a tag both share (ORG) starts from the parent's
    weights either way (zero learning rate: nothing moves)."""
    store = make_store()
    parent_ref = train(tiny_options("ner", CORPORA / "tiny.bio", train_config=TrainConfig(epochs=1, batch_chars=500)), store, **QUIET).ref
    frozen = TrainConfig(epochs=1, batch_chars=500, lr=0.0)
    options = tiny_options("ner", CORPORA / "tiny.bmes", dev=CORPORA / "tiny.jsonl", parent=parent_ref, labels=labels,
                           train_config=frozen)
    child_ref = train(options, store, **QUIET).ref
    parent, child = Tagger.load(parent_ref, store), Tagger.load(child_ref, store)

    new_types = {"NAME", "EDU"}
    child_types = {tag.split("-", 1)[1] for tag in child.config.tags if "-" in tag}
    parent_types = {tag.split("-", 1)[1] for tag in parent.config.tags if "-" in tag}
    assert new_types <= child_types
    assert (parent_types <= child_types) if labels == "keep" else ("PER" not in child_types)
    old_row, new_row = parent.config.tags.index("B-ORG"), child.config.tags.index("B-ORG")
    assert torch.equal(child.network.emit.weight[new_row], parent.network.emit.weight[old_row])


@pytest.mark.parametrize(("min_gain", "active"), [(-100.0, "cws@2"), (100.0, "cws@1")])
def test_a_fine_tuned_version_becomes_active_only_if_it_passes_the_gate(min_gain, active, trained_cws, tmp_path, tiny_options) -> None:
    shutil.copytree(trained_cws.store.root, tmp_path / "store")
    store = Store(root=tmp_path / "store", shipped=tmp_path / "none")
    one_epoch = TrainConfig(epochs=1, batch_chars=500)
    options = tiny_options("cws", SEG, parent="cws@1", min_gain=min_gain, train_config=one_epoch)  # cws@1's dev split
    result = train(options, store, **QUIET)
    gate = result.metrics["promotion"]
    assert result.ref == "cws@2" and store.resolve("cws").ref == active
    assert gate["promoted"] == (active == "cws@2") and gate["active"] == "cws@1"
    assert gate["gain"] == round(gate["dev_f1"] - gate["active_dev_f1"], 2)
    assert json.loads(store.resolve("cws@2").read_bytes("metrics.json"))["promotion"] == gate


def test_a_model_trained_from_scratch_under_a_taken_name_must_beat_the_active_one(trained_cws, tmp_path, tiny_options) -> None:
    """Leaving out --name names the model after its task, the shipped model's name: the gate
    compares it with the version the name answers with now, not only with a --from parent."""
    shutil.copytree(trained_cws.store.root, tmp_path / "store")
    store = Store(root=tmp_path / "store", shipped=tmp_path / "none")
    untrained = TrainConfig(epochs=1, batch_chars=500, lr=0.0)
    result = train(tiny_options("cws", SEG, train_config=untrained), store, **QUIET)
    gate = result.metrics["promotion"]
    assert result.ref == "cws@2" and gate["active"] == "cws@1" and gate["gain"] <= 0  # equal on the one dev sentence: no gain
    assert not gate["promoted"] and store.resolve("cws").ref == "cws@1"


def test_a_version_whose_labels_differ_from_the_active_ones_is_stored_inactive(tiny_options) -> None:
    """Nothing compares them, so nothing shows the new one is better: a run that left out
    --name must not replace the shipped model of its task unseen."""
    active = random_tagger(task="ner")
    active.ref = "ner@1"
    tags = ["O", "B-GPE", "I-GPE", "E-GPE", "S-GPE"]
    gate = promotion(tiny_options("ner", CORPORA / "tiny.bio"), {"ratio": 0.05}, active, {"ratio": 0.05}, [], 22.2, tags)
    assert not gate["promoted"] and gate["reason"].startswith("its label set differs from ner@1's, so they could not be compared")


def test_a_run_on_a_grown_corpus_with_the_active_ones_dev_ratio_is_compared(trained_cws, tmp_path, tiny_options) -> None:
    """A sentence keeps its side of the split as the corpus grows: cws@1 never trained on this run's dev sentences."""
    store = copy_of(trained_cws, tmp_path)
    grown = tmp_path / "grown.seg.txt"
    grown.write_text(SEG.read_text(encoding="utf-8") + NEW_CHARS_CORPUS, encoding="utf-8")
    result = train(tiny_options("cws", grown, train_config=TrainConfig(epochs=1, batch_chars=500)), store, **QUIET)
    gate = result.metrics["promotion"]
    assert result.metrics["dev_split"] == trained_cws.metrics["dev_split"] == {"ratio": 0.05}
    assert gate["active"] == "cws@1" and gate["gain"] == round(gate["dev_f1"] - gate["active_dev_f1"], 2)


@pytest.mark.parametrize("active_split", [{"ratio": 0.1}, None])  # None: a shipped version, or one trained before the record
def test_a_version_whose_active_one_was_tuned_on_another_dev_split_is_stored_inactive(active_split, tiny_options) -> None:
    """The active one may have trained on this run's dev sentences, and would score too high on them."""
    active = random_tagger(task="ner")
    active.ref = "ner@1"
    gate = promotion(tiny_options("ner", CORPORA / "tiny.bio"), {"ratio": 0.05}, active, active_split, [], 22.2, active.config.tags)
    assert not gate["promoted"] and "gain" not in gate
    tuned = "was tuned on another dev split" if active_split else "records no dev split (it was tuned, or fine-tuned from a model tuned, on a split of its own, as the shipped models were)"
    assert gate["reason"] == (
        f"the active ner@1 {tuned}: it may have trained on this run's dev sentences, "
        "so they could not be compared fairly: activate it yourself (zhtag models activate NAME@VERSION)"
    )


def test_a_version_fine_tuned_from_one_tuned_on_another_dev_split_is_stored_inactive(tiny_options) -> None:
    """Its weights may have learnt this run's dev sentences through its parent (a shipped model
    tuned on its own split), and would score too high on them, against an active version tuned
    on this split as much as against any other."""
    active = random_tagger(task="ner")
    active.ref = "ner@2"
    options = tiny_options("ner", CORPORA / "tiny.bio", parent="ner@1")
    gate = promotion(options, None, active, {"ratio": 0.05}, [], 22.2, active.config.tags)
    assert not gate["promoted"] and "gain" not in gate
    assert gate["reason"].startswith("it was fine-tuned from ner@1, tuned on another dev split")


def test_the_first_version_of_a_name_is_promoted_whatever_its_dev_split(tiny_options) -> None:
    gate = promotion(tiny_options("ner", CORPORA / "tiny.bio", dev_ratio=0.3), None, None, None, [], 22.2, ["O"])
    assert gate["promoted"] and gate["reason"] == "no version of its name is active"


@pytest.mark.parametrize("name", ["../evil", "a/b", "cws@2", ""])
def test_a_name_that_cannot_be_stored_is_refused_before_training(name, tmp_path, tiny_options, make_store) -> None:
    store = make_store()
    with pytest.raises(InputError, match="invalid model name"):
        train(tiny_options("cws", SEG, name=name), store, **QUIET)
    assert not (tmp_path / "evil").exists() and not store.root.exists()


def test_a_gazetteer_prefix_no_jieba_tag_begins_with_is_refused(tiny_options, make_store) -> None:
    with pytest.raises(InputError, match="--gazetteers zz: no word of jieba's dictionary has a tag beginning so"):
        train(tiny_options("ner", CORPORA / "tiny.bio", model_overrides={"gazetteers": ["nr", "zz"]}), make_store(), **QUIET)


def test_a_new_models_sizes_beside_a_parent_are_refused_before_the_parent_loads(tiny_options, make_store) -> None:
    """A model fine-tuned from another keeps its parent's network, so the sizes would change
    nothing: refused from Python as from the CLI, before the (missing) parent is looked up."""
    options = tiny_options("cws", SEG, parent="no-such-model", model_overrides={"hidden": 8}, word_vectors=True)
    with pytest.raises(InputError, match="--hidden, --word-vectors shape a new model; one fine-tuned --from no-such-model keeps its parent's"):
        train(options, make_store(), **QUIET)


def test_replacing_labels_without_a_parent_is_refused(tiny_options, make_store) -> None:
    with pytest.raises(InputError, match="--labels replace goes with --from"):
        train(tiny_options("ner", CORPORA / "tiny.bio", labels="replace"), make_store(), **QUIET)


@pytest.mark.parametrize("active", [True, False], ids=["active", "stored-inactive"])
def test_a_name_holding_models_of_another_task_is_refused_before_training(active, trained_cws, tmp_path, tiny_options) -> None:
    """Whether or not one of its versions is active: a name answers for one task."""
    shutil.copytree(trained_cws.store.root, tmp_path / "store")
    if not active:
        (tmp_path / "store" / "cws" / "ACTIVE").unlink()
    store = Store(root=tmp_path / "store", shipped=tmp_path / "none")
    with pytest.raises(InputError, match="'cws' names cws models; give this ner model another --name"):
        train(tiny_options("ner", CORPORA / "tiny.bio", name="cws"), store, **QUIET)
    assert store.resolve("cws@1").ref == "cws@1" and not (store.root / ".training" / "cws").exists()


def test_without_auto_promote_a_new_version_is_stored_inactive(trained_cws, tmp_path, tiny_options) -> None:
    shutil.copytree(trained_cws.store.root, tmp_path / "store")
    store = Store(root=tmp_path / "store", shipped=tmp_path / "none")
    one_epoch = TrainConfig(epochs=1, batch_chars=500)
    options = tiny_options("cws", SEG, dev=OTHER_SEG, parent="cws@1", auto_promote=False, train_config=one_epoch)
    assert train(options, store, **QUIET).ref == "cws@2"
    assert store.resolve("cws").ref == "cws@1"


def test_a_fine_tuned_model_learns_new_entity_types_and_still_finds_the_old_ones(tmp_path, make_store) -> None:
    """The parent learns PER/LOC from news-like sentences; fine-tuned on résumé sentences
    (NAME, EDU, ORG) it finds NAME there and still finds PER and LOC where it did."""
    store = make_store()
    cli = CORPORA.parent / "cli" / "train.bio"
    parent = TrainOptions(task="ner", train=cli, dev=CORPORA / "tiny.bio", name="news", model_overrides={"hidden": 16},
                          train_config=TrainConfig(epochs=30, patience=30, batch_chars=500))
    parent_ref = train(parent, store, **QUIET).ref
    child = TrainOptions(task="ner", train=CORPORA / "tiny.bmes", dev=CORPORA / "tiny.bio", parent=parent_ref, name="resume",
                         train_config=TrainConfig(epochs=15, patience=30, batch_chars=500))
    tagger = Tagger.load(train(child, store, **QUIET).ref, store)

    def entities(text: str) -> set[tuple[str, str]]:
        return {(text[s.start : s.end], s.label) for s in tagger.tag([text])[0]}

    assert {("王小明", "PER"), ("北京", "LOC")} <= entities("王小明在北京工作。")
    assert ("张伟", "NAME") in entities("张伟，硕士学历。")


def test_made_up_user_dictionaries_flag_real_words_and_follow_the_seed() -> None:
    sentences = [sentence_from_words(["北京", "大学", "的", "学生们"]), sentence_from_words(["今天", "天气", "很", "好"])] * 50
    encoded = Encoder(Vocab([]), Vocab([]), Lexicon(), user_flags=True).encode([s.text for s in sentences])
    words = UserWords(sentences, encoded)
    first = words.sample(np.random.default_rng(1))
    assert (first == words.sample(np.random.default_rng(1))).all()
    assert not (first == words.sample(np.random.default_rng(2))).all()
    separators = encoded.starts + encoded.lengths
    assert first[separators].sum() == 0 and first[-1].sum() == 0, "only characters are flagged"
    with_any = [bool(first[s : s + n].any()) for s, n in zip(encoded.starts, encoded.lengths)]
    assert 0.1 < sum(with_any) / len(with_any) < 0.6, "some sentences have a dictionary, most do not"


def test_a_dry_run_reports_as_a_real_run_does_and_says_it_is_a_dry_run(trained_cws, tiny_options, make_store) -> None:
    """A script reads both: the scores sit under "dev", the inputs under their own keys."""
    result = train(tiny_options("cws", SEG, dry_run=True), make_store(), **QUIET)
    assert result.metrics["dry_run"] is True and result.metrics["loss"] > 0
    assert set(result.metrics["dev"]) == set(trained_cws.metrics["dev"])
    inputs = ("train", "dev_split", "embeddings", "raw")
    assert {key: result.metrics[key] for key in inputs} == {key: trained_cws.metrics[key] for key in inputs}


def texts(sentences: list) -> set[str]:
    return {s.text for s in sentences}


def test_a_sentence_keeps_its_side_of_the_dev_split_as_the_corpus_grows() -> None:
    """The promotion gate scores the active version on this run's dev set: a sentence that
    moved from its training side to dev would inflate its score."""
    corpus = [sentence_from_words([f"第{i}句", "话"]) for i in range(400)]
    _, dev_before = split_dev(corpus[:300], 0.05)
    _, dev_after = split_dev(corpus, 0.05)
    assert texts(dev_after) & texts(corpus[:300]) == texts(dev_before)
    assert 5 <= len(dev_after) <= 40, "about 5% of 400"


def test_the_seed_does_not_move_the_dev_split(tmp_path, tiny_options, make_store, monkeypatch) -> None:
    corpus = tmp_path / "corpus.seg.txt"
    corpus.write_text("".join(f"第{i}句  话  。\n" for i in range(60)), encoding="utf-8")
    scored: list[set[str]] = []
    monkeypatch.setattr(train_module, "dev_scores", lambda tagger, dev: scored.append(texts(dev)) or {"f1": 0.0})
    for seed in (1, 2):
        options = tiny_options("cws", corpus, dry_run=True, train_config=TrainConfig(seed=seed, batch_chars=500))
        train(options, make_store(f"s{seed}"), **QUIET)
    assert scored[0] == scored[1] and scored[0]


def test_copies_of_a_sentence_fall_on_one_side_of_the_dev_split() -> None:
    """A copy on the training side would be a dev sentence the model trained on."""
    corpus = [sentence_from_words([f"第{i}句"]) for i in range(200)] * 2
    train_side, dev = split_dev(corpus, 0.1)
    assert dev and not texts(dev) & texts(train_side)
    assert len(dev) == 2 * len(texts(dev))


@pytest.mark.parametrize("ratio", [0.01, 0.99])
def test_the_dev_split_leaves_a_sentence_on_each_side_whatever_the_ratio(ratio: float) -> None:
    corpus = [sentence_from_words([word]) for word in ("今天", "明天", "后天")]
    train_side, dev = split_dev(corpus, ratio)
    assert train_side and dev and texts(train_side) | texts(dev) == texts(corpus)


def test_a_corpus_of_one_sentence_and_its_copies_cannot_be_split() -> None:
    with pytest.raises(InputError, match="need at least 2 different sentences to split off a dev set, got 1; give a dev corpus"):
        split_dev([sentence_from_words(["今天", "好"])] * 3, 0.5)


@pytest.mark.parametrize("dev", ["same path", "copy"])
def test_a_dev_corpus_that_is_the_training_corpus_is_refused(dev: str, tmp_path, tiny_options, make_store) -> None:
    copy = tmp_path / "copy.seg.txt"
    shutil.copy(SEG, copy)
    store = make_store()
    with pytest.raises(InputError, match="holds the same text as --train .*: dev must be sentences the model does not train on"):
        train(tiny_options("cws", SEG, dev=SEG if dev == "same path" else copy), store, **QUIET)
    assert store.list() == []


def test_a_dev_corpus_mostly_of_training_sentences_is_refused(tmp_path, tiny_options, make_store) -> None:
    """A copy of the training file with a line added is another file, but its scores would be
    of sentences the model trained on."""
    dev = tmp_path / "dev.seg.txt"
    dev.write_text(SEG.read_text(encoding="utf-8") + "新  的  一  句  话\n", encoding="utf-8")
    store = make_store()
    with pytest.raises(InputError, match=r"^\d+% of the text of --dev .*dev.seg.txt is training sentences \(\d+ of its \d+ distinct sentences\)"):
        train(tiny_options("cws", SEG, dev=dev), store, **QUIET)
    assert store.list() == []


def test_a_dev_corpus_sharing_only_headings_and_sign_offs_with_training_is_taken() -> None:
    """Real corpora repeat short lines (（完）, a date line): by length, once each, they weigh little."""
    train = [sentence_from_words(["（", "完", "）"]), sentence_from_words(["今天", "天气", "很", "好"])]
    dev = [sentence_from_words(["明天", "我们", "去", "公园", "散步", "吧"]), sentence_from_words(["（", "完", "）"])] * 6
    check_dev_sentences_apart(train, dev, "--dev d.txt")
    with pytest.raises(InputError, match=r"^50% of the text of --dev d.txt is training sentences \(1 of its 2 distinct sentences\)"):
        check_dev_sentences_apart(train, [sentence_from_words(["今天", "天气", "很", "好"]), sentence_from_words(["后天", "天气", "也", "好"])], "--dev d.txt")


@pytest.mark.parametrize("ratio", [0.0, 1.0, -0.1, 1.5])
def test_an_out_of_range_dev_ratio_is_refused_before_the_corpus_is_read(ratio: float, tmp_path, tiny_options, make_store) -> None:
    with pytest.raises(InputError, match=f"--dev-ratio must be between 0 and 1, got {ratio}"):
        train(tiny_options("cws", tmp_path / "not-read.txt", dev_ratio=ratio), make_store(), **QUIET)


def test_dev_labels_the_model_will_not_learn_are_warned_of_before_the_first_epoch(tiny_options, make_store) -> None:
    lines: list[str] = []
    one_epoch = TrainConfig(epochs=1, batch_chars=500)
    options = tiny_options("ner", CORPORA / "tiny.bio", dev=CORPORA / "tiny.bmes", train_config=one_epoch)
    train(options, make_store(), log=lines.append)
    warning = ("warning: the dev set's entity types CONT, EDU, NAME, RACE, TITLE are not among those ner learns (LOC, ORG, PER): "
               "they count as missed")
    assert warning in lines
    assert lines.index(warning) < min(i for i, line in enumerate(lines) if line.startswith("epoch 1"))


@pytest.mark.parametrize(("labels", "warned"), [
    ("keep", []),
    ("replace", ["the dev set's entity types LOC, PER are not among those ner learns"]),
])
def test_a_fine_tuned_model_learns_its_parents_labels_only_where_it_keeps_them(labels, warned, tiny_options, make_store) -> None:
    store = make_store()
    one_epoch = TrainConfig(epochs=1, batch_chars=500)
    parent = train(tiny_options("ner", CORPORA / "tiny.bio", train_config=one_epoch), store, **QUIET).ref
    lines: list[str] = []
    options = tiny_options("ner", CORPORA / "tiny.bmes", dev=CORPORA / "tiny.jsonl", parent=parent, labels=labels, dry_run=True)
    train(options, store, log=lines.append)
    warnings = [line for line in lines if line.startswith("warning:")]
    assert len(warnings) == len(warned) and all(part in line for part, line in zip(warned, warnings))


def test_a_dev_corpus_sharing_no_entity_type_with_the_model_is_refused(tiny_options, make_store) -> None:
    """Its F1 would be 0 at every epoch, and early stopping would keep the first."""
    cluener = CORPORA / "tiny_cluener.json"
    store = make_store()
    types = r"\(company, movie, name, position, scene\)"
    refusal = rf"^--dev {cluener}: its entity types {types} and those ner learns \(LOC, ORG, PER\) share none"
    with pytest.raises(InputError, match=refusal):
        train(tiny_options("ner", CORPORA / "tiny.bio", dev=cluener), store, **QUIET)
    assert store.list() == []
