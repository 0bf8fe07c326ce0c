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
        assert registry.loaded("tcws").ref == "tcws@1"
        monkeypatch.setattr(Store, "locate", locate)
        registry.refresh()
    assert registry.loaded("tcws").ref == "tcws@2"
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["keeping tcws@1: cannot read the store: Unreachable: Could not connect to the endpoint URL"]
    assert any("now serving tcws@2" in r.getMessage() for r in caplog.records)


def test_the_active_version_gauge_follows_each_swap_without_a_scrape(store: Path, tmp_path: Path) -> None:
    """Each worker sets the gauge when it swaps: set at scrape time, a worker that no scrape
    reached kept its old value, and the highest over workers named a rolled-back version."""
    shared = Store(root=two_versions(store, tmp_path), shipped=tmp_path / "none")
    metrics = Metrics()
    registry = Registry(shared, Settings(models=["tcws"], device="cpu"), metrics)
    registry.warm(["tcws"])
    gauge = lambda: metrics.registry.get_sample_value("zhtag_model_active_version", {"name": "tcws"})  # noqa: E731
    assert gauge() == 1
    registry.activate("tcws@2")
    assert gauge() == 2
    Store(root=shared.root, shipped=tmp_path / "none").rollback("tcws")  # another replica
    registry.refresh()
    assert gauge() == 1
