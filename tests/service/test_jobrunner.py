"""Specification of service/jobrunner.py: the runner outlives the job table's errors, and a
job whose process is stopped by the signals that stop a server is queued to resume."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from model.store import Store
from service import jobrunner
from service.jobrunner import JobRunner
from service.jobs import JobStore, job_folder, jobs_path

# A job process that trains until it is stopped; SIGINT ends it even where the tests run with
# SIGINT ignored, as a shell's background job does, which its children inherit. It says READY
# in its log (its stderr) once its handler is set: a SIGINT before that, while Python starts,
# raised KeyboardInterrupt instead, an exit code 1 that a loaded machine made now and then.
READY = "ready"
SLEEPER = (sys.executable, "-c", f"import signal, sys, time; signal.signal(signal.SIGINT, signal.SIG_DFL); print({READY!r}, file=sys.stderr, flush=True); time.sleep(600)")


class LockedFor(JobStore):
    """A job table that answers `database is locked` to its first `claims` claims."""

    def __init__(self, path: Path, claims: int) -> None:
        super().__init__(path)
        self.locked, self.calls = claims, 0

    def claim(self, max_running: int = 1) -> None:
        self.calls += 1
        if self.calls <= self.locked:
            raise sqlite3.OperationalError("database is locked")
        return None


def test_the_runner_keeps_claiming_after_the_job_table_fails_and_says_so_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    jobs = LockedFor(tmp_path / "jobs.sqlite3", claims=3)
    runner = JobRunner(jobs, Store(root=tmp_path / "store", shipped=tmp_path / "none"), poll_s=0.01)

    async def for_a_while() -> None:
        task = asyncio.create_task(runner.run())
        await asyncio.sleep(0.5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    with caplog.at_level(logging.INFO, logger="zhtag.jobs"):
        asyncio.run(for_a_while())
    assert jobs.calls > 3, "claims go on after the errors"
    said = [r.getMessage() for r in caplog.records]
    assert sum("cannot be used (OperationalError: database is locked)" in line for line in said) == 1
    assert sum("can be used again" in line for line in said) == 1


def with_a_running_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scenario: Callable[[JobStore, str, int], Awaitable[None]], shutdown_s: float = 0.0
) -> None:
    """Run `scenario(jobs, job id, pid)` once a runner has started the job, which has an
    upload, in a process of `SLEEPER`; then stop the runner, as a shutdown does."""
    monkeypatch.setattr(jobrunner, "WORKER", SLEEPER)
    store = Store(root=tmp_path / "store", shipped=tmp_path / "none")
    jobs = JobStore(jobs_path(store.root))
    job = jobs.create({"name": "a"})
    job_folder(store.root, job.id).mkdir(parents=True)
    (job_folder(store.root, job.id) / "train").write_text("upload")

    async def run() -> None:
        task = asyncio.create_task(JobRunner(jobs, store, poll_s=0.05, shutdown_s=shutdown_s).run())
        try:
            pid = await pid_of(jobs, job.id)
            await said_ready(job_folder(store.root, job.id) / "log.txt")
            await scenario(jobs, job.id, pid)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    asyncio.run(run())


async def said_ready(log: Path) -> None:
    deadline = time.monotonic() + 30
    while READY not in log.read_text():
        assert time.monotonic() < deadline, "the job's process never got ready"
        await asyncio.sleep(0.05)


async def pid_of(jobs: JobStore, job_id: str, other_than: int | None = None) -> int:
    """The pid of the job's running process, once it has one (other than `other_than`)."""
    deadline = time.monotonic() + 30
    while (job := jobs.get(job_id)).status != "running" or job.pid in (None, other_than):
        assert time.monotonic() < deadline, f"the job is not running in a process (other than {other_than}): {job}"
        await asyncio.sleep(0.05)
    return job.pid


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_job_whose_process_is_stopped_by_sigterm_or_sigint_resumes_with_its_upload_and_is_not_failed(
    stop: signal.Signals, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """systemd stops a service by signalling every process of its cgroup, the job's with the
    server's; the server's own shutdown, which queues the job to resume, comes later."""

    async def scenario(jobs: JobStore, job_id: str, pid: int) -> None:
        os.kill(pid, stop)
        await pid_of(jobs, job_id, other_than=pid)  # queued, then claimed again by this runner
        job = jobs.get(job_id)
        assert job.spec["resume"] is True and job.error is None
        assert (job_folder(jobs.path.parent, job_id) / "train").exists()

    with_a_running_job(tmp_path, monkeypatch, scenario)


def test_a_job_stopped_by_a_stop_signal_is_not_started_again_while_the_server_may_be_shutting_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The signal that stopped the job most likely stops the server too, which drains its
    connections (up to its shutdown time) before it stops its runner: a job started again
    meanwhile trained for nothing, and was stopped once more."""

    async def scenario(jobs: JobStore, job_id: str, pid: int) -> None:
        os.kill(pid, signal.SIGTERM)
        await asyncio.sleep(1.0)  # twenty polls of the runner
        job = jobs.get(job_id)
        assert (job.status, job.pid, job.spec["resume"]) == ("queued", None, True)

    with_a_running_job(tmp_path, monkeypatch, scenario, shutdown_s=60)


def test_a_jobs_process_runs_in_a_session_of_its_own_out_of_reach_of_a_ctrl_c_at_the_servers_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario(jobs: JobStore, job_id: str, pid: int) -> None:
        assert os.getsid(pid) == pid != os.getsid(0) and os.getpgid(pid) != os.getpgid(0)

    with_a_running_job(tmp_path, monkeypatch, scenario)
