"""Resumable training state, one directory per epoch so a kill never leaves a mixed state.

`<dir>/epoch-N/` holds the tagger files after epoch N, the best weights so far, the optimizer
tensors (safetensors; its scalar settings as JSON), the progress counters and the run it
belongs to (its options and files' contents, as `model.train` fingerprints them), so a resume
can refuse to continue it with another corpus or other sizes. It is written into a fresh
hidden directory, synced, and renamed (`data.atomic`), so the highest `epoch-N` is always
complete, even after a power loss.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from collections.abc import Collection
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from data.atomic import fsync_dir, staged_dir
from data.errors import CheckpointError, InputError
from model.tagger import WEIGHTS, Tagger

if TYPE_CHECKING:
    from model.train import Trainer

BEST, OPTIMIZER, OPTIMIZER_META, PROGRESS = "best.safetensors", "optimizer.safetensors", "optimizer.json", "progress.json"
TRAINING = ".training"  # the store's folder of runs in progress, one folder each
RUN = "run.json"  # what identifies the run that saved the state
CONTENTS = " (contents)"  # ends the key of a file's contents in a run's record: "train (contents)"
NOT_GIVEN = "not given"  # how a refusal shows an option the run was not given (None in its record)
RETIRED = frozenset({"extra"})  # run-record keys an older zhtag wrote (TrainConfig.extra) that no option sets now


@dataclass
class Progress:
    epoch: int = 0  # epochs completed
    best_f1: float = -1.0
    best_epoch: int = 0
    stale: int = 0  # epochs since the best
    seconds: float = 0.0  # training time of the completed epochs, dev evaluation excluded
    curve: list[dict[str, float]] = field(default_factory=list)  # per epoch: loss and dev F1

    def advance(self, scores: dict[str, Any], improved: bool, seconds: float, loss: float) -> None:
        self.epoch += 1
        self.seconds += seconds
        self.curve.append({"epoch": self.epoch, "loss": round(loss, 5), "dev_f1": scores["f1"]})
        if improved:
            self.best_f1, self.best_epoch, self.stale = scores["f1"], self.epoch, 0
        else:
            self.stale += 1

    @classmethod
    def from_json(cls, content: bytes) -> "Progress":
        """The counters a saved epoch holds; keys an older zhtag saved and this one dropped
        (`best_scores`) are left out, so its states still resume."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in json.loads(content).items() if key in known})


def optimizer_files(optimizer: torch.optim.Optimizer) -> dict[str, bytes]:
    state = optimizer.state_dict()
    tensors = {f"{i}.{k}": v for i, s in state["state"].items() for k, v in s.items()}
    meta = {"param_groups": state["param_groups"], "keys": {str(i): list(s) for i, s in state["state"].items()}}
    return {OPTIMIZER: save_tensors(tensors), OPTIMIZER_META: json.dumps(meta).encode()}


def load_optimizer(optimizer: torch.optim.Optimizer, tensors: bytes, meta: bytes) -> None:
    flat, info = load_tensors(tensors), json.loads(meta)
    state = {int(i): {k: flat[f"{i}.{k}"] for k in keys} for i, keys in info["keys"].items()}
    optimizer.load_state_dict({"state": state, "param_groups": info["param_groups"]})


def resume_progress(trainer: "Trainer", files: dict[str, bytes]) -> Progress:
    """Put the optimizer back as it was after a saved epoch; the progress counters then."""
    load_optimizer(trainer.optimizer, files[OPTIMIZER], files[OPTIMIZER_META])
    return Progress.from_json(files[PROGRESS])


