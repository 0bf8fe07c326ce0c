"""Training jobs over HTTP: a job submitted with an uploaded corpus trains in a process of its
own and its version then serves; malformed, oversized and out-of-bounds corpora are refused
before anything is queued; only the admin may submit or cancel; a job whose process died is
marked failed when the server starts, which also deletes the uploads no job will read again. A
job's record names its corpora as the client gave them."""
from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from model.store import Store
from service.app import create_app
from service.jobs import JobStore, job_folder, jobs_path
from service.settings import Settings
from tests.service.conftest import FIXTURES

TOKEN = "jobs-admin"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
CORPUS = (FIXTURES / "train.pos.txt").read_bytes()


def client_for(root: Path, **settings: object) -> TestClient:
    config = Settings(models=[], device="cpu", admin_token=TOKEN, max_upload_bytes=20_000, **settings)
    return TestClient(create_app(config, Store(root=root, shipped=root / "no-shipped")))


@pytest.fixture
def root(store: Path, tmp_path: Path) -> Path:
    """A writable copy of the tiny models' store."""
    shutil.copytree(store / "tcws", tmp_path / "store" / "tcws")
    return tmp_path / "store"


@pytest.fixture
def client(root: Path) -> Iterator[TestClient]:
    with client_for(root) as test_client:
        yield test_client


def submit(client: TestClient, files: dict | None = None, headers: dict = ADMIN, **form: object) -> object:
    data = {"task": "cws", "name": "jobcws", "epochs": "1", **{k: str(v) for k, v in form.items()}}
    return client.post("/v1/train", data=data, files=files if files is not None else {"train": ("mine.txt", CORPUS)}, headers=headers)


def wait_for(client: TestClient, job_id: str, statuses: set[str], seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in statuses:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} never reached {statuses}: {job}")


def test_a_submitted_job_trains_and_its_new_version_serves(client: TestClient) -> None:
    response = submit(client, base="tcws")
    assert response.status_code == 202 and response.json()["status"] == "queued"
    job = wait_for(client, response.json()["id"], {"succeeded", "failed"})
    assert job["status"] == "succeeded", job["error"]
    assert job["model"] == {"name": "jobcws", "version": 1} and job["spec"]["base"] == "tcws@1"
    assert job["progress"]["epoch"] == 1 and "dev_f1" in job["progress"] and len(job["progress"]["curve"]) == 1
    assert job["metrics"]["promotion"]["promoted"]
    tagged = client.post("/v1/segment", json={"texts": ["今天天气很好。"], "model": "jobcws"})
    assert tagged.status_code == 200 and tagged.json()["model"] == {"name": "jobcws", "version": 1}
    assert [j["id"] for j in client.get("/v1/jobs").json()] == [job["id"]]
    curve = client.get(f"/v1/jobs/{job['id']}/curve.png")
    assert curve.status_code == 200 and curve.headers["content-type"] == "image/png" and curve.content.startswith(b"\x89PNG")
    stored = client.app.state.registry.store.resolve("jobcws@1")
    assert stored.read_bytes("curve.png").startswith(b"\x89PNG")
    assert uploads_gone(client, job["id"]), "an ended job's corpora are deleted; its log stays"
    assert (job_folder(client.app.state.registry.store.root, job["id"]) / "log.txt").exists()


def uploads_gone(client: TestClient, job_id: str, seconds: float = 30) -> bool:
    """Whether the job's uploaded corpora are deleted within `seconds` (the runner deletes
    them once the job's process has ended)."""
    folder = job_folder(client.app.state.registry.store.root, job_id)
    deadline = time.monotonic() + seconds
    while (folder / "train").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return not (folder / "train").exists()


