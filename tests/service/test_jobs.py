"""The job table: claims are exclusive and in order, at most `max_running` run at once, a
cancel wins over a late result but not over a job already publishing its model, and jobs
whose process died are marked failed. A job's public record names files as the client gave
them, and a sweep deletes the uploads no job will read again."""
from __future__ import annotations

from pathlib import Path

import pytest

from service.errors import JobCancelled, JobNotFound
from service.jobs import ENDED, Job, JobStore, job_folder, jobs_path, submitting, sweep


@pytest.fixture
def jobs(tmp_path: Path) -> JobStore:
    return JobStore(tmp_path / "jobs.sqlite3")


def test_jobs_are_claimed_oldest_first_and_one_at_a_time(jobs: JobStore) -> None:
    first, second = jobs.create({"name": "a"}), jobs.create({"name": "b"})
    assert jobs.claim().id == first.id
    assert jobs.claim() is None  # one is running
    assert jobs.finish(first.id, "succeeded", model={"name": "a", "version": 1})
    claimed = jobs.claim()
    assert claimed.id == second.id and claimed.status == "running"
    assert jobs.claim(max_running=2) is None  # nothing left to claim


def test_records_survive_a_new_connection(jobs: JobStore, tmp_path: Path) -> None:
    job = jobs.create({"name": "a", "epochs": 3})
    jobs.claim()
    jobs.report(job.id, {"epoch": 1, "dev_f1": 50.0})
    again = JobStore(tmp_path / "jobs.sqlite3").get(job.id)
    assert again.status == "running" and again.progress == {"epoch": 1, "dev_f1": 50.0} and again.spec["epochs"] == 3


def test_a_cancelled_job_keeps_its_status_when_its_process_reports_late(jobs: JobStore) -> None:
    job = jobs.create({"name": "a"})
    jobs.claim()
    assert jobs.cancel(job.id).status == "cancelled"
    assert not jobs.finish(job.id, "succeeded")
    assert jobs.get(job.id).status == "cancelled"


def test_a_cancelled_job_may_not_publish(jobs: JobStore) -> None:
    job = jobs.create({"name": "a"})
    jobs.claim()
    jobs.cancel(job.id)
    with pytest.raises(JobCancelled, match=job.id):
        jobs.publish(job.id)
    assert jobs.get(job.id).status == "cancelled"


def test_a_job_publishing_its_model_is_too_late_to_cancel_and_still_counts_as_running(jobs: JobStore) -> None:
    job, waiting = jobs.create({"name": "a"}), jobs.create({"name": "b"})
    jobs.claim()
    jobs.publish(job.id)
    assert jobs.cancel(job.id).status == "publishing"
    assert jobs.claim() is None
    assert jobs.finish(job.id, "succeeded", model={"name": "a", "version": 1})
    assert jobs.get(job.id).status == "succeeded" and jobs.claim().id == waiting.id


def test_a_running_job_whose_process_died_is_marked_failed(jobs: JobStore) -> None:
    dead, alive = jobs.create({"name": "a"}), jobs.create({"name": "b"})
    jobs.claim(max_running=2), jobs.claim(max_running=2)
    jobs.set_pid(dead.id, 11), jobs.set_pid(alive.id, 22)
    assert jobs.reap(lambda pid: pid == 22) == [dead.id]
    assert jobs.get(dead.id).status == "failed" and "died" in jobs.get(dead.id).error
    assert jobs.get(alive.id).status == "running"


def test_a_requeued_job_resumes(jobs: JobStore) -> None:
    job = jobs.create({"name": "a"})
    jobs.claim()
    jobs.requeue(job.id)
    again = jobs.get(job.id)
    assert again.status == "queued" and again.spec["resume"] is True and again.pid is None


def test_an_unknown_job_is_named(jobs: JobStore) -> None:
    with pytest.raises(JobNotFound, match="nope"):
        jobs.get("nope")


def test_a_jobs_public_record_names_its_corpora_as_the_client_gave_them_never_by_their_server_paths() -> None:
    upload, corpus = "/srv/zhtag/.jobs/a1/train", "/data/corpora/b.txt"
    job = Job(
        id="a1", status="failed", spec={"train_file": upload, "dev_file": corpus, "raw_file": None, "corpora": {"train": "train (mine.txt)", "dev": "dev_path b.txt"}},
        metrics={"raw": {"path": corpus}, "curve": [{"note": f"read {upload}"}]}, error=f"--dev {corpus}: its entity types differ; {upload}:13: bad tag",
    )
    shown = job.public()
    assert shown["error"] == "dev_path b.txt: its entity types differ; train (mine.txt):13: bad tag"
    assert shown["metrics"] == {"raw": {"path": "dev_path b.txt"}, "curve": [{"note": "read train (mine.txt)"}]}
    assert "/srv" not in str(shown) and "/data" not in str(shown)


def test_a_job_submitted_before_corpus_names_were_kept_names_each_corpus_by_its_field() -> None:
    job = Job(id="a1", status="failed", spec={"train_file": "/data/corpora/b.txt"}, error="/data/corpora/b.txt: file not found")
    assert job.public()["error"] == "train: file not found"


def uploaded(root: Path, jobs: JobStore, status: str) -> Path:
    """The folder of a new job left in `status`, holding an upload and a log."""
    job = jobs.create({"name": status})
    if status != "queued":
        jobs.claim(max_running=64)
    if status in ENDED:
        jobs.finish(job.id, status)
    folder = job_folder(root, job.id)
    folder.mkdir(parents=True)
    (folder / "train").write_text("upload")
    (folder / "log.txt").write_text("log")
    return folder


def test_a_sweep_deletes_the_uploads_of_ended_jobs_and_the_folders_of_submissions_that_never_became_a_job(tmp_path: Path) -> None:
    jobs = JobStore(jobs_path(tmp_path))
    ended = [uploaded(tmp_path, jobs, status) for status in ENDED]
    waiting = [uploaded(tmp_path, jobs, status) for status in ("queued", "running")]
    crashed = job_folder(tmp_path, "0123456789ab")
    crashed.mkdir()
    (crashed / "train").write_text("half an upload")
    sweep(jobs, tmp_path)
    assert all(not (folder / "train").exists() and (folder / "log.txt").exists() for folder in ended), "an ended job keeps its log"
    assert all((folder / "train").exists() for folder in waiting), "a job yet to run or resume needs its upload"
    assert not crashed.exists()


def test_a_sweep_leaves_the_folder_of_a_submission_still_under_way(tmp_path: Path) -> None:
    jobs = JobStore(jobs_path(tmp_path))
    ended = uploaded(tmp_path, jobs, "succeeded")
    with submitting(tmp_path):  # as POST /v1/train holds it, here or on another server, until the job's row is written
        arriving = job_folder(tmp_path, "0123456789ab")
        arriving.mkdir()
        (arriving / "train").write_text("an upload arriving")
        sweep(jobs, tmp_path)
    assert (arriving / "train").exists()
    assert not (ended / "train").exists(), "ended jobs' uploads are deleted all the same"
