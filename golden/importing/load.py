"""Loading a file into master data: batches read and validated (in a helper process for
large files) and written through :func:`golden.services.upsert_source_records`.

Memory stays flat: rows are never collected beyond a few batches. To report keys
that occur twice, a first pass over the file keeps 8 bytes per row (a hash of its
key) and finds the hashes that occur more than once; only keys with such a hash are
then remembered, with the row they were last seen on.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import multiprocessing
import os
import pickle
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import reset_queries, transaction
from django.utils import timezone

from matching import services as matching

from ..bulk import BackgroundCheckpoints
from ..domains import Domain
from ..models import ImportJob, SourceSystem
from ..services import Outcome, SourceInput, upsert_source_records
from ..services.upsert import PreparedBatch, prepare_source_inputs
from .files import ErrorWriter, RowReader, SourceRow, detect_format

#: About how many blocking codes a row brings (customers about 8), to size the
#: load's filter of codes on file (see :func:`matching.services.bulk_load`).
CODES_PER_ROW = 12

#: What happened to the rows, as the summary line lists it.
ROW_OUTCOMES = (
    "read",
    "created",
    "updated",
    "unchanged",
    "attached",
    "queued_for_review",
    "rejected",
)
#: Every count of an import (kept by its job, so a resumed job goes on counting).
COUNTED = (*ROW_OUTCOMES, "duplicate_keys", "with_quality_issues")


@dataclass
class ImportSummary:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    attached: int = 0
    queued_for_review: int = 0  # records with doubtful candidates put in the review queue
    rejected: int = 0
    duplicate_keys: int = 0
    with_quality_issues: int = 0
    seconds: float = 0.0
    dry_run: bool = False
    errors_file: str = ""
    failed_rows: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def restore(self, counts: dict[str, Any]) -> None:
        """Start from the counts of batches committed by an earlier run."""
        for name in COUNTED:
            setattr(self, name, int(counts.get(name, 0)))

    def as_dict(self) -> dict[str, Any]:
        counts: dict[str, Any] = {name: getattr(self, name) for name in COUNTED}
        return counts | {"seconds": round(self.seconds, 3), "dry_run": self.dry_run}


class _DryRunRollback(Exception):
    pass


def run_import(
    path: str | os.PathLike,
    *,
    domain: Domain,
    system: SourceSystem,
    file_format: str | None = None,
    key_column: str = "source_key",
    delimiter: str = "auto",
    encoding: str = "auto",
    sheet: str | None = None,
    dry_run: bool = False,
    errors_out: str | os.PathLike | None = None,
    acting_user=None,
    progress: Callable[[int], None] | None = None,
    batch_size: int | None = None,
    job: ImportJob | None = None,
    mapping=None,
) -> ImportSummary:
    """Import one file; see the module docstring. Raises ImportFileError for the file.

    With ``job``, each batch commits together with the job's progress marker, and a
    job that already committed batches resumes after them: the skipped batches are
    read again only to write their rejected rows to the errors file (which is written
    anew), so the result equals that of an uninterrupted run.
    """
    path = Path(path)
    reader = RowReader(
        path,
        domain=domain,
        file_format=detect_format(path, file_format),
        key_column=key_column,
        delimiter=delimiter,
        encoding=encoding,
        sheet=sheet,
        mapping=mapping,
    )
    total, repeated = _first_pass(reader)  # refuses a broken file before any write
    summary = ImportSummary(dry_run=dry_run, read=0)
    started = time.perf_counter()
    writer = ErrorWriter(errors_out, reader) if errors_out else None
    size = batch_size or settings.MDM_IMPORT_BATCH_SIZE
    label = f"import:{path.name}" if job is None else f"import#{job.pk}:{path.name}"
    if job is not None:
        job.rows_total = total
        job.save(update_fields=["rows_total"])
        if not dry_run:
            summary.restore(job.counts if job.batches_done else {})
    load = _Load(
        reader, domain, system, size, repeated, summary, writer, acting_user, label, progress, total
    )
    try:
        if dry_run:
            try:
                with transaction.atomic():
                    load.run(None)
                    raise _DryRunRollback
            except _DryRunRollback:
                pass
        else:
            load.run(job)
    finally:
        if writer is not None:
            writer.close()
    summary.seconds = time.perf_counter() - started
    if writer is not None:
        summary.errors_file = str(errors_out)
    assert summary.read == total
    return summary


def _first_pass(reader: RowReader) -> tuple[int, frozenset[int]]:
    """Read the whole file once, before anything is written: a file that cannot be
    read raises ImportFileError here. Returns the number of rows and the hashes of
    the source keys that occur more than once (true repeats, and keys that merely
    share a hash with another, or with a row turned away: :func:`_reports` compares
    the keys themselves).

    The hashes are Python's own, so the set holds in this process and in the helper
    processes forked from it, not across runs."""
    hashes = array("q")
    total = 0
    for key in reader.row_keys():
        total += 1
        if key:
            hashes.append(hash(key))
    ordered = np.sort(np.frombuffer(hashes, dtype=np.int64))
    del hashes
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    return total, frozenset(np.unique(repeated).tolist())


@dataclass
class _Report:
    """One batch read and validated, ready to be written."""

    prepared: PreparedBatch
    #: Rows that validation rejected, by their index in the batch (for the errors file).
    rejected_rows: dict[int, SourceRow]
    #: Rows the reader turned away, and rows superseded by a later row with the same
    #: key, in file order: (row, column, value, reason, counts as rejected).
    notes: list[tuple[SourceRow, str, str, str, bool]]
    read: int
    duplicates: int


#: Rows in the first batch of a load; each batch after it is half as large again,
#: up to the batch size. The writer then starts as soon as a small batch is
#: validated instead of waiting for a whole one, and the helper stays ahead of it.
FIRST_BATCH = 500
BATCH_GROWTH = 1.5


def batch_sizes(size: int) -> Iterator[int]:
    """The number of keys in each batch of a load with batches of ``size``: the same
    in every run over a file, so a resumed job skips exactly the batches committed
    before."""
    current = float(min(size, FIRST_BATCH))
    while True:
        yield int(current)
        current = min(float(size), current * BATCH_GROWTH)


def _reports(
    reader: RowReader,
    domain_name: str,
    size: int,
    repeated: frozenset[int],
    *,
    part: int = 0,
    parts: int = 1,
) -> Iterator[_Report]:
    """Read the file into batches of up to ``size`` keys (:func:`batch_sizes`) and
    validate each batch.

    Pure Python without database access, so it can run in a helper process. A key
    seen again supersedes its earlier row (the last occurrence wins); ``repeated``
    (from :func:`_first_pass`) holds the hashes of all keys that may occur again, so
    only those are remembered. With ``parts`` helpers, each reads the whole file (to
    form the same batches and see every repeated key) but validates and yields only
    batches ``part, part + parts, ...``.
    """
    index = -1
    seen: dict[str, int] = {}  # key → row it was last seen on, for repeated keys only
    batch: dict[str, SourceRow] = {}
    notes: list[tuple[SourceRow, str, str, str, bool]] = []
    counts = {"read": 0, "duplicates": 0}
    sizes = batch_sizes(size)
    limit = next(sizes)

    def ours() -> bool:
        nonlocal index
        index += 1
        if index % parts == part:
            return True
        batch.clear()
        notes.clear()
        counts.update(read=0, duplicates=0)
        return False

    def report() -> _Report:
        rows = list(batch.values())
        prepared = prepare_source_inputs(
            domain_name, [SourceInput(row.key, row.payload) for row in rows]
        )
        rejected = {
            index: rows[index]
            for index, result in enumerate(prepared.results)
            if result is not None
        }
        done = _Report(prepared, rejected, list(notes), counts["read"], counts["duplicates"])
        batch.clear()
        notes.clear()
        counts.update(read=0, duplicates=0)
        return done

    for row in reader.rows():
        counts["read"] += 1
        if row.problem is not None:
            notes.append((row, *row.problem, True))
            continue
        if not row.key:
            notes.append((row, reader.key_column, "", "missing source key", True))
            continue
        earlier = None
        if hash(row.key) in repeated:
            earlier = seen.get(row.key)
            seen[row.key] = row.number
        if earlier is not None:
            counts["duplicates"] += 1
            superseded = batch.pop(row.key, None) or SourceRow(earlier, row.key, {}, {})
            reason = (
                f"duplicate key: '{row.key}' also on row {row.number}; the last occurrence wins"
            )
            notes.append((superseded, reader.key_column, row.key, reason, False))
        batch[row.key] = row
        if len(batch) >= limit:
            limit = next(sizes)
            if ours():
                yield report()
    if (batch or notes or counts["read"]) and ours():
        yield report()


@dataclass
class _Load:
    """Writes the batches of :func:`_reports`, read and validated in a helper process
    while the previous batch is written (one core each), and records the outcomes."""

    reader: RowReader
    domain: Domain
    system: SourceSystem
    size: int
    repeated: frozenset[int]  # see _first_pass
    summary: ImportSummary
    writer: ErrorWriter | None
    acting_user: Any
    label: str
    progress: Callable[[int], None] | None
    rows: int = 0  # in the file

    def run(self, job: ImportJob | None) -> None:
        skip = job.batches_done if job is not None else 0
        with (
            _collector_tuned_for_bulk() as collector,
            BackgroundCheckpoints() as checkpoints,
            matching.bulk_load(expected_codes=self.rows * CODES_PER_ROW),
        ):
            reports = _report_stream(self.reader, self.domain.name, self.size, self.repeated)
            index = -1  # not enumerate(), whose result tuple would keep the last batch
            for report in reports:
                index += 1
                if index < skip:
                    self._rewrite_notes(report)  # committed before: errors file only
                elif job is None:
                    self._write(report)
                else:
                    with transaction.atomic():
                        self._write(report)
                        _mark_progress(job, self.summary, report.read)
                read = report.read
                del report  # the batch's objects go before the collector runs
                if self.progress is not None:
                    self.progress(read)
                reset_queries()  # DEBUG keeps every query otherwise
                checkpoints.between_transactions()
                collector.batch_done()

    def _reject(self, row: SourceRow, column: str, value: str, reason: str) -> None:
        self.summary.rejected += 1
        if self.writer is not None:
            self.writer.write(row, column, value, reason)
        else:
            self.summary.failed_rows.append({"row": row.number, "reason": reason})

    def _write(self, report: _Report) -> None:
        summary, writer = self.summary, self.writer
        summary.read += report.read
        summary.duplicate_keys += report.duplicates
        for row, column, value, reason, rejected in report.notes:
            if rejected:
                self._reject(row, column, value, reason)
            elif writer is not None:
                writer.write(row, column, value, reason)
        if not report.prepared.results:
            return
        results = upsert_source_records(
            system=self.system,
            domain=self.domain,
            records=[],
            acting_user=self.acting_user,
            actor_label=self.label,
            prepared=report.prepared,
        )
        for index, result in enumerate(results):
            if result.outcome == Outcome.REJECTED:
                row = report.rejected_rows[index]
                self._reject(row, result.attribute, result.value, result.reason)
                continue
            outcome = result.outcome.value
            setattr(summary, outcome, getattr(summary, outcome) + 1)
            if result.queued_for_review:
                summary.queued_for_review += 1
            if result.quality_issues and result.outcome != Outcome.UNCHANGED:
                summary.with_quality_issues += 1

    def _rewrite_notes(self, report: _Report) -> None:
        """The errors-file lines of a batch committed by an earlier run of the job (its
        counts are in the job already). Only validation rejects rows, so the prepared
        batch holds every rejection the write reported."""
        if self.writer is None:
            return
        for row, column, value, reason, _ in report.notes:
            self.writer.write(row, column, value, reason)
        for index, result in enumerate(report.prepared.results):
            if result is not None and result.outcome == Outcome.REJECTED:
                row = report.rejected_rows[index]
                self.writer.write(row, result.attribute, result.value, result.reason)


def _mark_progress(job: ImportJob, summary: ImportSummary, rows: int) -> None:
    """The job's progress marker, in the transaction of the batch it counts."""
    job.rows_done += rows
    job.batches_done += 1
    job.counts = summary.as_dict()
    job.heartbeat_at = timezone.now()
    job.save(update_fields=["rows_done", "batches_done", "counts", "heartbeat_at"])


