"""Streaming import of source records from CSV or JSON Lines files.

A file is read twice: a first pass checks what would make the whole file unusable
(binary content, undecodable bytes, a header without the key column or with unknown
columns, broken quoting), so that such a file is refused before anything is written;
the second pass feeds batches to :func:`golden.services.upsert_source_records`.
Memory stays flat: rows are never collected beyond one batch (plus one small entry
per key, to report keys that occur twice).
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import reset_queries, transaction

from .domains import Domain
from .models import SourceSystem
from .services import Outcome, SourceInput, upsert_source_records
from .services.upsert import PreparedBatch, prepare_source_inputs

#: Columns of an errors file; an errors file can be fixed and imported as it is,
#: because the importer ignores these columns.
REPORT_COLUMNS = ("row_number", "error_column", "error_value", "error_reason")
MAX_FIELD_SIZE = 1_000_000
SNIFF_BYTES = 8192


class ImportFileError(Exception):
    """The file cannot be imported at all; the message is one line and names the cause."""


@dataclass
class SourceRow:
    number: int  # 1-based line or row number as a person sees it in the file
    key: str
    payload: dict[str, Any]
    original: dict[str, Any] | list[str]
    problem: tuple[str, str, str] | None = None  # column, value, reason


@dataclass
class ImportSummary:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    attached: int = 0
    rejected: int = 0
    duplicate_keys: int = 0
    with_quality_issues: int = 0
    seconds: float = 0.0
    dry_run: bool = False
    errors_file: str = ""
    failed_rows: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "attached": self.attached,
            "rejected": self.rejected,
            "duplicate_keys": self.duplicate_keys,
            "with_quality_issues": self.with_quality_issues,
            "seconds": round(self.seconds, 3),
            "dry_run": self.dry_run,
        }


class _DryRunRollback(Exception):
    pass


def detect_format(path: Path, given: str | None) -> str:
    if given:
        return given
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    return "csv"


class RowReader:
    """Reads one file as :class:`SourceRow` values; raises ImportFileError for the file."""

    def __init__(
        self,
        path: Path,
        *,
        domain: Domain,
        file_format: str,
        key_column: str = "source_key",
        delimiter: str = ",",
        encoding: str = "utf-8",
    ) -> None:
        self.path = path
        self.domain = domain
        self.file_format = file_format
        self.key_column = key_column
        self.delimiter = delimiter
        self.encoding = encoding
        self.header: list[str] = []
        if file_format not in {"csv", "jsonl"}:
            raise ImportFileError(f"unknown format '{file_format}' (use csv or jsonl)")
        if len(delimiter) != 1:
            raise ImportFileError(f"the delimiter must be one character, not {delimiter!r}")
        try:
            "".encode(encoding)
        except LookupError:
            raise ImportFileError(f"unknown encoding '{encoding}'") from None
        self._check_file()

    def _check_file(self) -> None:
        if not self.path.exists():
            raise ImportFileError(f"{self.path}: no such file")
        if not self.path.is_file():
            raise ImportFileError(f"{self.path}: not a regular file")
        with self.path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
        if not head.strip():
            raise ImportFileError(f"{self.path}: the file is empty")
        if b"\x00" in head and not self.encoding.lower().startswith("utf-16"):
            raise ImportFileError(
                f"{self.path}: looks like a binary file (NUL bytes), not {self.file_format.upper()}"
            )

    def count(self) -> int:
        """Read the whole file once, checking what would make it unusable; return the
        number of (non-blank) rows, as :meth:`rows` will yield them."""
        return sum(1 for _ in self._stream(check_only=True))

    def rows(self) -> Iterator[SourceRow]:
        return self._stream(check_only=False)

    def _stream(self, *, check_only: bool):
        encoding = (
            "utf-8-sig"
            if self.encoding.lower().replace("_", "-") in {"utf-8", "utf8"}
            else self.encoding
        )
        with self.path.open("r", encoding=encoding, errors="strict", newline="") as handle:
            try:
                if self.file_format == "csv":
                    yield from self._csv_rows(handle, check_only)
                elif check_only:
                    yield from (line for line in handle if line.strip())
                else:
                    yield from self._jsonl_rows(handle)
            except UnicodeDecodeError as error:
                raise ImportFileError(
                    f"{self.path}: cannot be decoded as {self.encoding} "
                    f"(byte {error.start} of a block: {error.reason}); "
                    "pass the right --encoding (e.g. latin-1, gb18030)"
                ) from None

    def _csv_rows(self, handle: io.TextIOBase, check_only: bool = False) -> Iterator[SourceRow]:
        csv.field_size_limit(MAX_FIELD_SIZE)
        reader = csv.reader(handle, delimiter=self.delimiter, strict=True)
        try:
            header = next(reader, None)
        except csv.Error as error:
            raise ImportFileError(f"{self.path}: header row: {error}") from None
        if header is None or not any(cell.strip() for cell in header):
            raise ImportFileError(f"{self.path}: the file is empty (no header row)")
        self.header = [cell.strip() for cell in header]
        columns = self._check_header(self.header)
        width = len(self.header)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise ImportFileError(f"{self.path}: line {reader.line_num}: {error}") from None
            number = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if check_only:
                yield cells
                continue
            if len(cells) != width:
                yield SourceRow(
                    number, "", {}, cells,
                    problem=("", f"{len(cells)} fields",
                             f"row has {len(cells)} fields, the header has {width}"),
                )  # fmt: skip
                continue
            key, payload = "", {}
            for name, cell in zip(columns, cells, strict=True):
                if name == "__key__":
                    key = cell.strip()
                elif name:
                    payload[name] = cell
            yield SourceRow(number, key, payload, cells)

    def _check_header(self, header: list[str]) -> list[str]:
        """Map header cells to attribute names ('__key__' for the key, '' to ignore)."""
        if len(set(header)) != len(header):
            repeated = sorted({name for name in header if header.count(name) > 1})
            raise ImportFileError(f"{self.path}: repeated column(s) {', '.join(repeated)}")
        key = self.key_column.strip().lower()
        columns: list[str] = []
        unknown: list[str] = []
        known = set(self.domain.attribute_names)
        for name in header:
            folded = name.lower()
            if folded == key:
                columns.append("__key__")
            elif folded in REPORT_COLUMNS:
                columns.append("")
            elif folded in known:
                columns.append(folded)
            else:
                unknown.append(name)
                columns.append("")
        if "__key__" not in columns:
            raise ImportFileError(
                f"{self.path}: missing key column '{self.key_column}' "
                f"(header: {_shorten(header)}); name it with --key-column"
            )
        if unknown:
            raise ImportFileError(
                f"{self.path}: {len(unknown)} unknown column(s) for {self.domain.name}: "
                f"{_shorten(unknown)} (known: {', '.join(self.domain.attribute_names)})"
            )
        return columns

    def _jsonl_rows(self, handle: io.TextIOBase) -> Iterator[SourceRow]:
        key = self.key_column
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as error:
                yield SourceRow(
                    number,
                    "",
                    {},
                    {"line": line.rstrip("\r\n")[:1000]},
                    problem=("", "", f"not valid JSON: {error.msg}"),
                )
                continue
            if not isinstance(data, dict):
                yield SourceRow(
                    number,
                    "",
                    {},
                    {"line": line.rstrip("\r\n")[:1000]},
                    problem=("", "", "a line must hold one JSON object"),
                )
                continue
            raw_key = data.get(key)
            payload = {
                name: value
                for name, value in data.items()
                if name != key and name not in REPORT_COLUMNS
            }
            yield SourceRow(number, "" if raw_key is None else str(raw_key).strip(), payload, data)


def run_import(
    path: str | os.PathLike,
    *,
    domain: Domain,
    system: SourceSystem,
    file_format: str | None = None,
    key_column: str = "source_key",
    delimiter: str = ",",
    encoding: str = "utf-8",
    dry_run: bool = False,
    errors_out: str | os.PathLike | None = None,
    acting_user=None,
    progress: Callable[[int], None] | None = None,
    batch_size: int | None = None,
) -> ImportSummary:
    """Import one file; see the module docstring. Raises ImportFileError for the file."""
    path = Path(path)
    reader = RowReader(
        path,
        domain=domain,
        file_format=detect_format(path, file_format),
        key_column=key_column,
        delimiter=delimiter,
        encoding=encoding,
    )
    total = reader.count()  # first pass: refuse a broken file before writing anything
    summary = ImportSummary(dry_run=dry_run, read=0)
    started = time.perf_counter()
    writer = ErrorWriter(errors_out, reader) if errors_out else None
    size = batch_size or settings.MDM_IMPORT_BATCH_SIZE
    label = f"import:{path.name}"
    try:
        if dry_run:
            try:
                with transaction.atomic():
                    _load(
                        reader, domain, system, size, summary, writer, acting_user, label, progress
                    )
                    raise _DryRunRollback
            except _DryRunRollback:
                pass
        else:
            _load(reader, domain, system, size, summary, writer, acting_user, label, progress)
    finally:
        if writer is not None:
            writer.close()
    summary.seconds = time.perf_counter() - started
    if writer is not None:
        summary.errors_file = str(errors_out)
    assert summary.read == total
    return summary


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


def _reports(reader: RowReader, domain_name: str, size: int) -> Iterator[_Report]:
    """Read the file into batches of up to ``size`` keys and validate each batch.

    Pure Python without database access, so it can run in a helper process. A key
    seen again supersedes its earlier row (the last occurrence wins).
    """
    seen: dict[str, int] = {}
    batch: dict[str, SourceRow] = {}
    notes: list[tuple[SourceRow, str, str, str, bool]] = []
    counts = {"read": 0, "duplicates": 0}

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
        if len(batch) >= size:
            yield report()
    if batch or notes or counts["read"]:
        yield report()


def _load(reader, domain, system, size, summary, writer, acting_user, label, progress) -> None:
    """Write the batches of :func:`_reports`, read and validated in a helper process
    while the previous batch is written (one core each), and record the outcomes."""

    def reject(row: SourceRow, column: str, value: str, reason: str) -> None:
        summary.rejected += 1
        if writer is not None:
            writer.write(row, column, value, reason)
        else:
            summary.failed_rows.append({"row": row.number, "reason": reason})

    with _collector_tuned_for_bulk():
        for report in _report_stream(reader, domain.name, size):
            _write_report(report, system, domain, summary, writer, acting_user, label, reject)
            if progress is not None:
                progress(report.read)
            reset_queries()  # DEBUG keeps every query otherwise


def _write_report(report, system, domain, summary, writer, acting_user, label, reject) -> None:
    summary.read += report.read
    summary.duplicate_keys += report.duplicates
    for row, column, value, reason, rejected in report.notes:
        if rejected:
            reject(row, column, value, reason)
        elif writer is not None:
            writer.write(row, column, value, reason)
    if not report.prepared.results:
        return
    results = upsert_source_records(
        system=system,
        domain=domain,
        records=[],
        acting_user=acting_user,
        actor_label=label,
        prepared=report.prepared,
    )
    for index, result in enumerate(results):
        if result.outcome == Outcome.REJECTED:
            row = report.rejected_rows[index]
            reject(row, result.attribute, result.value, result.reason)
            continue
        outcome = result.outcome.value
        setattr(summary, outcome, getattr(summary, outcome) + 1)
        if result.quality_issues and result.outcome != Outcome.UNCHANGED:
            summary.with_quality_issues += 1


@contextlib.contextmanager
def _collector_tuned_for_bulk():
    """A bulk load allocates millions of short-lived objects. With the default
    thresholds, Python's cycle collector keeps re-scanning every long-lived object
    (Django, the models, the domain declarations) and costs a sixth of the run. Move
    those out of its way and collect young objects less often; memory stays flat
    because the load's own objects are freed by reference counting."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _report_stream(reader: RowReader, domain_name: str, size: int) -> Iterator[_Report]:
    """:func:`_reports`, produced by a helper process when the file is large enough
    (at most two batches ahead, so memory stays flat), otherwise in-process."""
    context = _helper_context(reader)
    if context is None:
        yield from _reports(reader, domain_name, size)
        return
    queue = context.Queue(maxsize=2)
    helper = context.Process(target=_produce, args=(queue, reader, domain_name, size), daemon=True)
    helper.start()
    try:
        while True:
            kind, item = queue.get()
            if kind == "done":
                break
            if kind == "error":
                raise item
            yield item
    finally:
        if helper.is_alive():
            helper.terminate()
        helper.join()


