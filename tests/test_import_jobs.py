"""Import jobs: persisted progress, resumption after a crash, previews, queued runs."""

import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from golden.importing import jobs as import_jobs
from golden.models import ChangeEvent, GoldenRecord, ImportJob, SourceRecord, SourceSystem
from golden.services import upsert as upsert_module

from .generated import customer_file

ROOT = Path(__file__).resolve().parent.parent
HEADER = "source_key,kind,first_name,last_name,email,country\n"


def rows(count, start=0):
    return "".join(
        f"K{i:05d},person,Name{i},Family{i},person{i}@example.test,DE\n"
        for i in range(start, start + count)
    )


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def people(tmp_path):
    path = tmp_path / "people.csv"
    later = "K00003,person,Changed,Name,,DE\n"  # a key seen again: the last row wins
    path.write_text(HEADER + rows(50) + later + "K09999,person,,,,DE\n" + ",person,No,Key,,DE\n")
    return path


def import_people(path, *options):
    return run(
        "import_records", str(path), "--domain", "customer", "--system", "ERP",
        "--create-system", "--batch-size", "10", *options,
    )  # fmt: skip


def test_every_import_is_a_job_with_its_counts_and_checksum(db, people):
    output = import_people(people)

    job = ImportJob.objects.get()
    assert f"Import #{job.pk}: completed" in output
    assert job.status == ImportJob.Status.COMPLETED
    assert (job.system.code, job.domain, job.file_name) == ("ERP", "customer", "people.csv")
    assert job.checksum == import_jobs.file_checksum(people)[0]
    assert job.file_size == people.stat().st_size
    assert (job.rows_total, job.rows_done, job.batches_done) == (53, 53, 6)
    assert job.counts["read"] == 53
    assert job.counts["created"] == 50
    assert job.counts["updated"] == 1
    assert job.counts["rejected"] == 2  # the row without a key and the row without a name
    assert job.counts["duplicate_keys"] == 1
    assert job.attempts == 1
    assert job.errors_file.endswith("people.errors.csv")
    assert job.finished_at is not None


def test_batches_start_small_and_grow_to_the_batch_size():
    from itertools import islice

    from golden.importing.load import batch_sizes

    assert list(islice(batch_sizes(5000), 9)) == [500, 750, 1125, 1687, 2531, 3796] + [5000] * 3
    assert list(islice(batch_sizes(200), 3)) == [200, 200, 200]  # small batches: no ramp


def fail_batch(monkeypatch, number, message):
    """Make the ``number``-th batch of the next import fail with ``message``; returns
    a function that puts the real writer back."""
    real = upsert_module.upsert_source_records
    calls = {"n": 0}

    def failing(**kwargs):
        calls["n"] += 1
        if calls["n"] == number:
            raise RuntimeError(message)
        return real(**kwargs)

    target = "golden.importing.load.upsert_source_records"
    monkeypatch.setattr(target, failing)
    return lambda: monkeypatch.setattr(target, real)


def test_a_job_with_growing_batches_resumes_after_the_batches_it_committed(db, people, monkeypatch):
    monkeypatch.setattr("golden.importing.load.FIRST_BATCH", 3)  # keys: 3, 4, 6, 9, 10, ...
    restore = fail_batch(monkeypatch, 4, "killed")
    with pytest.raises(RuntimeError):
        import_people(people)
    job = ImportJob.objects.get()
    assert (job.batches_done, job.rows_done) == (3, 13)
    assert SourceRecord.objects.count() == 13

    restore()
    import_people(people)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.COMPLETED
    assert (job.counts["created"], job.counts["updated"], job.counts["unchanged"]) == (50, 1, 0)
    assert job.counts["read"] == 53
    assert SourceRecord.objects.count() == 50
    assert ChangeEvent.objects.filter(event_type="xref.added").count() == 50


def test_a_failed_batch_leaves_the_committed_ones_and_the_job_resumes_after_them(
    db, people, monkeypatch
):
    restore = fail_batch(monkeypatch, 3, "database went away")
    with pytest.raises(RuntimeError):
        import_people(people)

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    assert job.error == "RuntimeError: database went away"
    assert (job.batches_done, job.rows_done) == (2, 20)
    assert SourceRecord.objects.count() == 20

    restore()
    output = import_people(people)

    assert f"Resuming interrupted import #{job.pk} of the same file after row 20" in output
    assert ImportJob.objects.count() == 1
    job.refresh_from_db()
    assert job.status == ImportJob.Status.COMPLETED
    assert job.attempts == 2
    assert job.counts["created"] == 50
    assert job.counts["unchanged"] == 0  # the committed batches were not written again
    assert job.counts["read"] == 53
    assert SourceRecord.objects.count() == 50
    assert ChangeEvent.objects.filter(event_type="xref.added").count() == 50
    errors = (people.parent / "people.errors.csv").read_text()
    assert errors.count("\n") == 1 + 3  # header, two rejected rows, one superseded row


