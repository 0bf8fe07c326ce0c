"""`torchrun --nproc-per-node 2 --no-python zhtag train ...` on CPU: two gloo processes train
one model, rank 0 alone writes it, it matches a single process's, and `--resume` finishes a
killed distributed run with the very model an uninterrupted one makes."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from model.distributed import World
from model.store import Store
from model.tagger import Tagger
from tests.service.conftest import FIXTURES
from tests.service.test_faults import CLI, wait_for, zhtag

TRAIN = ["train", "--task", "cws", "--name", "d", "--hidden", "8", "--epochs", "8", "--dev-ratio", "0.1", "--seed", "3"]


def zhtag_command() -> str:
    """The installed `zhtag` script beside this interpreter, as torchrun's --no-python runs it."""
    found = shutil.which("zhtag", path=str(Path(sys.executable).parent)) or shutil.which("zhtag")
    if found is None:
        pytest.skip("no zhtag script installed (pip install -e .)")
    return found


def launch(store: Path, corpus: Path, processes: int, *extra: str) -> subprocess.Popen:
    """The run, its stderr appended to `log_of(store)` for `finish` to show if it fails."""
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(processes), "--no-python", zhtag_command()]
    with log_of(store).open("ab") as log:
        return zhtag(store, *TRAIN, "--train", str(corpus), *extra, launcher=torchrun if processes > 1 else CLI, stderr=log)


def log_of(store: Path) -> Path:
    return store.parent / f"{store.name}.stderr.log"


def kill_9_all(process: subprocess.Popen) -> None:
    """SIGKILL torchrun and its workers at once, as a machine failing would: torchrun starts
    each worker in a session of its own, so they are found through /proc's child lists."""
    pids, index = [process.pid], 0
    while index < len(pids):
        children = Path(f"/proc/{pids[index]}/task/{pids[index]}/children")
        pids += [int(pid) for pid in children.read_text().split()] if children.exists() else []
        index += 1
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait()


def finish(process: subprocess.Popen, store: Path) -> list[dict]:
    out, _ = process.communicate(timeout=600)
    assert process.returncode == 0, log_of(store).read_text(encoding="utf-8", errors="replace")[-4000:]
    return [json.loads(line) for line in out.splitlines()]


def store_at(root: Path, tmp: Path) -> Store:
    return Store(root=root, shipped=tmp / "none")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "corpus.pos.txt"
    path.write_text((FIXTURES / "train.pos.txt").read_text(encoding="utf-8") * 100, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[Path, dict]]:
    """One uninterrupted run each with 1 and 2 processes: its store root and printed result."""
    results = {}
    for processes in (1, 2):
        root = tmp_path_factory.mktemp(f"store{processes}")
        (printed,) = finish(launch(root, corpus, processes), root)
        results[processes] = (root, printed)
    return results


def test_ranks_take_equal_shares_of_the_buckets_that_together_cover_them_all() -> None:
    batches = [[i] for i in range(7)]
    shares = [World(rank, 3).shard(batches) for rank in range(3)]
    assert [len(share) for share in shares] == [3, 3, 3], "every rank takes as many steps"
    assert sorted({b[0] for share in shares for b in share}) == list(range(7))
    assert World().shard(batches) == batches


def test_two_processes_write_exactly_one_version_that_tags(runs: dict, tmp_path: Path) -> None:
    root, printed = runs[2]
    assert printed["model"] == "d@1" and printed["processes"] == 2
    store = store_at(root, tmp_path)
    assert [(m.name, m.versions) for m in store.list()] == [("d", [1])]
    assert store.verify() == {"d@1": None}
    assert not any((root / ".training").iterdir()), "the training state is cleared once published"
    text = "今天天气很好"
    (spans,) = Tagger.load("d", store).tag([text])
    assert spans and "".join(text[s.start : s.end] for s in spans) == text


def test_two_processes_reach_the_dev_f1_of_one(runs: dict) -> None:
    one, two = runs[1][1]["dev"]["f1"], runs[2][1]["dev"]["f1"]
    assert one > 80 and abs(one - two) < 3


def test_resume_finishes_a_killed_distributed_run_with_the_uninterrupted_model(runs: dict, corpus: Path, tmp_path: Path) -> None:
    killed = launch(tmp_path, corpus, 2)
    wait_for(tmp_path / ".training" / "d" / "epoch-2", killed)
    kill_9_all(killed)
    assert store_at(tmp_path, tmp_path).list() == [], "a killed run publishes nothing"

    finish(launch(tmp_path, corpus, 2, "--resume"), tmp_path)
    weights = lambda root: store_at(root, tmp_path).resolve("d@1").read_bytes("weights.safetensors")  # noqa: E731
    assert weights(tmp_path) == weights(runs[2][0])
