"""The service layer: every write to master data goes through these functions.

Each call is one transaction that also appends the journal and the outbox. Admin
actions, management commands, API views and Celery tasks call them; nothing else
saves a golden record.
"""

from .errors import MergeError, NotFound, OverrideError, RetireError, ServiceError, SplitError
from .merge import merge_golden_records
from .override import remove_attribute_override, set_attribute_override
from .recompute import recompute_golden_record
from .retire import retire_source_record
from .split import split_source_records, unmerge_golden_record
from .upsert import (
    Outcome,
    SourceInput,
    UpsertResult,
    upsert_source_record,
    upsert_source_records,
)

__all__ = [
    "MergeError",
    "NotFound",
    "Outcome",
    "OverrideError",
    "RetireError",
    "ServiceError",
    "SourceInput",
    "SplitError",
    "UpsertResult",
    "merge_golden_records",
    "recompute_golden_record",
    "remove_attribute_override",
    "retire_source_record",
    "set_attribute_override",
    "split_source_records",
    "unmerge_golden_record",
    "upsert_source_record",
    "upsert_source_records",
]
