import csv
import json

from django.core.management.base import BaseCommand, CommandError

from golden.cells import safe_cell
from golden.domains import DOMAINS, UnknownDomain, get_domain
from matching.models import ReviewItem

COLUMNS = ["system_a", "key_a", "system_b", "key_b", "probability"]


class Command(BaseCommand):
    help = (
        "Write the pending review items of a domain, most probable first: "
        "system_a, key_a, system_b, key_b, probability."
    )

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
            ReviewItem.objects.filter(domain=domain.name, status=ReviewItem.Status.PENDING)
            .order_by("-probability", "pk")
            .values_list(
                "record_a__system__code",
                "record_a__source_key",
                "record_b__system__code",
                "record_b__source_key",
                "probability",
            )
            .iterator(chunk_size=5000)
        )
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as handle:
                count = self._write(rows, handle, options["format"])
            self.stderr.write(f"{count} pending review items written to {options['output']}")
        else:
            self._write(rows, self.stdout, options["format"])

    def _write(self, rows, handle, file_format) -> int:
        count = 0
        writer = csv.writer(handle) if file_format == "csv" else None
        if writer is not None:
            writer.writerow(COLUMNS)
        for system_a, key_a, system_b, key_b, probability in rows:
            values = [system_a, key_a, system_b, key_b, round(probability, 4)]
            if writer is not None:
                writer.writerow([safe_cell(value) for value in values[:4]] + [values[4]])
            else:
                handle.write(
                    json.dumps(dict(zip(COLUMNS, values, strict=True)), ensure_ascii=False) + "\n"
                )
            count += 1
        return count
