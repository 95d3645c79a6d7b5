"""Reading import files (CSV, Excel .xlsx, JSON Lines) and writing their errors files.

A file is read twice: :meth:`RowReader.count` checks what would make the whole file
unusable (binary content, undecodable bytes, a header without the key column or with
unknown columns, broken quoting, a damaged workbook), so that such a file is refused
before anything is written; :meth:`RowReader.rows` then streams it as
:class:`SourceRow` values.

CSV files may use any one-character delimiter (by default the one that splits the
header row best among ``,`` ``;`` tab and ``|``) and any encoding (by default
detected: a byte-order mark, else UTF-8 when the start of the file is valid UTF-8,
else charset-normalizer's best guess, GB2312 and GBK read as their superset
GB18030). Quoted fields may hold delimiters and line breaks; CRLF and LF both end
rows.

A cell the service itself escaped against formula evaluation (an apostrophe before
``=``, ``+``, ``-`` or ``@``, as in its errors files) is read back without the
apostrophe, so a fixed errors file imports the values as they were.

With a mapping profile (:mod:`golden.importing.mapping`) the header must hold the
columns the profile reads, other columns are ignored, and each row's key and payload
are what the profile makes of it; every format goes through the same
:meth:`RowReader._mapped_row`. The original row is kept for the errors file, so a
fixed errors file imports with the same profile.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from ..cells import safe_cell
from ..domains import Domain
from . import excel
from .mapping import MappingError, MappingRowError, MappingSpec

#: Columns of an errors file; an errors file can be fixed and imported as it is,
#: because the importer ignores these columns.
REPORT_COLUMNS = ("row_number", "error_column", "error_value", "error_reason")
MAX_FIELD_SIZE = 1_000_000
SNIFF_BYTES = 8192
#: Bytes read to detect an encoding.
DETECT_BYTES = 1 << 20
DELIMITERS = (",", ";", "\t", "|")
FORMATS = ("csv", "xlsx", "jsonl")


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
    if suffix in {".xlsx", ".xlsm"}:
        return "xlsx"
    if suffix == ".xls":
        raise ImportFileError(
            f"{path}: the old binary .xls format is not read; save the sheet as .xlsx or CSV"
        )
    return "csv"


def detect_encoding(path: Path) -> str:
    """The encoding of a text file, from its first megabyte (see the module docs)."""
    with path.open("rb") as handle:
        sample = handle.read(DETECT_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # Incremental: the sample may end inside a character.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        raise ImportFileError(
            f"{path}: cannot tell the file's encoding; pass --encoding (e.g. latin-1, gb18030)"
        )
    encoding = codecs.lookup(best.encoding).name
    if encoding in {"gb2312", "gbk", "hz"}:
        return "gb18030"
    return encoding


def unescape_cell(cell: str) -> str:
    if len(cell) > 1 and cell[0] == "'" and cell[1] in "=+-@":
        return cell[1:]
    return cell


class RowReader:
    """Reads one file as :class:`SourceRow` values; raises ImportFileError for the file.

    ``mapping`` is a :class:`MappingSpec` or a profile as stored (``MappingSpec.to_json``,
    optionally with its ``name``), as an import job keeps it.
    """

    def __init__(
        self,
        path: Path,
        *,
        domain: Domain,
        file_format: str,
        key_column: str = "source_key",
        delimiter: str = "auto",
        encoding: str = "auto",
        sheet: str | None = None,
        mapping: MappingSpec | dict[str, Any] | None = None,
    ) -> None:
        self.path = path
        self.domain = domain
        self.file_format = file_format
        self.key_column = key_column
        self.delimiter = delimiter
        self.encoding = encoding
        self.sheet = sheet
        if isinstance(mapping, dict):
            try:
                mapping = MappingSpec.from_json(mapping, domain)
            except MappingError as error:
                raise ImportFileError(f"mapping profile: {error}") from None
        self.mapping = mapping
        self.header: list[str] = []
        #: With a mapping: header position of each source column the profile reads.
        self._positions: dict[str, int] = {}
        if mapping is not None:
            if mapping.domain_name != domain.name:
                raise ImportFileError(
                    f"mapping profile '{mapping.name}' is for {mapping.domain_name}, "
                    f"not {domain.name}"
                )
            self.key_column = mapping.key_column
        if file_format not in FORMATS:
            raise ImportFileError(f"unknown format '{file_format}' (use {', '.join(FORMATS)})")
        if delimiter != "auto" and len(delimiter) != 1:
            raise ImportFileError(f"the delimiter must be one character, not {delimiter!r}")
        if encoding != "auto":
            try:
                "".encode(encoding)
            except LookupError:
                raise ImportFileError(f"unknown encoding '{encoding}'") from None
        self._check_file()
        if file_format != "xlsx":
            if self.encoding == "auto":
                self.encoding = detect_encoding(path)
            if self.delimiter == "auto":
                self.delimiter = self._sniff_delimiter() if file_format == "csv" else ","

    def _check_file(self) -> None:
        if not self.path.exists():
            raise ImportFileError(f"{self.path}: no such file")
        if not self.path.is_file():
            raise ImportFileError(f"{self.path}: not a regular file")
        size = self.path.stat().st_size
        limit = settings.MDM_IMPORT_MAX_BYTES
        if size > limit:
            raise ImportFileError(
                f"{self.path}: {size / 1024**2:,.0f} MB is over the import limit of "
                f"{limit / 1024**2:,.0f} MB (MDM_IMPORT_MAX_BYTES); split the file"
            )
        with self.path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
        if not head.strip():
            raise ImportFileError(f"{self.path}: the file is empty")
        if self.file_format == "xlsx":
            if not head.startswith(b"PK"):
                raise ImportFileError(f"{self.path}: not an .xlsx workbook (not a zip archive)")
            try:
                excel.check_archive(self.path)
            except excel.WorkbookError as error:
                raise ImportFileError(f"{self.path}: {error}") from None
            return
        if head.startswith(b"PK\x03\x04"):
            raise ImportFileError(
                f"{self.path}: looks like a zip archive or workbook, not "
                f"{self.file_format.upper()} (name an Excel file .xlsx)"
            )
        utf16 = self.encoding.lower().startswith("utf-16") or head.startswith(
            (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        )
        if b"\x00" in head and not utf16:
            raise ImportFileError(
                f"{self.path}: looks like a binary file (NUL bytes), not {self.file_format.upper()}"
            )

    def _sniff_delimiter(self) -> str:
        """The candidate delimiter that splits the header line into most columns."""
        with self.path.open("r", encoding=self.encoding, errors="replace", newline="") as handle:
            first = handle.readline(SNIFF_BYTES)
        counts = {candidate: first.count(candidate) for candidate in DELIMITERS}
        best = max(DELIMITERS, key=lambda candidate: counts[candidate])
        return best if counts[best] else ","

    def count(self) -> int:
        """Read the whole file once, checking what would make it unusable; return the
        number of (non-blank) rows, as :meth:`rows` will yield them."""
        return sum(1 for _ in self._stream(check_only=True))

    def rows(self) -> Iterator[SourceRow]:
        return self._stream(check_only=False)

    def row_keys(self) -> Iterator[str]:
        """The source key of every row :meth:`rows` yields, in the same order, read
        without building the rows where the file allows it (CSV files and sheets
        without a mapping profile). For a row that :meth:`rows` reports as a problem,
        the text given here may be any value of the row."""
        if self.mapping is not None or self.file_format == "jsonl":
            for row in self.rows():
                yield row.key
            return
        for cells in self._stream(check_only=True):
            position = self._key_position
            yield unescape_cell(cells[position].strip()) if position < len(cells) else ""

    def _stream(self, *, check_only: bool):
        if self.file_format == "xlsx":
            try:
                yield from self._table(
                    excel.sheet_rows(self.path, self.sheet, self.key_column), check_only
                )
            except excel.WorkbookError as error:
                raise ImportFileError(f"{self.path}: {error}") from None
            return
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

        def numbered() -> Iterator[tuple[int, list[str], dict[int, str]]]:
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    where = "header row" if reader.line_num <= 1 else f"line {reader.line_num}"
                    raise ImportFileError(f"{self.path}: {where}: {error}") from None
                yield reader.line_num, cells, {}

        yield from self._table(numbered(), check_only)

    def _table(
        self, rows: Iterator[tuple[int, list[str], dict[int, str]]], check_only: bool
    ) -> Iterator[SourceRow]:
        """Rows of a CSV file or a sheet: (number, cells, formulas without a value)."""
        header = next(rows, None)
        if header is None or not any(cell.strip() for cell in header[1]):
            raise ImportFileError(f"{self.path}: the file is empty (no header row)")
        self.header = [cell.strip() for cell in header[1]]
        if self.mapping is None:
            columns = self._check_header(self.header)
            self._key_position = columns.index("__key__")
        else:
            columns = []
            self._positions = self._check_mapped_header(self.header)
            used = set(self._positions.values())
        width = len(self.header)
        sheet = self.file_format == "xlsx"
        for number, cells, formulas in rows:
            if not any(cell.strip() for cell in cells):
                continue
            if sheet:
                # Sheets pad rows to the widest row; cells past the header must be empty.
                extra = [i for i in range(width, len(cells)) if cells[i].strip()]
                if extra:
                    if check_only:
                        yield cells
                        continue
                    yield SourceRow(
                        number, "", {}, cells,
                        problem=(_column_letter(extra[0]), cells[extra[0]][:200],
                                 "a value in a column without a header (a merged header cell?)"),
                    )  # fmt: skip
                    continue
                cells = (cells + [""] * width)[:width]
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
            if formulas and self.mapping is not None:
                formulas = {i: formula for i, formula in formulas.items() if i in used}
            if formulas:
                index, formula = next(iter(formulas.items()))
                name = self.header[index] if index < width else _column_letter(index)
                yield SourceRow(
                    number, "", {}, cells,
                    problem=(name, formula[:200],
                             "a formula without a computed value; open and save the file in "
                             "a spreadsheet program, or paste the values"),
                )  # fmt: skip
                continue
            if self.mapping is not None:
                values = {column: unescape_cell(cells[i]) for column, i in self._positions.items()}
                yield self._mapped_row(number, values, cells)
                continue
            key, payload = "", {}
            for name, cell in zip(columns, cells, strict=True):
                if name == "__key__":
                    key = unescape_cell(cell.strip())
                elif name:
                    payload[name] = unescape_cell(cell)
            yield SourceRow(number, key, payload, cells)

    def _check_header(self, header: list[str]) -> list[str]:
        """Map header cells to attribute names ('__key__' for the key, '' to ignore)."""
        named = [name for name in header if name]
        if len(set(named)) != len(named):
            repeated = sorted({name for name in named if named.count(name) > 1})
            raise ImportFileError(f"{self.path}: repeated column(s) {', '.join(repeated)}")
        key = self.key_column.strip().lower()
        columns: list[str] = []
        unknown: list[str] = []
        known = set(self.domain.attribute_names)
        for name in header:
            folded = name.lower()
            if not folded:
                columns.append("")  # a column without a header (checked per row in sheets)
            elif folded == key:
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

    def _check_mapped_header(self, header: list[str]) -> dict[str, int]:
        """The header position of every source column of the mapping (an exact name,
        else one that differs only in case); other columns are ignored."""
        assert self.mapping is not None
        exact: dict[str, list[int]] = {}
        folded: dict[str, list[int]] = {}
        for index, name in enumerate(header):
            if name:
                exact.setdefault(name, []).append(index)
                folded.setdefault(name.casefold(), []).append(index)
        positions: dict[str, int] = {}
        missing: list[str] = []
        repeated: list[str] = []
        for column in self.mapping.source_columns:
            found = exact.get(column) or folded.get(column.casefold()) or []
            if not found:
                missing.append(column)
            elif len(found) > 1:
                repeated.append(column)
            else:
                positions[column] = found[0]
        if missing:
            raise ImportFileError(
                f"{self.path}: missing column(s) {_shorten(missing)} read by mapping profile "
                f"'{self.mapping.name}' (header: {_shorten(header, 30)})"
            )
        if repeated:
            raise ImportFileError(f"{self.path}: repeated column(s) {', '.join(repeated)}")
        return positions

    def _mapped_row(
        self, number: int, values: dict[str, Any], original: dict[str, Any] | list[str]
    ) -> SourceRow:
        """A row made by the mapping from source column → cell; the original row is
        kept as it was for the errors file."""
        assert self.mapping is not None
        try:
            key, payload = self.mapping.apply(values)
        except MappingRowError as error:
            return SourceRow(
                number, "", {}, original, problem=(error.column, error.value, error.reason)
            )
        return SourceRow(number, key, payload, original)

    def _json_values(self, data: dict[str, Any]) -> dict[str, Any]:
        """Source column → value of one JSON object (a missing member reads as empty)."""
        assert self.mapping is not None
        values: dict[str, Any] = {}
        folded: dict[str, Any] | None = None
        for column in self.mapping.source_columns:
            if column in data:
                values[column] = data[column]
                continue
            if folded is None:
                folded = {str(name).strip().casefold(): value for name, value in data.items()}
            values[column] = folded.get(column.casefold())
        return values

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
            if self.mapping is not None:
                yield self._mapped_row(number, self._json_values(data), data)
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
        if self.reader.file_format == "xlsx":
            self.handle = excel.ErrorWorkbook(self.path, [*REPORT_COLUMNS, *self.reader.header])
            return
        self.handle = self.path.open("w", encoding="utf-8", newline="")
        if self.reader.file_format == "csv":
            self._csv = csv.writer(self.handle)
            self._csv.writerow([safe_cell(c) for c in (*REPORT_COLUMNS, *self.reader.header)])

    def write(self, row: SourceRow, column: str, value: str, reason: str) -> None:
        if self.handle is None:
            self._open()
        report = [row.number, column, value, reason]
        cells = row.original if isinstance(row.original, list) else []
        if isinstance(self.handle, excel.ErrorWorkbook):
            self.handle.append([*report, *cells])
        elif self._csv is not None:
            self._csv.writerow([row.number, *(safe_cell(c) for c in (*report[1:], *cells))])
        else:
            original = row.original if isinstance(row.original, dict) else {}
            record = dict(zip(REPORT_COLUMNS, report, strict=True)) | original
            self.handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


def _column_letter(index: int) -> str:
    """Spreadsheet column name of a 0-based index: 0 → A, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _shorten(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(repr(name[:40]) for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
