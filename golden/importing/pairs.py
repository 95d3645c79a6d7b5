"""Reading crosswalk files: tables whose rows pair a key of one system with a key of
another (CSV or JSON Lines), read and checked whole before anything is written."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..domains import Domain
from .files import MAX_FIELD_SIZE, ImportFileError, RowReader, unescape_cell

FORMATS = ("csv", "jsonl")
LEFT_DEFAULT = "left_key"
RIGHT_DEFAULT = "right_key"
#: Column of the errors file of a JSON Lines crosswalk that holds the original line.
JSON_COLUMN = "json"


@dataclass(slots=True)
class PairRow:
    number: int  # 1-based line number as a person sees it in the file
    left: str
    right: str
    original: list[str]  # the cells repeated in the errors file
    problem: tuple[str, str, str] | None = None  # column, value, reason
    left_id: int | None = None
    right_id: int | None = None


@dataclass
class PairTable:
    columns: tuple[str, str]  # the left and the right key column, as the file names them
    header: list[str]  # the columns the errors file repeats after the report columns
    rows: list[PairRow]


def read_pairs(
    path: Path,
    *,
    domain: Domain,
    file_format: str,
    left: tuple[str, str | None, str, str],
    right: tuple[str, str | None, str, str],
    delimiter: str,
    encoding: str,
) -> PairTable:
    """Read and check the whole file. ``left``/``right``: (system code, the column asked
    for or None, its option, the fallback column name)."""
    # The importer's reader refuses missing, oversized, empty and binary files and
    # detects the encoding and the delimiter; the rows are read here.
    reader = RowReader(
        path,
        domain=domain,
        file_format=file_format,
        key_column=left[1] or LEFT_DEFAULT,
        delimiter=delimiter,
        encoding=encoding,
    )
    lines = _text_lines(path, reader.encoding)
    if file_format == "csv":
        return _read_csv(path, lines, reader.delimiter, left, right)
    return _read_jsonl(path, lines, left, right)


def _read_csv(path: Path, lines: Iterator[str], delimiter: str, left, right) -> PairTable:
    csv.field_size_limit(MAX_FIELD_SIZE)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    try:
        first = next(reader, None)
        if first is None or not any(cell.strip() for cell in first):
            raise ImportFileError(f"{path}: the file is empty (no header row)")
        header = [cell.strip() for cell in first]
        folded = [cell.lower() for cell in header]
        positions = []
        for code, given, option, fallback in (left, right):
            name = _choose(path, folded, header, code, given, option, fallback, "column")
            if folded.count(name) > 1:
                raise ImportFileError(f"{path}: column '{name}' appears {folded.count(name)} times")
            positions.append(folded.index(name))
        if positions[0] == positions[1]:
            raise ImportFileError(
                f"{path}: the {left[0]} and {right[0]} keys cannot both be column "
                f"'{header[positions[0]]}'; name them with --left-column and --right-column"
            )
        at_left, at_right = positions
        width = len(header)
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            number = reader.line_num
            if len(cells) != width:
                problem = (
                    "",
                    f"{len(cells)} fields",
                    f"row has {len(cells)} fields, the header has {width}",
                )
                rows.append(PairRow(number, "", "", cells, problem))
                continue
            rows.append(
                PairRow(
                    number,
                    unescape_cell(cells[at_left].strip()),
                    unescape_cell(cells[at_right].strip()),
                    cells,
                )
            )
    except csv.Error as error:
        where = "header row" if reader.line_num <= 1 else f"line {reader.line_num}"
        raise ImportFileError(f"{path}: {where}: {error}") from None
    return PairTable((header[at_left], header[at_right]), header, rows)


def _read_jsonl(path: Path, lines: Iterator[str], left, right) -> PairTable:
    parsed: list[tuple[int, dict[str, Any] | None, str, tuple[str, str, str] | None]] = []
    names: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        text = line.rstrip("\r\n")[:1000]
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            parsed.append((number, None, text, ("", "", f"not valid JSON: {error.msg}")))
            continue
        if not isinstance(data, dict):
            parsed.append((number, None, text, ("", "", "a line must hold one JSON object")))
            continue
        names.update(name.lower() for name in data)
        parsed.append((number, data, text, None))
    if not parsed:
        raise ImportFileError(f"{path}: the file is empty")
    known = sorted(names)
    chosen = [
        _choose(path, known, known, code, given, option, fallback, "field")
        for code, given, option, fallback in (left, right)
    ]
    if chosen[0] == chosen[1]:
        raise ImportFileError(
            f"{path}: the {left[0]} and {right[0]} keys cannot both be field '{chosen[0]}'; "
            "name them with --left-column and --right-column"
        )
    shown = tuple(
        given or (code if name == code.lower() else name)
        for (code, given, _, _), name in zip((left, right), chosen, strict=True)
    )
    rows = []
    for number, data, text, problem in parsed:
        if data is None:
            rows.append(PairRow(number, "", "", ["", "", text], problem))
            continue
        keys, raw = [], []
        for name, column in zip(chosen, shown, strict=True):
            values = [value for field_name, value in data.items() if field_name.lower() == name]
            value = values[0] if values else None
            raw.append("" if value is None else str(value))
            key, reason = _json_key(value)
            if len(values) > 1:
                reason = f"{len(values)} fields named {column} (case-insensitive)"
            if reason and problem is None:
                problem = (column, raw[-1][:200], reason)
            keys.append(key)
        rows.append(PairRow(number, keys[0], keys[1], [*raw, text], problem))
    return PairTable(shown, [*shown, JSON_COLUMN], rows)


def _choose(
    path: Path,
    folded: Sequence[str],
    names: Sequence[str],
    code: str,
    given: str | None,
    option: str,
    fallback: str,
    what: str,
) -> str:
    """The (lower-case) name of the key column of one system: the one asked for, else
    the system's code, else the fallback name."""
    candidates = [given.strip()] if given else [code, fallback]
    for candidate in candidates:
        if candidate.lower() in folded:
            return candidate.lower()
    asked = " or ".join(f"'{candidate}'" for candidate in candidates)
    listed = ", ".join(repr(name[:40]) for name in names[:8])
    more = f" and {len(names) - 8} more" if len(names) > 8 else ""
    kind = "header" if what == "column" else "fields"
    raise ImportFileError(
        f"{path}: missing {what} for the {code} keys: {asked} ({kind}: {listed}{more}); "
        f"name it with {option}"
    )


def _json_key(value: Any) -> tuple[str, str]:
    """A key read from JSON and what is wrong with it ('' when nothing)."""
    if value is None:
        return "", ""
    if isinstance(value, str):
        return value.strip(), ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value), ""
    return "", "a key must be text or a whole number"


def _text_lines(path: Path, encoding: str) -> Iterator[str]:
    """The file's lines; bytes that do not decode stop the whole file."""
    python_encoding = (
        "utf-8-sig" if encoding.lower().replace("_", "-") in {"utf-8", "utf8"} else encoding
    )
    try:
        with path.open("r", encoding=python_encoding, errors="strict", newline="") as handle:
            yield from handle
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"{path}: cannot be decoded as {encoding} (byte {error.start} of a block: "
            f"{error.reason}); pass the right --encoding (e.g. latin-1, gb18030)"
        ) from None
