"""Specification of the versioned checkpoint store (model/store.py)."""
from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from data.errors import CheckpointError, InputError, ModelNotFound
from model import store as store_module
from model.store import MANIFEST, Checkpoint, Store

FILES = {
    "weights.safetensors": b"\x00\x01weights\xff",
    "config.json": b'{"layers": 2}',
    "metrics.json": b'{"f1": 0.91}',
}
CORPUS = {"sha256": "ab" * 32, "size": 1234}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(root=tmp_path / "user", shipped=tmp_path / "shipped")


@pytest.fixture
def shipped(tmp_path: Path):
    """A shipped root holding cws@1 and cws@2 (active 1), then made read-only."""
    root = tmp_path / "shipped"
    maker = Store(root=root, shipped=tmp_path / "nothing")
    maker.save("cws", FILES)
    maker.save("cws", {**FILES, "metrics.json": b'{"f1": 0.95}'})
    maker.activate("cws@1")
    paths = [root, *root.rglob("*")]
    for path in paths:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    yield root
    for path in paths:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under root with its content (None for directories)."""
    return {
        str(p.relative_to(root)): None if p.is_dir() else p.read_bytes() for p in root.rglob("*")
    }


def version_file(store: Store, ref: str, filename: str) -> Path:
    name, version = ref.split("@")
    return store.root / name / version / filename


def test_save_then_resolve_round_trips_files_and_records_manifest(store: Store) -> None:
    ref = store.save("cws", FILES, parent="base@3", corpus=CORPUS)
    checkpoint = store.resolve(ref)

    assert ref == "cws@1"
    assert isinstance(checkpoint, Checkpoint)
    assert (checkpoint.name, checkpoint.version, checkpoint.ref) == ("cws", 1, "cws@1")
    for filename, content in FILES.items():
        assert checkpoint.read_bytes(filename) == content
    assert checkpoint.read_json("config.json") == {"layers": 2}
    manifest = checkpoint.manifest
    assert manifest["files"] == {f: hashlib.sha256(c).hexdigest() for f, c in FILES.items()}
    assert (manifest["name"], manifest["version"]) == ("cws", 1)
    assert manifest["parent"] == "base@3"
    assert manifest["corpus"] == CORPUS
    assert manifest["created"].endswith("+00:00")
    assert isinstance(manifest["code_version"], str) and manifest["code_version"]
    assert json.loads(Path(checkpoint.location, MANIFEST).read_text()) == manifest


def test_parent_and_corpus_default_to_null(store: Store) -> None:
    manifest = store.resolve(store.save("cws", FILES)).manifest
    assert manifest["parent"] is None and manifest["corpus"] is None


def test_versions_increment_and_the_newest_save_is_active(store: Store) -> None:
    assert [store.save("cws", FILES) for _ in range(3)] == ["cws@1", "cws@2", "cws@3"]
    assert store.resolve("cws").ref == "cws@3"
    assert (store.root / "cws" / "ACTIVE").read_text().strip() == "3"


def test_name_at_n_resolves_that_version(store: Store) -> None:
    store.save("cws", {"w": b"one"})
    store.save("cws", {"w": b"two"})
    assert store.resolve("cws@1").read_bytes("w") == b"one"
    assert store.resolve("cws@2").read_bytes("w") == b"two"


def test_activate_switches_what_the_bare_name_resolves_to(store: Store) -> None:
    store.save("cws", {"w": b"one"})
    store.save("cws", {"w": b"two"})

    assert store.activate("cws@1") == "cws@1"
    assert store.resolve("cws").read_bytes("w") == b"one"
    assert store.list()[0].active == 1
    with pytest.raises(ModelNotFound):
        store.activate("cws@9")


def test_activating_a_bare_name_is_refused_rather_than_reactivating_the_active_version(store: Store) -> None:
    store.save("cws", {"w": b"one"})
    store.save("cws", {"w": b"two"}, activate=False)
    with pytest.raises(InputError, match="give the version to activate: cws@N"):
        store.activate("cws")
    assert store.resolve("cws").ref == "cws@1"


def test_activate_refuses_a_corrupt_version_and_keeps_the_old_one(store: Store) -> None:
    store.save("cws", {"w": b"one"})
    store.save("cws", {"w": b"two"})
    version_file(store, "cws@1", "w").write_bytes(b"oNe")

    with pytest.raises(CheckpointError, match="checksum"):
        store.activate("cws@1")
    assert store.resolve("cws").ref == "cws@2"


def test_numbering_continues_after_shipped_versions_and_shipped_is_never_written(
    tmp_path: Path, shipped: Path
) -> None:
    before = snapshot(shipped)
    store = Store(root=tmp_path / "user", shipped=shipped)

    assert store.resolve("cws").ref == "cws@1"  # the shipped ACTIVE
    assert store.save("cws", FILES) == "cws@3"
    assert store.activate("cws@2") == "cws@2"
    assert store.resolve("cws").ref == "cws@2"
    assert store.resolve("cws@1").location == str(shipped / "cws" / "1")
    assert store.resolve("cws@3").location == str(store.root / "cws" / "3")
    assert snapshot(shipped) == before


def test_a_name_whose_versions_were_all_stored_inactive_answers_by_version_only(store: Store) -> None:
    """Trained with --no-auto-promote, a version is held back from serving: the bare name
    names none until one is activated, and says how; the version still loads by its number."""
    store.save("cws", {"w": b"one"}, activate=False)
    with pytest.raises(ModelNotFound, match=r"^cws has no active version \(cws@1 stored, none activated\): activate one \(zhtag models activate cws@N\)"):
        store.resolve("cws")
    assert store.resolve("cws@1").ref == "cws@1"
    [info] = store.list()
    assert info.active is None and info.problem is None, "held back by its trainer: nothing is wrong with it"
    with pytest.raises(CheckpointError, match="^cws has no active version: there is nothing to roll back from$"):
        store.rollback("cws")
    store.activate("cws@1")
    assert store.resolve("cws").ref == "cws@1" and store.list()[0].problem is None


def test_a_version_stored_inactive_never_displaces_the_shipped_model(tmp_path: Path) -> None:
    """Shipped roots mark no ACTIVE version when they hold one; a stored version that was
    never activated (its run failed the gate, or was told not to promote) must not take over
    the bare name from it."""
    maker = Store(root=tmp_path / "shipped", shipped=tmp_path / "nothing")
    maker.save("cws", FILES)
    (tmp_path / "shipped" / "cws" / "ACTIVE").unlink()
    store = Store(root=tmp_path / "user", shipped=tmp_path / "shipped")

    assert store.save("cws", FILES, activate=False) == "cws@2"
    assert store.resolve("cws").ref == "cws@1"
    assert store.activate("cws@2") == "cws@2" and store.resolve("cws").ref == "cws@2"


def test_a_store_root_that_is_a_file_is_refused_at_once(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a store")
    with pytest.raises(CheckpointError, match="is a file, not a directory"):
        Store(root=tmp_path / "notes.txt")


def test_a_store_that_cannot_take_a_version_is_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a folder")
    with pytest.raises(CheckpointError, match=r"cannot write to the store .*notes.txt/store: .*Not a directory"):
        Store(root=tmp_path / "notes.txt" / "store").check_writable()
    writable = Store(root=tmp_path / "store")
    writable.check_writable()
    assert list((tmp_path / "store").iterdir()) == [], "the probe leaves nothing behind"


def test_user_root_wins_over_shipped_for_the_same_version(tmp_path: Path, shipped: Path) -> None:
    Store(root=tmp_path / "user", shipped=tmp_path / "nothing").save("cws", {"w": b"mine"})
    store = Store(root=tmp_path / "user", shipped=shipped)
    assert store.resolve("cws@1").read_bytes("w") == b"mine"


def test_corrupting_one_byte_fails_the_checksum_of_that_version_only(store: Store) -> None:
    store.save("cws", FILES)
    store.save("cws", FILES)
    path = version_file(store, "cws@1", "weights.safetensors")
    data = bytearray(path.read_bytes())
    data[3] ^= 0x01
    path.write_bytes(bytes(data))

    with pytest.raises(CheckpointError, match="checksum") as excinfo:
        store.resolve("cws@1")
    assert "weights.safetensors" in str(excinfo.value) and "cws@1" in str(excinfo.value)
    assert store.resolve("cws@2").read_bytes("weights.safetensors") == FILES["weights.safetensors"]


def test_a_deleted_file_fails_the_checksum_of_that_version_only(store: Store) -> None:
    store.save("cws", FILES)
    store.save("cws", FILES)
    version_file(store, "cws@2", "config.json").unlink()

    with pytest.raises(CheckpointError, match="checksum") as excinfo:
        store.resolve("cws")
    assert "config.json" in str(excinfo.value) and "cws@2" in str(excinfo.value)
    assert store.resolve("cws@1").read_json("config.json") == {"layers": 2}


@pytest.mark.parametrize("manifest", [None, b"{not json", b"[]", b'{"files": 3}'])
def test_a_missing_or_garbled_manifest_is_a_checkpoint_error(
    store: Store, manifest: bytes | None
) -> None:
    store.save("cws", FILES)
    path = version_file(store, "cws@1", MANIFEST)
    if manifest is None:
        path.unlink()
    else:
        path.write_bytes(manifest)
    with pytest.raises(CheckpointError, match="cws@1"):
        store.resolve("cws@1")


def test_a_stored_version_is_readable_by_servers_running_as_another_user(store: Store, umask: Callable[[int], None]) -> None:
    umask(0o022)
    store.save("cws", FILES)
    version, folder = store.root / "cws" / "1", store.root / "cws"
    assert stat.S_IMODE(version.stat().st_mode) == 0o755
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [*version.iterdir(), *folder.iterdir()] if p.is_file()}
    assert modes and set(modes.values()) == {0o644}, modes


def test_a_leftover_temp_directory_is_not_a_version(store: Store) -> None:
    store.save("cws", FILES)
    for leftover in (".tmp-crashed", "2.partial"):
        (store.root / "cws" / leftover).mkdir()
        (store.root / "cws" / leftover / "weights.safetensors").write_bytes(b"half")
    (store.root / ".tmp-orphan").mkdir()

    assert [(m.name, m.versions) for m in store.list()] == [("cws", [1])]
    with pytest.raises(ModelNotFound):
        store.resolve("cws@2")
    assert store.save("cws", FILES) == "cws@2"


def test_an_unknown_name_is_model_not_found_listing_available_names(store: Store) -> None:
    store.save("cws", FILES)
    store.save("ner", FILES)
    with pytest.raises(ModelNotFound, match="pos") as excinfo:
        store.resolve("pos")
    assert "cws" in str(excinfo.value) and "ner" in str(excinfo.value)


def test_an_unknown_version_is_model_not_found_naming_the_ref(store: Store) -> None:
    store.save("cws", FILES)
    with pytest.raises(ModelNotFound, match="cws@5"):
        store.resolve("cws@5")


def test_an_empty_store_resolves_nothing(store: Store) -> None:
    assert store.list() == []
    with pytest.raises(ModelNotFound):
        store.resolve("cws")


@pytest.mark.parametrize(
    "ref", ["", "a@b", "a@0", "a@-1", "a@01", "a@", "@1", "a@1@2", "../x", "a b"]
)
def test_a_malformed_ref_is_bad_input_not_a_missing_model(store: Store, ref: str) -> None:
    with pytest.raises(InputError, match="malformed"):
        store.resolve(ref)


@pytest.mark.parametrize("name", ["", ".hidden", "-x", "a/b", "a@1", "ä", "a" * 65, "a b"])
def test_save_rejects_an_invalid_name(store: Store, name: str) -> None:
    with pytest.raises(InputError, match="invalid model name"):
        store.save(name, FILES)
    assert not store.root.exists()


@pytest.mark.parametrize("name, held", [
    ("jobs.sqlite3", "job table"), ("jobs.sqlite3-wal", "job table"), ("jobs.sqlite3-shm", "job table"), ("dictionaries", "named dictionaries"),
])
def test_the_names_of_what_the_service_keeps_in_the_store_are_no_model_names(store: Store, name: str, held: str) -> None:
    with pytest.raises(InputError, match=f"keeps its {held} under"):
        store.save(name, FILES)


@pytest.mark.parametrize("name", ["..", "a/b", ".jobs"])
def test_rolling_back_a_name_that_could_not_be_stored_reads_nothing(store: Store, name: str) -> None:
    with pytest.raises(InputError, match="invalid model name"):
        store.rollback(name)


@pytest.mark.parametrize("filename", [MANIFEST, "../escape", "sub/file", ".hidden", ""])
def test_save_rejects_manifest_and_non_plain_file_names(store: Store, filename: str) -> None:
    with pytest.raises(CheckpointError):
        store.save("cws", {**FILES, filename: b"x"})
    assert store.list() == []


@pytest.mark.parametrize("parent", ["base", "base@0", "a@b"])
def test_save_requires_a_parent_naming_a_version(store: Store, parent: str) -> None:
    with pytest.raises(InputError):
        store.save("cws", FILES, parent=parent)


def test_save_rejects_a_malformed_corpus_record(store: Store) -> None:
    with pytest.raises(CheckpointError, match="corpus"):
        store.save("cws", FILES, corpus={"sha256": "ab"})


def test_reading_a_file_the_manifest_does_not_list_is_a_checkpoint_error(store: Store) -> None:
    checkpoint = store.resolve(store.save("cws", {"w": b"[1]"}))
    with pytest.raises(CheckpointError, match="no file"):
        checkpoint.read_bytes(MANIFEST)
    with pytest.raises(CheckpointError, match="JSON object"):
        checkpoint.read_json("w")


def test_list_shows_versions_active_and_metrics_merged_and_sorted(
    tmp_path: Path, shipped: Path
) -> None:
    store = Store(root=tmp_path / "user", shipped=shipped)
    store.save("pos", {"weights.safetensors": b"w"})
    store.save("cws", {**FILES, "metrics.json": b'{"f1": 0.97}'})

    cws, pos = store.list()
    assert (cws.name, cws.versions, cws.active) == ("cws", [1, 2, 3], 3)
    assert cws.metrics == {1: {"f1": 0.91}, 2: {"f1": 0.95}, 3: {"f1": 0.97}}
    assert (pos.name, pos.versions, pos.active, pos.metrics) == ("pos", [1], 1, {1: {}})


def test_list_shows_a_corrupt_version_without_checking_it(store: Store) -> None:
    store.save("cws", FILES)
    store.save("cws", FILES)
    version_file(store, "cws@1", "metrics.json").write_bytes(b"{garbage")
    version_file(store, "cws@2", MANIFEST).unlink()

    (info,) = store.list()
    assert (info.versions, info.active, info.metrics) == ([1, 2], 2, {1: {}, 2: {"f1": 0.91}})


def test_list_shows_a_name_whose_active_file_is_damaged_with_its_problem_and_every_other_name(store: Store) -> None:
    store.save("cws", FILES)
    store.save("pos", FILES)
    (store.root / "cws" / "ACTIVE").write_text("1; rm -rf /\n")

    cws, pos = store.list()
    assert (cws.versions, cws.active, cws.problem) == ([1], None, "model 'cws': its ACTIVE file does not hold a version number")
    assert (pos.versions, pos.active, pos.problem) == ([1], 1, None)
    with pytest.raises(CheckpointError, match="does not hold a version number"):
        store.resolve("cws")


def test_list_shows_a_name_whose_active_file_names_a_version_not_stored_with_its_problem(store: Store) -> None:
    """Such a name resolves to nothing (`no version cws@9`): listed without a star and
    without a word, it would look merely inactive."""
    store.save("cws", FILES)
    (store.root / "cws" / "ACTIVE").write_text("9\n")

    (info,) = store.list()
    assert (info.versions, info.active) == ([1], None)
    assert info.problem == "model 'cws': its ACTIVE file names version 9, which is not stored (activate one: cws@N)"
    with pytest.raises(ModelNotFound, match="no version cws@9"):
        store.resolve("cws")


def test_a_crash_during_save_publishes_nothing_and_keeps_existing_versions(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save("cws", {"w": b"one"})

    def crash(src: object, dst: object) -> None:
        raise OSError(errno.EIO, "simulated crash")

    monkeypatch.setattr(os, "rename", crash)
    with pytest.raises(CheckpointError, match="simulated crash"):
        store.save("cws", {"w": b"two"})
    monkeypatch.undo()

    assert [m.versions for m in store.list()] == [[1]]
    assert sorted(p.name for p in (store.root / "cws").iterdir()) == ["1", "ACTIVE", "HISTORY"]
    assert store.resolve("cws").read_bytes("w") == b"one"
    assert store.save("cws", {"w": b"two"}) == "cws@2"


def test_two_saves_racing_for_one_number_get_distinct_versions(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rival publishes the same number first; the loser takes the next one."""
    real_rename = os.rename
    rival = Store(root=store.root, shipped=store.shipped)
    raced: list[str] = []

    def rename_after_rival(src: str, dst: str) -> None:
        if not raced:
            raced.append(str(dst))
            assert rival.save("cws", {"w": b"rival"}) == "cws@1"
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename_after_rival)
    ref = store.save("cws", {"w": b"mine"})

    assert raced == [str(store.root / "cws" / "1")]
    assert ref == "cws@2"
    assert store.resolve("cws@1").read_bytes("w") == b"rival"
    assert store.resolve("cws@2").read_bytes("w") == b"mine"
    assert store.resolve("cws@2").manifest["version"] == 2
    assert [m.versions for m in store.list()] == [[1, 2]]


