"""Specification of service/registry.py. Its watch: whatever the store does (answer, fail with
an error of its own, answer again), the version being served keeps serving, the problem is logged
once, and a version activated meanwhile is picked up when the store answers again. What it keeps
loaded: the versions served and a few that requests named by @N, no more; a version that leaves
them is freed, its batcher closed once the requests on it are answered. A startup model that
fails to load says so at once."""
from __future__ import annotations

import asyncio
import logging
import shutil
import weakref
from pathlib import Path

import pytest

from model.store import Store
from service.batcher import Batcher
from service.metrics import Metrics
from service.errors import NotReady
from service.registry import Registry
from service.settings import Settings
from tests.service.conftest import damaged_first_version, two_versions


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


def registry_of(root: Path, tmp_path: Path, **settings: object) -> Registry:
    """A registry serving tcws from `root`, warmed."""
    registry = Registry(Store(root=root, shipped=tmp_path / "none"), Settings(models=["tcws"], device="cpu", **settings), Metrics())
    registry.warm(["tcws"])
    return registry


def four_versions(store: Path, tmp_path: Path) -> Path:
    """A store root holding tcws@1 (active) and identical tcws@2, @3 and @4."""
    root = two_versions(store, tmp_path)
    for version in (3, 4):
        shutil.copytree(root / "tcws" / "2", root / "tcws" / str(version))
        manifest = root / "tcws" / str(version) / "manifest.json"
        manifest.write_text(manifest.read_text().replace('"version": 2', f'"version": {version}'))
    return root


def held(registry: Registry) -> list[str]:
    return [ref for ref in ("tcws@1", "tcws@2", "tcws@3", "tcws@4") if registry.loaded(ref) is not None]


@pytest.fixture
def closed(monkeypatch: pytest.MonkeyPatch) -> list[Batcher]:
    """The batchers closed, in order."""
    batchers: list[Batcher] = []
    close = Batcher.close

    async def recorded(self: Batcher) -> None:
        batchers.append(self)
        await close(self)

    monkeypatch.setattr(Batcher, "close", recorded)
    return batchers


def test_versions_named_by_number_stay_loaded_up_to_max_pinned_versions_and_the_least_recently_used_is_freed(store: Path, tmp_path: Path) -> None:
    registry = registry_of(four_versions(store, tmp_path), tmp_path, max_pinned_versions=2)
    registry.load("tcws@2")
    third = weakref.ref(registry.load("tcws@3"))
    assert registry.loaded("tcws@2") is not None  # used again: tcws@3 is now the least recently used
    registry.load("tcws@4")
    assert held(registry) == ["tcws@1", "tcws@2", "tcws@4"]
    assert third() is None, "freed, although gc.freeze() took it out of the collector's view"


def test_with_no_pinned_versions_a_version_named_by_number_is_answered_and_not_kept(store: Path, tmp_path: Path) -> None:
    registry = registry_of(two_versions(store, tmp_path), tmp_path, max_pinned_versions=0)
    assert registry.load("tcws@2").ref == "tcws@2"
    assert held(registry) == ["tcws@1"]


@pytest.mark.parametrize("pinned", [0, 1])
def test_a_startup_model_named_by_number_stays_loaded_whatever_requests_name(store: Path, tmp_path: Path, pinned: int) -> None:
    """Pinning production to one version (`ZHTAG_MODELS=tcws@2`) is the reproducible setup:
    /readyz waits for that version, so it must not be unloaded by what clients ask for."""
    registry = Registry(Store(root=four_versions(store, tmp_path), shipped=tmp_path / "none"), Settings(device="cpu", max_pinned_versions=pinned), Metrics())
    registry.warm(["tcws@2"])
    startup = weakref.ref(registry.loaded("tcws@2"))
    for ref in ("tcws@3", "tcws@4", "tcws@3"):
        registry.load(ref)
    assert registry.loaded("tcws@2") is startup() is not None


def test_a_served_model_named_twice_at_start_is_still_unloaded_when_a_swap_replaces_it(store: Path, tmp_path: Path) -> None:
    registry = Registry(Store(root=two_versions(store, tmp_path), shipped=tmp_path / "none"), Settings(device="cpu"), Metrics())
    registry.warm(["tcws", "tcws"])
    first = weakref.ref(registry.loaded("tcws"))
    registry.activate("tcws@2")
    assert held(registry) == ["tcws@2"] and first() is None


