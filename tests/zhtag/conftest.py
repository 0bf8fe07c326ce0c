"""Shared fixtures: the shipped models, loaded once, behind an empty store.

Loading a model takes about a second, so one `zhtag.Tagger` serves every test; each test gets
it with an empty user dictionary, and tests of jieba's module-level functions get it as the
process-wide default tagger those functions use.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import zhtag
from zhtag.dictionary import UserDictionary


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`$ZHTAG_STORE` pointing at an empty store, so only the shipped models answer."""
    root = tmp_path_factory.mktemp("empty-store")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZHTAG_STORE", str(root))
        yield root


@pytest.fixture(scope="session")
def shared_tagger(empty_store: Path) -> zhtag.Tagger:
    return zhtag.Tagger(device="cpu")


@pytest.fixture
def tagger(shared_tagger: zhtag.Tagger, monkeypatch: pytest.MonkeyPatch) -> zhtag.Tagger:
    """The shared tagger with an empty user dictionary for this test."""
    monkeypatch.setattr(shared_tagger, "_words", UserDictionary())
    return shared_tagger


@pytest.fixture
def default_tagger(tagger: zhtag.Tagger, monkeypatch: pytest.MonkeyPatch) -> zhtag.Tagger:
    """The tagger jieba's functions (`zhtag.cut`, `zhtag.posseg.cut`, ...) use in this test."""
    monkeypatch.setattr(zhtag.compat, "default", tagger)
    return tagger
