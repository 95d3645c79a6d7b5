"""The persisted key index that feeds the matching engine its candidates."""

from django.conf import settings
from django.db import models

from golden.domains import domain_choices


class MatchKey(models.Model):
    """One identity key of one live source record (``tax_id:DE:DE129274202``).

    Records that share one are the same entity (unless a strong identifier of the
    same kind differs): an indexed lookup, never a scan. Their blocking keys are in
    :class:`BlockingKey`.
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


class BlockingKey(models.Model):
    """One blocking key of one live source record, as a 64-bit hash of its domain and
    text (``matching.services.blocking_code``).

    Candidates for the fuzzy model are the records that share one. A blocking key is
    only ever compared for equality, so its hash does as well as its text, in a
    tenth of the space (blocking keys are four fifths of the key rows): the index
    stays in cache at millions of records. Two keys with one hash (about one chance
    in 10^19 per pair) only add a candidate, which the model scores like any other.
    """

    # The key and its record are the primary key: on SQLite the table is stored
    # WITHOUT ROWID, one B-tree in key order that answers a lookup by itself
    # (migration matching.0007).
    pk = models.CompositePrimaryKey("code", "source_record")
    code = models.BigIntegerField()
    source_record = models.ForeignKey(
        "golden.SourceRecord",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # by the index below, which is named for the migration
        db_constraint=False,  # written only with its source record, as MatchKey
    )

    class Meta:
        indexes = [models.Index(fields=["source_record"], name="blocking_key_record_idx")]

    def __str__(self) -> str:
        return f"{self.code:016x}"


class MatchParameters(models.Model):
    """One version of a domain's trained model parameters (m, u per level, prior).

    Versions are never edited: training adds a new one and matching uses the
    latest. Without any, the domain's declared defaults apply.
    """

    domain = models.CharField(max_length=32, choices=domain_choices())
    version = models.PositiveIntegerField()
    parameters = models.JSONField(help_text="m and u per comparison level, and the prior")
    source = models.CharField(max_length=32, help_text="how they were estimated")
    report = models.TextField(blank=True, help_text="what training saw and estimated")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name_plural = "match parameters"
        ordering = ["domain", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "version"], name="match_parameters_version")
        ]

    def __str__(self) -> str:
        return f"{self.domain} v{self.version}"


class ReviewItem(models.Model):
    """A doubtful pair of source records for a steward to decide.

    ``record_a`` is always the one with the smaller id, so a pair has one row. The
    fingerprints are digests of the compared attributes of both records when the
    pair was last scored or decided: a not-a-match stays binding while they are
    unchanged, and the pair is offered again once either record changes.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        MERGED = "merged", "merged"
        NOT_A_MATCH = "not_a_match", "not a match"

    domain = models.CharField(max_length=32, choices=domain_choices())
    record_a = models.ForeignKey(
        "golden.SourceRecord", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    record_b = models.ForeignKey("golden.SourceRecord", on_delete=models.CASCADE, related_name="+")
    probability = models.FloatField()
    explanation = models.JSONField(
        default=list, help_text="per-attribute level, words and weight in bits"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    fingerprint_a = models.CharField(max_length=64)
    fingerprint_b = models.CharField(max_length=64)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-probability", "id"]
        indexes = [
            models.Index(fields=["domain", "status", "-probability"], name="review_queue_idx")
        ]
        constraints = [
            models.UniqueConstraint(fields=["record_a", "record_b"], name="review_pair_unique"),
            models.CheckConstraint(
                condition=models.Q(record_a__lt=models.F("record_b")), name="review_pair_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_a_id} ~ {self.record_b_id} ({self.probability:.2f})"


class RecordFeatures(models.Model):
    """The prepared comparison features of one live source record, stored when the
    record is indexed, so that matching a new record against records written long
    ago reads them (a few microseconds) instead of preparing them from the canonical
    values again. ``fingerprint`` names the matching code and declarations they were
    prepared with; features of another fingerprint are prepared anew."""

    source_record = models.OneToOneField(
        "golden.SourceRecord",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        db_constraint=False,
    )
    payload_hash = models.CharField(max_length=64)
    fingerprint = models.CharField(max_length=16)
    data = models.BinaryField(help_text="marshal of the features (builtin types only)")

    class Meta:
        verbose_name_plural = "record features"

    def __str__(self) -> str:
        return f"features of {self.source_record_id}"
