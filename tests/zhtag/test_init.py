"""Specification of zhtag/__init__.py: the public names, and an import that loads nothing heavy."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import zhtag

ROOT = Path(__file__).parents[2]


def test_the_public_names_are_pinned() -> None:
    assert sorted(zhtag.__all__) == [
        "CheckpointError",
        "CorpusError",
        "Entity",
        "IgnoredArgumentWarning",
        "InputError",
        "ModelNotFound",
        "PosToken",
        "Tagger",
        "Token",
        "ZhtagError",
        "add_word",
        "cut",
        "cut_for_search",
        "del_word",
        "lcut",
        "lcut_for_search",
        "load_userdict",
        "posseg",
        "setLogLevel",
        "tokenize",
    ]
    assert all(hasattr(zhtag, name) for name in zhtag.__all__)


def test_errors_are_zhtags_own_tree() -> None:
    assert all(issubclass(getattr(zhtag, name), zhtag.ZhtagError) for name in ("CheckpointError", "CorpusError", "InputError", "ModelNotFound"))


def test_importing_zhtag_loads_neither_torch_nor_jieba_until_the_first_call(empty_store: Path) -> None:
    script = (
        "import json, sys, zhtag\n"
        "before = sorted(m for m in ('torch', 'jieba', 'model.tagger') if m in sys.modules)\n"
        "words = zhtag.lcut('我爱北京')\n"
        "print(json.dumps([before, 'torch' in sys.modules, words]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [[], True, ["我", "爱", "北京"]]
