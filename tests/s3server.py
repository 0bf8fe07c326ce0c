"""A real S3 server for the object-store tests, started on a free port: Ceph's radosgw from
Debian's packages (radosgw ceph-mon ceph-osd), else moto's server mode, else the tests that
need one are skipped with the reason."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.service.conftest import free_port

CEPH = Path(__file__).parent / "fixtures" / "s3" / "ceph.sh"
KEY, SECRET = "zhtagtest", "zhtagtestsecret"


def start_ceph(attempts: int = 3) -> tuple[str, Callable]:
    """radosgw on a free port, with a user for the tests; and how to stop it. A start that
    fails (now and then its OSD is refused with 'wrong fsid') is stopped and tried afresh."""
    for attempt in range(attempts):
        folder = Path(tempfile.mkdtemp(prefix="zt-ceph-"))  # short: Ceph's sockets live here
        stop = lambda folder=folder: (kill_daemons(folder), shutil.rmtree(folder, ignore_errors=True))  # noqa: E731
        try:
            return ceph_in(folder), stop
        except (subprocess.SubprocessError, RuntimeError) as err:
            stop()
            if attempt == attempts - 1:
                raise RuntimeError(f"{attempts} attempts failed, the last with: {err}") from err
    raise AssertionError("unreachable")


def ceph_in(folder: Path) -> str:
    port, mon_port = free_port(), free_port()
    subprocess.run(["bash", str(CEPH), str(folder), str(port), str(mon_port)], check=True, capture_output=True, timeout=120)
    endpoint = f"http://127.0.0.1:{port}"
    if not wait_until_up(endpoint, 90):
        raise RuntimeError("radosgw did not answer within 90 s")
    user = ["radosgw-admin", "-c", f"{folder}/ceph.conf", "-n", "client.rgw", "user", "create", "--uid=zhtag", "--display-name=zhtag"]
    subprocess.run([*user, f"--access-key={KEY}", f"--secret={SECRET}"], check=True, capture_output=True, timeout=60)
    return endpoint


def kill_daemons(folder: Path) -> None:
    for pid_file in (folder / "run").glob("*.pid"):
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def start_moto() -> tuple[str, Callable]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    if not wait_until_up(endpoint, 30):
        server.kill()
        raise RuntimeError("moto's server did not answer within 30 s")
    return endpoint, lambda: (server.kill(), server.wait())


def wait_until_up(endpoint: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(endpoint, timeout=2)
            return True
        except httpx.HTTPError:
            time.sleep(0.3)
    return False


def start_server() -> tuple[str, str, Callable]:
    """(server name, endpoint, stop) of the first S3 server that starts here."""
    reasons = []
    if shutil.which("radosgw"):
        try:
            return ("radosgw", *start_ceph())
        except (subprocess.SubprocessError, RuntimeError, OSError) as err:
            reasons.append(f"radosgw would not start: {err}")
    else:
        reasons.append("radosgw is not installed (apt-get install radosgw ceph-mon ceph-osd)")
    try:
        import moto.server  # noqa: F401

        return ("moto", *start_moto())
    except (ImportError, RuntimeError, OSError) as err:
        reasons.append(f"moto's server would not start: {err}")
    pytest.skip("no S3 server could be started: " + "; ".join(reasons))