class TrainState:
    def __init__(self, directory: Path, run: dict[str, str | None] | None = None) -> None:
        """`run` identifies the run that saves here (what a resume must not change, option by
        option); a state only looked at needs none."""
        self.dir, self.run = directory, run or {}

    @classmethod
    def in_store(cls, root: Path, name: str, run: dict[str, str | None] | None = None) -> "TrainState":
        """The state of the run training `name` into the store at `root`, where the CLI, the
        job worker and the training loop all look for it."""
        return cls(root / TRAINING / name, run)

    def saved_epoch(self) -> int | None:
        """The last epoch whose state is complete, what a resume continues after; None if none."""
        latest = self._latest()
        return int(latest.name.split("-")[1]) if latest is not None else None

    def _latest(self) -> Path | None:
        epochs = sorted(
            (int(p.name.split("-")[1]), p) for p in self.dir.glob("epoch-*") if p.name.split("-")[1].isdigit()
        )
        return epochs[-1][1] if epochs else None

    def _latest_or_fail(self) -> Path:
        latest = self._latest()
        if latest is None:
            raise CheckpointError(f"nothing to resume: no training state in {self.dir}")
        return latest

    def _read(self, name: str) -> bytes:
        return (self._latest_or_fail() / name).read_bytes()

    def latest_files(self) -> dict[str, bytes]:
        """Every file of the last completed epoch: the tagger's, the optimizer's and the progress."""
        return {p.name: p.read_bytes() for p in self._latest_or_fail().iterdir()}

    def resumable(self) -> dict[str, bytes]:
        """The files of the last completed epoch, if it was saved by the same run as `run`:
        continued with another corpus or other sizes, one model would mix two runs. Refused in
        one line naming each option that differs."""
        files = self.latest_files()
        if RUN not in files:
            raise CheckpointError(f"the training state in {self.dir} does not record the run that saved it (an older zhtag): "
                                  "train afresh without --resume")
        saved, run = _comparable(json.loads(files[RUN]), self.run)
        keys = sorted(saved.keys() | run.keys())
        changes = [_change(key, saved.get(key), run.get(key)) for key in keys if saved.get(key) != run.get(key)]
        if changes:
            raise InputError(f"cannot resume {self.dir.name}: it was started with other {', '.join(changes)}; "
                             "give the same options and files, or train afresh without --resume")
        return files

    def save(self, trainer: "Trainer", progress: Progress, best: bool) -> None:
        files = trainer.tagger.files()
        files[BEST] = files[WEIGHTS] if best else self._read(BEST)
        files.update(optimizer_files(trainer.optimizer))
        files[PROGRESS] = json.dumps(asdict(progress)).encode()
        files[RUN] = json.dumps(self.run, ensure_ascii=False).encode()
        previous, target = self._latest(), self.dir / f"epoch-{progress.epoch}"
        try:
            self._write(files, target)
        except OSError as err:  # a full disk, a file-size limit: say where; `_write` leaves no half-written epoch
            raise CheckpointError(f"cannot save epoch {progress.epoch}'s training state in {self.dir}: {err.strerror or err}") from err
        if previous is not None and previous != target:
            shutil.rmtree(previous)

    def _write(self, files: dict[str, bytes], target: Path) -> None:
        """`files` as the directory `target`, whole or not at all: filled and synced out of
        sight, then renamed into place and the rename synced, as `LocalRoot.publish` stores a
        version. A fresh temp name keeps two runs of one name from clearing each other's."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fsync_dir(self.dir.parent)  # the run's folder itself, made by the first epoch's save
        with staged_dir(self.dir, files) as tmp:
            fsync_dir(tmp)
            os.replace(tmp, target)

    def best_tagger(self, tagger: Tagger) -> Tagger:
        """`tagger` with the best epoch's weights loaded."""
        tagger.network.load_state_dict(load_tensors(self._read(BEST)))
        return tagger

    def clear(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


FORMAT = " format"  # a corpus's format in a run record ("train format"): as given, else as detected


def _comparable(saved: dict[str, str | None], run: dict[str, str | None]) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """The saved run record and this run's, as far as both say the same things. A record
    holds `format` as the option was given (None: detected) and, since this zhtag, each
    corpus's format as read (`train format`): those are compared, so a run resumed with
    --format as it detected the file continues. A record from before says only `format`,
    which is then compared as it was. Keys no option sets any more (`RETIRED`) are dropped."""
    saved = _without(saved, RETIRED)
    read = {key for key in run if key.endswith(FORMAT)}
    if read & saved.keys():
        return _without(saved, {"format"}), _without(run, {"format"})
    return saved, _without(run, read)


def _without(record: dict[str, str | None], keys: Collection[str]) -> dict[str, str | None]:
    return {key: value for key, value in record.items() if key not in keys}


def _change(key: str, then: str | None, now: str | None) -> str:
    """An option that differs, with both values; a file's contents (a digest) by name alone."""
    return key if key.endswith(CONTENTS) else f"{key} ({_shown(then)}, now {_shown(now)})"


def _shown(value: str | None) -> str:
    return NOT_GIVEN if value is None else value


def sha256_file(path: Path) -> str:
    """The file's digest. A training run names its corpus in its fingerprint, its dev check,
    its dev split and its version's record: each file is read once while it is unchanged."""
    stat = os.stat(path)
    return _sha256(os.path.realpath(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _sha256(path: str, mtime_ns: int, size: int) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
