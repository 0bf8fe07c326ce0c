"""One training job in a process of its own: `python -m service.jobworker STORE WORKDIR JOB_ID`
(the store's location, a path or URL, and its local working directory).

It trains through the same `model.train.train` as `zhtag train`, reports every epoch to the
job table and records its own outcome, so a job finishes properly even if the server that
started it has gone. A process of its own keeps training's CPU time and memory off the server's
event loop and GIL.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import torch

from data.errors import ZhtagError
from model.config import TrainConfig
from model.store import Store, parse_ref
from model.train import TrainOptions, train
from model.trainstate import Progress, TrainState
from service.jobs import JobStore, jobs_path


def options_from_spec(spec: dict[str, Any], root: Path) -> TrainOptions:
    """The `zhtag train` options a job's spec stands for."""
    name = spec["name"]
    resume = bool(spec.get("resume")) and TrainState.in_store(root, name).saved_epoch() is not None
    return TrainOptions(
        task=spec["task"], train=Path(spec["train_file"]), dev=Path(spec["dev_file"]) if spec.get("dev_file") else None,
        parent=spec.get("base"), labels=spec.get("labels", "keep"), name=name,
        format=spec.get("format"), skip_bad=spec.get("skip_bad", False), resume=resume,
        auto_promote=spec.get("auto_promote", True), min_gain=spec.get("min_gain", 0.0),
        raw=Path(spec["raw_file"]) if spec.get("raw_file") else None, teacher=spec.get("teacher"),
        train_config=TrainConfig(epochs=spec.get("epochs", TrainConfig.epochs)),
    )


def run(store: Store, job_id: str) -> int:
    root = store.root
    jobs = JobStore(jobs_path(root))
    spec = jobs.get(job_id).spec
    torch.set_num_threads(spec.get("threads", 1))
    options = options_from_spec(spec, root)

    def report(progress: Progress) -> None:
        last = progress.curve[-1]
        jobs.report(job_id, {
            "epoch": progress.epoch, "epochs": options.train_config.epochs, "loss": last["loss"], "dev_f1": last["dev_f1"],
            "best_dev_f1": progress.best_f1, "best_epoch": progress.best_epoch, "seconds": round(progress.seconds, 1),
            "curve": progress.curve,
        })

    try:
        result = train(options, store, log=lambda line: print(line, file=sys.stderr), on_epoch=report, before_save=lambda: jobs.publish(job_id))
    except ZhtagError as err:
        jobs.finish(job_id, "failed", error=str(err))
        return 1
    except Exception as err:
        jobs.finish(job_id, "failed", error=f"internal error: {type(err).__name__}: {err}")
        raise
    name, version = parse_ref(result.ref or "")
    jobs.finish(job_id, "succeeded", model={"name": name, "version": version}, metrics=result.metrics)
    return 0


if __name__ == "__main__":
    sys.exit(run(Store(sys.argv[1], workdir=Path(sys.argv[2])), sys.argv[3]))
