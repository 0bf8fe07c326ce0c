"""The versioned checkpoint store: immutable `<root>/<name>/<version>/` directories.

A version is published by one `os.rename` of a fully written, fsynced temp directory, so a
reader sees either the whole version or nothing, even if the writer crashes. Versions never
change after publishing; which one a bare name means is kept apart in `<root>/<name>/ACTIVE`,
so switching models is one atomic file replace; `<root>/<name>/HISTORY` keeps the stack of
versions made active, so a rollback returns to the one before. The stack is read only up to
the active version's last entry: one above it was never made active after it (a crash cut its
activation short, or a rollback left it). Every file is listed with its sha256 in the
version's `manifest.json` and checked on `resolve`, so a damaged download or disk fails loudly
instead of loading garbage weights. Models shipped inside the package live in a second,
read-only root with the same layout; the user root is layered over it and numbering continues
after the shipped versions. Only json and raw bytes are stored: no pickle, nothing executable.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from data.atomic import fsync_dir, staged_dir, write_atomic, write_synced
from data.errors import CheckpointError, InputError, ModelNotFound
from model.config import code_version

MANIFEST = "manifest.json"
METRICS = "metrics.json"  # stored with each version (`model.tagger.Tagger.files`), listed with it by `Store.list`
ACTIVE = "ACTIVE"
HISTORY = "HISTORY"
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"  # model names, and every other name a user gives the service
NAME = re.compile(NAME_PATTERN)
JOBS_TABLE, DICTIONARIES = "jobs.sqlite3", "dictionaries"  # what the service keeps beside the models in a store's directory
VERSION = re.compile(r"[1-9][0-9]*")  # a version directory's name
REF_PATTERN = rf"({NAME_PATTERN})(?:@({VERSION.pattern}))?"  # "name" or "name@N"; plain groups, so JSON Schema (ECMA-262) reads it too
_REF = re.compile(REF_PATTERN)
_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True)
class Aliases:
    """Which version of a name is active, and the stack of versions made active before it."""

    active: int | None = None
    history: tuple[int, ...] = ()


class Root(Protocol):
    """Where versions' bytes live. The store's rules sit above this; each root keeps its
    promises its own way: a version is visible only once complete, an aliases update never
    overwrites another writer's, and one cut short reads as before or after it (given that
    entries above the active version's last on the stack are not read)."""

    def where(self, name: str, version: int) -> str: ...
    def names(self) -> set[str]: ...
    def versions(self, name: str) -> set[int]: ...
    def read(self, name: str, version: int, filename: str) -> bytes: ...
    def publish(self, name: str, files: dict[str, bytes], first_free: Callable[[], int], manifest: Callable[[int], bytes]) -> int: ...
    def aliases(self, name: str) -> Aliases: ...
    def update_aliases(self, name: str, change: Callable[[Aliases], Aliases]) -> None: ...
    def check_writable(self) -> None: ...


class LocalRoot:
    """A directory: a version appears by one rename of a complete, fsynced temp directory;
    ACTIVE and HISTORY are replaced atomically, read-modify-written under a file lock, in an
    order that a crash between them cannot make another version look activated."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def where(self, name: str, version: int) -> str:
        return str(self.path / name / str(version))

    def names(self) -> set[str]:
        if not self.path.is_dir():
            return set()
        return {c.name for c in self.path.iterdir() if NAME.fullmatch(c.name) and c.is_dir()}

    def versions(self, name: str) -> set[int]:
        folder = self.path / name
        if not folder.is_dir():
            return set()
        return {int(c.name) for c in folder.iterdir() if VERSION.fullmatch(c.name) and c.is_dir()}

    def read(self, name: str, version: int, filename: str) -> bytes:
        return (self.path / name / str(version) / filename).read_bytes()

    def check_writable(self) -> None:
        """Only creating a file proves that versions can be written here: a read-only mount or
        a directory owned by another user passes every other check (`Store.check_writable`)."""
        self.path.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".probe-", dir=self.path)
        os.close(handle)
        os.unlink(probe)

    def publish(self, name: str, files: dict[str, bytes], first_free: Callable[[], int], manifest: Callable[[int], bytes]) -> int:
        """Rename a complete temp directory into the first free version; a concurrent
        writer's win means the next number."""
        name_dir = self.path / name
        name_dir.mkdir(parents=True, exist_ok=True)
        with staged_dir(name_dir, files) as tmp:
            version = first_free()
            while True:
                write_synced(tmp / MANIFEST, manifest(version))
                fsync_dir(tmp)
                try:
                    os.rename(tmp, name_dir / str(version))
                    break
                except OSError as err:
                    if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                        raise
                version = max(version + 1, first_free())
        return version

    def aliases(self, name: str) -> Aliases:
        active_file = self.path / name / ACTIVE
        active = None
        if active_file.is_file():
            text = active_file.read_text().strip()
            if not VERSION.fullmatch(text):
                raise CheckpointError(f"model {name!r}: its {ACTIVE} file does not hold a version number")
            active = int(text)
        history = _read_json_value(lambda: (self.path / name / HISTORY).read_bytes())
        return Aliases(active, tuple(v for v in history if isinstance(v, int)) if isinstance(history, list) else ())

    def update_aliases(self, name: str, change: Callable[[Aliases], Aliases]) -> None:
        folder = self.path / name
        folder.mkdir(parents=True, exist_ok=True)
        lock = os.open(folder, os.O_RDONLY)  # the name's directory itself is the lock
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = self.aliases(name)
            for filename, content in _alias_writes(current.history, change(current)):
                write_atomic(folder / filename, content)
        finally:
            os.close(lock)


