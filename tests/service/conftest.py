"""Tiny cws, pos and ner models trained once for the service tests, in their own store."""
from __future__ import annotations

import io
import shutil
import socket
from pathlib import Path

import pytest

from service.cli import main

FIXTURES = Path(__file__).parents[1] / "fixtures" / "cli"
TINY = ["--hidden", "8", "--epochs", "2", "--dev-ratio", "0.25"]


def run(*argv: str) -> tuple[int, str]:
    """Run the CLI in-process; (exit code, stdout)."""
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store root holding tcws@1, tpos@1 and tner@1."""
    root = tmp_path_factory.mktemp("store")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZHTAG_STORE", str(root))
        for task, corpus in (("cws", "train.pos.txt"), ("pos", "train.pos.txt"), ("ner", "train.bio")):
            code, out = run("train", "--task", task, "--train", str(FIXTURES / corpus), "--name", f"t{task}", *TINY)
            assert code == 0, out
    return root


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def damaged_first_version(store: Path, tmp_path: Path) -> Path:
    """`two_versions` with one byte of tcws@1's weights changed: its checksum fails."""
    root = two_versions(store, tmp_path)
    with (root / "tcws" / "1" / "weights.safetensors").open("r+b") as weights:
        weights.seek(-1, 2)
        weights.write(b"\x00" if weights.read(1) != b"\x00" else b"\x01")
    return root


def two_versions(store: Path, tmp_path: Path) -> Path:
    """A store root holding tcws@1 (active) and an identical tcws@2."""
    root = tmp_path / "store"
    shutil.copytree(store / "tcws", root / "tcws")
    shutil.copytree(store / "tcws" / "1", root / "tcws" / "2")
    manifest = root / "tcws" / "2" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"version": 1', '"version": 2'))
    return root
