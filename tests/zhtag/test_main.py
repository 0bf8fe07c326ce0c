"""Specification of zhtag/__main__.py: `python -m zhtag` is the `zhtag` command, for where its
script is not on PATH."""
from __future__ import annotations

import subprocess
import sys


def test_python_dash_m_zhtag_runs_the_command_line() -> None:
    run = lambda *args, text="": subprocess.run([sys.executable, "-m", "zhtag", *args], input=text, capture_output=True, text=True, timeout=120)  # noqa: E731
    version = run("--version")
    assert version.returncode == 0 and version.stdout.startswith("zhtag ")
    refused = run("segment", "/no/such/file")
    assert refused.returncode == 1 and refused.stderr.startswith("zhtag: error: ") and "Traceback" not in refused.stderr