def _alias_writes(stored: tuple[int, ...], new: Aliases) -> list[tuple[str, bytes]]:
    """The files to replace, in order, so that a crash between any two leaves aliases that read
    as before or after (see `Store._stack`). HISTORY goes first, ACTIVE last: a pushed version
    lies above the active one until ACTIVE names it. A rollback (the stack cut shorter) first
    keeps the version it leaves on top, then switches ACTIVE, then drops it: cut at once, the
    stack could hold that version lower down, and read as if it was active before."""
    history = lambda stack: (HISTORY, json.dumps(list(stack)).encode())  # noqa: E731
    active = (ACTIVE, f"{new.active}\n".encode())
    depth = len(new.history)
    if depth < len(stored) and stored[:depth] == new.history:
        return [history(stored[: depth + 1]), active, history(new.history)]
    return [history(new.history), active]


@dataclass(frozen=True)
class Checkpoint:
    """One verified version: where it lies and its manifest, with readers for its files."""

    name: str
    version: int
    root: Root
    manifest: dict[str, Any]

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def location(self) -> str:
        return self.root.where(self.name, self.version)

    def read_bytes(self, filename: str) -> bytes:
        """Read a file the manifest lists; anything else is not part of the checkpoint."""
        if filename not in self.manifest["files"]:
            listed = ", ".join(sorted(self.manifest["files"]))
            raise CheckpointError(f"{self.ref} has no file {filename!r} (it has: {listed})")
        try:
            return self.root.read(self.name, self.version, filename)
        except OSError as err:
            raise CheckpointError(f"cannot read {filename} of {self.ref}: {err}") from err

    def read_json(self, filename: str) -> dict[str, Any]:
        """A listed file as a JSON object, or a CheckpointError naming the version: callers
        `.get` keys of it, and a damaged file must not surface as an AttributeError."""
        try:
            value = json.loads(self.read_bytes(filename))
        except ValueError as err:
            raise CheckpointError(f"{filename} of {self.ref} is not valid JSON: {err}") from err
        if not isinstance(value, dict):
            raise CheckpointError(f"{filename} of {self.ref} is not a JSON object")
        return value


@dataclass(frozen=True)
class ModelInfo:
    """What `Store.list` shows for one name: no checksums checked, so corrupt versions appear."""

    name: str
    versions: list[int]
    active: int | None  # None where `problem` says why it cannot be told
    metrics: dict[int, dict[str, Any]]
    parents: dict[int, str | None]  # lineage: the version each was fine-tuned from
    problem: str | None = None  # a damaged alias file, shown with the name rather than hiding every other


