"""Specification of service/jobworker.py: a job process trains through `model.train` and
records its outcome, and a job cancelled after its last epoch publishes nothing."""
from __future__ import annotations

from pathlib import Path

import pytest

from model.store import Store
from service import jobworker
from service.jobs import JobStore, jobs_path

SEG = Path(__file__).resolve().parent.parent / "fixtures" / "corpora" / "tiny.seg.txt"
SPEC = {"task": "cws", "name": "w", "train_file": str(SEG), "epochs": 1}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(root=tmp_path / "store", shipped=tmp_path / "none")


def test_a_job_records_the_version_it_published(store: Store) -> None:
    jobs = JobStore(jobs_path(store.root))
    job = jobs.create(SPEC)
    jobs.claim()
    assert jobworker.run(store, job.id) == 0
    done = jobs.get(job.id)
    assert done.status == "succeeded" and done.model == {"name": "w", "version": 1}
    assert [(m.name, m.versions, m.active) for m in store.list()] == [("w", [1], 1)]


def test_a_job_cancelled_after_its_last_epoch_publishes_nothing(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = JobStore(jobs_path(store.root))
    job = jobs.create(SPEC)
    jobs.claim()
    report = JobStore.report

    def report_then_cancel(self: JobStore, job_id: str, progress: dict) -> None:
        report(self, job_id, progress)
        self.cancel(job_id)  # as DELETE /v1/jobs/{id} would, before the process is stopped

    monkeypatch.setattr(JobStore, "report", report_then_cancel)
    assert jobworker.run(store, job.id) == 1
    assert jobs.get(job.id).status == "cancelled" and jobs.get(job.id).model is None
    assert store.list() == []
