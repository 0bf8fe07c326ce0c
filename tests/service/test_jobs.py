"""The job table: claims are exclusive and in order, at most `max_running` run at once, a
cancel wins over a late result but not over a job already publishing its model, and jobs
whose process died are marked failed."""
from __future__ import annotations

from pathlib import Path

import pytest

from service.jobs import JobCancelled, JobNotFound, JobStore


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
