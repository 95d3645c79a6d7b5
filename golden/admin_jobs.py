"""Admin for import jobs: upload a file, preview it, start it, watch it, download the
rows it rejected. Jobs run through ``golden.importing.jobs`` (on a Celery worker when
a broker is configured, else in the request)."""

from __future__ import annotations

import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from .domains import DOMAINS
from .importing import ImportFileError, detect_format
from .importing.jobs import JobError, create_job, enqueue_job, owner_alive
from .models import ImportJob, MappingProfile, SourceSystem

REFRESH_SECONDS = 2


class UploadForm(forms.Form):
    file = forms.FileField(help_text="CSV, Excel .xlsx or JSON Lines")
    system = forms.ModelChoiceField(SourceSystem.objects.all())
    domain = forms.ChoiceField(choices=[(name, name) for name in DOMAINS])
    mapping = forms.ModelChoiceField(
        MappingProfile.objects.select_related("system"),
        required=False,
        help_text="optional: a mapping profile of the chosen system and domain",
    )
    key_column = forms.CharField(initial="source_key")
    delimiter = forms.CharField(initial="auto", max_length=4)
    encoding = forms.CharField(initial="auto", max_length=40)
    sheet = forms.CharField(required=False, help_text="Excel sheet name or number")
    batch_size = forms.IntegerField(min_value=1, max_value=100_000, required=False)

    def clean(self):
        data = super().clean()
        mapping = data.get("mapping")
        if mapping is not None and (
            mapping.system_id != getattr(data.get("system"), "pk", None)
            or mapping.domain != data.get("domain")
        ):
            self.add_error("mapping", "this profile belongs to another system or domain")
        upload = data.get("file")
        if upload is not None and upload.size > settings.MDM_IMPORT_MAX_BYTES:
            self.add_error(
                "file", f"larger than the limit of {settings.MDM_IMPORT_MAX_BYTES:,} bytes"
            )
        return data


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "file_name",
        "system",
        "domain",
        "kind",
        "status",
        "progress_bar",
        "rows",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "domain", "dry_run", "system"]
    search_fields = ["file_name", "checksum"]
    list_select_related = ["system", "created_by"]
    fields = [
        "file_name",
        "system",
        "domain",
        "kind",
        "status",
        "progress_bar",
        "counts_table",
        "error",
        "errors_download",
        "options",
        "batch_size",
        "attempts",
        "owner",
        "checksum",
        "file_size",
        "created_by",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "seconds",
    ]
    readonly_fields = fields
    change_form_template = "admin/golden/importjob/change_form.html"
    change_list_template = "admin/golden/importjob/change_list.html"

    def has_add_permission(self, request):
        return False  # through the upload view

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        own = [
            path(
                "upload/",
                self.admin_site.admin_view(self.upload_view),
                name="golden_importjob_upload",
            ),
            path(
                "<int:pk>/errors/",
                self.admin_site.admin_view(self.errors_view),
                name="golden_importjob_errors",
            ),
            path(
                "<int:pk>/start/",
                self.admin_site.admin_view(self.start_view),
                name="golden_importjob_start",
            ),
        ]
        return own + super().get_urls()

    # Columns --------------------------------------------------------------------------

    @admin.display(description="kind")
    def kind(self, obj):
        return "preview" if obj.dry_run else "import"

    @admin.display(description="progress")
    def progress_bar(self, obj):
        percent = round(obj.progress * 100, 1)
        return format_html(
            '<progress max="100" value="{}" title="{}%"></progress> {}%', percent, percent, percent
        )

    @admin.display(description="rows")
    def rows(self, obj):
        return f"{obj.rows_done:,} / {obj.rows_total:,}"

    @admin.display(description="counts")
    def counts_table(self, obj):
        shown = [(k.replace("_", " "), v) for k, v in obj.counts.items() if k != "dry_run"]
        if not shown:
            return "—"
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", shown),
        )

    @admin.display(description="rejected rows")
    def errors_download(self, obj):
        if not obj.errors_file or not Path(obj.errors_file).is_file():
            return "—"
        return format_html(
            '<a href="{}">download the errors file</a> (fix the rows and import it again)',
            reverse("admin:golden_importjob_errors", args=[obj.pk]),
        )

    # Views ----------------------------------------------------------------------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        job = ImportJob.objects.filter(pk=object_id).first() if object_id else None
        extra = dict(extra_context or {})
        if job is not None:
            unfinished = job.status in {ImportJob.Status.QUEUED, ImportJob.Status.RUNNING}
            extra["refresh_seconds"] = REFRESH_SECONDS if unfinished else None
            extra["can_start"] = request.user.has_perm("golden.add_importjob") and (
                (job.dry_run and job.status == ImportJob.Status.COMPLETED)
                or (
                    not job.dry_run
                    and job.status in {ImportJob.Status.FAILED, ImportJob.Status.INTERRUPTED}
                )
                or (job.status == ImportJob.Status.RUNNING and not owner_alive(job))
            )
            extra["start_label"] = "Import this file" if job.dry_run else "Resume"
        return super().changeform_view(request, object_id, form_url, extra)

    def upload_view(self, request):
        if not request.user.has_perm("golden.add_importjob"):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                job = self._job_from_upload(request, form.cleaned_data)
            except (ImportFileError, JobError) as error:
                form.add_error("file", str(error))
            else:
                return HttpResponseRedirect(reverse("admin:golden_importjob_change", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": "Import a file",
        }
        return TemplateResponse(request, "admin/golden/importjob/upload.html", context)

    def start_view(self, request, pk: int):
        if request.method != "POST" or not request.user.has_perm("golden.add_importjob"):
            raise PermissionDenied
        job = ImportJob.objects.filter(pk=pk).first()
        if job is None:
            raise Http404
        if job.dry_run:
            job = create_job(
                job.file_path,
                domain=job.domain,
                system=job.system,
                options={k: v for k, v in job.options.items() if k != "queue"},
                batch_size=job.batch_size,
                errors_out=job.errors_file or _errors_path(Path(job.file_path), job.options),
                user=request.user,
                file_name=job.file_name,
            )
        self._enqueue(request, job)
        return HttpResponseRedirect(reverse("admin:golden_importjob_change", args=[job.pk]))

    def errors_view(self, request, pk: int):
        job = ImportJob.objects.filter(pk=pk).first()
        if job is None or not self.has_view_permission(request, job):
            raise Http404
        errors = Path(job.errors_file) if job.errors_file else None
        if errors is None or not errors.is_file():
            raise Http404("this job has no errors file")
        return FileResponse(errors.open("rb"), as_attachment=True, filename=errors.name)

    # Helpers --------------------------------------------------------------------------

    def _job_from_upload(self, request, data) -> ImportJob:
        upload = data["file"]
        folder = Path(settings.MDM_IMPORT_UPLOAD_DIR) / uuid.uuid4().hex
        folder.mkdir(parents=True)
        name = Path(upload.name).name or "upload"
        stored = folder / name
        with stored.open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        options = {
            "file_format": detect_format(stored, None),
            "key_column": data["key_column"].strip() or "source_key",
            "delimiter": data["delimiter"] or "auto",
            "encoding": data["encoding"].strip() or "auto",
            "sheet": data["sheet"].strip() or None,
        }
        if data["mapping"] is not None:
            options["mapping"] = data["mapping"].spec
        preview = "_preview" in request.POST
        job = create_job(
            stored,
            domain=data["domain"],
            system=data["system"],
            options=options,
            batch_size=data["batch_size"],
            dry_run=preview,
            errors_out=_errors_path(stored, options),
            user=request.user,
            file_name=name,
        )
        self._enqueue(request, job)
        return job

    def _enqueue(self, request, job: ImportJob) -> None:
        with transaction.atomic():
            enqueue_job(job)
        job.refresh_from_db()
        if job.status == ImportJob.Status.QUEUED:
            messages.info(request, f"Import #{job.pk} is queued for a worker.")
        elif job.status == ImportJob.Status.FAILED:
            messages.error(request, f"Import #{job.pk} failed: {job.error}")
        else:
            messages.success(request, f"Import #{job.pk}: {job.status}.")


def _errors_path(stored: Path, options: dict) -> str:
    extension = "csv" if options.get("file_format") == "csv" else options.get("file_format")
    return str(stored.with_name(f"{stored.stem}.errors.{extension}"))
