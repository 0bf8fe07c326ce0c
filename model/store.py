"""The versioned checkpoint store: immutable `<root>/<name>/<version>/` directories.

A version is published by one `os.rename` of a fully written, fsynced temp directory, so a
reader sees either the whole version or nothing, even if the writer crashes. Versions never
change after publishing; which one a bare name means is kept apart in `<root>/<name>/ACTIVE`,
so switching models is one atomic file replace; `<root>/<name>/HISTORY` keeps the stack of
versions made active, so a rollback returns to the one before. Every file is listed with its sha256 in the
version's `manifest.json` and checked on `resolve`, so a damaged download or disk fails loudly
instead of loading garbage weights. Models shipped inside the package live in a second,
read-only root with the same layout; the user root is layered over it and numbering continues
after the shipped versions. Only json and raw bytes are stored: no pickle, nothing executable.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from data.atomic import fsync_dir, write_atomic, write_synced
from data.errors import CheckpointError, ModelNotFound

MANIFEST = "manifest.json"
ACTIVE = "ACTIVE"
HISTORY = "HISTORY"
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"  # model names, and every other name a user gives the service
_NAME = re.compile(NAME_PATTERN)
_VERSION = re.compile(r"[1-9][0-9]*")
_REF = re.compile(rf"(?P<name>{NAME_PATTERN})(?:@(?P<version>{_VERSION.pattern}))?")
_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True)
class Checkpoint:
    """One verified version: its directory and manifest, with readers for its files."""

    name: str
    version: int
    path: Path
    manifest: dict[str, Any]

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def read_bytes(self, filename: str) -> bytes:
        """Read a file the manifest lists; anything else is not part of the checkpoint."""
        if filename not in self.manifest["files"]:
            listed = ", ".join(sorted(self.manifest["files"]))
            raise CheckpointError(f"{self.ref} has no file {filename!r} (it has: {listed})")
        try:
            return (self.path / filename).read_bytes()
        except OSError as err:
            raise CheckpointError(f"cannot read {filename} of {self.ref}: {err}") from err

    def read_json(self, filename: str) -> dict[str, Any]:
        """Read a listed file as a JSON object."""
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
    active: int
    metrics: dict[int, dict[str, Any]]
    parents: dict[int, str | None]  # lineage: the version each was fine-tuned from


class Store:
    """Checkpoints under a writable user root layered over a read-only shipped root."""

    def __init__(self, root: Path | None = None, shipped: Path | None = None) -> None:
        default = os.environ.get("ZHTAG_STORE") or "~/.zhtag/store"
        self.root = Path(root if root is not None else default).expanduser()
        self.shipped = shipped if shipped is not None else Path(__file__).parent / "shipped"

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
        _check_name(name)
        for filename in files:
            _check_filename(filename)
        if parent is not None and parse_ref(parent)[1] is None:
            raise CheckpointError(f"parent {parent!r} must name a version, as 'name@N'")
        manifest = _manifest(name, files, parent, _corpus_record(corpus))
        name_dir = self.root / name
        try:
            name_dir.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=name_dir))
            try:
                for filename, content in files.items():
                    write_synced(tmp / filename, content)
                version = self._publish(tmp, name, manifest)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            fsync_dir(name_dir)
            if activate:
                self._push_active(name, version)
        except OSError as err:
            raise CheckpointError(f"cannot save model {name!r} under {self.root}: {err}") from err
        return f"{name}@{version}"

    def activate(self, ref: str) -> str:
        """Make the (verified) version `ref` names what the bare name resolves to."""
        checkpoint = self.resolve(ref)
        try:
            self._push_active(checkpoint.name, checkpoint.version)
        except OSError as err:
            raise CheckpointError(f"cannot activate {checkpoint.ref}: {err}") from err
        return checkpoint.ref

    def previous(self, name: str) -> str:
        """The version a rollback of `name` would make active: the one active before the
        current one."""
        return f"{name}@{self._rolled_back(name)[-1]}"

    def rollback(self, name: str) -> str:
        """Make the previously active version of `name` active again; returns its ref."""
        stack = self._rolled_back(name)
        checkpoint = self.resolve(f"{name}@{stack[-1]}")
        try:
            write_atomic(self.root / name / HISTORY, json.dumps(stack).encode())
            write_atomic(self.root / name / ACTIVE, f"{checkpoint.version}\n".encode())
        except OSError as err:
            raise CheckpointError(f"cannot roll back {name}: {err}") from err
        return checkpoint.ref

    def _rolled_back(self, name: str) -> list[int]:
        """The activation stack with the current version popped off (never empty)."""
        current = parse_ref(self.locate(name))[1]
        stack = self._history(name)
        while stack and stack[-1] == current:
            stack.pop()
        if not stack:
            raise CheckpointError(f"{name}@{current} is the first active version of {name}: there is nothing to roll back to")
        return stack

    def resolve(self, ref: str) -> Checkpoint:
        """Find the version `ref` names and verify every file against its manifest."""
        name, version, path = self._find(ref)
        manifest = _load_manifest(path, f"{name}@{version}")
        _verify(path, manifest, f"{name}@{version}")
        return Checkpoint(name, version, path, manifest)

    def verify(self) -> dict[str, str | None]:
        """Every stored version, `name@N`, mapped to what is wrong with it, or None when its
        manifest and every file it lists check out."""
        report: dict[str, str | None] = {}
        for name in self._names():
            for version in sorted(self._versions(name)):
                ref = f"{name}@{version}"
                try:
                    self.resolve(ref)
                    report[ref] = None
                except CheckpointError as err:
                    report[ref] = str(err)
        return report

    def locate(self, ref: str) -> str:
        """The exact `name@N` that `ref` names now, reading no version files: cheap enough
        for every request, so a server picks up a newly activated version."""
        name, version, _ = self._find(ref)
        return f"{name}@{version}"

    def _find(self, ref: str) -> tuple[str, int, Path]:
        name, version = parse_ref(ref)
        versions = self._versions(name)
        if not versions:
            available = ", ".join(self._names()) or "none"
            raise ModelNotFound(f"no model {ref!r} in the store (available: {available})")
        if version is None:
            version = self._active(name, versions)
        if version not in versions:
            available = ", ".join(f"{name}@{v}" for v in sorted(versions))
            raise ModelNotFound(f"no version {name}@{version} (available: {available})")
        return name, version, versions[version]

    def list(self) -> list[ModelInfo]:
        """Every name in both roots with its versions, active version and metrics."""
        infos = []
        for name in self._names():
            versions = self._versions(name)
            infos.append(
                ModelInfo(
                    name=name,
                    versions=sorted(versions),
                    active=self._active(name, versions),
                    metrics={v: _read_json(path / "metrics.json") for v, path in sorted(versions.items())},
                    parents={v: _read_json(path / MANIFEST).get("parent") for v, path in sorted(versions.items())},
                )
            )
        return infos

    def _publish(self, tmp: Path, name: str, manifest: dict[str, Any]) -> int:
        """Rename `tmp` into the next free version; a concurrent writer's win means retry."""
        version = self._next_version(name)
        while True:
            manifest["version"] = version
            write_synced(tmp / MANIFEST, json.dumps(manifest, indent=2).encode() + b"\n")
            fsync_dir(tmp)
            try:
                os.rename(tmp, self.root / name / str(version))
                return version
            except OSError as err:
                if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
            version = max(version + 1, self._next_version(name))

    def _next_version(self, name: str) -> int:
        return 1 + max(self._versions(name), default=0)

    def _push_active(self, name: str, version: int) -> None:
        """Record `version` on the activation stack, then make it active. A name's stack starts
        with the version active before it (a shipped one, say), so that one can be rolled back to."""
        stack = self._history(name)
        versions = self._versions(name)
        if not stack and versions.keys() - {version}:
            stack = [self._active(name, versions)]
        if not stack or stack[-1] != version:
            stack.append(version)
        write_atomic(self.root / name / HISTORY, json.dumps(stack).encode())
        write_atomic(self.root / name / ACTIVE, f"{version}\n".encode())

    def _history(self, name: str) -> list[int]:
        value = _read_json_value(self.root / name / HISTORY)
        return [v for v in value if isinstance(v, int)] if isinstance(value, list) else []

    def _versions(self, name: str) -> dict[int, Path]:
        """Published versions of `name`; the user root overrides the shipped one per number."""
        found: dict[int, Path] = {}
        for root in (self.shipped, self.root):
            name_dir = root / name
            if name_dir.is_dir():
                for child in name_dir.iterdir():
                    if _VERSION.fullmatch(child.name) and child.is_dir():
                        found[int(child.name)] = child
        return found

    def _names(self) -> list[str]:
        names = {
            child.name
            for root in (self.shipped, self.root)
            if root.is_dir()
            for child in root.iterdir()
            if _NAME.fullmatch(child.name) and child.is_dir()
        }
        return sorted(n for n in names if self._versions(n))

    def _active(self, name: str, versions: dict[int, Path]) -> int:
        """The user root's ACTIVE, else the shipped root's, else the highest version."""
        for root in (self.root, self.shipped):
            active_file = root / name / ACTIVE
            if active_file.is_file():
                text = active_file.read_text().strip()
                if not _VERSION.fullmatch(text):
                    raise CheckpointError(f"{active_file} does not hold a version number")
                return int(text)
        return max(versions)


