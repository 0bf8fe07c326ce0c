"""Writing files so that a crash never leaves half of one: what every stored thing (model
versions, aliases, dictionaries, caches, corpora) is written with.

Temp files and directories are made beside their target with an exclusive create rather than
`tempfile.mkstemp`/`mkdtemp`, whose private 0600/0700 modes would follow the file into place:
a model stored by a trainer must stay readable by servers running as another user, so the
result gets the mode a plain `open` would give it under the process's umask.
"""
from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def fresh_name(path: Path) -> Path:
    """A hidden sibling of `path` to write it out of sight: `.tmp-` marks what a crash left."""
    return path.parent / f".tmp-{path.name}-{secrets.token_hex(6)}"


@contextmanager
def replacing(path: Path, mode: str = "wb", **open_args: Any) -> Iterator[IO[Any]]:
    """A handle on a fresh file that replaces `path` when the block ends without error, so a
    reader sees the old file or the new one, never half of one, and the new one survives a
    power loss. On error the old file is left as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = fresh_name(path)
    try:
        with open(tmp, mode.replace("w", "x"), **open_args) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_atomic(path: Path, content: bytes) -> None:
    """Replace `path` with `content` (see `replacing`)."""
    with replacing(path) as handle:
        handle.write(content)


def fresh_dir(parent: Path) -> Path:
    """A new hidden directory in `parent`, to fill before renaming it into place."""
    directory = fresh_name(parent / "version")
    directory.mkdir()
    return directory


@contextmanager
def staged_dir(parent: Path, files: Mapping[str, bytes]) -> Iterator[Path]:
    """A new hidden directory in `parent` holding `files`, each synced, for the block to rename
    into place (a stored version, a training state's epoch); the rename is synced after it, and
    the directory is removed if the block leaves it there."""
    directory = fresh_dir(parent)
    try:
        for name, content in files.items():
            write_synced(directory / name, content)
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    fsync_dir(parent)


def write_synced(path: Path, content: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())


def fsync_dir(path: Path) -> None:
    """Persist a directory's entries (new files, renames) across a power loss."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
