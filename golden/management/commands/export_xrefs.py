import csv
import json

from django.core.management.base import BaseCommand, CommandError

from golden.domains import DOMAINS, UnknownDomain, get_domain
from golden.models import SourceRecord


class Command(BaseCommand):
    help = "Write one row per live cross-reference: global_id, system, source_key."

    def add_arguments(self, parser):
        parser.add_argument("--domain", required=True, help=f"one of: {', '.join(DOMAINS)}")
        parser.add_argument("--format", choices=["csv", "jsonl"], default="csv")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, **options):
        try:
            domain = get_domain(options["domain"])
        except UnknownDomain as error:
            raise CommandError(str(error)) from None
        rows = (
            SourceRecord.objects.filter(domain=domain.name, retired=False)
            .order_by("golden_record__global_id", "system__code", "source_key")
            .values_list("golden_record__global_id", "system__code", "source_key")
            .iterator(chunk_size=5000)
        )
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as handle:
                count = self._write(rows, handle, options["format"])
            self.stderr.write(f"{count} cross-references written to {options['output']}")
        else:
            self._write(rows, self.stdout, options["format"])

    def _write(self, rows, handle, file_format) -> int:
        count = 0
        if file_format == "csv":
            writer = csv.writer(handle)
            writer.writerow(["global_id", "system", "source_key"])
            for row in rows:
                writer.writerow(row)
                count += 1
        else:
            for global_id, system, key in rows:
                record = {"global_id": global_id, "system": system, "source_key": key}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
        return count
