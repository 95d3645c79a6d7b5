"""Import jobs: every import is a persisted :class:`~golden.models.ImportJob` that says
what is loaded, by whom, and how far it got.

A job's batches commit together with its progress marker (``rows_done``,
``batches_done``, the counts so far), so a job whose process was killed, at any
moment, resumes right after its last committed batch: no row is lost and none is
written twice. Rows are keyed by (system, key) and upserts are idempotent, so
importing the same file again from the start ends the same way too; resuming only
saves the work already done.

A job runs in the process that asked for it (``import_records``) or, queued, on a
Celery worker (``golden.tasks.run_import_job``). A worker that starts picks up the
queued jobs whose worker died (``resume_orphaned_jobs``).
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..domains import get_domain
from ..models import ImportJob, SourceSystem
from .files import ImportFileError
from .load import ImportSummary, run_import

# The reader options a job keeps, so that a resumed run reads the file the same way.
READ_OPTIONS = ("file_format", "key_column", "delimiter", "encoding", "sheet", "mapping")


class JobError(Exception):
    """A job cannot run now (already running elsewhere, finished, or its file changed)."""


def file_checksum(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def owner_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(job: ImportJob) -> bool:
    """Whether the process that runs ``job`` is still there. On this host, the process
    itself tells; from another host, a heartbeat older than
    ``MDM_IMPORT_STALE_SECONDS`` means it is gone."""
    if not job.owner or job.owner == owner_label():
        return False
    host, _, pid = job.owner.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return _process_running(int(pid))
    beat = job.heartbeat_at or job.started_at
    stale = timedelta(seconds=settings.MDM_IMPORT_STALE_SECONDS)
    return beat is not None and timezone.now() - beat < stale


def _process_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process not yet reaped by its parent is no longer running
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in {"Z", "X"}


def create_job(
    path: str | os.PathLike,
    *,
    domain: str,
    system: SourceSystem,
    options: dict[str, Any],
    batch_size: int | None = None,
    dry_run: bool = False,
    errors_out: str | os.PathLike | None = None,
    user=None,
    file_name: str | None = None,
) -> ImportJob:
    """A new job for one file; ``options`` are the reader options (``READ_OPTIONS``)
    plus, optionally, ``mapping`` (a mapping profile as stored)."""
    path = Path(path)
    get_domain(domain)
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    checksum, size = file_checksum(path)
    return ImportJob.objects.create(
        system=system,
        domain=domain,
        file_name=file_name or path.name,
        file_path=str(path.resolve()),
        checksum=checksum,
        file_size=size,
        options=dict(options),
        dry_run=dry_run,
        batch_size=batch_size or settings.MDM_IMPORT_BATCH_SIZE,
        errors_file=str(errors_out) if errors_out else "",
        created_by=user,
    )


def resumable_job(
    path: str | os.PathLike, *, domain: str, system: SourceSystem, options: dict[str, Any]
) -> ImportJob | None:
    """The newest unfinished job (interrupted, failed, or running in a process that is
    gone) of the same file content, system, domain and options, if any: it resumes
    after its last committed batch."""
    checksum, _ = file_checksum(Path(path))
    candidates = ImportJob.objects.filter(
        system=system,
        domain=domain,
        checksum=checksum,
        dry_run=False,
        status__in=[
            ImportJob.Status.RUNNING,
            ImportJob.Status.INTERRUPTED,
            ImportJob.Status.FAILED,
        ],
    ).order_by("-pk")
    for job in candidates:
        if job.options == options and not owner_alive(job):
            return job
    return None


def run_job(job: ImportJob, *, progress=None) -> ImportSummary:
    """Run (or resume) ``job`` in this process and return its summary.

    Raises :class:`JobError` when the job is running in another live process, is
    finished already, or its file no longer has the content it was started with; and
    ``ImportFileError`` when the file cannot be imported (the job is then failed).
    """
    job = _claim(job)
    started = time.perf_counter()
    path = Path(job.file_path)
    try:
        checksum, _ = file_checksum(path) if path.is_file() else ("", 0)
        if checksum != job.checksum:
            raise JobError(
                f"import #{job.pk}: {job.file_name} has changed or is gone since the job "
                "started; import it as a new job"
            )
        summary = run_import(
            path,
            domain=get_domain(job.domain),
            system=job.system,
            dry_run=job.dry_run,
            errors_out=job.errors_file or None,
            acting_user=job.created_by,
            progress=progress,
            batch_size=job.batch_size,
            job=job,
            **_reader_options(job),
        )
    except KeyboardInterrupt:
        _finish(job, ImportJob.Status.INTERRUPTED, started, error="interrupted")
        raise
    except (ImportFileError, JobError) as error:
        _finish(job, ImportJob.Status.FAILED, started, error=str(error))
        raise
    except Exception as error:
        _finish(job, ImportJob.Status.FAILED, started, error=f"{type(error).__name__}: {error}")
        raise
    _finish(job, ImportJob.Status.COMPLETED, started, summary=summary)
    return summary


def summary_of(job: ImportJob) -> ImportSummary:
    """The summary of a finished job, from its stored counts."""
    summary = ImportSummary(dry_run=job.dry_run)
    summary.restore(job.counts)
    summary.seconds = job.seconds
    summary.errors_file = job.errors_file if summary.rejected or summary.duplicate_keys else ""
    return summary


def enqueue_job(job: ImportJob, *, queue: str | None = None) -> None:
    """Run ``job`` on a Celery worker once the current transaction commits (in-process
    at once when no broker is configured)."""
    from ..tasks import run_import_job

    queue = queue or settings.MDM_IMPORT_QUEUE
    options = dict(job.options, queue=queue)
    ImportJob.objects.filter(pk=job.pk).update(options=options)
    job.options = options
    transaction.on_commit(lambda: run_import_job.apply_async((job.pk,), queue=queue))


def resume_orphaned_jobs() -> list[int]:
    """Queue again every queued-to-a-worker job whose worker died while running it
    (called when a worker starts). Returns their ids."""
    resumed = []
    running = ImportJob.objects.filter(status=ImportJob.Status.RUNNING, dry_run=False)
    for job in running.order_by("pk"):
        if "queue" in job.options and not owner_alive(job):
            from ..tasks import run_import_job

            run_import_job.apply_async((job.pk,), queue=job.options["queue"])
            resumed.append(job.pk)
    return resumed


def _reader_options(job: ImportJob) -> dict[str, Any]:
    options = {name: job.options[name] for name in READ_OPTIONS if name in job.options}
    return options


def _claim(job: ImportJob) -> ImportJob:
    """Mark ``job`` as run by this process, unless another live process runs it."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().select_related("system").get(pk=job.pk)
        if job.status == ImportJob.Status.COMPLETED:
            raise JobError(f"import #{job.pk} is completed already")
        if job.status == ImportJob.Status.RUNNING and owner_alive(job):
            raise JobError(f"import #{job.pk} is running in process {job.owner}")
        if job.dry_run and job.status != ImportJob.Status.QUEUED:
            # A preview writes nothing, so there is nothing to resume: count anew.
            job.rows_done = job.batches_done = 0
            job.counts = {}
        now = timezone.now()
        job.status = ImportJob.Status.RUNNING
        job.owner = owner_label()
        job.attempts += 1
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.error = ""
        job.save()
    return job


def _finish(
    job: ImportJob,
    status: str,
    started: float,
    *,
    summary: ImportSummary | None = None,
    error: str = "",
) -> None:
    fields: dict[str, Any] = {
        "status": status,
        "error": error[:2000],
        "seconds": job.seconds + (time.perf_counter() - started),
        "heartbeat_at": timezone.now(),
    }
    if summary is not None:
        fields["counts"] = summary.as_dict()
        fields["rows_done"] = summary.read
        fields["finished_at"] = timezone.now()
        if not (summary.rejected or summary.duplicate_keys):
            fields["errors_file"] = ""
    ImportJob.objects.filter(pk=job.pk).update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)
