from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from golden.domains import DOMAINS, UnknownDomain, get_domain
from golden.importing import ImportFileError, detect_format, run_import
from golden.models import SourceSystem


class Command(BaseCommand):
    help = (
        "Import source records of one system and domain from a CSV file, an Excel .xlsx "
        "sheet (header = attribute names plus the key column) or a JSON Lines file. "
        "Rejected rows go to an errors file."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--domain", required=True, help=f"one of: {', '.join(DOMAINS)}")
        parser.add_argument("--system", required=True, help="source system code, e.g. ERP")
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
            "--dry-run", action="store_true", help="report what would happen; write nothing"
        )
        parser.add_argument(
            "--errors-out",
            help="where rejected rows go (default: <file>.errors.csv or .jsonl beside the file)",
        )
        parser.add_argument("--batch-size", type=int, help="rows per transaction")

    def handle(self, *args, **options):
        try:
            domain = get_domain(options["domain"])
        except UnknownDomain as error:
            raise CommandError(str(error)) from None
        code = options["system"].strip().upper()
        system = SourceSystem.objects.filter(code=code).first()
        if system is None:
            if not options["create_system"]:
                raise CommandError(
                    f"unknown source system '{code}' (known: "
                    f"{', '.join(SourceSystem.objects.values_list('code', flat=True)) or 'none'}); "
                    "pass --create-system to create it"
                )
            if not options["dry_run"]:
                system = SourceSystem(code=code, name=code)
                system.full_clean()
                system.save()
            else:
                system = SourceSystem(code=code, name=code)
        path = Path(options["file"])
        try:
            file_format = detect_format(path, options["format"])
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        errors_out = options["errors_out"] or str(
            path.with_name(f"{path.stem}.errors.{'csv' if file_format == 'csv' else file_format}")
        )
        if options["dry_run"] and system.pk is None:
            raise CommandError(
                f"--dry-run with a new system: create '{code}' first (run without --dry-run)"
            )

        bar = None
        if self.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(unit=" rows", file=self.stderr._out, desc=path.name)
        try:
            summary = run_import(
                path,
                domain=domain,
                system=system,
                file_format=file_format,
                key_column=options["key_column"],
                delimiter=options["delimiter"],
                encoding=options["encoding"],
                sheet=options["sheet"],
                dry_run=options["dry_run"],
                errors_out=errors_out,
                progress=bar.update if bar else None,
                batch_size=options["batch_size"],
            )
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        finally:
            if bar is not None:
                bar.close()

        counts = summary.as_dict()
        prefix = "Dry run (nothing written): " if summary.dry_run else ""
        self.stdout.write(
            prefix
            + ", ".join(
                f"{counts[name]} {name.replace('_', ' ')}"
                for name in (
                    "read",
                    "created",
                    "updated",
                    "unchanged",
                    "attached",
                    "queued_for_review",
                    "rejected",
                )
            )
            + f"; {summary.duplicate_keys} duplicate keys (last wins)"
            + f"; {summary.with_quality_issues} with data-quality issues"
            + f"; {summary.seconds:.2f} s"
            + (f" ({summary.read / summary.seconds:,.0f} rows/s)" if summary.seconds else "")
        )
        if summary.rejected or summary.duplicate_keys:
            self.stdout.write(f"Rejected and superseded rows: {summary.errors_file}")
