"""A task through a real broker and a real worker (run by .ci/run, skipped elsewhere)."""

import os

import pytest

from golden.models import GoldenRecord, SourceSystem
from golden.services import upsert_source_record
from golden.tasks import recompute_domain

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("MDM_CELERY_WORKER"),
        reason="needs a Celery worker on CELERY_BROKER_URL (MDM_CELERY_WORKER=1); run by .ci/run",
    ),
    pytest.mark.django_db(transaction=True),
]


def test_recompute_task_runs_on_the_worker_and_changes_the_database():
    erp = SourceSystem.objects.create(code="ERP", name="ERP", priority={"customer": 30})
    crm = SourceSystem.objects.create(code="CRM", name="CRM", priority={"customer": 10})
    payload = {"organization_name": "Acme GmbH", "tax_id": "DE129274202", "country": "DE"}
    first = upsert_source_record(
        system=erp, domain="customer", source_key="1", payload=payload | {"city": "Köln"}
    )
    upsert_source_record(
        system=crm, domain="customer", source_key="2", payload=payload | {"city": "Bonn"}
    )
    crm.priority = {"customer": 99}
    crm.save()

    changed = recompute_domain.delay("customer").get(timeout=60)

    assert changed == 1
    golden = GoldenRecord.objects.get(global_id=first.global_id)
    assert golden.values["city"] == "Bonn"
    assert golden.journal.filter(actor_label="task:recompute_domain").count() == 1