def test_a_job_trains_when_the_server_runs_from_a_folder_holding_a_model_py_and_a_data_package(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Users' projects hold such names; the job process must still find zhtag's own packages."""
    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    (folder / "model.py").write_text("raise ImportError('the user model.py was imported')\n")
    (folder / "data" / "__init__.py").write_text("raise ImportError('the user data package was imported')\n")
    monkeypatch.chdir(folder)
    job = wait_for(client, submit(client).json()["id"], {"succeeded", "failed"})
    assert job["status"] == "succeeded", job["error"]


def test_a_malformed_corpus_is_refused_with_its_file_and_line(client: TestClient) -> None:
    bad = CORPUS + "好/a  坏了/\n".encode()
    response = submit(client, files={"train": ("bad.txt", bad)}, format="pos")
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "CorpusError" and "train (bad.txt):13:" in body["detail"]
    assert (body["file"], body["line"]) == ("train (bad.txt)", 13) and body["problem"]
    assert client.get("/v1/jobs").json() == []
    assert submit(client, files={"train": ("bad.txt", bad)}, format="pos", skip_bad="true").status_code == 202


def test_a_form_field_the_route_does_not_read_or_one_given_twice_is_refused(client: TestClient) -> None:
    before = client.get("/v1/jobs").json()
    unknown = submit(client, hidden="32", epochs="many")  # named before the bad epochs: one round trip shows both problems' first
    assert unknown.status_code == 422 and unknown.json()["detail"].startswith("unknown form field(s) hidden; the fields are ")
    twice = submit(client, files=[("train", ("a.txt", CORPUS)), ("train", ("b.txt", CORPUS))])
    assert twice.status_code == 422 and twice.json()["detail"] == "form field(s) given more than once: train"
    assert client.get("/v1/jobs").json() == before


def test_a_job_without_a_name_takes_its_bases_name_or_its_tasks_as_zhtag_train_does(client: TestClient) -> None:
    data = {"task": "cws", "epochs": "1", "base": "tcws"}
    response = client.post("/v1/train", data=data, files={"train": ("mine.txt", CORPUS)}, headers=ADMIN)
    assert response.status_code == 202
    assert client.get(f"/v1/jobs/{response.json()['id']}").json()["spec"]["name"] == "tcws"


def test_a_one_sentence_corpus_without_a_dev_corpus_is_refused_before_it_is_queued(client: TestClient) -> None:
    one = "今天  天气  很  好  。\n".encode()
    response = submit(client, files={"train": ("one.txt", one)})
    assert response.status_code == 422 and "give a dev corpus as well" in response.json()["detail"]
    assert client.get("/v1/jobs").json() == []
    other = "明天  下雨  。\n".encode()
    assert submit(client, files={"train": ("one.txt", one), "dev": ("other.txt", other)}).status_code == 202


def test_a_dev_corpus_holding_the_training_text_is_refused_before_it_is_queued(client: TestClient) -> None:
    corpus = (FIXTURES / "train.pos.txt").read_bytes()
    response = submit(client, files={"train": ("a.txt", corpus), "dev": ("b.txt", corpus)})
    assert response.status_code == 422 and "dev (b.txt) holds the same text as train (a.txt)" in response.json()["detail"]
    grown = submit(client, files={"train": ("a.txt", corpus), "dev": ("c.txt", corpus + "新的/a  一句/n  话/n\n".encode())})
    assert grown.status_code == 422 and " of the text of dev (c.txt) is training sentences " in grown.json()["detail"]
    assert client.get("/v1/jobs").json() == []


def test_a_corpus_that_cannot_teach_the_task_is_refused(client: TestClient) -> None:
    response = submit(client, files={"train": ("ents.bio", (FIXTURES / "train.bio").read_bytes())})
    assert response.status_code == 422 and "train (ents.bio)" in response.json()["detail"]


def test_raw_text_tagged_by_a_teacher_joins_a_jobs_training_side(client: TestClient) -> None:
    raw = "熊猫在动物园里吃竹子。\n企鹅会游泳。\n".encode()
    response = submit(client, files={"train": ("mine.txt", CORPUS), "raw": ("raw.txt", raw)}, teacher="tcws")
    assert response.status_code == 202
    job = wait_for(client, response.json()["id"], {"succeeded", "failed"})
    assert job["status"] == "succeeded", job["error"]
    assert job["spec"]["teacher"] == "tcws@1"
    assert job["metrics"]["raw"]["teacher"] == "tcws@1" and job["metrics"]["raw"]["sentences"] == 2


def test_raw_text_needs_a_teacher_of_a_fitting_task(client: TestClient, root: Path, store: Path) -> None:
    shutil.copytree(store / "tner", root / "tner")
    raw = {"train": ("mine.txt", CORPUS), "raw": ("raw.txt", "企鹅会游泳。\n".encode())}
    alone = submit(client, files=raw)
    assert alone.status_code == 422 and "go together" in alone.json()["detail"]
    wrong = submit(client, files=raw, teacher="tner")
    assert wrong.status_code == 422 and "the teacher tner@1 is a ner model" in wrong.json()["detail"]
    assert client.get("/v1/jobs").json() == []


def test_a_base_or_a_name_of_another_task_is_refused_before_the_job_is_queued(client: TestClient, root: Path, store: Path) -> None:
    shutil.copytree(store / "tner", root / "tner")
    based = submit(client, files={"train": ("mine.txt", CORPUS)}, base="tner")
    assert based.status_code == 422 and "cannot fine-tune tner@1 (task ner) for task cws" in based.json()["detail"]
    named = submit(client, files={"train": ("mine.txt", CORPUS)}, name="tner")
    assert named.status_code == 422 and named.json()["detail"] == "'tner' names ner models; give this cws model another name"
    assert client.get("/v1/jobs").json() == []


def test_an_oversized_upload_is_a_413(client: TestClient) -> None:
    response = submit(client, files={"train": ("big.txt", CORPUS * 50)})
    assert response.status_code == 413 and "max_upload_bytes" in response.json()["detail"]


def test_submitting_and_cancelling_need_the_admin_token(client: TestClient) -> None:
    assert submit(client, headers={}).status_code == 401
    huge = submit(client, files={"train": ("big.txt", CORPUS * 50)}, headers={"Authorization": "Bearer wrong"})
    assert huge.status_code == 401  # refused before the body is read, not 413
    assert client.delete("/v1/jobs/whatever").status_code == 401
    assert client.get("/v1/jobs").json() == []


def test_corpus_paths_are_confined_to_the_corpora_directory(root: Path, tmp_path: Path) -> None:
    corpora = tmp_path / "corpora"
    corpora.mkdir()
    (corpora / "ok.txt").write_bytes(CORPUS)
    (tmp_path / "secret.txt").write_bytes(CORPUS)
    (corpora / "link.txt").symlink_to(tmp_path / "secret.txt")
    with client_for(root, corpora=corpora) as client:
        for path in ("../secret.txt", str(tmp_path / "secret.txt"), "link.txt"):
            refused = submit(client, files={}, train_path=path)
            assert refused.status_code == 403 and refused.json()["error"] == "PathRefused", path
        assert submit(client, files={}, train_path="ok.txt").status_code == 202
    with client_for(root) as client:
        assert submit(client, files={}, train_path="ok.txt").status_code == 403


def test_a_running_job_can_be_cancelled_and_its_process_ends(client: TestClient) -> None:
    job_id = submit(client, epochs=200).json()["id"]
    wait_for(client, job_id, {"running"})
    deadline = time.monotonic() + 30
    while (pid := JobStore(jobs_path(client.app.state.registry.store.root)).get(job_id).pid) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert client.delete(f"/v1/jobs/{job_id}", headers=ADMIN).json()["status"] == "cancelled"
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)
    assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "cancelled"
    assert uploads_gone(client, job_id)


def test_a_job_running_when_the_server_stops_is_queued_to_resume(root: Path) -> None:
    with client_for(root) as client:
        job_id = submit(client, epochs=200).json()["id"]
        wait_for(client, job_id, {"running"})
        jobs = JobStore(jobs_path(root))
        deadline = time.monotonic() + 30
        while (pid := jobs.get(job_id).pid) is None and time.monotonic() < deadline:
            time.sleep(0.1)
    job = jobs.get(job_id)
    assert job.status == "queued" and job.spec["resume"] is True and not _alive(pid)


def test_a_job_left_running_by_a_dead_process_is_failed_at_start(root: Path) -> None:
    jobs = JobStore(jobs_path(root))
    job = jobs.create({"task": "cws", "name": "lost"})
    jobs.claim()
    jobs.set_pid(job.id, 2**22 + 12345)  # no such process
    with client_for(root) as client:
        failed = wait_for(client, job.id, {"failed"}, seconds=10)
    assert "died" in failed["error"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_a_server_running_no_jobs_queues_them_for_a_trainer_sharing_its_table(root: Path) -> None:
    """Replicas behind a load balancer take jobs; the one trainer on the same table runs them.
    A replica neither runs a job nor takes another node's running job for dead."""
    jobs = JobStore(jobs_path(root))
    other_node = jobs.create({"task": "cws", "name": "elsewhere"})
    jobs.claim(max_running=2)
    jobs.set_pid(other_node.id, 2**22 + 12345)  # a pid of another machine
    with client_for(root, max_running_jobs=0) as replica:
        job_id = submit(replica, base="tcws").json()["id"]
        time.sleep(2)
        assert replica.get(f"/v1/jobs/{job_id}").json()["status"] == "queued"
        assert replica.get(f"/v1/jobs/{other_node.id}").json()["status"] == "running"
        jobs.finish(other_node.id, "cancelled")
        with client_for(root) as trainer:
            assert wait_for(trainer, job_id, {"succeeded", "failed"})["status"] == "succeeded"
        assert replica.get(f"/v1/jobs/{job_id}").json()["model"] == {"name": "jobcws", "version": 1}


def test_a_failed_jobs_error_names_its_corpus_as_the_client_gave_it_not_by_its_server_path(root: Path, tmp_path: Path) -> None:
    corpora = tmp_path / "corpora"
    corpora.mkdir()
    (corpora / "b.txt").write_bytes(CORPUS)
    with client_for(root, corpora=corpora, max_running_jobs=0) as replica:  # queues the jobs, runs none
        by_path = submit(replica, files={}, train_path="b.txt").json()["id"]
        uploaded = submit(replica).json()["id"]
    (corpora / "b.txt").unlink()  # both corpora are gone by the time the jobs run
    (job_folder(root, uploaded) / "train").unlink()
    with client_for(root, corpora=corpora) as trainer:
        jobs = [wait_for(trainer, job_id, {"succeeded", "failed"}) for job_id in (by_path, uploaded)]
    assert [job["error"] for job in jobs] == ["train_path b.txt: file not found", "train (mine.txt): file not found"]
    assert [job["spec"]["corpora"] for job in jobs] == [{"train": "train_path b.txt"}, {"train": "train (mine.txt)"}]


def test_uploads_no_job_will_read_again_are_deleted_when_a_server_starts(root: Path) -> None:
    jobs = JobStore(jobs_path(root))
    ended = jobs.create({"task": "cws", "name": "alone"})
    jobs.claim()
    jobs.finish(ended.id, "succeeded")  # by its own process, after a `kill -9` of the server that started it
    crashed = job_folder(root, "0123456789ab")  # a crash during POST /v1/train left its uploads and no row
    for folder in (job_folder(root, ended.id), crashed):
        folder.mkdir(parents=True)
        (folder / "train").write_bytes(CORPUS)
    (job_folder(root, ended.id) / "log.txt").write_text("the job's log")
    with client_for(root) as client:
        assert uploads_gone(client, ended.id)
        deadline = time.monotonic() + 30
        while crashed.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    assert not crashed.exists()
    assert (job_folder(root, ended.id) / "log.txt").exists(), "an ended job keeps its log"
