"""Tiny cws, pos and ner models trained once for the service tests, in their own store."""
from __future__ import annotations

import io
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
