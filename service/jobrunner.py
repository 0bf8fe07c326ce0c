"""Starts queued training jobs as processes of their own and looks after them.

At most `max_running` jobs run at once across every server on the store (the job table's
claim enforces it). A cancelled job's process is stopped. When the server shuts down, the
jobs it started are stopped and queued again to resume from their last completed epoch, as is
a job whose process was ended by SIGTERM or SIGINT, the signals that stop a server; a job whose
process died otherwise is marked failed (here, or by `JobStore.reap` at the next start). At
start, the uploads no job will read again are deleted (`sweep`).
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import service
from model.store import Store
from service.jobs import JOBS_DIR, Job, JobStore, drop_uploads, job_folder, process_alive, sweep

log = logging.getLogger("zhtag.jobs")
STOP_GRACE_S = 10.0
T = TypeVar("T")
WORKER = (sys.executable, "-P", "-m", "service.jobworker")  # -P: the server's working directory is not searched for modules
# How a job's process ends when it is asked to stop from outside, as it is when the server is:
# systemd stops a service by signalling every process of its cgroup, and a Ctrl-C signals the
# terminal's process group. The server's shutdown, which would requeue the job, comes only
# after uvicorn has drained connections, long after the supervisor has seen the process end.
STOPPED = (-signal.SIGTERM, -signal.SIGINT)


def _worker_env() -> dict[str, str]:
    """The server's environment, with the folder that holds zhtag's own packages first on the
    module path: a `model.py` or `data/` in the folder the server was started from must not
    stand in for zhtag's, nor may the worker miss them when the server runs from a checkout."""
    home = str(Path(service.__file__).resolve().parent.parent)
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (home, os.environ.get("PYTHONPATH"))))}


FAILED = object()  # what `JobRunner._table` answers when the job table could not be used


class JobRunner:
    def __init__(self, jobs: JobStore, store: Store, max_running: int = 1, poll_s: float = 1.0, shutdown_s: float = 0.0) -> None:
        """`shutdown_s`: how long the server may take to shut down once signalled (its drain)."""
        self.jobs, self.store, self.max_running, self.poll_s, self.shutdown_s = jobs, store, max_running, poll_s, shutdown_s
        self._running: dict[str, asyncio.subprocess.Process] = {}
        self._paused_until = 0.0  # loop time before which no job is started: the server may be stopping
        self._problem: str | None = None  # the job table's last error, said once

    async def _table(self, call: Callable[..., T], *args: object) -> T | object:
        """`call(*args)` on the job table, in a thread. An error (a lock held past its timeout,
        a full disk) is logged once, not each poll, and answered FAILED: the runner must keep
        running, or every later job would wait, queued, until a restart."""
        try:
            result = await asyncio.to_thread(call, *args)
        except (sqlite3.Error, OSError) as err:
            problem = f"{type(err).__name__}: {err}"
            if problem != self._problem:
                log.error("the job table %s cannot be used (%s); trying again every %.0f s", self.jobs.path, problem, self.poll_s)
                self._problem = problem
            return FAILED
        if self._problem is not None:
            log.info("the job table %s can be used again", self.jobs.path)
            self._problem = None
        return result

    async def run(self) -> None:
        """Reap dead jobs and sweep away the uploads no job needs, then start queued ones as
        capacity allows, until cancelled."""
        await self._table(self.jobs.reap, process_alive)
        await self._table(sweep, self.jobs, self.store.root)
        supervisors: set[asyncio.Task] = set()
        try:
            while True:
                if asyncio.get_running_loop().time() < self._paused_until:
                    await asyncio.sleep(self.poll_s)
                    continue
                job = await self._table(self.jobs.claim, self.max_running)
                if job is None or job is FAILED:
                    await asyncio.sleep(self.poll_s)
                    continue
                task = asyncio.create_task(self._supervise(job))
                supervisors.add(task)
                task.add_done_callback(supervisors.discard)
        finally:
            for task in supervisors:  # first, so none marks its stopped job failed
                task.cancel()
            await asyncio.gather(*supervisors, return_exceptions=True)
            await self._stop_all()

    async def _supervise(self, job: Job) -> None:
        logs = job_folder(self.store.root, job.id)
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / "log.txt", "ab") as stderr:
            process = await asyncio.create_subprocess_exec(
                *WORKER, self.store.location, str(self.store.root), job.id, env=_worker_env(), stdout=asyncio.subprocess.DEVNULL, stderr=stderr,
                start_new_session=True,  # a Ctrl-C, sent to the server's process group, is the server's to act on
            )
        self._running[job.id] = process
        await self._table(self.jobs.set_pid, job.id, process.pid)
        while process.returncode is None:
            try:
                async with asyncio.timeout(self.poll_s):  # not wait_for, which on 3.11 may swallow the cancel of a shutdown
                    await process.wait()
            except TimeoutError:
                now = await self._table(self.jobs.get, job.id)
                if now is not FAILED and now.status == "cancelled":
                    await _stop(process)
        self._running.pop(job.id, None)
        stopped = process.returncode in STOPPED
        if stopped:  # before the job is queued again, so that no claim meanwhile starts it again while the server drains
            self._paused_until = asyncio.get_running_loop().time() + self.shutdown_s + self.poll_s
        if stopped and await self._recorded(self.jobs.requeue, job.id):
            log.info("job %s stopped by %s; queued to resume, and no job starts here for %.0f s, the server's shutdown",
                     job.id, signal.Signals(-process.returncode).name, self.shutdown_s + self.poll_s)
            return  # its uploads are what it resumes from
        if process.returncode != 0:
            error = f"the job's process ended with exit code {process.returncode} (log: {JOBS_DIR}/{job.id}/log.txt in the store's directory)"  # no server path: /v1/jobs is public
            await self._recorded(partial(self.jobs.finish, job.id, "failed", error=error))
        drop_uploads(logs)  # the job has ended, whichever way

    async def _recorded(self, call: Callable[..., T], *args: object) -> T:
        """`call(*args)` on the job table, tried again every poll until the table answers: a
        job's end must be recorded, or it stays running in the table."""
        while (result := await self._table(call, *args)) is FAILED:
            await asyncio.sleep(self.poll_s)
        return result

    async def _stop_all(self) -> None:
        """Stop the jobs this server started and queue them to resume at the next start."""
        for job_id, process in list(self._running.items()):
            await _stop(process)
            self.jobs.requeue(job_id)
            log.info("job %s stopped with the server; queued to resume", job_id)


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(STOP_GRACE_S):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
