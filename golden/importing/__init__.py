"""Streaming import of source records from CSV or JSON Lines files."""

from .files import REPORT_COLUMNS, ImportFileError, RowReader, SourceRow, detect_format
from .load import ImportSummary, run_import

__all__ = [
    "REPORT_COLUMNS",
    "ImportFileError",
    "ImportSummary",
    "RowReader",
    "SourceRow",
    "detect_format",
    "run_import",
]
