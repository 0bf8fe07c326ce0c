"""`torchrun --nproc-per-node 2 --no-python zhtag train ...` on CPU: two gloo processes train
one model, rank 0 alone writes it, it matches a single process's, `--resume` finishes a
killed distributed run with the very model an uninterrupted one makes, and ranks started with
other options or other files are refused together before training."""
from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
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
    for pid in [process.pid, *descendants(process.pid)]:
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
    """The fixture's sentences 100 times, each copy numbered: a sentence's side of the dev
    split depends on its text, so unnumbered copies would make a dev set of one sentence."""
    path = tmp_path_factory.mktemp("corpus") / "corpus.pos.txt"
    lines = (FIXTURES / "train.pos.txt").read_text(encoding="utf-8").splitlines()
    path.write_text("".join(f"第{i}/m  {line}\n" for i in range(100) for line in lines if line.strip()), encoding="utf-8")
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


def test_ranks_end_when_torchrun_is_killed_and_publish_nothing(corpus: Path, tmp_path: Path) -> None:
    """torchrun starts each rank in a session of its own: killing its process group alone,
    as a user stopping the run would, must still end them."""
    run = launch(tmp_path, corpus, 2)
    wait_for(tmp_path / ".training" / "d" / "epoch-1", run)
    ranks = descendants(run.pid)
    run.send_signal(signal.SIGKILL)
    run.wait()
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in ranks) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ranks and not any(alive(pid) for pid in ranks)
    assert store_at(tmp_path, tmp_path).list() == [], "a stopped run publishes nothing"


def descendants(pid: int) -> list[int]:
    found, index = [pid], 0
    while index < len(found):
        children = Path(f"/proc/{found[index]}/task/{found[index]}/children")
        found += [int(child) for child in children.read_text().split()] if children.exists() else []
        index += 1
    return found[1:]


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for whoever inherited it to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize(("lines", "extra", "named"), [
    ((100, 100), "--epochs $((2 + RANK))", "epochs"),
    ((100, 60), "", "train (contents)"),  # one path, another file on each machine
    ((100, 0), "", "train (contents), train format"),  # no file on one of them, so no format read
])
def test_ranks_started_differently_stop_together_naming_the_difference(
    corpus: Path, tmp_path: Path, lines: tuple[int, int], extra: str, named: str
) -> None:
    text = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
    for rank, count in enumerate(lines):
        (tmp_path / f"rank{rank}").mkdir()
        if count:
            (tmp_path / f"rank{rank}" / "corpus.pos.txt").write_text("".join(text[:count]), encoding="utf-8")
    command = f"cd {tmp_path}/rank$RANK && exec {shlex.join([zhtag_command(), *TRAIN, '--train', 'corpus.pos.txt'])} {extra}"
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "--no-python", "bash", "-c"]
    store = tmp_path / "store"
    with log_of(store).open("ab") as log:
        run = zhtag(store, command, launcher=torchrun, stderr=log)
    run.communicate(timeout=300)
    said = log_of(store).read_text(encoding="utf-8", errors="replace")
    assert run.returncode != 0
    assert said.count(f"zhtag: error: the ranks of this run differ in {named}:") == 2, said[-3000:]
    assert store_at(store, tmp_path).list() == []