def test_restart_starts_a_new_job_and_a_changed_file_cannot_resume(db, people, monkeypatch):
    monkeypatch.setattr(
        "golden.importing.load.upsert_source_records",
        lambda **kwargs: (_ for _ in ()).throw(RuntimeError("boom")),
    )
    with pytest.raises(RuntimeError):
        import_people(people)
    failed = ImportJob.objects.get()
    monkeypatch.undo()

    people.write_text(people.read_text() + rows(1, start=900))
    with pytest.raises(CommandError, match="has changed or is gone since the job started"):
        run("import_records", "--resume", str(failed.pk))

    import_people(people, "--restart")
    assert ImportJob.objects.count() == 2
    assert SourceRecord.objects.count() == 51


def test_a_job_running_in_a_live_process_is_not_run_twice(db, people):
    job = import_jobs.create_job(
        people, domain="customer", system=SourceSystem.objects.create(code="ERP", name="ERP"),
        options={"file_format": "csv"},
    )  # fmt: skip
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, owner=f"{os.uname().nodename}:{os.getppid()}"
    )

    with pytest.raises(CommandError, match=rf"import #{job.pk} is running in process"):
        run("import_records", "--resume", str(job.pk))
    assert SourceRecord.objects.count() == 0


def test_a_dry_run_is_a_preview_job_and_writes_no_master_data(db, people):
    SourceSystem.objects.create(code="ERP", name="ERP")

    output = run(
        "import_records", str(people), "--domain", "customer", "--system", "ERP", "--dry-run"
    )

    assert output.startswith("Dry run (nothing written): 53 read, 50 created")
    job = ImportJob.objects.get()
    assert job.dry_run and job.status == ImportJob.Status.COMPLETED
    assert job.counts["created"] == 50
    assert (SourceRecord.objects.count(), GoldenRecord.objects.count()) == (0, 0)


def test_background_without_a_broker_runs_in_process_and_import_jobs_shows_it(
    db, people, celery_in_process
):
    output = import_people(people, "--background")

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.COMPLETED
    assert "50 created" in output
    listing = run("import_jobs")
    assert f"#{job.pk:<5} completed" in listing
    assert "53/53" in listing
    detail = run("import_jobs", str(job.pk))
    assert "progress: 53 of 53 rows (100.0%), 6 batches of 10" in detail
    assert "created 50" in detail


def test_a_starting_worker_resumes_queued_jobs_whose_worker_died(db, people, celery_in_process):
    system = SourceSystem.objects.create(code="ERP", name="ERP")
    job = import_jobs.create_job(
        people, domain="customer", system=system, options={"file_format": "csv", "queue": "celery"}
    )
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, owner=f"{os.uname().nodename}:{dead.pid}"
    )

    assert import_jobs.resume_orphaned_jobs() == [job.pk]

    job.refresh_from_db()
    assert job.status == ImportJob.Status.COMPLETED
    assert SourceRecord.objects.count() == 50


# A real crash: the command killed with SIGKILL mid-import, then run again. --------------


def _manage(env, *args, **kwargs):
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True, **kwargs,
    )  # fmt: skip


def _fresh_env(directory: Path) -> dict:
    directory.mkdir()
    env = dict(os.environ, DEBUG="true", MDM_VAR_DIR=str(directory))
    env.pop("DATABASE_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    _manage(env, "migrate", "-v0")
    return env


def _partition(database: Path) -> set[frozenset]:
    with sqlite3.connect(database) as connection:
        found = connection.execute(
            "SELECT golden_record_id, source_key FROM golden_sourcerecord WHERE NOT retired"
        ).fetchall()
    groups: dict[int, set] = {}
    for golden, key in found:
        groups.setdefault(golden, set()).add(key)
    return {frozenset(keys) for keys in groups.values()}


def _count(database: Path, sql: str) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchone()[0]


def test_sigkill_mid_import_then_import_again_loses_and_doubles_nothing(tmp_path):
    source = tmp_path / "customers.csv"
    customer_file(source, rows=6000, seed=11, duplicate_rate=0.2)
    with source.open("a") as handle:  # rejected rows late in the file, and a duplicate key
        handle.write("X1,person" + "," * 14 + "DE\n" + ",person,Ann,Bell" + "," * 12 + "DE\n")
        handle.write("C00000002,person,Ann,,Bell" + "," * 11 + "DE\n")
    command = ["import_records", str(source), "--domain", "customer", "--system", "ERP",
               "--create-system", "--batch-size", "250"]  # fmt: skip

    reference = _fresh_env(tmp_path / "reference")
    _manage(reference, *command, "--errors-out", str(tmp_path / "reference.errors.csv"))
    command += ["--errors-out", str(tmp_path / "crashed.errors.csv")]

    crashed = _fresh_env(tmp_path / "crashed")
    database = tmp_path / "crashed" / "mdm.sqlite3"
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), *command],
        env=crashed, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and process.poll() is None:
        try:
            done = _count(database, "SELECT coalesce(max(batches_done), 0) FROM golden_importjob")
        except sqlite3.OperationalError:
            done = 0
        if done >= 6:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the import ended before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)  # the command and its validation helper
    process.wait()
    status, rows_done = (
        sqlite3.connect(database)
        .execute("SELECT status, rows_done FROM golden_importjob")
        .fetchone()
    )
    assert status == "running"
    assert 0 < rows_done < 6000

    output = _manage(crashed, *command).stdout

    assert "Resuming interrupted import" in output
    reference_db = tmp_path / "reference" / "mdm.sqlite3"
    assert _partition(database) == _partition(reference_db)
    for sql in (
        "SELECT count(*) FROM golden_sourcerecord",
        "SELECT count(*) FROM golden_goldenrecord",
        "SELECT count(*) FROM golden_changeevent WHERE event_type = 'xref.added'",
        "SELECT count(*) FROM golden_changeevent",
        "SELECT count(*) FROM golden_journalentry",
        "SELECT count(*) FROM matching_reviewitem",
    ):
        assert _count(database, sql) == _count(reference_db, sql), sql
    assert _count(database, "SELECT status FROM golden_importjob") == "completed"
    assert (tmp_path / "crashed.errors.csv").read_text() == (
        tmp_path / "reference.errors.csv"
    ).read_text()


