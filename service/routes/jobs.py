"""Training jobs over HTTP: submit a corpus (uploaded, or by path under `ZHTAG_CORPORA`), and
raw text for a teacher model to tag if wanted, poll the job, cancel it. Every file is read and
checked before the job is queued, by the same readers that training uses, so a malformed file
is refused at once with its line."""
from __future__ import annotations

import inspect

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from data.corpus import Sentence
from data.errors import CorpusError, InputError
from data.formats import FORMATS, read_raw
from model.config import ModelConfig, Task, TrainConfig
from model.corpora import check_dev_apart, check_dev_sentences_apart, check_raw_teacher, check_splittable, load_sentences
from model.curve import plot_curve
from model.promotion import check_parent, check_target, name_for
from model.store import NAME_PATTERN, Store
from model.tagger import CONFIG
from model.teacher import check_teacher
from service.deps import AdminDep, RegistryDep, SettingsDep
from service.errors import JobsUnavailable, PathRefused
from service.jobs import JobStore, as_given, drop_uploads, job_folder, new_job_id, submitting
from service.settings import Settings

router = APIRouter(prefix="/v1", tags=["jobs"])
COPY_CHUNK = 1 << 20
Format = Literal[FORMATS]  # the corpus formats data.formats reads, as a form field's choices
RAW_TEACHER_FIELDS = ("raw text (raw or raw_path)", "teacher")  # how a refusal names the two fields (`check_raw_teacher`)


def _jobs(request: Request) -> JobStore:
    jobs: JobStore | None = request.app.state.jobs
    if jobs is None:
        raise JobsUnavailable("training jobs are unavailable: the store root is not writable")
    return jobs


def corpus_path(settings: Settings, value: str) -> Path:
    """`value` resolved under `settings.corpora`; `..`, absolute paths and symlinks that lead
    outside it are refused."""
    if settings.corpora is None:
        raise PathRefused("corpus paths are disabled: set ZHTAG_CORPORA to a directory, or upload the file")
    root = settings.corpora.resolve()
    try:
        path = (root / value).resolve()
    except (OSError, ValueError) as err:
        raise PathRefused(f"unusable corpus path {value!r}: {err}") from None
    if not path.is_relative_to(root):
        raise PathRefused(f"{value!r} is outside ZHTAG_CORPORA")
    if not path.is_file():
        raise InputError(f"no corpus file {value!r} under ZHTAG_CORPORA")
    return path


async def _save(upload: UploadFile, target: Path) -> Path:
    with open(target, "wb") as out:
        while chunk := await upload.read(COPY_CHUNK):
            out.write(chunk)
    return target


async def _corpus(field: str, upload: UploadFile | None, path: str | None, folder: Path, settings: Settings) -> Path | None:
    if upload is not None and path:
        raise InputError(f"give either the file {field} or {field}_path, not both")
    if upload is not None:
        return await _save(upload, folder / field)
    return corpus_path(settings, path) if path else None


def _check(field: str, path: Path, shown: str, task: str, fmt: str | None, skip_bad: bool, alone: bool) -> list[Sentence]:
    """Read the file as training will (the raw text as lines, a corpus as sentences of `task`,
    large enough to split a dev set off if it comes `alone`); errors name it as the client
    knows it. The sentences of a corpus, none of raw text."""
    try:
        if field == "raw":
            read_raw(path, skip_bad=skip_bad)
            return []
        sentences = load_sentences(path, task, fmt, skip_bad=skip_bad, max_len=ModelConfig.max_len, log=lambda line: None)
        if alone:
            check_splittable(sentences)
        return sentences
    except CorpusError as err:
        raise CorpusError(shown, err.line, err.problem) from None
    except InputError as err:
        raise InputError(as_given(str(err), {str(path): shown})) from None


async def _files(
    uploads: dict[str, UploadFile | None], paths: dict[str, str | None], folder: Path,
    settings: Settings, task: str, fmt: str | None, skip_bad: bool,
) -> tuple[dict[str, Path | None], dict[str, str]]:
    """Each of train, dev and raw as a file (uploaded into `folder`, or found by path), read and
    checked as training will read it, and the name the client gave each given (`train
    (mine.txt)`, `dev_path d.txt`), which errors name it by, now and in the job's record."""
    files = {field: await _corpus(field, uploads[field], paths[field], folder, settings) for field in uploads}
    if files["train"] is None:
        raise InputError("a training corpus is required: upload the file train or give train_path")
    shown, sentences = {}, {}
    for field, path in files.items():
        if path is not None:
            upload = uploads[field]
            shown[field] = f"{field} ({upload.filename})" if upload is not None else f"{field}_path {path.name}"
            alone = field == "train" and files["dev"] is None
            read = await run_in_threadpool(_check, field, path, shown[field], task, fmt, skip_bad, alone)
            if files["dev"] is not None:  # kept for the dev check alone: a training upload may be 256 MB
                sentences[field] = read
    if files["dev"] is not None:
        await run_in_threadpool(check_dev_apart, files["train"], files["dev"], (shown["train"], shown["dev"]))
        await run_in_threadpool(check_dev_sentences_apart, sentences["train"], sentences["dev"], shown["dev"])
    return files, shown


def _pinned_checked(store: Store, ref: str, task: str, check: Callable[[str, str, str], None]) -> str:
    """The exact version `ref` names now (a base is fine-tuned as it is active at submission,
    a teacher tags as it was), once `check(task, its task, its ref)` passes: a base or teacher
    that cannot fit `task` is refused now rather than by a failed job later."""
    checkpoint = store.resolve(ref)
    check(task, checkpoint.read_json(CONFIG).get("task", "?"), checkpoint.ref)
    return checkpoint.ref


