"""Import jobs in the admin: upload, preview, start, progress, errors file download."""

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from golden.models import GoldenRecord, ImportJob, SourceRecord

CSV = (
    "source_key,organization_name,tax_id,country\n"
    "1,Acme GmbH,DE129274202,DE\n"
    "2,ACME Gesellschaft,DE 129 274 202,DE\n"
    "3,,,DE\n"
    "4,Bolt Ltd,,GB\n"
)


@pytest.fixture
def steward_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("steward", "s@x.example", "pw-steward-1")
    client.force_login(user)
    return client


def upload(client, erp, *, button, content=CSV, name="customers.csv", capture):
    with capture(execute=True):
        return client.post(
            reverse("admin:golden_importjob_upload"),
            {
                "file": SimpleUploadedFile(name, content.encode()),
                "system": erp.pk,
                "domain": "customer",
                "key_column": "source_key",
                "delimiter": "auto",
                "encoding": "auto",
                button: "1",
            },
        )


def test_preview_counts_and_writes_nothing_then_start_imports(
    steward_client, erp, settings, tmp_path, django_capture_on_commit_callbacks, celery_in_process
):
    settings.MDM_IMPORT_UPLOAD_DIR = tmp_path

    response = upload(
        steward_client, erp, button="_preview", capture=django_capture_on_commit_callbacks
    )

    preview = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:golden_importjob_change", args=[preview.pk])
    assert preview.dry_run and preview.status == ImportJob.Status.COMPLETED
    assert preview.counts["created"] == 2 and preview.counts["attached"] == 1
    assert preview.counts["rejected"] == 1
    assert (SourceRecord.objects.count(), GoldenRecord.objects.count()) == (0, 0)
    page = steward_client.get(response["Location"]).content.decode()
    assert "Import this file" in page
    assert 'value="100.0"' in page  # the progress bar
    assert "download the errors file" in page

    with django_capture_on_commit_callbacks(execute=True):
        started = steward_client.post(reverse("admin:golden_importjob_start", args=[preview.pk]))

    job = ImportJob.objects.exclude(pk=preview.pk).get()
    assert started["Location"] == reverse("admin:golden_importjob_change", args=[job.pk])
    assert not job.dry_run and job.status == ImportJob.Status.COMPLETED
    assert job.created_by.username == "steward"
    assert SourceRecord.objects.count() == 3
    assert GoldenRecord.objects.count() == 2
    download = steward_client.get(reverse("admin:golden_importjob_errors", args=[job.pk]))
    assert download.status_code == 200
    body = b"".join(download.streaming_content).decode()
    assert body.splitlines()[0].startswith("row_number,error_column,error_value,error_reason")
    assert "no identifying attribute" in body and ",3,,,DE" in body


def test_a_file_that_cannot_be_imported_fails_its_job_and_changes_nothing(
    steward_client, erp, settings, tmp_path, django_capture_on_commit_callbacks, celery_in_process
):
    settings.MDM_IMPORT_UPLOAD_DIR = tmp_path

    upload(
        steward_client, erp, button="_import", content="code,organization_name\n1,Acme\n",
        capture=django_capture_on_commit_callbacks,
    )  # fmt: skip

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    assert "missing key column 'source_key'" in job.error
    assert SourceRecord.objects.count() == 0
    page = steward_client.get(reverse("admin:golden_importjob_change", args=[job.pk]))
    assert "missing key column" in page.content.decode()
    assert "Resume" in page.content.decode()


def test_a_running_job_page_refreshes_itself(steward_client, erp, tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(CSV)
    job = ImportJob.objects.create(
        system=erp, domain="customer", file_name="f.csv", file_path=str(path), checksum="x",
        batch_size=10, status=ImportJob.Status.QUEUED,
    )  # fmt: skip

    page = steward_client.get(reverse("admin:golden_importjob_change", args=[job.pk]))

    assert '<meta http-equiv="refresh" content="2">' in page.content.decode()


def test_uploading_needs_the_permission_to_add_import_jobs(client, django_user_model, erp):
    user = django_user_model.objects.create_user("viewer", password="pw-viewer-1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_importjob"))
    client.force_login(user)

    assert client.get(reverse("admin:golden_importjob_upload")).status_code == 403
    assert client.get(reverse("admin:golden_importjob_changelist")).status_code == 200
    assert ImportJob.objects.count() == 0
