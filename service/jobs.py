"""Training job records in SQLite under the store root, so they outlive the server.

Every process (server workers, job processes) opens the same database. Claiming the next
queued job is one `BEGIN IMMEDIATE` transaction, so two servers on one store never start the
same job and never run more than `max_running` at once. A job process writes its own progress
and outcome; a job left `running` by a process that died is marked failed by `reap`, and
`sweep` deletes the uploads no job will read again.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from model.store import JOBS_TABLE
from service.errors import JobCancelled, JobNotFound

# A job goes queued -> running -> publishing -> succeeded, or ends failed, or cancelled before
# it publishes: a publishing job is writing its version, too late to cancel.
IN_PROGRESS = ("running", "publishing")
ENDED = ("succeeded", "failed", "cancelled")
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    spec TEXT NOT NULL,
    progress TEXT NOT NULL DEFAULT '{}',
    model TEXT,
    metrics TEXT,
    error TEXT,
    pid INTEGER,
    created REAL NOT NULL,
    started REAL,
    finished REAL
)
"""


def new_job_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class Job:
    id: str
    status: str
    spec: dict[str, Any]
    progress: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    error: str | None = None
    pid: int | None = None
    created: float = 0.0
    started: float | None = None
    finished: float | None = None

    def public(self) -> dict[str, Any]:
        """What `GET /v1/jobs/{id}` shows: everything but the process id and file paths. The
        error and the metrics name each corpus as the client gave it: their server paths (the
        store's directory, `ZHTAG_CORPORA`) are nobody's business on a public route, and mean
        nothing to the client."""
        spec = {k: v for k, v in self.spec.items() if not k.endswith("_file")}
        named = partial(_named, given=self._given())
        return {
            "id": self.id, "status": self.status, "spec": spec, "progress": self.progress, "model": self.model,
            "metrics": named(self.metrics), "error": named(self.error), "created": self.created, "started": self.started,
            "finished": self.finished,
        }

    def _given(self) -> dict[str, str]:
        """Each corpus's server path, and the name the client gave it (its field alone for a job
        submitted before names were kept)."""
        names = self.spec.get("corpora", {})
        return {self.spec[f"{key}_file"]: names.get(key, key) for key in UPLOADS if self.spec.get(f"{key}_file")}


class JobStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            yield db
        finally:
            db.close()

    def create(self, spec: dict[str, Any], job_id: str | None = None) -> Job:
        job_id = job_id or new_job_id()
        with self._connect() as db:
            db.execute("INSERT INTO jobs (id, status, spec, created) VALUES (?, 'queued', ?, ?)", (job_id, json.dumps(spec), time.time()))
        return self.get(job_id)

    def get(self, job_id: str) -> Job:
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise JobNotFound(f"no job {job_id!r}")
        return _job(row)

    def list(self) -> list[Job]:
        with self._connect() as db:
            return [_job(row) for row in db.execute("SELECT * FROM jobs ORDER BY created DESC")]

    def claim(self, max_running: int = 1) -> Job | None:
        """Mark the oldest queued job running, unless `max_running` jobs already run."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                running = db.execute("SELECT COUNT(*) FROM jobs WHERE status IN (?, ?)", IN_PROGRESS).fetchone()[0]
                row = db.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY created LIMIT 1").fetchone()
                if running >= max_running or row is None:
                    db.execute("COMMIT")
                    return None
                db.execute("UPDATE jobs SET status = 'running', started = ? WHERE id = ?", (time.time(), row["id"]))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return self.get(row["id"])

    def set_pid(self, job_id: str, pid: int) -> None:
        self._update(job_id, "pid = ?", (pid,), "running")

    def report(self, job_id: str, progress: dict[str, Any]) -> None:
        self._update(job_id, "progress = ?", (json.dumps(progress),), "running")

    def publish(self, job_id: str) -> None:
        """Mark a running job publishing, just before it writes its version, so that from
        then on it can no longer be cancelled; raise `JobCancelled` if it already was."""
        if not self._update(job_id, "status = 'publishing'", (), "running"):
            raise JobCancelled(f"job {job_id} was cancelled; its model is not published")

    def finish(self, job_id: str, status: str, *, model: dict | None = None, metrics: dict | None = None, error: str | None = None) -> bool:
        """Record the outcome of a running job; False if it was no longer running (cancelled)."""
        values = (status, json.dumps(model), json.dumps(metrics), error, time.time())
        return self._update(job_id, "status = ?, model = ?, metrics = ?, error = ?, finished = ?", values, *IN_PROGRESS)

    def cancel(self, job_id: str) -> Job:
        """Cancel a queued or running job (its process is stopped by whoever runs it); a job
        already publishing its model, or finished, is answered as it is."""
        self._update(job_id, "status = 'cancelled', finished = ?", (time.time(),), "queued", "running")
        return self.get(job_id)

    def requeue(self, job_id: str) -> bool:
        """Queue a running (or publishing) job again, to resume from its last completed epoch;
        False if it was no longer in progress (cancelled, or finished)."""
        job = self.get(job_id)
        spec = json.dumps({**job.spec, "resume": True})
        return self._update(job_id, "status = 'queued', spec = ?, pid = NULL, started = NULL", (spec,), *IN_PROGRESS)

    def reap(self, alive: Callable[[int], bool], grace_s: float = 60.0) -> list[str]:
        """Mark failed every running job whose process is gone (or never started within
        `grace_s` of being claimed); returns their ids."""
        now = time.time()

        def gone(job: Job) -> bool:
            return not alive(job.pid) if job.pid else now - (job.started or now) > grace_s

        dead = [job.id for job in self.list() if job.status in IN_PROGRESS and gone(job)]
        for job_id in dead:
            self.finish(job_id, "failed", error="the job's process died before the job finished")
        return dead

    def _update(self, job_id: str, assignments: str, values: tuple, *statuses: str) -> bool:
        """Apply `assignments` if the job's status is one of `statuses`, in one statement."""
        marks = ", ".join("?" * len(statuses))
        with self._connect() as db:
            cursor = db.execute(f"UPDATE jobs SET {assignments} WHERE id = ? AND status IN ({marks})", (*values, job_id, *statuses))
        return cursor.rowcount == 1