def test_writers_racing_from_several_processes_lose_no_activation(store: Store) -> None:
    """Each save activates its version; every one must be on the activation stack."""
    script = "import sys; from model.store import Store; from pathlib import Path; Store(sys.argv[1], Path(sys.argv[2])).save('cws', {'w': b'x'})"
    writers = [subprocess.Popen([sys.executable, "-c", script, str(store.root), str(store.shipped)]) for _ in range(6)]
    assert [w.wait() for w in writers] == [0] * 6
    assert sorted(store.user.aliases("cws").history) == [1, 2, 3, 4, 5, 6]


def test_the_user_root_defaults_to_the_zhtag_store_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZHTAG_STORE", str(tmp_path / "env-root"))
    store = Store(shipped=tmp_path / "shipped")
    store.save("cws", FILES)
    assert (tmp_path / "env-root" / "cws" / "1" / MANIFEST).is_file()


def test_locate_names_the_active_version_without_reading_its_files(tmp_path: Path) -> None:
    store = Store(root=tmp_path / "user", shipped=tmp_path / "shipped")
    store.save("m", {"a.bin": b"one"})
    store.save("m", {"a.bin": b"two"})
    (tmp_path / "user" / "m" / "2" / "a.bin").write_bytes(b"corrupt")
    assert store.locate("m") == "m@2"
    assert store.locate("m@1") == "m@1"
    store.activate("m@1")
    assert store.locate("m") == "m@1"
    with pytest.raises(ModelNotFound):
        store.locate("m@3")


