from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from golden.domains import DOMAINS, UnknownDomain, get_domain
from golden.importing import ImportFileError, detect_format
from golden.importing.jobs import (
    JobError,
    create_job,
    enqueue_job,
    resumable_job,
    run_job,
)
from golden.importing.load import ROW_OUTCOMES
from golden.importing.mapping import MappingError, MappingSpec, resolve_mapping, store_mapping
from golden.models import ImportJob, SourceSystem


class Command(BaseCommand):
    help = (
        "Import source records of one system and domain from a CSV file, an Excel .xlsx "
        "sheet (header = attribute names plus the key column) or a JSON Lines file. "
        "Rejected rows go to an errors file."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="the file (not with --resume)")
        parser.add_argument("--domain", help=f"one of: {', '.join(DOMAINS)} (required)")
        parser.add_argument("--system", help="source system code, e.g. ERP (required)")
        parser.add_argument(
            "--create-system", action="store_true", help="create the system if it is unknown"
        )
        parser.add_argument("--key-column", default="source_key")
        parser.add_argument(
            "--delimiter", default="auto", help="CSV delimiter (default: detected from the header)"
        )
        parser.add_argument(
            "--encoding", default="auto", help="e.g. utf-8, gb18030, latin-1 (default: detected)"
        )
        parser.add_argument(
            "--format", choices=["csv", "xlsx", "jsonl"], help="default: by extension"
        )
        parser.add_argument("--sheet", help="Excel sheet name or number (default: the first)")
        parser.add_argument(
            "--mapping",
            metavar="FILE_OR_NAME",
            help="mapping profile from source columns to attributes: a .yaml, .yml or .json "
            "file (kept for the system under its name once imported) or the name of a kept "
            "profile; the profile names the key column (see docs/mapping.md)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would happen; write nothing"
        )
        parser.add_argument(
            "--errors-out",
            help="where rejected rows go (default: <file>.errors.csv or .jsonl beside the file)",
        )
        parser.add_argument("--batch-size", type=int, help="rows per transaction")
        parser.add_argument(
            "--resume",
            type=int,
            metavar="JOB",
            help="resume import job JOB (its file, system, domain and options)",
        )
        parser.add_argument(
            "--restart",
            action="store_true",
            help="start a new job even if an interrupted job of the same file could resume",
        )
        parser.add_argument(
            "--background",
            action="store_true",
            help="queue the job for a Celery worker and return (in-process without a broker)",
        )

    def handle(self, *args, **options):
        if options["resume"] is not None:
            if options["file"]:
                raise CommandError("give either a file or --resume JOB, not both")
            job = ImportJob.objects.filter(pk=options["resume"]).first()
            if job is None:
                raise CommandError(f"no import job #{options['resume']}")
            self.stdout.write(f"Resuming import #{job.pk} after row {job.rows_done:,}")
        else:
            job = self._new_or_resumable_job(options)
            if job is None:
                return
        summary = self._run(job)
        self._store_profile()
        job.refresh_from_db()
        self._report(job, summary)

    def _new_or_resumable_job(self, options) -> ImportJob | None:
        if not options["file"]:
            raise CommandError("the file to import is missing (or give --resume JOB)")
        missing = [name for name in ("domain", "system") if not options[name]]
        if missing:
            raise CommandError(
                f"the following arguments are required: {', '.join('--' + m for m in missing)}"
            )
        try:
            domain = get_domain(options["domain"])
        except UnknownDomain as error:
            raise CommandError(str(error)) from None
        code = options["system"].strip().upper()
        system = SourceSystem.objects.filter(code=code).first()
        mapping = self._resolve_mapping(options, system, domain)
        if system is None:
            if not options["create_system"]:
                raise CommandError(
                    f"unknown source system '{code}' (known: "
                    f"{', '.join(SourceSystem.objects.values_list('code', flat=True)) or 'none'}); "
                    "pass --create-system to create it"
                )
            if options["dry_run"]:
                raise CommandError(
                    f"--dry-run with a new system: create '{code}' first (run without --dry-run)"
                )
            system = SourceSystem(code=code, name=code)
            system.full_clean()
            system.save()
        path = Path(options["file"])
        try:
            file_format = detect_format(path, options["format"])
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        errors_out = options["errors_out"] or str(
            path.with_name(f"{path.stem}.errors.{'csv' if file_format == 'csv' else file_format}")
        )
        read_options = {
            "file_format": file_format,
            "key_column": options["key_column"],
            "delimiter": options["delimiter"],
            "encoding": options["encoding"],
            "sheet": options["sheet"],
        }
        if mapping is not None:
            read_options["mapping"] = {"name": mapping.name, **mapping.to_json()}
            if mapping.origin and not options["dry_run"]:
                self._profile_to_store = (mapping, system)
        try:
            job = None
            if not (options["dry_run"] or options["restart"]):
                job = resumable_job(path, domain=domain.name, system=system, options=read_options)
            if job is not None:
                self.stdout.write(
                    f"Resuming interrupted import #{job.pk} of the same file after row "
                    f"{job.rows_done:,} (--restart starts anew)"
                )
            else:
                job = create_job(
                    path,
                    domain=domain.name,
                    system=system,
                    options=read_options,
                    batch_size=options["batch_size"],
                    dry_run=options["dry_run"],
                    errors_out=errors_out,
                )
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        if options["background"] and not settings.CELERY_TASK_ALWAYS_EAGER:
            self._store_profile()
            enqueue_job(job)
            self.stdout.write(
                f"Queued import #{job.pk}; follow it with: manage.py import_jobs {job.pk}"
            )
            return None
        # Without a broker there is no worker: the job runs here.
        return job

    _profile_to_store: tuple[MappingSpec, SourceSystem] | None = None

    def _resolve_mapping(self, options, system, domain) -> MappingSpec | None:
        """The --mapping profile, validated before anything is written. A profile file
        is kept for the system (see _store_profile) once its import has run."""
        if not options["mapping"]:
            return None
        try:
            return resolve_mapping(options["mapping"], system=system, domain=domain, store=False)
        except MappingError as error:
            raise CommandError(str(error)) from None

    def _store_profile(self) -> None:
        if self._profile_to_store is not None:
            mapping, system = self._profile_to_store
            store_mapping(mapping, system=system)
            self._profile_to_store = None

    def _run(self, job: ImportJob):
        bar = None
        if self.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(unit=" rows", file=self.stderr._out, desc=job.file_name)
        try:
            return run_job(job, progress=bar.update if bar else None)
        except (ImportFileError, JobError) as error:
            raise CommandError(str(error)) from None
        finally:
            if bar is not None:
                bar.close()

    def _report(self, job: ImportJob, summary) -> None:
        counts = summary.as_dict()
        prefix = "Dry run (nothing written): " if summary.dry_run else ""
        self.stdout.write(
            prefix
            + ", ".join(f"{counts[name]} {name.replace('_', ' ')}" for name in ROW_OUTCOMES)
            + f"; {summary.duplicate_keys} duplicate keys (last wins)"
            + f"; {summary.with_quality_issues} with data-quality issues"
            + f"; {summary.created + summary.updated + summary.unchanged} valid"
            + f"; {summary.seconds:.2f} s"
            + (f" ({summary.read / summary.seconds:,.0f} rows/s)" if summary.seconds else "")
        )
        if summary.rejected or summary.duplicate_keys:
            self.stdout.write(f"Rejected and superseded rows: {summary.errors_file}")
        self.stdout.write(f"Import #{job.pk}: {job.status}")
