"""The persisted key index that feeds the matching engine its candidates."""

from django.db import models

from golden.domains import domain_choices


class MatchKey(models.Model):
    """One identity or blocking key of one live source record.

    Candidates for a new record are the golden records of the source records that
    share one of its keys: an indexed lookup, never a scan.
    """

    domain = models.CharField(max_length=32, choices=domain_choices())
    key = models.CharField(max_length=255)
    # Indexed by the unique (source_record, key) constraint, which leads with it.
    # Derived rows written only by the matching services with their source record:
    # no per-row constraint check in the database (deletes still cascade in Django).
    source_record = models.ForeignKey(
        "golden.SourceRecord",
        on_delete=models.CASCADE,
        related_name="match_keys",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        indexes = [models.Index(fields=["domain", "key"], name="match_key_lookup_idx")]
        constraints = [
            models.UniqueConstraint(fields=["source_record", "key"], name="match_key_unique")
        ]

    def __str__(self) -> str:
        return self.key