def _helper_context(reader: RowReader):
    """The multiprocessing context for a helper process, or None to stay in-process."""
    if settings.MDM_IMPORT_VALIDATION_WORKERS <= 0:
        return None
    if reader.path.stat().st_size < settings.MDM_IMPORT_PARALLEL_MIN_BYTES:
        return None
    try:
        return multiprocessing.get_context("fork")
    except ValueError:  # no fork on this platform
        return None


def _produce(queue, reader: RowReader, domain_name: str, size: int) -> None:
    # In the helper process: no database access happens here.
    try:
        with _collector_tuned_for_bulk():
            for report in _reports(reader, domain_name, size):
                queue.put(("report", report))
        queue.put(("done", None))
    except Exception as error:  # handed to the writer, which raises it
        queue.put(("error", error))


class ErrorWriter:
    """Writes rejected rows with their row number, column, value and reason."""

    def __init__(self, path: str | os.PathLike, reader: RowReader) -> None:
        self.path = Path(path)
        self.reader = reader
        self.handle = None
        self._csv = None

    def _open(self) -> None:
        self.handle = self.path.open("w", encoding="utf-8", newline="")
        if self.reader.file_format == "csv":
            self._csv = csv.writer(self.handle)
            self._csv.writerow([*REPORT_COLUMNS, *self.reader.header])

    def write(self, row: SourceRow, column: str, value: str, reason: str) -> None:
        if self.handle is None:
            self._open()
        report = [row.number, column, value, reason]
        if self._csv is not None:
            original = row.original if isinstance(row.original, list) else []
            self._csv.writerow([*report, *original])
        else:
            original = row.original if isinstance(row.original, dict) else {}
            record = dict(zip(REPORT_COLUMNS, report, strict=True)) | original
            self.handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


def _shorten(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(repr(name[:40]) for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()
