"""Specification of zhtag/own_packages.py: a user's `model.py`, `service.py` or `data/` package
standing in for one of zhtag's packages is named when zhtag is imported."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def import_zhtag_in(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import zhtag"], cwd=folder, capture_output=True, text=True)


@pytest.mark.parametrize("name", ["model.py", "service.py", "data/__init__.py"])
def test_a_users_module_shadowing_a_zhtag_package_is_named(tmp_path: Path, name: str) -> None:
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text("x = 1\n")
    result = import_zhtag_in(tmp_path)
    assert result.returncode != 0
    assert f"{tmp_path / name} is found under that name first; rename it" in result.stderr.splitlines()[-1]


def test_a_plain_folder_of_such_a_name_is_named_too(tmp_path: Path) -> None:
    """A `data/` folder with no __init__.py, common in a user's project, is a namespace package
    that stands in for zhtag's as well: named, not taken for a damaged install."""
    (tmp_path / "data").mkdir()
    result = import_zhtag_in(tmp_path)
    assert result.returncode != 0
    assert f"{tmp_path / 'data'} is found under that name first; rename it" in result.stderr.splitlines()[-1]


def test_a_folder_without_such_names_imports_zhtag(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()  # similar names are fine
    assert import_zhtag_in(tmp_path).returncode == 0


def test_a_package_whose_files_another_distribution_removed_asks_for_a_reinstall(tmp_path: Path) -> None:
    """Uninstalling a distribution that also shipped `model` deletes zhtag's model/__init__.py,
    which leaves a namespace package that stands for nothing: a reinstall is what mends it."""
    home = Path(__file__).parents[2]
    for name in ("zhtag", "data", "service"):
        (tmp_path / name).symlink_to(home / name)
    (tmp_path / "model").mkdir()
    result = import_zhtag_in(tmp_path)
    assert result.returncode != 0
    assert "zhtag's own package 'model' is missing or damaged" in result.stderr.splitlines()[-1]
    assert "reinstall zhtag" in result.stderr.splitlines()[-1]