def parse_ref(ref: str) -> tuple[str, int | None]:
    """Split "name" or "name@N" into (name, N or None)."""
    match = _REF.fullmatch(ref)
    if match is None:
        raise CheckpointError(
            f"malformed model reference {ref!r}: expected 'name' or 'name@N' "
            f"with N a positive integer and name matching {NAME_PATTERN}"
        )
    version = match["version"]
    return match["name"], int(version) if version else None


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise CheckpointError(
            f"invalid model name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )


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
        "code_version": _code_version(),
    }


def _code_version() -> str:
    try:
        return metadata.version("zhtag")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _load_manifest(path: Path, ref: str) -> dict[str, Any]:
    try:
        manifest = json.loads((path / MANIFEST).read_bytes())
    except OSError as err:
        raise CheckpointError(f"{ref} has no readable {MANIFEST}: {err}") from err
    except ValueError as err:
        raise CheckpointError(f"{MANIFEST} of {ref} is not valid JSON: {err}") from err
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise CheckpointError(f"{MANIFEST} of {ref} has no 'files' table")
    return manifest


def _verify(path: Path, manifest: dict[str, Any], ref: str) -> None:
    """Check every listed file's sha256, so damage is reported instead of loaded."""
    for filename, expected in manifest["files"].items():
        if not isinstance(filename, str) or not _FILENAME.fullmatch(filename):
            raise CheckpointError(f"{MANIFEST} of {ref} lists an invalid file name {filename!r}")
        try:
            with open(path / filename, "rb") as fh:
                actual = hashlib.file_digest(fh, "sha256").hexdigest()
        except OSError as err:
            raise CheckpointError(
                f"checksum failed for {filename} of {ref}: file is missing or unreadable ({err})"
            ) from err
        if actual != expected:
            raise CheckpointError(
                f"checksum failed for {filename} of {ref}: sha256 is {actual}, "
                f"manifest says {expected}"
            )


def _read_json(path: Path) -> dict[str, Any]:
    """A JSON object for listing; absent or unreadable gives {} so one bad version hides nothing."""
    data = _read_json_value(path)
    return data if isinstance(data, dict) else {}


def _read_json_value(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
