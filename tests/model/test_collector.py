"""Specification of `collector_paused` and `load_tagger`: the garbage collector off while
torch and a model load, then back as the caller had it; a model kept until exit frozen out
of it before it runs again."""
from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from model.collector import collector_paused, load_tagger


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    yield
    gc.enable()
    gc.unfreeze()


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


def collected(thing: object) -> bool:
    """Whether the collector's passes still visit `thing` (frozen objects are in none of its generations)."""
    return any(o is thing for o in gc.get_objects())


@pytest.mark.parametrize("freeze", [True, False])
def test_a_model_kept_until_exit_is_frozen_out_of_the_collector_and_only_then(freeze, trained_cws) -> None:
    tagger = load_tagger(trained_cws.ref, trained_cws.store.root, freeze=freeze)
    assert gc.isenabled() and collected(tagger.network) is not freeze