#: A full collection (every generation) after this many batches; the young ones after
#: every batch.
FULL_COLLECTION_EVERY = 20


class _BatchCollector:
    """Python's cycle collector, run between batches instead of whenever enough
    objects were allocated (see :func:`_collector_tuned_for_bulk`)."""

    def __init__(self) -> None:
        self.batches = 0

    def batch_done(self) -> None:
        self.batches += 1
        gc.collect(2 if self.batches % FULL_COLLECTION_EVERY == 0 else 1)


@contextlib.contextmanager
def _collector_tuned_for_bulk():
    """A bulk load allocates millions of short-lived objects. Left to itself, Python's
    cycle collector runs every few ten thousand allocations, in the middle of a
    batch, and scans every object of the batch still in use each time: 7 % of the
    writing process's time at 100,000 rows. So it is switched off for the load and
    run between batches instead (:meth:`_BatchCollector.batch_done`), when the
    batch's objects are gone and only the few that outlive it are scanned. The
    long-lived objects from before the load (Django, the models, the domain
    declarations) are moved out of its way altogether. Memory stays flat: objects
    are freed by reference counting as they fall out of use, and anything caught in
    a reference cycle lives at most until the end of its batch."""
    enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield _BatchCollector()
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


def _report_stream(
    reader: RowReader, domain_name: str, size: int, repeated: frozenset[int]
) -> Iterator[_Report]:
    """:func:`_reports`, produced by helper processes when the file is large enough
    (``MDM_IMPORT_VALIDATION_WORKERS`` of them, each at most two batches ahead, so
    memory stays flat), otherwise in-process. Batches come back in file order."""
    context = _helper_context(reader)
    if context is None:
        yield from _reports(reader, domain_name, size, repeated)
        return
    parts = settings.MDM_IMPORT_VALIDATION_WORKERS
    queues = [context.Queue(maxsize=2) for _ in range(parts)]
    helpers = [
        context.Process(
            target=_produce,
            args=(queues[part], reader, domain_name, size, repeated, part, parts),
            daemon=True,
        )
        for part in range(parts)
    ]  # fmt: skip
    for helper in helpers:
        helper.start()
    try:
        for index in itertools.count():
            kind, item = queues[index % parts].get()
            if kind == "done":  # no batch ``index``, so none after it either
                break
            if kind == "error":
                raise item
            # Unpickled into the yield: this frame keeps only the bytes (which the
            # cycle collector never scans), not the batch's objects.
            yield pickle.loads(item)
    finally:
        for helper in helpers:
            if helper.is_alive():
                helper.terminate()
            helper.join()


def _helper_context(reader: RowReader):
    """The multiprocessing context for a helper process, or None to stay in-process."""
    if settings.MDM_IMPORT_VALIDATION_WORKERS <= 0:
        return None
    if reader.path.stat().st_size < settings.MDM_IMPORT_PARALLEL_MIN_BYTES:
        return None
    if multiprocessing.current_process().daemon:
        # A pool process (a Celery prefork worker) may not start processes of its own;
        # workers started with ``--pool solo`` (``make worker``) can.
        return None
    try:
        return multiprocessing.get_context("fork")
    except ValueError:  # no fork on this platform
        return None


def _produce(
    queue, reader: RowReader, domain_name: str, size: int, repeated, part: int, parts: int
):
    # In a helper process: no database access happens here.
    try:
        with _collector_tuned_for_bulk() as collector:
            for report in _reports(reader, domain_name, size, repeated, part=part, parts=parts):
                # Pickled here rather than by the queue's feeder thread, so the batch
                # is gone before the collector runs.
                queue.put(("report", pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL)))
                del report
                collector.batch_done()
        queue.put(("done", None))
    except Exception as error:  # handed to the writer, which raises it
        queue.put(("error", error))
