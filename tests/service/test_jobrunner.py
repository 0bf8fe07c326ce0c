"""Specification of service/jobrunner.py: the runner outlives the job table's errors."""
from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

from model.store import Store
from service.jobrunner import JobRunner
from service.jobs import JobStore


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
