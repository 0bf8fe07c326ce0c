"""Atomic writes: a reader sees the old file or the new one, and the new one is an ordinary
file, readable as a plain `open` would have made it."""
from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from data.atomic import fresh_dir, replacing, write_atomic


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_written_file_gets_the_mode_the_umask_gives_a_plain_open(tmp_path: Path, umask: Callable[[int], None], mask: int, expected: int) -> None:
    umask(mask)
    path = tmp_path / "words.txt"
    write_atomic(path, b"new")
    assert (path.read_bytes(), mode(path)) == (b"new", expected)


def test_a_replaced_file_is_readable_by_others_under_a_022_umask(tmp_path: Path, umask: Callable[[int], None]) -> None:
    umask(0o022)
    path = tmp_path / "words.txt"
    path.write_bytes(b"old")
    path.chmod(0o600)
    write_atomic(path, b"new")
    assert (path.read_bytes(), mode(path)) == (b"new", 0o644)


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk full"):
        with replacing(path) as handle:
            handle.write(b"half of the ne")
            raise RuntimeError("disk full")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["words.txt"]


def test_text_mode_takes_open_arguments(tmp_path: Path) -> None:
    path = tmp_path / "corpus.txt"
    with replacing(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("中文\n")
    assert path.read_bytes() == "中文\n".encode()


def test_a_fresh_directory_is_hidden_new_and_searchable_by_others(tmp_path: Path, umask: Callable[[int], None]) -> None:
    umask(0o022)
    first, second = fresh_dir(tmp_path), fresh_dir(tmp_path)
    assert first != second and first.name.startswith(".tmp-") and mode(first) == 0o755