def test_only_keys_whose_hash_repeats_are_remembered_and_shared_hashes_are_not_duplicates(
    tmp_path,
):
    from golden.domains import get_domain
    from golden.importing.files import RowReader
    from golden.importing.load import _first_pass, _reports

    path = tmp_path / "repeats.csv"
    rows = ["source_key,organization_name,country", "A,Firm A,DE", "B,Firm B,DE", ",No key,DE"]
    rows += ["C,Firm C,DE", "A,Firm A again,DE", "D,Firm D,DE", "A,Firm A last,DE"]
    path.write_text("\n".join(rows) + "\n")
    reader = RowReader(path, domain=get_domain("customer"), file_format="csv")

    total, repeated = _first_pass(reader)

    assert list(reader.row_keys()) == [row.key for row in reader.rows()]
    assert total == 7
    assert repeated == {hash("A")}

    def outcome(repeated_hashes):
        reports = list(_reports(reader, "customer", 2, repeated_hashes))
        notes = [(row.number, reason) for r in reports for row, _, _, reason, _ in r.notes]
        kept = [row.key for r in reports for row in r.prepared.rows.values()]
        return notes, kept, sum(r.duplicates for r in reports)

    exact = outcome(repeated)
    # Keys that merely share a hash with another key (here: every key) are compared
    # as text, so nothing else is reported or dropped.
    assert outcome(frozenset(hash(key) for key in "ABCD")) == exact
    notes, kept, duplicates = exact
    assert duplicates == 2
    assert [number for number, _ in notes] == [4, 2, 6]  # the missing key, then A twice
    assert "also on row 6" in notes[1][1] and "also on row 8" in notes[2][1]
    # Batches of two: a batch already handed on is not taken back, the later row
    # updates what it wrote.
    assert kept == ["A", "B", "C", "A", "D", "A"]


def test_row_keys_follow_the_rows_of_sheets_mapped_files_and_json_lines(tmp_path):
    from openpyxl import Workbook

    from golden.domains import get_domain
    from golden.importing.files import RowReader
    from golden.importing.mapping import MappingSpec

    domain = get_domain("customer")
    book = Workbook()
    sheet = book.active
    sheet.append(["source_key", "organization_name", "country"])
    sheet.append(["S1", "Firm", "DE"])
    sheet.append([None, None, None])  # blank: not a row
    sheet.append(["'=S2", "Firm 2", "DE", "stray"])  # a value without a header
    sheet.append(["S3 ", "Firm 3", "DE"])
    book.save(tmp_path / "sheet.xlsx")
    (tmp_path / "rows.jsonl").write_text(
        '{"source_key": "J1", "organization_name": "A"}\nnot json\n{"source_key": 7}\n'
    )
    (tmp_path / "mapped.csv").write_text("code,firm\nM1,A\n,B\nM1,C\n")
    mapping = MappingSpec.from_json(
        {"key": "code", "attributes": {"organization_name": "firm"}}, domain
    )
    readers = [
        RowReader(tmp_path / "sheet.xlsx", domain=domain, file_format="xlsx"),
        RowReader(tmp_path / "rows.jsonl", domain=domain, file_format="jsonl"),
        RowReader(tmp_path / "mapped.csv", domain=domain, file_format="csv", mapping=mapping),
    ]
    for reader in readers:
        rows = list(reader.rows())
        keys = list(reader.row_keys())
        assert len(keys) == len(rows) == reader.count()
        assert [key for key, row in zip(keys, rows, strict=True) if not row.problem] == [
            row.key for row in rows if not row.problem
        ]
    assert list(readers[0].row_keys()) == ["S1", "=S2", "S3"]
