#!/usr/bin/env python3
"""Matching at scale: a large generated customer (or supplier) file imported and
matched, then single upserts with matching against everything on file.

    python bench/match_scale.py --entities 570000            # about 1,000,000 rows
    python bench/match_scale.py --entities 60000 --postgres postgres://USER@127.0.0.1:5432/postgres

1. ``bench/generate_parties.py`` writes noisy, labelled files for three systems
   (not timed). The last ``--holdout`` rows of the generated records are kept back.
2. Every other row is loaded with ``manage.py import_records`` (one process per
   file, as a migration team would run it) into a fresh database: validation,
   blocking keys, set-at-a-time fuzzy matching, golden records, cross-references,
   journal, outbox and review queue, all persisted. Printed: rows, seconds, rows/s,
   peak memory of the import processes.
3. The held-back rows are upserted one at a time, each its own transaction, with
   matching against the whole database (``upsert_source_record``). Printed: p50,
   p95 and p99 latency.
4. Pairwise precision, recall and F1 of the automatic merges over everything.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domain", choices=["customer", "supplier"], default="customer")
    parser.add_argument("--entities", type=int, default=570_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--holdout", type=int, default=2000, help="rows upserted one by one")
    parser.add_argument("--postgres", help="server URL: use a fresh database there")
    parser.add_argument("--keep", type=Path, help="keep the database file (SQLite) here")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "generate_parties.py"),
                "--domain",
                options.domain,
                "--entities",
                str(options.entities),
                "--seed",
                str(options.seed),
                "--output-dir",
                str(work / "generated"),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        files, holdout = split_holdout(work, options.domain, options.holdout)
        rows = sum(count for _, _, count in files)
        print(
            f"generated {rows + len(holdout):,} {options.domain} rows for "
            f"{options.entities:,} entities in {time.perf_counter() - started:.0f} s "
            f"({len(holdout):,} held back)"
        )
        env = dict(os.environ, DEBUG="true")
        database = None
        if options.postgres:
            database = create_database(options.postgres)
            env["DATABASE_URL"] = options.postgres.rsplit("/", 1)[0] + "/" + database
        else:
            target = options.keep or work / "scale.sqlite3"
            env["DATABASE_URL"] = f"sqlite:///{target}"
        try:
            manage = [sys.executable, str(ROOT / "manage.py")]
            subprocess.run([*manage, "migrate", "-v", "0"], check=True, env=env)
            started = time.perf_counter()
            for path, system, count in files:
                begun = time.perf_counter()
                subprocess.run(
                    [
                        *manage,
                        "import_records",
                        str(path),
                        "--domain",
                        options.domain,
                        "--system",
                        system,
                        "--create-system",
                    ],
                    check=True,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                print(f"  {system}: {count:,} rows in {time.perf_counter() - begun:.1f} s")
            elapsed = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(
                f"import and match: {rows:,} rows in {elapsed:.1f} s "
                f"({rows / elapsed:,.0f} rows/s), peak memory {peak:,.0f} MB"
            )
            os.environ.update(env)
            incremental(options.domain, holdout, work / "generated", rows)
        finally:
            if database:
                drop_database(options.postgres, database)


def split_holdout(work: Path, domain: str, holdout: int):
    """The system files without their last rows (spread over systems), and those rows."""
    generated = work / "generated"
    paths = sorted(
        path for path in generated.glob(f"{domain}-*.csv") if not path.stem.endswith("labels")
    )
    files, held = [], []
    share = holdout // len(paths)
    for path in paths:
        system = path.stem.split("-", 1)[1]
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames
            rows = list(reader)
        keep, back = rows[: len(rows) - share], rows[len(rows) - share :]
        target = work / f"{system}.csv"
        with target.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=header)
            writer.writeheader()
            writer.writerows(keep)
        files.append((target, system, len(keep)))
        held.extend((system, row) for row in back)
    return files, held


def incremental(domain: str, holdout, generated: Path, on_file: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mdm.settings")
    import django

    django.setup()
    from golden.models import SourceRecord, SourceSystem
    from golden.services import upsert_source_record

    systems = {system.code: system for system in SourceSystem.objects.all()}
    timings = []
    outcomes: dict[str, int] = {}
    for system, row in holdout:
        key = row.pop("source_key")
        payload = {name: value for name, value in row.items() if value}
        begun = time.perf_counter()
        result = upsert_source_record(
            system=systems[system], domain=domain, source_key=key, payload=payload
        )
        timings.append(time.perf_counter() - begun)
        outcomes[result.outcome.value] = outcomes.get(result.outcome.value, 0) + 1
    timings.sort()

    def at(share):
        return timings[min(len(timings) - 1, int(share * len(timings)))] * 1000

    print(
        f"incremental upsert with matching against {on_file:,} records: "
        f"{len(timings):,} upserts, p50 {at(0.5):.1f} ms, p95 {at(0.95):.1f} ms, "
        f"p99 {at(0.99):.1f} ms, max {timings[-1] * 1000:.1f} ms "
        f"({', '.join(f'{count} {name}' for name, count in sorted(outcomes.items()))})"
    )
    quality(domain, generated, SourceRecord)


def quality(domain: str, generated: Path, SourceRecord) -> None:
    from evaluate import pairs_of

    labels = {}
    with (generated / f"{domain}-labels.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            labels[(row["system"], row["source_key"])] = row["entity_id"]
    cluster_of = {
        (system, key): golden
        for system, key, golden in SourceRecord.objects.filter(
            domain=domain, retired=False
        ).values_list("system__code", "source_key", "golden_record_id")
    }
    predicted = pairs_of(cluster_of)
    truth = pairs_of({record: labels[record] for record in cluster_of})
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(
        f"automatic merges: precision {precision:.4f}, recall {recall:.4f}, F1 {f1:.4f} "
        f"({len(truth):,} true pairs)"
    )


def create_database(server: str) -> str:
    import psycopg

    name = f"mdm_scale_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(server: str, name: str) -> None:
    import psycopg

    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # Django never set up: nothing to close
        pass
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