def test_a_version_a_swap_leaves_unserved_is_freed_whether_activated_here_or_by_another_replica(store: Path, tmp_path: Path) -> None:
    root = two_versions(store, tmp_path)
    registry = registry_of(root, tmp_path)
    first = weakref.ref(registry.loaded("tcws"))
    registry.activate("tcws@2")
    assert held(registry) == ["tcws@2"] and first() is None
    second = weakref.ref(registry.loaded("tcws"))
    Store(root=root, shipped=tmp_path / "none").rollback("tcws")  # another replica
    registry.refresh()
    assert held(registry) == ["tcws@1"] and second() is None


def test_a_pinned_version_that_is_activated_and_then_replaced_is_freed(store: Path, tmp_path: Path) -> None:
    registry = registry_of(two_versions(store, tmp_path), tmp_path)
    registry.load("tcws@2")
    registry.activate("tcws@2")
    registry.rollback("tcws")
    assert held(registry) == ["tcws@1"]


def test_a_swapped_out_versions_batcher_closes_only_once_the_requests_in_flight_on_it_are_answered(
    store: Path, tmp_path: Path, closed: list[Batcher]
) -> None:
    registry = registry_of(two_versions(store, tmp_path), tmp_path)

    async def scenario() -> None:
        async with registry.batcher(registry.loaded("tcws")) as batcher:
            await asyncio.to_thread(registry.activate, "tcws@2")
            await asyncio.sleep(0)  # what the swap left to the event loop runs
            assert closed == []
            await answered(batcher)
        await asyncio.sleep(0)
        assert closed == [batcher]
        await registry.close()

    asyncio.run(scenario())


async def answered(batcher: Batcher) -> None:
    spans, _ = await batcher.submit(["你好"])
    assert spans and spans[0]


def test_a_version_unloaded_after_it_served_requests_is_freed_once_they_are_answered(store: Path, tmp_path: Path) -> None:
    registry = registry_of(two_versions(store, tmp_path), tmp_path)
    first = weakref.ref(registry.loaded("tcws"))

    async def answer() -> None:
        async with registry.batcher(registry.loaded("tcws")) as batcher:
            await batcher.submit(["你好"])

    async def scenario() -> None:
        await answer()
        await asyncio.to_thread(registry.activate, "tcws@2")
        await answer()
        await registry.close()
        assert first() is None, "freed, although gc.freeze() took it and its batcher out of the collector's view"

    asyncio.run(scenario())


def test_garbage_that_held_an_unloaded_version_in_a_cycle_when_a_load_froze_it_is_freed_at_the_next_load(store: Path, tmp_path: Path) -> None:
    """As a request's traceback can: it holds the frames, and their taggers, of a request that
    was in flight while another version loaded."""
    registry = registry_of(four_versions(store, tmp_path), tmp_path)
    cycle: list[object] = [registry.loaded("tcws")]
    cycle.append(cycle)
    first = weakref.ref(cycle[0])
    registry.activate("tcws@2")
    del cycle
    registry.load("tcws@3")
    assert first() is None


def test_a_request_that_took_a_version_just_before_it_was_unloaded_is_answered_and_leaves_no_batcher(
    store: Path, tmp_path: Path, closed: list[Batcher]
) -> None:
    registry = registry_of(two_versions(store, tmp_path), tmp_path)
    taken = registry.loaded("tcws")
    registry.activate("tcws@2")

    async def scenario() -> None:
        async with registry.batcher(taken) as batcher:
            await answered(batcher)
        await asyncio.sleep(0)
        assert closed == [batcher]
        await registry.close()

    asyncio.run(scenario())


def test_a_startup_model_that_fails_to_load_is_logged_at_once_and_readiness_says_which_and_why(
    store: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = damaged_first_version(store, tmp_path)
    registry = Registry(Store(root=root, shipped=tmp_path / "none"), Settings(models=["tcws"], device="cpu"), Metrics())
    with caplog.at_level(logging.ERROR, logger="zhtag.registry"):
        registry.warm(["tcws"])
    why = "startup model tcws failed to load: checksum failed for weights.safetensors of tcws@1"
    assert len(caplog.records) == 1 and caplog.records[0].getMessage().startswith(why)
    with pytest.raises(NotReady, match=why):
        registry.check_ready()
