"""Excel workbooks (.xlsx): reading one sheet as rows of text, and writing errors files.

Reading streams the sheet with openpyxl's read-only mode, so memory does not grow
with the sheet. Before openpyxl sees the file, its zip directory is checked: a
damaged or truncated file, or one that would expand far beyond its size (a
decompression bomb), is refused with a one-line reason. XML is parsed through
defusedxml (openpyxl uses it when it is installed), so entity tricks are refused too.

Formulas are read as the values the spreadsheet program last computed and saved.
A formula without such a value (a file written by a program that does not compute)
is reported for its row rather than imported as empty.
"""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..cells import safe_cell

#: Largest uncompressed size of all parts of a workbook, and largest expansion of one
#: part over its compressed size (ordinary sheets expand 5-20 times).
MAX_UNCOMPRESSED = 4 * 1024**3
MAX_RATIO = 200
#: A header row is looked for in this many first rows (titles may come first).
HEADER_SEARCH_ROWS = 20


class WorkbookError(Exception):
    """The workbook cannot be read; the message is one line."""


def check_archive(path: Path) -> None:
    """Refuse a damaged, truncated or bomb-like .xlsx before parsing it."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        raise WorkbookError(
            "not a readable .xlsx workbook (damaged or truncated: no zip directory)"
        ) from None
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size // max(member.compress_size, 1)
        if member.file_size > 10 * 1024**2 and ratio > MAX_RATIO:
            raise WorkbookError(
                f"part {member.filename} would expand {ratio} times (over {MAX_RATIO}): "
                "refused as a possible decompression bomb"
            )
    if total > MAX_UNCOMPRESSED:
        raise WorkbookError(
            f"the workbook would expand to {total / 1024**3:.1f} GB "
            f"(limit {MAX_UNCOMPRESSED / 1024**3:.0f} GB): refused"
        )
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names:
        raise WorkbookError("not an .xlsx workbook (no xl/workbook.xml inside)")


def _open(path: Path, *, formulas: bool):
    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=not formulas)
    except (KeyError, ValueError, OSError, zipfile.BadZipFile, EOFError) as error:
        raise WorkbookError(f"cannot read the workbook: {error}") from None
    except Exception as error:  # openpyxl and defusedxml raise many kinds
        raise WorkbookError(f"cannot read the workbook ({type(error).__name__}: {error})") from None


def _sheet(workbook, sheet: str | None):
    names = workbook.sheetnames
    if not sheet:
        return workbook[names[0]]
    if sheet in names:
        return workbook[sheet]
    if sheet.isdigit() and 1 <= int(sheet) <= len(names):
        return workbook[names[int(sheet) - 1]]
    raise WorkbookError(f"no sheet {sheet!r} (sheets: {', '.join(map(repr, names))})")


def cell_text(value: Any) -> str:
    """A cell value as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float):
        # Keys and codes typed as numbers come back as floats: 1000123.0 → "1000123".
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def sheet_rows(
    path: Path, sheet: str | None, key_column: str
) -> Iterator[tuple[int, list[str], dict[int, str]]]:
    """(row number, cells as text, {column index: formula} for formulas without a
    computed value) for the header row and every row after it. The header row is the
    first of the first rows that names ``key_column``; rows above it (titles, merged
    banners) are skipped. Call :func:`check_archive` on the file first."""
    values_book = _open(path, formulas=False)
    formulas_book = _open(path, formulas=True)
    try:
        values = _sheet(values_book, sheet)
        formulas = _sheet(formulas_book, sheet)
        key = key_column.strip().lower()
        header_found = False
        for number, (row, raw) in enumerate(
            zip(
                values.iter_rows(values_only=True),
                formulas.iter_rows(values_only=True),
                strict=False,
            ),
            start=1,
        ):
            cells = [cell_text(value) for value in row]
            if not header_found:
                if any(cell.strip().lower() == key for cell in cells):
                    header_found = True
                    yield number, _trim(cells), {}
                elif number >= HEADER_SEARCH_ROWS:
                    break
                continue
            missing = {
                index: formula
                for index, (value, formula) in enumerate(zip(row, raw, strict=False))
                if value is None and isinstance(formula, str) and formula.startswith("=")
            }
            yield number, cells, missing
        if not header_found:
            raise WorkbookError(
                f"sheet {values.title!r}: no header row naming the key column "
                f"'{key_column}' in its first {HEADER_SEARCH_ROWS} rows"
            )
    finally:
        values_book.close()
        formulas_book.close()


def _trim(cells: list[str]) -> list[str]:
    while cells and not cells[-1].strip():
        cells.pop()
    return cells


class ErrorWorkbook:
    """An errors file as an .xlsx workbook (write-only, streamed): one sheet of the
    report columns and the original cells, every text cell safe from formula
    evaluation."""

    def __init__(self, path: str | os.PathLike, header: list[str]) -> None:
        from openpyxl import Workbook

        self.path = Path(path)
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet("rejected rows")
        self.sheet.append([safe_cell(cell) for cell in header])

    def append(self, cells: list[Any]) -> None:
        self.sheet.append([cell if isinstance(cell, int) else safe_cell(cell) for cell in cells])

    def close(self) -> None:
        self.workbook.save(self.path)
