#!/usr/bin/env python3
"""Benchmark: import generated customer files through the real command, on a fresh
database each time, and print rows/s and peak memory.

    python bench/import_speed.py --sizes 25000,50000,100000
    python bench/import_speed.py --sizes 100000 \
        --postgres postgres://postgres@127.0.0.1:5432/postgres

Each import runs as its own process (`manage.py import_records`), so peak RSS is that
process's own high-water mark (from wait4). "rows/s" is rows over the whole process's
wall time (Django start-up and the check pass over the file included); "load rows/s"
is the rate the command itself reports for loading, after the file check. The second
import of the same file measures the idempotent path (every row unchanged, nothing
written). Files are generated with
bench/generate_customers.py (20 % exact-key duplicates) into bench/out/.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PYTHON = sys.executable


def generate(rows: int, seed: int) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"customers-{rows}-{seed}.csv"
    if not path.exists():
        subprocess.run(
            [PYTHON, str(ROOT / "bench" / "generate_customers.py"), "--rows", str(rows),
             "--seed", str(seed), "--duplicate-rate", "0.2", "--output", str(path)],
            check=True,
        )  # fmt: skip
    return path


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Run a command; return (seconds, peak RSS in bytes of that process, stdout)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(args, env=env, stdout=out, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode:
            raise SystemExit(f"{' '.join(args)} failed:\n{err.read()}")
        return seconds, usage.ru_maxrss * 1024, out.read()


def manage(*args: str) -> list[str]:
    return [PYTHON, str(ROOT / "manage.py"), *args]


def fresh_database(kind: str, postgres: str | None, workdir: Path) -> dict[str, str]:
    env = dict(os.environ, DEBUG="false", SECRET_KEY="bench-only-secret-key")
    env.pop("DATABASE_URL", None)
    if kind == "sqlite":
        env["MDM_VAR_DIR"] = str(workdir)
        database = workdir / "mdm.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    else:
        import psycopg

        with psycopg.connect(postgres, autocommit=True) as connection:
            connection.execute("DROP DATABASE IF EXISTS mdm_bench")
            connection.execute("CREATE DATABASE mdm_bench")
        env["DATABASE_URL"] = re.sub(r"/[^/]*$", "/mdm_bench", postgres)
    subprocess.run(manage("migrate", "-v0"), env=env, check=True, cwd=ROOT)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="25000,50000,100000")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--postgres", help="PostgreSQL server URL (a database to connect to)")
    parser.add_argument(
        "--batch-size", type=int, help="rows per transaction (default: the service's own)"
    )
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    databases = ["sqlite"] + (["postgresql"] if options.postgres else [])

    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    print(
        f"{'database':<11}{'rows':>9}{'first import s':>16}{'rows/s':>10}{'load rows/s':>13}"
        f"{'peak MB':>9}{'re-import s':>13}{'rows/s':>10}{'peak MB':>9}  golden / xrefs"
    )
    with tempfile.TemporaryDirectory(prefix="mdm-bench-") as tmp:
        for database in databases:
            for size in sizes:
                path = generate(size, options.seed)
                env = fresh_database(database, options.postgres, Path(tmp))
                command = manage("import_records", str(path), "--domain", "customer",
                                 "--system", "LEGACY", "--create-system",
                                 "--errors-out", str(Path(tmp) / "errors.csv"))  # fmt: skip
                if options.batch_size:
                    command += ["--batch-size", str(options.batch_size)]
                first_s, first_peak, first_out = run_measured(command, env)
                again_s, again_peak, again_out = run_measured(command, env)
                if f"{size} unchanged" not in again_out:
                    raise SystemExit(f"re-import changed data: {again_out}")
                load_rate = re.search(r"\(([\d,]+) rows/s\)", first_out).group(1)
                created = re.search(r"(\d+) created", first_out).group(1)
                attached = re.search(r"(\d+) attached", first_out).group(1)
                first = f"{first_s:>16.1f}{size / first_s:>10,.0f}{load_rate:>13}"
                again = f"{again_s:>13.1f}{size / again_s:>10,.0f}"
                linked = f"{created} / {int(created) + int(attached)}"
                print(
                    f"{database:<11}{size:>9}{first}{first_peak / 2**20:>9.0f}"
                    f"{again}{again_peak / 2**20:>9.0f}  {linked}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
