"""pip-audit over the installed dependencies: no known vulnerability. Where no vulnerability
service answers (this project's machines reach only a package mirror), every package comes
back unaudited and the test is skipped with that reason rather than passed."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest


def test_no_installed_dependency_has_a_known_vulnerability() -> None:
    if shutil.which("pip-audit") is None:
        pytest.skip("pip-audit is not installed")
    run = subprocess.run(["pip-audit", "--format", "json", "--progress-spinner", "off"], capture_output=True, text=True, timeout=600)
    report = json.loads(run.stdout or "{}").get("dependencies", [])
    audited = [d for d in report if "skip_reason" not in d]
    if not audited:
        pytest.skip(f"no vulnerability service reachable: all {len(report)} packages unaudited ({run.stderr.strip()[-200:] or 'no detail'})")
    vulnerable = {f"{d['name']} {d['version']}": [v["id"] for v in d["vulns"]] for d in audited if d.get("vulns")}
    assert vulnerable == {}
