#!/usr/bin/env python3
"""Benchmark: ID lookups through the API against 1,000,000 cross-references in
PostgreSQL, served by gunicorn (2 workers) on 127.0.0.1, loaded with wrk; and, in the
same run, raw PostgreSQL read throughput (``pgbench -S``) for the ratio.

    python bench/api_speed.py --postgres postgres://postgres@127.0.0.1:5432/postgres \
        [--xrefs 1000000] [--seconds 20] [--connections 16] [--batch 1000,10000]

Needs wrk and pgbench (Debian packages wrk and postgresql-client). The data set is
written straight into the tables (500,000 golden records with two cross-references
each, valid global IDs), not through the import, because only reading is measured.
Every request sends a random known key, so the lookups spread over the whole index.
The tables are vacuumed and pre-warmed before the runs (a server's steady state), and
the server should have shared_buffers large enough to hold them (``.ci/pg.sh`` starts
one with 1 GB).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DATABASE = "mdm_api_bench"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(env: dict, *args: str) -> str:
    return subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, check=True,
        capture_output=True, text=True,
    ).stdout  # fmt: skip


def load(url: str, xrefs: int) -> None:
    """500,000 golden records (for 1,000,000 xrefs), two source records each."""
    import psycopg
    from stdnum.iso7064 import mod_37_36

    goldens = xrefs // 2
    with psycopg.connect(url) as db:
        systems = {}
        for code in ("ERP", "CRM"):
            systems[code] = db.execute(
                "INSERT INTO golden_sourcesystem (code, name, description, priority, "
                "distinct_domains, created_at) VALUES (%s, %s, '', '{}', '[]', now()) "
                "RETURNING id",
                [code, code],
            ).fetchone()[0]
        with db.cursor().copy(
            "COPY golden_goldenrecord (id, global_id, domain, display_name, values, lineage, "
            "status, merged_members, version, created_at, updated_at) FROM STDIN"
        ) as copy:
            for pk in range(1, goldens + 1):
                body = f"CUS{pk:09d}"
                values = json.dumps({"organization_name": f"Firm {pk}", "country": "DE"})
                copy.write_row(
                    [pk, body + mod_37_36.calc_check_digit(body), "customer", f"Firm {pk}",
                     values, "{}", "active", "[]", 1, "now", "now"]
                )  # fmt: skip
        with db.cursor().copy(
            "COPY golden_sourcerecord (system_id, domain, source_key, raw_payload, canonical, "
            "payload_hash, quality_issues, golden_record_id, retired, created_at, updated_at, "
            "content_changed_at) FROM STDIN"
        ) as copy:
            for pk in range(1, goldens + 1):
                values = json.dumps({"organization_name": f"Firm {pk}", "country": "DE"})
                for code, key in (("ERP", f"E{pk}"), ("CRM", f"C-{pk}")):
                    copy.write_row(
                        [systems[code], "customer", key, values, values, "x" * 64, "[]", pk,
                         False, "now", "now", "now"]
                    )  # fmt: skip
        db.execute(
            "SELECT setval(pg_get_serial_sequence('golden_goldenrecord', 'id'), %s)", [goldens]
        )
    # The steady state of a live server: tables vacuumed (as autovacuum does; it sets
    # the visibility map, so lookups read the covering indexes alone) and in memory.
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("VACUUM ANALYZE")
        try:
            db.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        except psycopg.Error as error:
            print(f"pg_prewarm not available ({error}); the warm-up run fills the cache")
            return
        for relation in ("golden_sourcerecord", "golden_goldenrecord", "source_record_unique_key",
                         "source_golden_live_idx", "golden_goldenrecord_pkey"):  # fmt: skip
            db.execute("SELECT pg_prewarm(%s)", [relation])


def wrk(url: str, key: str, script: str, seconds: int, connections: int) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", handle.name,
               "-H", f"X-API-Key: {key}", url]  # fmt: skip
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def parse_wrk(output: str) -> dict:
    requests = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))

    def latency(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", output).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": requests,
        "p50": latency("50"),
        "p99": latency("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


SINGLE = """
math.randomseed(os.time())
request = function()
  local n = math.random(1, %(goldens)d)
  return wrk.format("GET", "/api/v1/customer/xref/ERP/E" .. n)
