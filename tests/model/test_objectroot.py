"""A store whose user root is an S3 bucket, against a real S3 server the tests start: Ceph's
radosgw from Debian's packages (radosgw ceph-mon ceph-osd), else moto's server mode, else the
S3 tests are skipped with the reason. The same promises as a local store: versions appear
whole or not at all, racing writers get distinct versions, and no activation is lost."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from data.errors import CheckpointError
from model.store import Store
from model.tagger import Tagger
from tests.service.conftest import FIXTURES, TINY, free_port

CEPH = Path(__file__).parents[1] / "fixtures" / "s3" / "ceph.sh"
KEY, SECRET = "zhtagtest", "zhtagtestsecret"


def start_ceph() -> tuple[str, Callable]:
    """radosgw on a free port, with a user for the tests; and how to stop it."""
    folder = tempfile.mkdtemp(prefix="zt-ceph-")  # short: Ceph's sockets live here
    port, mon_port = free_port(), free_port()
    subprocess.run(["bash", str(CEPH), folder, str(port), str(mon_port)], check=True, capture_output=True, timeout=120)
    stop = lambda: stop_pids(Path(folder), ["client.rgw", "osd.0", "mon.a"])  # noqa: E731
    endpoint = f"http://127.0.0.1:{port}"
    if not wait_until_up(endpoint, 90):
        stop()
        raise RuntimeError("radosgw did not answer within 90 s")
    user = ["radosgw-admin", "-c", f"{folder}/ceph.conf", "-n", "client.rgw", "user", "create", "--uid=zhtag", "--display-name=zhtag"]
    subprocess.run([*user, f"--access-key={KEY}", f"--secret={SECRET}"], check=True, capture_output=True, timeout=60)
    return endpoint, lambda: (stop(), shutil.rmtree(folder, ignore_errors=True))


def stop_pids(folder: Path, names: list[str]) -> None:
    for name in names:
        pid_file = folder / "run" / f"{name}.pid"
        if pid_file.exists():
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


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    pytest.importorskip("s3fs", reason="s3fs is not installed (pip install '.[s3]')")
    name, endpoint, stop = start_server()
    print(f"S3 server: {name} at {endpoint}")
    try:
        yield endpoint
    finally:
        stop()


@pytest.fixture
def bucket(s3_server: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """A fresh bucket, with zhtag's store options pointing at the server."""
    import s3fs

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    options = {"endpoint_url": s3_server, "key": KEY, "secret": SECRET}
    monkeypatch.setenv("ZHTAG_STORE_OPTIONS", json.dumps(options))
    name = f"zt-{request.node.name.lower().replace('_', '-')[:40]}-{time.monotonic_ns() % 10**6}"
    s3fs.S3FileSystem(endpoint_url=s3_server, key=KEY, secret=SECRET, skip_instance_cache=True).mkdir(name)
    return name


def s3_store(bucket: str, tmp_path: Path) -> Store:
    return Store(root=f"s3://{bucket}/store", shipped=tmp_path / "none", workdir=tmp_path / "work")


def test_versions_saved_to_a_bucket_resolve_verify_and_switch(bucket: str, tmp_path: Path) -> None:
    store = s3_store(bucket, tmp_path)
    assert [store.save("cws", {"w": content}) for content in (b"one", b"two")] == ["cws@1", "cws@2"]
    assert store.resolve("cws").read_bytes("w") == b"two"
    assert store.activate("cws@1") == "cws@1" and store.locate("cws") == "cws@1"
    assert store.rollback("cws") == "cws@2"
    assert [(m.name, m.versions, m.active) for m in store.list()] == [("cws", [1, 2], 2)]
    assert store.verify() == {"cws@1": None, "cws@2": None}
    assert s3_store(bucket, tmp_path).locate("cws") == "cws@2", "another process sees the same store"


def test_a_version_still_uploading_is_invisible_and_its_number_is_skipped(bucket: str, tmp_path: Path) -> None:
    store = s3_store(bucket, tmp_path)
    store.save("cws", {"w": b"one"})
    fs = store.user.fs
    fs.pipe_file(f"{bucket}/store/cws/2/.claim", b"a writer that died")
    fs.pipe_file(f"{bucket}/store/cws/2/w", b"half")
    assert store.list()[0].versions == [1] and store.locate("cws") == "cws@1"
    assert store.save("cws", {"w": b"three"}) == "cws@3"


def test_a_damaged_object_is_refused_by_checksum_naming_the_version(bucket: str, tmp_path: Path) -> None:
    store = s3_store(bucket, tmp_path)
    store.save("cws", {"w": b"one"})
    store.user.fs.pipe_file(f"{bucket}/store/cws/1/w", b"bit rot")
    with pytest.raises(CheckpointError, match="checksum failed for w of cws@1"):
        store.resolve("cws")


def test_racing_writers_get_distinct_versions_and_lose_no_activation(bucket: str, tmp_path: Path) -> None:
    stores = [s3_store(bucket, tmp_path) for _ in range(6)]
    with ThreadPoolExecutor(6) as pool:
        refs = list(pool.map(lambda i: stores[i].save("cws", {"w": str(i).encode()}), range(6)))
    assert sorted(refs) == [f"cws@{v}" for v in range(1, 7)]
    history = stores[0].user.aliases("cws").history
    assert sorted(history) == [1, 2, 3, 4, 5, 6], "every writer's activation is on the stack"
    assert stores[0].locate("cws") == f"cws@{history[-1]}"


def test_zhtag_train_publishes_to_the_bucket_and_the_model_tags_from_it(bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**os.environ, "ZHTAG_STORE": f"s3://{bucket}/store", "ZHTAG_WORKDIR": str(tmp_path / "work")}
    train = [sys.executable, "-m", "service.cli", "train", "--task", "cws", "--train", str(FIXTURES / "train.pos.txt"), "--name", "s3cws", *TINY]
    printed = subprocess.run(train, env=env, capture_output=True, text=True, timeout=300)
    assert printed.returncode == 0, printed.stderr[-2000:]
    assert json.loads(printed.stdout)["model"] == "s3cws@1"
    text = "今天天气很好"
    (spans,) = Tagger.load("s3cws", s3_store(bucket, tmp_path)).tag([text])
    assert "".join(text[s.start : s.end] for s in spans) == text


def test_any_fsspec_url_holds_a_store(tmp_path: Path) -> None:
    store = Store(root=f"memory://zhtag-{time.monotonic_ns()}/store", shipped=tmp_path / "none", workdir=tmp_path / "work")
    assert store.save("cws", {"w": b"one"}) == "cws@1"
    assert store.resolve("cws").read_bytes("w") == b"one" and store.root == tmp_path / "work"