def as_given(text: str, given: dict[str, str]) -> str:
    """`text` with each server path in `given` replaced by the name the client gave that file,
    with the option training's messages put before it (`--dev PATH`); longest first, since
    one corpus path may begin another."""
    for path, name in sorted(given.items(), key=lambda item: -len(item[0])):
        text = re.sub(rf"(?:--\w+ )?{re.escape(path)}", lambda _, name=name: name, text)  # a function: `name` is no template
    return text


def _named(value: Any, given: dict[str, str]) -> Any:
    """`value` (a job's error or metrics) with every string in it `as_given`."""
    if isinstance(value, str):
        return as_given(value, given)
    if isinstance(value, dict):
        return {key: _named(item, given) for key, item in value.items()}
    if isinstance(value, list):
        return [_named(item, given) for item in value]
    return value


def _job(row: sqlite3.Row) -> Job:
    load = lambda text: json.loads(text) if text else None  # noqa: E731
    return Job(
        id=row["id"], status=row["status"], spec=json.loads(row["spec"]), progress=json.loads(row["progress"]),
        model=load(row["model"]), metrics=load(row["metrics"]), error=row["error"], pid=row["pid"],
        created=row["created"], started=row["started"], finished=row["finished"],
    )


def process_alive(pid: int) -> bool:
    """Whether `pid` is a live zhtag job process (not a recycled pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    return b"service.jobworker" in cmdline


def jobs_path(root: Path) -> Path:
    """The job table of the store at `root`."""
    return root / JOBS_TABLE


JOBS_DIR = ".jobs"  # the jobs' folders, in the store's local directory; a model name cannot start with a dot


def jobs_dir(root: Path) -> Path:
    """The folder of every job's folder, and of the `submitting` lock."""
    return root / JOBS_DIR


def job_folder(root: Path, job_id: str) -> Path:
    """Where a job keeps its uploads and its log."""
    return jobs_dir(root) / job_id


UPLOADS = ("train", "dev", "raw")  # the files a submission's corpora are saved as, in its job's folder
SUBMITTING = ".submitting"  # the lock file of `submitting`, beside the jobs' folders


def drop_uploads(folder: Path) -> None:
    """Delete an ended job's uploaded corpora (its log stays): kept, every job's uploads, up
    to 256 MiB each, filled the disk over time."""
    for name in UPLOADS:
        (folder / name).unlink(missing_ok=True)


@contextmanager
def submitting(root: Path, exclusive: bool = False) -> Iterator[bool]:
    """A lock held, shared, by each submission from the moment its folder is made until its
    row is written, so that `sweep`, holding it alone, knows a folder with no row was left by a
    crash and not by an upload still arriving, on this server or another on the same table.
    The sweep does not wait for it (a start would hang on a slow upload): this answers whether
    the lock was got."""
    folders = jobs_dir(root)
    folders.mkdir(parents=True, exist_ok=True)
    with open(folders / SUBMITTING, "ab") as lock:
        yield _flock(lock.fileno(), exclusive)


def _flock(fd: int, exclusive: bool) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB if exclusive else fcntl.LOCK_SH)
    except BlockingIOError:
        return False
    return True


def sweep(jobs: JobStore, root: Path) -> None:
    """Delete the uploads of every ended job, and the folders of submissions that never became
    a job. Both were left for good: a job whose process ended with no server watching (it
    finishes alone after a `kill -9` of the server), or was marked failed by `reap`; a crash
    during `POST /v1/train` between its uploads and its row. The folders are listed while no
    submission is under way and the rows read after: a folder with no row then never gets one."""
    with submitting(root, exclusive=True) as alone:
        folders = [folder for folder in jobs_dir(root).iterdir() if folder.is_dir()]
    statuses = {job.id: job.status for job in jobs.list()}
    for folder in folders:
        status = statuses.get(folder.name)
        if status is None and alone:
            shutil.rmtree(folder, ignore_errors=True)
        elif status in ENDED:
            drop_uploads(folder)
