"""Celery tasks: thin wrappers over the services (idempotent, enqueued after commit)."""

from celery import shared_task
from celery.signals import worker_ready

from .models import GoldenRecord, ImportJob
from .services import recompute_golden_record


@shared_task(acks_late=True)
def recompute_domain(domain: str) -> int:
    """Recompute survivorship of every active golden record of ``domain`` (e.g. after a
    source system's priority changed); returns how many changed."""
    changed = 0
    ids = GoldenRecord.objects.filter(domain=domain, status="active").values_list("pk", flat=True)
    for pk in ids.iterator(chunk_size=1000):
        golden = GoldenRecord.objects.get(pk=pk)
        changed += recompute_golden_record(golden=golden, actor_label="task:recompute_domain")
    return changed


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_import_job(job_id: int) -> dict:
    """Run or resume one import job. Idempotent: a job that is finished, or running in
    another live process, is left alone (a redelivered message changes nothing)."""
    from .importing import ImportFileError
    from .importing.jobs import JobError, run_job

    job = ImportJob.objects.get(pk=job_id)
    try:
        summary = run_job(job)
    except JobError as error:
        return {"job": job_id, "skipped": str(error)}
    except ImportFileError as error:  # the job is failed with this reason
        return {"job": job_id, "failed": str(error)}
    return {"job": job_id, **summary.as_dict()}


@worker_ready.connect
def _resume_orphaned_imports(**kwargs) -> None:
    """A worker that starts queues again the import jobs whose worker died mid-run."""
    from .importing.jobs import resume_orphaned_jobs

    resume_orphaned_jobs()