def test_rollback_returns_to_the_previously_active_version(store: Store) -> None:
    for content in (b"one", b"two", b"three"):
        store.save("cws", {"w": content})
    store.activate("cws@2")
    assert store.previous("cws") == "cws@3"
    assert store.rollback("cws") == "cws@3"
    assert store.rollback("cws") == "cws@2"
    assert store.rollback("cws") == "cws@1"
    with pytest.raises(CheckpointError, match="nothing to roll back to"):
        store.rollback("cws")
    assert store.resolve("cws").ref == "cws@1"


def test_a_version_saved_inactive_changes_nothing_served(store: Store) -> None:
    store.save("cws", {"w": b"one"})
    assert store.save("cws", {"w": b"two"}, activate=False) == "cws@2"
    assert store.resolve("cws").ref == "cws@1"
    with pytest.raises(CheckpointError, match="nothing to roll back to"):
        store.rollback("cws")


def test_versions_published_but_not_yet_activated_are_never_taken_for_the_one_active_before(store: Store) -> None:
    """Two writers racing: each has published its version and neither has activated it yet."""
    store.save("cws", {"w": b"a"}, activate=False)
    store.save("cws", {"w": b"b"}, activate=False)
    store.activate("cws@1")
    store.activate("cws@2")
    assert list(store.user.aliases("cws").history) == [1, 2]


