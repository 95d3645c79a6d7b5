from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from golden.domains import DOMAINS, UnknownDomain, get_domain
from golden.importing import ImportFileError
from golden.models import SourceSystem
from matching.crosswalk import CrosswalkError, import_crosswalk


class Command(BaseCommand):
    help = (
        "Load a legacy mapping table (per row a key of one system and a key of another) "
        "and put each pair into one golden record as a steward's decision that matching "
        "keeps. Rejected, conflicting and repeated rows go to an errors file."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--left", required=True, help="source system code of one key, e.g. ERP")
        parser.add_argument("--right", required=True, help="source system code of the other key")
        parser.add_argument("--domain", required=True, help=f"one of: {', '.join(DOMAINS)}")
        parser.add_argument(
            "--left-column",
            help="column of the --left keys (default: named like the system, else left_key)",
        )
        parser.add_argument(
            "--right-column",
            help="column of the --right keys (default: named like the system, else right_key)",
        )
        parser.add_argument("--format", choices=["csv", "jsonl"], help="default: by extension")
        parser.add_argument(
            "--delimiter", default="auto", help="CSV delimiter (default: detected from the header)"
        )
        parser.add_argument(
            "--encoding", default="auto", help="e.g. utf-8, gb18030, latin-1 (default: detected)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would happen; write nothing"
        )
        parser.add_argument(
            "--errors-out", help="where reported rows go (default: <file>.errors.csv beside it)"
        )
        parser.add_argument("--batch-size", type=int, help="pairs per transaction")

    def handle(self, *args, **options):
        try:
            domain = get_domain(options["domain"])
        except UnknownDomain as error:
            raise CommandError(str(error)) from None
        left, right = (_system(options[side]) for side in ("left", "right"))
        path = Path(options["file"])
        errors_out = options["errors_out"] or str(path.with_name(f"{path.stem}.errors.csv"))

        bar = None
        if self.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(unit=" pairs", file=self.stderr._out, desc=path.name)
        try:
            summary = import_crosswalk(
                path,
                domain=domain,
                left=left,
                right=right,
                left_column=options["left_column"],
                right_column=options["right_column"],
                file_format=options["format"],
                delimiter=options["delimiter"],
                encoding=options["encoding"],
                dry_run=options["dry_run"],
                errors_out=errors_out,
                batch_size=options["batch_size"],
                progress=bar.update if bar else None,
            )
        except (ImportFileError, CrosswalkError) as error:
            raise CommandError(str(error)) from None
        finally:
            if bar is not None:
                bar.close()

        prefix = "Dry run (nothing written): " if summary.dry_run else ""
        self.stdout.write(
            f"{prefix}{summary.read} read, {summary.merged} merged, "
            f"{summary.already_linked} already linked, {summary.rejected} rejected, "
            f"{summary.conflicts} conflicts, {summary.repeated} repeated; "
            f"{summary.links_recorded} steward links recorded; {summary.seconds:.2f} s"
        )
        self.stdout.write(f"Errors file: {summary.errors_file}")


def _system(code: str) -> SourceSystem:
    code = code.strip().upper()
    system = SourceSystem.objects.filter(code=code).first()
    if system is None:
        known = ", ".join(SourceSystem.objects.values_list("code", flat=True)) or "none"
        raise CommandError(f"unknown source system '{code}' (known: {known})")
    return system
