#!/usr/bin/env python3
"""Benchmark: a large generated customer file (default 1,000,000 rows, 20 % duplicates)
imported with 1 and 2 validation helper processes, on SQLite and PostgreSQL.

    python bench/import_scale.py --rows 1000000 --workers 1,2 \
        [--postgres postgres://postgres@127.0.0.1:5432/postgres] [--stage-only] \
        [--no-stage] [--databases sqlite,postgresql]

Two measurements per worker count:

- "stage": reading, parsing and validating the file into the batches the writer
  takes (canonical values, data-quality issues, identity and blocking keys, matching
  features), handed over from the helper processes, with nothing written: the part
  of an import that runs in parallel.
- "import": the whole import through ``manage.py import_records`` into a fresh
  database (validation, matching, survivorship, journal, outbox, job progress).

Peak memory is the largest sum of the proportional set sizes (PSS) of the measured
process and all its helper processes, sampled every 0.2 s: helpers count, and the
pages a forked helper shares with its parent count once.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_speed import OUT, PYTHON, ROOT, fresh_database, generate, manage  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_memory(pid: int) -> int:
    """Memory of ``pid`` and all its descendants: the sum of their proportional set
    sizes (PSS), so pages a forked helper still shares with its parent count once,
    not once per process as a sum of resident sizes would; the resident size where
    the kernel gives no PSS."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _memory_of(current)
        todo.extend(children.get(current, []))
    return total


def _memory_of(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[21]) * PAGE


def run_sampled(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Run a command; return (seconds, peak memory of its process tree, stdout)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(args, env=env, stdout=out, stderr=err, cwd=ROOT)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_memory(process.pid))
                done.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        process.wait()
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        if process.returncode:
            raise SystemExit(f"{' '.join(args)} failed:\n{err.read()}")
        return seconds, peak, out.read()


def stage_only(path: str, workers: int) -> None:
    """In a child process: read and validate ``path`` as an import does, write nothing."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mdm.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    from golden.domains import get_domain
    from golden.importing.files import RowReader, detect_format
    from golden.importing.load import _collector_tuned_for_bulk, _first_pass, _report_stream

    settings.MDM_IMPORT_VALIDATION_WORKERS = workers
    settings.MDM_IMPORT_PARALLEL_MIN_BYTES = 0
    file = Path(path)
    reader = RowReader(file, domain=get_domain("customer"), file_format=detect_format(file, None))
    started = time.perf_counter()
    total, repeated = _first_pass(reader)
    rows = 0
    with _collector_tuned_for_bulk() as collector:
        for report in _report_stream(reader, "customer", settings.MDM_IMPORT_BATCH_SIZE, repeated):
            rows += report.read
            collector.batch_done()
    assert rows == total
    print(f"{rows} rows in {time.perf_counter() - started:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", default="1,2", help="validation helper counts to run")
    parser.add_argument("--postgres", help="PostgreSQL server URL (a database to connect to)")
    parser.add_argument("--stage-only", action="store_true", help="skip the imports")
    parser.add_argument("--no-stage", action="store_true", help="skip the staging runs")
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="which imports to run (with --postgres)"
    )
    parser.add_argument("--stage", help=argparse.SUPPRESS)  # internal: the child process
    options = parser.parse_args()
    workers = [int(count) for count in options.workers.split(",")]
    if options.stage:
        stage_only(options.stage, workers[0])
        return

    path = generate(options.rows, options.seed)
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; file {path.name}")
    print(f"{'what':<22}{'workers':>8}{'rows':>11}{'seconds':>10}{'rows/s':>10}{'peak MB':>9}")
    env = dict(os.environ, DEBUG="false", SECRET_KEY="bench-only-secret-key")
    for count in [] if options.no_stage else workers:
        seconds, peak, out = run_sampled(
            [PYTHON, __file__, "--stage", str(path), "--workers", str(count)], env
        )
        rows = int(out.split()[0])
        print(f"{'stage (no writes)':<22}{count:>8}{rows:>11,}{seconds:>10.1f}"
              f"{rows / seconds:>10,.0f}{peak / 2**20:>9.0f}", flush=True)  # fmt: skip
    if options.stage_only:
        return
    wanted = options.databases.split(",")
    databases = [name for name in ("sqlite", "postgresql") if name in wanted]
    if not options.postgres:
        databases = [name for name in databases if name != "postgresql"]
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mdm-bench-") as tmp:
        for database in databases:
            for count in workers:
                run_env = fresh_database(database, options.postgres, Path(tmp))
                run_env["MDM_IMPORT_VALIDATION_WORKERS"] = str(count)
                command = manage("import_records", str(path), "--domain", "customer",
                                 "--system", "LEGACY", "--create-system",
                                 "--errors-out", str(Path(tmp) / "errors.csv"))  # fmt: skip
                seconds, peak, out = run_sampled(command, run_env)
                created = int(re.search(r"(\d+) created", out).group(1))
                attached = int(re.search(r"(\d+) attached", out).group(1))
                print(f"{'import ' + database:<22}{count:>8}{options.rows:>11,}{seconds:>10.1f}"
                      f"{options.rows / seconds:>10,.0f}{peak / 2**20:>9.0f}"
                      f"  golden {created:,}, attached {attached:,}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
