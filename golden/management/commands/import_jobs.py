from django.core.management.base import BaseCommand, CommandError

from golden.importing.jobs import owner_alive
from golden.models import ImportJob


class Command(BaseCommand):
    help = "List import jobs with their progress, or show one job in full."

    def add_arguments(self, parser):
        parser.add_argument("job", nargs="?", type=int, help="a job id: show that job")
        parser.add_argument("--status", choices=ImportJob.Status.values, help="only these")
        parser.add_argument("--limit", type=int, default=20)

    def handle(self, *args, **options):
        if options["job"] is not None:
            job = ImportJob.objects.select_related("system").filter(pk=options["job"]).first()
            if job is None:
                raise CommandError(f"no import job #{options['job']}")
            self._show(job)
            return
        jobs = ImportJob.objects.select_related("system").order_by("-pk")
        if options["status"]:
            jobs = jobs.filter(status=options["status"])
        for job in jobs[: options["limit"]]:
            self.stdout.write(
                f"#{job.pk:<5} {job.status:<11} {job.progress:>6.1%} "
                f"{job.rows_done:>10,}/{job.rows_total:<10,} {job.system.code}/{job.domain} "
                f"{job.file_name}{' (dry run)' if job.dry_run else ''}"
            )

    def _show(self, job: ImportJob) -> None:
        running = job.status == ImportJob.Status.RUNNING
        lines = [
            f"Import #{job.pk}: {job.file_name} into {job.system.code}/{job.domain}"
            + (" (dry run)" if job.dry_run else ""),
            f"status: {job.status}"
            + (f" in {job.owner}" if running and owner_alive(job) else "")
            + (
                " (its process is gone: resume with --resume)"
                if running and not owner_alive(job)
                else ""
            ),
            f"progress: {job.rows_done:,} of {job.rows_total:,} rows ({job.progress:.1%}), "
            f"{job.batches_done} batches of {job.batch_size}",
            f"file: {job.file_path} ({job.file_size:,} bytes, sha256 {job.checksum})",
            f"attempts: {job.attempts}; running time {job.seconds:.1f} s; "
            f"created {job.created_at:%Y-%m-%d %H:%M:%S}"
            + (f" by {job.created_by}" if job.created_by else ""),
        ]
        if job.counts:
            lines.append(
                "counts: "
                + ", ".join(
                    f"{name.replace('_', ' ')} {value}"
                    for name, value in job.counts.items()
                    if name not in {"seconds", "dry_run"}
                )
            )
        if job.errors_file:
            lines.append(f"errors file: {job.errors_file}")
        if job.error:
            lines.append(f"error: {job.error}")
        self.stdout.write("\n".join(lines))