async def _check_fields(request: Request) -> None:
    """A field this route does not read (`hidden=32`), or one given twice, is refused: left
    unread, it trained a model other than the one its sender meant, as JSON bodies refuse."""
    form = await request.form()
    unknown = sorted(set(form.keys()) - set(FORM_FIELDS))
    if unknown:
        raise InputError(f"unknown form field(s) {', '.join(unknown)}; the fields are {', '.join(FORM_FIELDS)}")
    twice = sorted(key for key in set(form.keys()) if len(form.getlist(key)) > 1)
    if twice:
        raise InputError(f"form field(s) given more than once: {', '.join(twice)}")


@router.post("/train", status_code=202, dependencies=[AdminDep, Depends(_check_fields)])  # unknown fields first: a form with two mistakes took two tries
async def submit(
    request: Request,
    registry: RegistryDep,
    settings: SettingsDep,
    task: Annotated[Task, Form()],
    name: Annotated[str | None, Form(pattern=rf"^{NAME_PATTERN}$")] = None,
    base: Annotated[str | None, Form(max_length=80)] = None,
    epochs: Annotated[int, Form(ge=1, le=200)] = TrainConfig.epochs,
    format: Annotated[Format | None, Form()] = None,
    labels: Annotated[Literal["keep", "replace"], Form()] = "keep",
    auto_promote: Annotated[bool, Form()] = True,
    min_gain: Annotated[float, Form(ge=-100, le=100)] = 0.0,
    skip_bad: Annotated[bool, Form()] = False,
    train: UploadFile | None = None,
    dev: UploadFile | None = None,
    train_path: Annotated[str | None, Form(max_length=1024)] = None,
    dev_path: Annotated[str | None, Form(max_length=1024)] = None,
    teacher: Annotated[str | None, Form(max_length=80)] = None,
    raw: UploadFile | None = None,
    raw_path: Annotated[str | None, Form(max_length=1024)] = None,
) -> JSONResponse:
    """Queue a training job; 422 names the file, line and problem of a malformed corpus. With
    `teacher`, the raw text `raw` (or `raw_path`), tagged by that model, joins the training side
    (`zhtag train --raw --teacher`)."""
    check_raw_teacher(raw is not None or bool(raw_path), teacher is not None, RAW_TEACHER_FIELDS)
    jobs = _jobs(request)
    parent = await run_in_threadpool(_pinned_checked, registry.store, base, task, check_parent) if base else None
    name = name_for(name, parent, task)  # as `zhtag train` names a run without --name
    await run_in_threadpool(check_target, registry.store, name, task, "name")
    taught_by = await run_in_threadpool(_pinned_checked, registry.store, teacher, task, check_teacher) if teacher else None
    job_id = new_job_id()
    folder = job_folder(registry.store.root, job_id)
    with submitting(registry.store.root):  # waited for only while a starting server sweeps: milliseconds
        folder.mkdir(parents=True)
        try:
            uploads = {"train": train, "dev": dev, "raw": raw}
            paths = {"train": train_path, "dev": dev_path, "raw": raw_path}
            files, shown = await _files(uploads, paths, folder, settings, task, format, skip_bad)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        train_file, dev_file, raw_file = files["train"], files["dev"], files["raw"]
        spec: dict[str, Any] = {
            "task": task, "name": name, "base": parent, "epochs": epochs, "format": format, "labels": labels,
            "auto_promote": auto_promote, "min_gain": min_gain, "skip_bad": skip_bad, "train_file": str(train_file),
            "dev_file": str(dev_file) if dev_file else None, "threads": settings.job_threads,
            "raw_file": str(raw_file) if raw_file else None, "teacher": taught_by, "corpora": shown,
        }
        job = await run_in_threadpool(jobs.create, spec, job_id)
    return JSONResponse({"id": job.id, "status": job.status}, status_code=202)


FORM_FIELDS = sorted(set(inspect.signature(submit).parameters) - {"request", "registry", "settings"})


@router.get("/jobs")
async def list_jobs(request: Request) -> list[dict[str, Any]]:
    return [job.public() for job in await run_in_threadpool(_jobs(request).list)]


@router.get("/jobs/{job_id}")
async def get_job(job_id: str, request: Request) -> dict[str, Any]:
    return (await run_in_threadpool(_jobs(request).get, job_id)).public()


@router.get("/jobs/{job_id}/curve.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
async def job_curve(job_id: str, request: Request) -> Response:
    """Loss and dev F1 per finished epoch so far, as a PNG (404 until one epoch has finished)."""
    job = await run_in_threadpool(_jobs(request).get, job_id)
    curve = job.progress.get("curve") or []
    if not curve:
        raise HTTPException(404, f"no epoch of job {job_id} has finished yet")
    png = await run_in_threadpool(plot_curve, curve, f"job {job_id}: {job.spec.get('name')} ({job.spec.get('task')})")
    return Response(png, media_type="image/png")


@router.delete("/jobs/{job_id}", dependencies=[AdminDep])
async def cancel_job(job_id: str, request: Request) -> dict[str, Any]:
    """Cancel a queued job, or stop a running one (its process is ended within a second); a
    finished job is answered as it is, kept in the table with its record."""
    job = await run_in_threadpool(_jobs(request).cancel, job_id)
    if job.started is None and job.status == "cancelled":  # never started: no runner will end it
        drop_uploads(job_folder(request.app.state.registry.store.root, job_id))
    return job.public()
