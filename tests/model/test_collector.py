"""Specification of `collector_paused`: the garbage collector off while torch and a model
load, then back as the caller had it."""
from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from model.collector import collector_paused


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    yield
    gc.enable()


def test_the_collector_is_off_inside_and_on_again_after() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_inside_still_turns_the_collector_back_on() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the model did not load")
    assert gc.isenabled()


def test_a_caller_who_turned_the_collector_off_keeps_it_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()
