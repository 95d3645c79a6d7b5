import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from golden.domains import get_domain
from golden.importing import ImportFileError, detect_format
from golden.importing.jobs import JobError, create_job, run_job
from golden.models import SourceSystem


class Command(BaseCommand):
    help = "Load the demo legacy files (examples/demo/manifest.json); safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--manifest", default=str(Path(settings.BASE_DIR) / "examples/demo/manifest.json")
        )

    def handle(self, *args, **options):
        manifest_path = Path(options["manifest"])
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"{manifest_path}: {error}") from None
        for entry in manifest["systems"]:
            system, created = SourceSystem.objects.get_or_create(
                code=entry["code"],
                defaults={"name": entry["name"], "priority": entry.get("priority", {})},
            )
            if created:
                system.full_clean()
        errors_dir = Path(settings.VAR_DIR) / "demo-errors"
        errors_dir.mkdir(parents=True, exist_ok=True)
        for entry in manifest["files"]:
            path = manifest_path.parent / entry["path"]
            try:
                job = create_job(
                    path,
                    domain=get_domain(entry["domain"]).name,
                    system=SourceSystem.objects.get(code=entry["system"]),
                    options={"file_format": detect_format(path, None)},
                    errors_out=errors_dir / f"{path.stem}.errors.csv",
                )
                summary = run_job(job)
            except (ImportFileError, JobError) as error:
                raise CommandError(str(error)) from None
            counts = summary.as_dict()
            self.stdout.write(
                f"{entry['system']:>7} {entry['domain']:<9} {path.name:<28} "
                + ", ".join(
                    f"{counts[name]} {name}"
                    for name in ("read", "created", "attached", "updated", "unchanged", "rejected")
                )
            )
