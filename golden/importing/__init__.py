"""Streaming import of source records from CSV or JSON Lines files."""

from .files import REPORT_COLUMNS, ImportFileError, RowReader, SourceRow, detect_format
from .load import ImportSummary, run_import
from .mapping import (
    MappingError,
    MappingRowError,
    MappingSpec,
    parse_mapping,
    read_mapping_file,
    resolve_mapping,
    store_mapping,
)

__all__ = [
    "REPORT_COLUMNS",
    "ImportFileError",
    "ImportSummary",
    "MappingError",
    "MappingRowError",
    "MappingSpec",
    "RowReader",
    "SourceRow",
    "detect_format",
    "parse_mapping",
    "read_mapping_file",
    "resolve_mapping",
    "run_import",
    "store_mapping",
]
