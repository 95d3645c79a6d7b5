#!/usr/bin/env python3
"""Benchmark: the writing half of an import alone, with little noise.

    python bench/import_writer.py bench/out/customers-100000-42.csv --batch-size 5000

An import's helper process validates the next batch while the writer writes the
current one, so the wall time of a whole import mixes both, and the two compete for
the same cores. This script validates every batch first (in this process, once),
then writes them into a fresh SQLite database through ``upsert_source_records``
the way ``import_records`` does (one transaction per batch, the cycle collector
run between batches, background checkpoints, the bulk-load code filter) and prints
the time the writes took: changes to the writer can be compared run against run.
The database goes to a temporary directory unless ``--database`` names a file.
"""

from __future__ import annotations

import argparse
import csv
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", help="customer CSV (bench/generate_customers.py)")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--database", help="SQLite file to create (default: a temporary one)")
    options = parser.parse_args()

    workdir = tempfile.TemporaryDirectory(prefix="mdm-writer-")
    database = Path(options.database or Path(workdir.name) / "writer.sqlite3")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="mdm.settings",
        DEBUG="false",
        SECRET_KEY="bench-only-secret-key",
        DATABASE_URL=f"sqlite:///{database}",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from golden.bulk import BackgroundCheckpoints
    from golden.domains import get_domain
    from golden.importing.load import CODES_PER_ROW, _collector_tuned_for_bulk
    from golden.models import SourceSystem
    from golden.services import SourceInput, upsert_source_records
    from golden.services.upsert import prepare_source_inputs
    from matching import services as matching

    started = time.perf_counter()
    with open(options.file, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # Kept pickled, as the helper process hands them over, and unpickled one by one.
    batches = []
    for start in range(0, len(rows), options.batch_size):
        inputs = [
            SourceInput(row.pop("source_key"), row)
            for row in rows[start : start + options.batch_size]
        ]
        batches.append(pickle.dumps(prepare_source_inputs("customer", inputs), protocol=5))
    del rows
    print(f"validated {len(batches)} batches in {time.perf_counter() - started:.1f} s")

    call_command("migrate", verbosity=0)
    system = SourceSystem.objects.create(code="LEGACY", name="Legacy")
    domain = get_domain("customer")
    started, cpu = time.perf_counter(), time.process_time()
    expected_codes = len(batches) * options.batch_size * CODES_PER_ROW
    with (
        _collector_tuned_for_bulk() as collector,
        BackgroundCheckpoints() as checkpoints,
        matching.bulk_load(expected_codes=expected_codes),
    ):
        while batches:
            prepared = pickle.loads(batches.pop(0))
            with transaction.atomic():
                upsert_source_records(
                    system=system, domain=domain, records=[], prepared=prepared,
                    actor_label="bench",
                )  # fmt: skip
            del prepared
            checkpoints.between_transactions()
            collector.batch_done()
    seconds = time.perf_counter() - started
    print(
        f"machine: {os.cpu_count()} cores; batch size {options.batch_size}: writes "
        f"{seconds:.2f} s, process CPU {time.process_time() - cpu:.2f} s"
    )
    workdir.cleanup()


if __name__ == "__main__":
    main()