@pytest.mark.parametrize("alias_files", ["kept", "absent, as in the package"])
def test_the_first_user_version_over_a_shipped_one_rolls_back_to_it(alias_files: str, tmp_path: Path) -> None:
    shipped = tmp_path / "shipped"
    Store(root=shipped, shipped=tmp_path / "none").save("ner", {"w": b"shipped"})
    if alias_files != "kept":
        for path in (shipped / "ner").iterdir():
            if path.is_file():
                path.unlink()
    store = Store(root=tmp_path / "user", shipped=shipped)
    assert store.save("ner", {"w": b"mine"}) == "ner@2"
    assert store.rollback("ner") == "ner@1"
    assert store.resolve("ner").read_bytes("w") == b"shipped"


class Crash(BaseException):
    """The process killed (SIGKILL, power loss) between two writes: nothing after them runs."""


def cut_short(operation: Callable[[], object], writes: int) -> bool:
    """Run `operation`, killed after its first `writes` alias file writes; False if it made
    no more than that and so completed."""
    real = store_module.write_atomic
    done: list[Path] = []

    def write(path: Path, content: bytes) -> None:
        if len(done) == writes:
            raise Crash
        done.append(path)
        real(path, content)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store_module, "write_atomic", write)
        try:
            operation()
        except Crash:
            return True
    return False


