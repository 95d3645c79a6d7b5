"""Crash safety of queued imports on PostgreSQL, Redis and a real Celery worker.

A Celery worker is SIGKILLed in the middle of a large import and started again; the
job must end with every row imported exactly once and the same partition of
cross-references into golden records as an uninterrupted run. Everything runs as
separate processes against two fresh databases (one for the uninterrupted run). Run
by .ci/run; the number of rows is ``MDM_RELIABILITY_ROWS`` (default 100,000).
"""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from .generated import customer_file

ROOT = Path(__file__).resolve().parent.parent
ROWS = int(os.environ.get("MDM_RELIABILITY_ROWS", "100000"))

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("MDM_CELERY_WORKER") or not os.environ.get("CELERY_BROKER_URL"),
        reason="needs Redis and Celery (MDM_CELERY_WORKER=1, CELERY_BROKER_URL); run by .ci/run",
    ),
]


def _server_url() -> str:
    settings = connection.settings_dict
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    return (
        f"postgres://{settings['USER']}{password}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}"
    )


def _recreate(name: str) -> str:
    import psycopg

    with psycopg.connect(f"{_server_url()}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{_server_url()}/{name}"


def _drop(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{_server_url()}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(database_url: str, queue: str) -> dict:
    env = dict(os.environ, DEBUG="true", DATABASE_URL=database_url, MDM_IMPORT_QUEUE=queue)
    env["DATABASE_CONN_MAX_AGE"] = "0"
    return env


def _manage(env: dict, *args: str) -> str:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip


def _start_worker(env: dict, queue: str, log: Path, pool: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "mdm", "worker", "--pool", pool,
         "--concurrency", "1", "-Q", queue, "-n", f"{queue}@%h", "--loglevel", "INFO",
         "--logfile", str(log)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip


def _query(url: str, sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(url) as db:
        return db.execute(sql).fetchall()


def _job(url: str) -> tuple[str, int, int]:
    found = _query(url, "SELECT status, rows_done, rows_total FROM golden_importjob")
    return found[0] if found else ("none", 0, 0)


def _partition(url: str) -> set[frozenset]:
    groups: dict[int, set] = {}
    for golden, key in _query(
        url, "SELECT golden_record_id, source_key FROM golden_sourcerecord WHERE NOT retired"
    ):
        groups.setdefault(golden, set()).add(key)
    return {frozenset(keys) for keys in groups.values()}


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_worker_killed_mid_import_resumes_with_every_row_exactly_once(tmp_path):
    source = tmp_path / "customers.csv"
    customer_file(source, rows=str(ROWS), seed=5, duplicate_rate=0.2)
    tag = uuid.uuid4().hex[:8]
    queue = f"mdm-import-test-{tag}"
    reference_name, crashed_name = f"mdm_ref_{tag}", f"mdm_crash_{tag}"
    reference_url, crashed_url = _recreate(reference_name), _recreate(crashed_name)
    command = ["import_records", str(source), "--domain", "customer", "--system", "ERP",
               "--create-system", "--batch-size", "2000"]  # fmt: skip
    workers: list[subprocess.Popen] = []
    try:
        reference, crashed = _env(reference_url, queue), _env(crashed_url, queue)
        _manage(reference, "migrate", "-v0")
        _manage(crashed, "migrate", "-v0")
        _manage(reference, *command)

        # The first worker as `make worker` starts one (the task in the worker process, its
        # validation helper beside it), the second a prefork pool (validation in-process).
        workers.append(_start_worker(crashed, queue, tmp_path / "worker-1.log", "solo"))
        queued = _manage(crashed, *command, "--background")
        assert re.search(r"Queued import #\d+", queued), queued
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            status, done, total = _job(crashed_url)
            if status == "running" and total and done >= total // 3:
                break
            assert status not in {"failed", "completed"}, (status, done)
            time.sleep(0.2)
        os.killpg(workers[0].pid, signal.SIGKILL)  # the worker and its pool processes
        workers[0].wait()
        status, done, total = _job(crashed_url)
        assert status == "running"
        assert 0 < done < total == ROWS

        workers.append(_start_worker(crashed, queue, tmp_path / "worker-2.log", "prefork"))
        while time.monotonic() < deadline:
            status, done, total = _job(crashed_url)
            if status in {"completed", "failed"}:
                break
            time.sleep(0.5)
        assert status == "completed", (tmp_path / "worker-2.log").read_text()[-3000:]

        attempts = _query(crashed_url, "SELECT attempts, rows_done FROM golden_importjob")[0]
        assert attempts == (2, ROWS)
        assert _partition(crashed_url) == _partition(reference_url)
        for sql in (
            "SELECT count(*) FROM golden_sourcerecord",
            "SELECT count(DISTINCT source_key) FROM golden_sourcerecord",
            "SELECT count(*) FROM golden_goldenrecord",
            "SELECT count(*) FROM golden_changeevent WHERE event_type = 'xref.added'",
            "SELECT count(*) FROM golden_changeevent",
            "SELECT count(*) FROM golden_journalentry",
            "SELECT count(*) FROM matching_reviewitem",
        ):
            assert _query(crashed_url, sql) == _query(reference_url, sql), sql
    finally:
        for worker in workers:
            _stop(worker)
        _drop(reference_name)
        _drop(crashed_name)