end
"""

BATCH = """
math.randomseed(os.time())
request = function()
  local keys = {}
  for i = 1, %(batch)d do
    keys[i] = '{"system":"CRM","key":"C-' .. math.random(1, %(goldens)d) .. '"}'
  end
  local body = '{"keys":[' .. table.concat(keys, ",") .. ']}'
  -- wrk.format takes these headers instead of wrk.headers (the API key): copy them.
  local headers = {["Content-Type"] = "application/json"}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  return wrk.format("POST", "/api/v1/customer/xref/lookup", headers, body)
end
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", required=True, help="PostgreSQL server URL")
    parser.add_argument("--xrefs", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--batch", default="1000,10000", help="keys per batch lookup call (comma-separated)"
    )
    options = parser.parse_args()
    sizes = [int(size) for size in options.batch.split(",")]
    for tool in ("wrk", "pgbench"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed (apt-get install wrk postgresql-client)")

    import psycopg

    with psycopg.connect(options.postgres, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    url = re.sub(r"/[^/]*$", f"/{DATABASE}", options.postgres)
    env = dict(os.environ, DEBUG="false", SECRET_KEY="bench-only-secret-key", DATABASE_URL=url)
    env["DATABASE_CONN_MAX_AGE"] = "600"
    manage(env, "migrate", "-v0")
    started = time.perf_counter()
    load(url, options.xrefs)
    print(f"loaded {options.xrefs:,} xrefs in {time.perf_counter() - started:.1f} s")
    key = manage(env, "create_api_key", "ERP", "--role", "integration").strip()

    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "mdm.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", "-", "--log-level", "warning"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/api/v1/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        goldens = options.xrefs // 2
        check = urllib.request.Request(
            f"{base}/api/v1/customer/xref/ERP/E{random.randint(1, goldens)}",
            headers={"X-API-Key": key},
        )
        answer = json.load(urllib.request.urlopen(check, timeout=5))
        assert len(answer["xrefs"]) == 2, answer
        wrk(base, key, SINGLE % {"goldens": goldens}, 3, options.connections)  # warm-up
        single = parse_wrk(
            wrk(base, key, SINGLE % {"goldens": goldens}, options.seconds, options.connections)
        )
        batch_runs = {
            size: parse_wrk(
                wrk(base, key, BATCH % {"goldens": goldens, "batch": size}, options.seconds, 4)
            )
            for size in sizes
        }
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()

    match = re.match(r"postgres(?:ql)?://([^@]+)@([^:/]+):(\d+)/", options.postgres)
    user, host, port_pg = match.groups()
    subprocess.run(
        ["pgbench", "-i", "-q", "-s", "10", "-h", host, "-p", port_pg, "-U", user, DATABASE],
        check=True, capture_output=True,
    )  # fmt: skip
    pgbench = subprocess.run(
        ["pgbench", "-S", "-n", "-T", str(options.seconds), "-c", str(options.connections),
         "-j", "2", "-h", host, "-p", port_pg, "-U", user, DATABASE],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    tps = float(re.search(r"tps = ([\d.]+)", pgbench).group(1))

    out = io.StringIO()
    print(f"machine: {os.cpu_count()} cores; gunicorn 2 workers; wrk 2 threads", file=out)
    print(
        f"single lookup: {single['rps']:,.0f} requests/s, p50 {single['p50']:.2f} ms, "
        f"p99 {single['p99']:.2f} ms ({options.connections} connections, "
        f"non-2xx {single['non_2xx']})",
        file=out,
    )
    for size, batch_run in batch_runs.items():
        print(
            f"batch lookup: {batch_run['rps'] * size:,.0f} keys/s "
            f"({batch_run['rps']:,.1f} calls/s of {size:,} keys, 4 connections, p50 "
            f"{batch_run['p50']:.1f} ms, p99 {batch_run['p99']:.1f} ms, "
            f"non-2xx {batch_run['non_2xx']})",
            file=out,
        )
    print(
        f"pgbench -S: {tps:,.0f} transactions/s; single lookups are "
        f"{single['rps'] / tps:.1%} of raw PostgreSQL reads",
        file=out,
    )
    print(out.getvalue(), end="")


if __name__ == "__main__":
    main()