def rollbacks(store: Store) -> list[str]:
    """What a store's aliases say: the active version, then each that rollback after rollback
    makes active, read on a copy so the store stays as it was."""
    copy = store.root.parent / "read"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(store.root, copy)
    reader = Store(root=copy, shipped=store.shipped)
    said = [reader.locate("cws")]
    with contextlib.suppress(CheckpointError):
        while True:
            said.append(reader.rollback("cws"))
    return said


def three_activated_and_one_not(store: Store) -> None:
    for _ in range(3):
        store.save("cws", FILES)
    store.save("cws", FILES, activate=False)


def then_cws_1_again(store: Store) -> None:
    three_activated_and_one_not(store)
    store.activate("cws@1")


def then_an_activation_of_cws_2_cut_short(store: Store) -> None:
    three_activated_and_one_not(store)
    assert cut_short(lambda: store.activate("cws@2"), writes=1)


def one_shipped_and_one_stored(store: Store) -> None:
    Store(root=store.shipped, shipped=store.shipped.parent / "nothing").save("cws", FILES)
    store.save("cws", FILES, activate=False)


ALIAS_CHANGES: dict[str, tuple[Callable[[Store], None], Callable[[Store], object]]] = {
    "activating a new version": (three_activated_and_one_not, lambda store: store.activate("cws@4")),
    "activating a version active before": (three_activated_and_one_not, lambda store: store.activate("cws@2")),
    "rolling back": (three_activated_and_one_not, lambda store: store.rollback("cws")),
    "rolling back from a version also lower on the stack": (then_cws_1_again, lambda store: store.rollback("cws")),
    "rolling back after an activation of its target was cut short": (then_an_activation_of_cws_2_cut_short, lambda store: store.rollback("cws")),
    "activating the first version over a shipped one": (one_shipped_and_one_stored, lambda store: store.activate("cws@2")),
}