class Store:
    """Checkpoints under a writable user root layered over a read-only shipped root.

    The user root is a directory or an fsspec URL (`s3://bucket/prefix`, ...). `root` is
    always a local directory: the store itself, or for a URL the working directory
    (`$ZHTAG_WORKDIR`, default ~/.zhtag/work) for what stays on this machine: training
    states, the job table and dictionaries."""

    def __init__(self, root: Path | str | None = None, shipped: Path | None = None, workdir: Path | None = None) -> None:
        location = str(root if root is not None else os.environ.get("ZHTAG_STORE") or "~/.zhtag/store")
        self.location = location
        if "://" in location:
            from model.objectroot import ObjectRoot

            self.user: Root = ObjectRoot(location)
            self.root = Path(workdir or os.environ.get("ZHTAG_WORKDIR") or "~/.zhtag/work").expanduser()
        else:
            self.root = Path(location).expanduser()
            if self.root.exists() and not self.root.is_dir():
                raise CheckpointError(f"the store {location} is a file, not a directory (ZHTAG_STORE names the store's directory)")
            self.user = LocalRoot(self.root)
        self.shipped = shipped if shipped is not None else Path(__file__).parent / "shipped"
        self._shipped = LocalRoot(self.shipped)

    def save(
        self,
        name: str,
        files: dict[str, bytes],
        *,
        parent: str | None = None,
        corpus: dict[str, Any] | None = None,
        activate: bool = True,
    ) -> str:
        """Publish `files` as the next version of `name`, make it active unless told not to
        (a version that did not pass a promotion gate), return "name@N"."""
        check_name(name)
        for filename in files:
            _check_filename(filename)
        if parent is not None and parse_ref(parent)[1] is None:
            raise InputError(f"parent {parent!r} must name a version, as 'name@N'")
        manifest = _manifest(name, files, parent, _corpus_record(corpus))
        numbered = lambda version: json.dumps({**manifest, "version": version}, indent=2).encode() + b"\n"  # noqa: E731
        try:
            version = self.user.publish(name, files, lambda: self._next_version(name), numbered)
            if activate:
                self._push_active(name, version)
        except OSError as err:
            raise CheckpointError(f"cannot save model {name!r} under {self.location}: {err}") from err
        return f"{name}@{version}"

    def check_writable(self) -> None:
        """Refuse now, not at the end of a training run, a store that cannot take a new
        version: a bucket that does not exist, credentials that may not write, a read-only
        or impossible directory."""
        try:
            self.user.check_writable()
        except OSError as err:
            raise CheckpointError(f"cannot write to the store {self.location}: {err}") from err

    def activate(self, ref: str) -> str:
        """Make the (verified) version `ref` names what the bare name resolves to. A bare name
        is refused: it names the version active now, so activating it would change nothing
        yet read as success."""
        if parse_ref(ref)[1] is None:
            raise InputError(f"give the version to activate: {ref}@N")
        checkpoint = self.resolve(ref)
        try:
            self._push_active(checkpoint.name, checkpoint.version)
        except OSError as err:
            raise CheckpointError(f"cannot activate {checkpoint.ref}: {err}") from err
        return checkpoint.ref

    def previous(self, name: str) -> str:
        """The version a rollback of `name` would make active: the one active before the
        current one."""
        check_name(name)
        return f"{name}@{self._rolled_back(name, self.user.aliases(name))[-1]}"

    def rollback(self, name: str) -> str:
        """Make the previously active version of `name` active again; returns its ref."""
        target = self.resolve(self.previous(name))

        def roll(current: Aliases) -> Aliases:
            stack = self._rolled_back(name, current)
            if stack[-1] != target.version:
                raise CheckpointError(f"{name} was activated elsewhere meanwhile; roll back again")
            return Aliases(target.version, tuple(stack))

        try:
            self.user.update_aliases(name, roll)
        except OSError as err:
            raise CheckpointError(f"cannot roll back {name}: {err}") from err
        return target.ref

    def _rolled_back(self, name: str, aliases: Aliases) -> list[int]:
        """The activation stack with the current version popped off (never empty)."""
        current, stack = self._stack(name, aliases)
        while stack and stack[-1] == current:
            stack.pop()
        if current is None:
            raise CheckpointError(f"{name} has no active version: there is nothing to roll back from")
        if not stack:
            raise CheckpointError(f"{name}@{current} is the first active version of {name}: there is nothing to roll back to")
        return stack

    def _stack(self, name: str, aliases: Aliases) -> tuple[int | None, list[int]]:
        """The active version and the activation stack up to its last entry. An entry above
        that was pushed by an activation a crash stopped before it wrote ACTIVE, or is the
        version a rollback was leaving: not one the active version replaced, so not one to
        roll back to."""
        self._known_versions(name, name)
        current = self._active(name, aliases)
        stack = list(aliases.history)
        if current in stack:
            del stack[len(stack) - stack[::-1].index(current) :]
        return current, stack

    def resolve(self, ref: str) -> Checkpoint:
        """The version `ref` names, every file checked against its manifest first, so that a
        damaged download or disk fails here, loudly, not as garbage weights at tagging."""
        name, version, root = self._find(ref)
        checkpoint = Checkpoint(name, version, root, _load_manifest(root, name, version))
        _verify(checkpoint)
        return checkpoint

    def verify(self, only: str | None = None) -> dict[str, str | None]:
        """Every stored version (of model `only`, if given), `name@N`, mapped to what is wrong
        with it, or None when its manifest and every file it lists check out."""
        report: dict[str, str | None] = {}
        for name in self._names(only):
            for version in sorted(self._versions(name)):
                ref = f"{name}@{version}"
                try:
                    self.resolve(ref)
                    report[ref] = None
                except CheckpointError as err:
                    report[ref] = str(err)
        return report

    def newest(self, name: str) -> Checkpoint | None:
        """The highest stored version of `name`, active or not; None for a name with none."""
        versions = self._versions(name)
        return self.resolve(f"{name}@{max(versions)}") if versions else None

    def locate(self, ref: str) -> str:
        """The exact `name@N` that `ref` names now, reading no version files: cheap enough
        to check often, so a server picks up a newly activated version."""
        name, version, _ = self._find(ref)
        return f"{name}@{version}"

    def _find(self, ref: str) -> tuple[str, int, Root]:
        name, version = parse_ref(ref)
        versions = self._known_versions(name, ref)
        if version is None:
            version = self._active(name, self.user.aliases(name))
        if version is None:
            raise ModelNotFound(_inactive(name, versions))
        if version not in versions:
            available = ", ".join(f"{name}@{v}" for v in sorted(versions))
            raise ModelNotFound(f"no version {name}@{version} (available: {available})")
        return name, version, versions[version]

    def _known_versions(self, name: str, ref: str) -> dict[int, Root]:
        versions = self._versions(name)
        if not versions:
            available = ", ".join(self._names()) or "none"
            raise ModelNotFound(f"no model {ref!r} in the store (available: {available})")
        return versions

    def list(self, only: str | None = None) -> list[ModelInfo]:
        """Every name in both roots (or `only`) with its versions, active version and metrics."""
        return [self._info(name) for name in self._names(only)]

    def _info(self, name: str) -> ModelInfo:
        versions = self._versions(name)
        read = lambda v, f: _read_json(lambda: versions[v].read(name, v, f))  # noqa: E731
        active, problem = None, None
        try:
            active = self._active(name, self.user.aliases(name))  # None, and no problem, where every version was stored inactive
        except CheckpointError as err:
            problem = str(err)
        if active is not None and active not in versions:  # the name resolves to nothing: say why
            problem = f"model {name!r}: its {ACTIVE} file names version {active}, which is not stored (activate one: {name}@N)"
            active = None
        return ModelInfo(
            name=name,
            versions=sorted(versions),
            active=active,
            metrics={v: read(v, METRICS) for v in sorted(versions)},
            parents={v: read(v, MANIFEST).get("parent") for v in sorted(versions)},
            problem=problem,
        )

    def _next_version(self, name: str) -> int:
        return 1 + max(self._versions(name), default=0)

    def _push_active(self, name: str, version: int) -> None:
        """Record `version` on the activation stack, then make it active. A name's stack starts
        with the shipped version active before it, so that one can be rolled back to. Only a
        shipped one: a user version is active only by being pushed here, and one that is not on
        the stack yet may be another writer's, published a moment ago and about to be pushed."""
        shipped = self._active(name, Aliases())

        def push(current: Aliases) -> Aliases:
            stack = self._stack(name, current)[1]
            if not stack and shipped not in (None, version):
                stack = [shipped]
            if not stack or stack[-1] != version:
                stack.append(version)
            return Aliases(version, tuple(stack))

        self.user.update_aliases(name, push)

    def _versions(self, name: str) -> dict[int, Root]:
        """Published versions of `name` and the root holding each; the user root overrides
        the shipped one per number."""
        return {version: root for root in (self._shipped, self.user) for version in root.versions(name)}

    def _names(self, only: str | None = None) -> list[str]:
        """The names with a version, or [only], which must be one."""
        if only is not None:
            check_name(only)
            if not self._versions(only):
                raise ModelNotFound(f"no model {only!r} in the store")
            return [only]
        names = self._shipped.names() | self.user.names()
        return sorted(n for n in names if self._versions(n))

    def _active(self, name: str, aliases: Aliases) -> int | None:
        """The user root's active version, else the shipped root's (its highest where none is
        marked): a stored version never activated must not displace the shipped model of its
        name. None for a name of the user's alone whose versions were all stored inactive
        (trained with `--no-auto-promote`): its trainer held them back from being served."""
        for active in (aliases.active, self._shipped.aliases(name).active):
            if active is not None:
                return active
        return max(self._shipped.versions(name), default=None)


