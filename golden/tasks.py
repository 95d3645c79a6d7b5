"""Celery tasks: thin wrappers over the services (idempotent, enqueued after commit)."""

from celery import shared_task

from .models import GoldenRecord
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