@pytest.mark.parametrize("change", ALIAS_CHANGES)
def test_a_crash_at_any_point_of_an_alias_change_leaves_the_aliases_saying_what_they_said_before_or_after_it(
    change: str, store: Store, tmp_path: Path
) -> None:
    """A crash between writing the activation stack and ACTIVE must not make the version whose
    activation was cut short the one a rollback returns to, nor make a rollback skip one."""
    prepare, operation = ALIAS_CHANGES[change]
    prepare(store)
    start = tmp_path / "start"
    shutil.copytree(store.root, start)
    before = rollbacks(store)
    operation(store)
    after = rollbacks(store)
    for writes in itertools.count():
        shutil.rmtree(store.root)
        shutil.copytree(start, store.root)
        if not cut_short(lambda: operation(store), writes):
            break
        assert rollbacks(store) in (before, after), f"killed after {writes} of its alias writes"
    assert writes >= 2 and rollbacks(store) == after


def test_a_version_whose_activation_was_cut_short_is_not_rolled_back_to_then_or_after_later_activations(store: Store) -> None:
    three_activated_and_one_not(store)
    assert cut_short(lambda: store.activate("cws@4"), writes=1)
    assert store.locate("cws") == "cws@3" and store.previous("cws") == "cws@2"
    store.activate("cws@1")
    assert rollbacks(store) == ["cws@1", "cws@3", "cws@2", "cws@1"]


def test_a_full_disk_fails_the_save_cleanly_and_the_previous_version_still_loads(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.save("cws", FILES)
    before = snapshot(store.root)
    write = store_module.write_synced

    def full(path: Path, content: bytes) -> None:
        if path.name == "weights.safetensors":
            raise OSError(errno.ENOSPC, "No space left on device")
        write(path, content)

    monkeypatch.setattr("data.atomic.write_synced", full)  # what a version's files are written with
    with pytest.raises(CheckpointError, match="No space left on device"):
        store.save("cws", FILES)
    assert snapshot(store.root) == before
    assert store.resolve("cws").read_bytes("weights.safetensors") == FILES["weights.safetensors"]


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 256 KiB tmpfs, where this process may mount one (root on Linux)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True, text=True) if shutil.which("mount") else None
    if made is None or made.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {made.stderr.strip() if made else 'no mount command'}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_on_a_really_full_filesystem_nothing_partial_remains(small_disk: Path) -> None:
    store = Store(root=small_disk / "store", shipped=small_disk / "none")
    store.save("cws", FILES)
    before = snapshot(store.root)
    with pytest.raises(CheckpointError, match="No space left on device"):
        store.save("cws", {**FILES, "weights.safetensors": os.urandom(400_000)})
    assert snapshot(store.root) == before
    assert store.resolve("cws").read_bytes("weights.safetensors") == FILES["weights.safetensors"]