def _inactive(name: str, versions: dict[int, Root]) -> str:
    stored = ", ".join(f"{name}@{v}" for v in sorted(versions))
    return f"{name} has no active version ({stored} stored, none activated): activate one (zhtag models activate {name}@N) or name the version"


def parse_ref(ref: str) -> tuple[str, int | None]:
    """Split "name" or "name@N" into (name, N or None)."""
    match = _REF.fullmatch(ref)
    if match is None:
        raise InputError(
            f"malformed model reference {ref!r}: expected 'name' or 'name@N' "
            f"with N a positive integer and name matching {NAME_PATTERN}"
        )
    name, version = match.groups()
    return name, int(version) if version else None


def check_name(name: str) -> None:
    """Refuse a model name that could not be stored (a path, a reference with a version, the
    name of something the service keeps in the store's directory): bad input, as a malformed
    reference is, not a fault of the store."""
    if not NAME.fullmatch(name):
        raise InputError(
            f"invalid model name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if name.startswith(JOBS_TABLE):  # SQLite keeps -wal, -shm and -journal files beside it
        raise InputError(f"invalid model name {name!r}: the store keeps its job table under names that begin so")
    if name == DICTIONARIES:
        raise InputError(f"invalid model name {name!r}: the store keeps its named dictionaries under that name")


def _check_filename(filename: str) -> None:
    """Plain names only, so no file can escape its version directory or shadow the manifest."""
    if filename == MANIFEST:
        raise CheckpointError(f"{MANIFEST} is written by the store; do not pass it")
    if not _FILENAME.fullmatch(filename):
        raise CheckpointError(f"invalid checkpoint file name {filename!r}")


def _corpus_record(corpus: dict[str, Any] | None) -> dict[str, Any] | None:
    if corpus is None:
        return None
    if not isinstance(corpus.get("sha256"), str) or not isinstance(corpus.get("size"), int):
        raise CheckpointError(f"corpus must be {{'sha256': str, 'size': int}}, got {corpus!r}")
    return {"sha256": corpus["sha256"], "size": corpus["size"]}


def _manifest(
    name: str, files: dict[str, bytes], parent: str | None, corpus: dict[str, Any] | None
) -> dict[str, Any]:
    """The manifest without its version, which is only known when the rename succeeds."""
    return {
        "name": name,
        "version": None,
        "files": {f: hashlib.sha256(content).hexdigest() for f, content in files.items()},
        "parent": parent,
        "corpus": corpus,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "code_version": code_version(),
    }


def _load_manifest(root: Root, name: str, version: int) -> dict[str, Any]:
    ref = f"{name}@{version}"
    try:
        manifest = json.loads(root.read(name, version, MANIFEST))
    except OSError as err:
        raise CheckpointError(f"{ref} has no readable {MANIFEST}: {err}") from err
    except ValueError as err:
        raise CheckpointError(f"{MANIFEST} of {ref} is not valid JSON: {err}") from err
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise CheckpointError(f"{MANIFEST} of {ref} has no 'files' table")
    return manifest


def _verify(checkpoint: Checkpoint) -> None:
    """Check every listed file's sha256, so damage is reported instead of loaded."""
    ref = checkpoint.ref
    for filename, expected in checkpoint.manifest["files"].items():
        if not isinstance(filename, str) or not _FILENAME.fullmatch(filename):
            raise CheckpointError(f"{MANIFEST} of {ref} lists an invalid file name {filename!r}")
        try:
            actual = hashlib.sha256(checkpoint.root.read(checkpoint.name, checkpoint.version, filename)).hexdigest()
        except OSError as err:
            raise CheckpointError(
                f"checksum failed for {filename} of {ref}: file is missing or unreadable ({err})"
            ) from err
        if actual != expected:
            raise CheckpointError(
                f"checksum failed for {filename} of {ref}: sha256 is {actual}, "
                f"manifest says {expected}"
            )


def _read_json(read: Callable[[], bytes]) -> dict[str, Any]:
    """A JSON object for listing; absent or unreadable gives {} so one bad version hides nothing."""
    data = _read_json_value(read)
    return data if isinstance(data, dict) else {}


def _read_json_value(read: Callable[[], bytes]) -> Any:
    try:
        return json.loads(read())
    except (OSError, ValueError):
        return None
