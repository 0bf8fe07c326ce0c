"""The README's Python section runs as written, and docs/API.md names every public function."""
from __future__ import annotations

import doctest
import io
import re
from pathlib import Path

import pytest

import zhtag

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"
API = (ROOT / "docs" / "API.md").read_text(encoding="utf-8")


def python_section() -> str:
    readme = README.read_text(encoding="utf-8")
    section = readme[readme.index("\n## Python\n") :]
    following = section.find("\n## ", 1)
    return section if following == -1 else section[:following]


@pytest.mark.usefixtures("default_tagger")
def test_the_readme_python_section_runs_as_written() -> None:
    blocks = re.findall(r"```python\n(.*?)```", python_section(), flags=re.S)
    assert len(blocks) == 2
    test = doctest.DocTestParser().get_doctest("\n".join(blocks), {}, "README.md#python", str(README), 0)
    report = io.StringIO()
    result = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS).run(test, out=report.write)
    assert result.failed == 0, report.getvalue()


def test_the_readme_links_the_api_reference() -> None:
    assert "(docs/API.md)" in python_section()


@pytest.mark.parametrize(
    "name",
    [*(f"zhtag.{name}" for name in zhtag.__all__ if name != "posseg"), "zhtag.posseg.cut", "zhtag.posseg.lcut", "zhtag.posseg.Pair"]
    + [f"{name}(" for name in vars(zhtag.Tagger) if not name.startswith("_")],
)
def test_the_api_reference_names_every_public_function(name: str) -> None:
    assert name in API
