"""Reading import files (CSV, JSON Lines) and writing their errors files.

A file is read twice: :meth:`RowReader.count` checks what would make the whole file
unusable (binary content, undecodable bytes, a header without the key column or with
unknown columns, broken quoting), so that such a file is refused before anything is
written; :meth:`RowReader.rows` then streams it as :class:`SourceRow` values.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..domains import Domain

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
