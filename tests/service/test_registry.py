"""Specification of service/registry.py's watch: whatever the store does (answer, fail with an
error of its own, answer again), the version being served keeps serving, the problem is logged
once, and a version activated meanwhile is picked up when the store answers again."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

from model.store import Store
from service.metrics import Metrics
from service.registry import Registry
from service.settings import Settings
from tests.service.conftest import two_versions


class Unreachable(Exception):
    """What an object store's client raises when its endpoint is down: no zhtag or OS error."""


def test_the_watch_outlives_a_store_out_of_reach_and_then_serves_what_was_activated_meanwhile(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    shared = Store(root=two_versions(store, tmp_path), shipped=tmp_path / "none")
    registry = Registry(shared, Settings(models=["tcws"], device="cpu"), Metrics())
    registry.warm(["tcws"])
    locate = Store.locate

    def down(self: Store, ref: str) -> str:
        raise Unreachable("Could not connect to the endpoint URL")

    monkeypatch.setattr(Store, "locate", down)
    Store(root=shared.root, shipped=tmp_path / "none").activate("tcws@2")  # another replica, meanwhile
    with caplog.at_level(logging.INFO, logger="zhtag.registry"):
        for _ in range(3):
            registry.refresh()
        assert registry.serving() == {"tcws": 1}
        monkeypatch.setattr(Store, "locate", locate)
        registry.refresh()
    assert registry.serving() == {"tcws": 2}
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["keeping tcws@1: cannot read the store: Unreachable: Could not connect to the endpoint URL"]
    assert any("now serving tcws@2" in r.getMessage() for r in caplog.records)
