"""Master data: source systems, source records (the cross-references), golden records,
the append-only journal and the change-event outbox.

Writes go through ``golden.services``; nothing else saves a golden record.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from .domains import DOMAINS, Sensitivity, domain_choices
from .fields import DocumentJSONField

DEFAULT_PRIORITY = 10


class SourceSystem(models.Model):
    code = models.CharField(
        max_length=32,
        unique=True,
        validators=[
            RegexValidator(
                r"^[A-Z0-9][A-Z0-9_-]*$",
                "Use capital letters, digits, '-' and '_' (for example ERP or CRM_EU).",
            )
        ],
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    priority = models.JSONField(
        default=dict,
        blank=True,
        help_text=(
            'Trust per domain, higher wins in survivorship, e.g. {"customer": 30, '
            f'"supplier": 10}}. Domains not listed get {DEFAULT_PRIORITY}.'
        ),
    )
    distinct_domains = models.JSONField(
        "holds each entity once in",
        default=list,
        blank=True,
        help_text=(
            "Domains in which this system holds every real-world entity at most once, e.g. "
            '["material"]. Matching then never merges two of its records automatically '
            "(such pairs go to review) and counts a clear one-to-one best match with "
            "another such system as extra evidence."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        # Granted per system (django-guardian) to that system's API clients.
        permissions = [("write_records", "Can write the source records of this system")]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        if not isinstance(self.priority, dict):
            raise ValidationError({"priority": "Must be an object mapping domain to a number."})
        for domain, value in self.priority.items():
            if domain not in DOMAINS:
                raise ValidationError({"priority": f"Unknown domain '{domain}'."})
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValidationError(
                    {"priority": f"Priority of '{domain}' must be a whole number."}
                )
        if not isinstance(self.distinct_domains, list) or not all(
            isinstance(domain, str) for domain in self.distinct_domains
        ):
            raise ValidationError(
                {"distinct_domains": 'Must be a list of domains, e.g. ["material"].'}
            )
        for domain in self.distinct_domains:
            if domain not in DOMAINS:
                raise ValidationError({"distinct_domains": f"Unknown domain '{domain}'."})

    def priority_for(self, domain: str) -> int:
        return int(self.priority.get(domain, DEFAULT_PRIORITY))

    def holds_once(self, domain: str) -> bool:
        """Whether this system holds each entity of ``domain`` at most once."""
        return domain in (self.distinct_domains or ())


class GoldenRecord(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "active"
        RETIRED = "retired", "retired"

    # Unique through a constraint rather than ``unique=True``, which on PostgreSQL adds
    # a second (pattern-matching) index that lookups by exact ID never use.
    global_id = models.CharField("global ID", max_length=24)
    domain = models.CharField(max_length=32, choices=domain_choices())
    display_name = models.CharField(max_length=300, blank=True)
    values = models.JSONField(default=dict, blank=True)
    lineage = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_records",
        help_text="The survivor this record was merged into (retired records only).",
    )
    merged_members = models.JSONField(
        default=list,
        blank=True,
        help_text="Source records this record held when it was merged away (for unmerge).",
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["domain", "status"], name="golden_domain_status_idx")]
        constraints = [
            models.UniqueConstraint(fields=["global_id"], name="golden_global_id_unique"),
            models.CheckConstraint(
                condition=models.Q(merged_into__isnull=True) | models.Q(status="retired"),
                name="golden_only_retired_are_merged",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.global_id} {self.display_name}".strip()

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class SourceRecord(models.Model):
    """A record as one source system holds it: the cross-reference to a golden record."""

    # No index of its own: the unique (system, domain, source_key) index leads with it,
    # and a second index tempts SQLite's planner away from the unique one.
    system = models.ForeignKey(
        SourceSystem, on_delete=models.PROTECT, related_name="records", db_index=False
    )
    domain = models.CharField(max_length=32, choices=domain_choices())
    source_key = models.CharField(max_length=200)
    # Indexed by source_golden_live_idx, which leads with it.
    golden_record = models.ForeignKey(
        GoldenRecord,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="source_records",
        db_index=False,
    )
    raw_payload = models.JSONField(default=dict, blank=True)
    canonical = models.JSONField(default=dict, blank=True)
    payload_hash = models.CharField(max_length=64, blank=True)
    quality_issues = models.JSONField(default=list, blank=True)
    retired = models.BooleanField(default=False)
    retired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    content_changed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the canonical values last changed."
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "domain", "source_key"], name="source_record_unique_key"
            )
        ]
        indexes = [
            models.Index(fields=["golden_record", "retired"], name="source_golden_live_idx"),
            # The golden record of source records by id, read from this index alone
            # (on SQLite the table's rows, with their payloads, are several to a page;
            # matching asks this of every candidate a blocking key finds).
            models.Index(
                fields=["id", "retired", "golden_record"], name="source_record_golden_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.system.code}:{self.source_key}" if self.system_id else self.source_key


class AttributeOverride(models.Model):
    """A steward's value for one attribute of one golden record; wins until removed."""

    golden_record = models.ForeignKey(
        GoldenRecord, on_delete=models.PROTECT, related_name="overrides"
    )
    attribute = models.CharField(max_length=64)
    value = models.JSONField()
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["golden_record_id", "attribute"]
        constraints = [
            models.UniqueConstraint(
                fields=["golden_record", "attribute"], name="override_one_per_attribute"
            )
        ]

    def __str__(self) -> str:
        return f"{self.attribute} override"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError(f"{self.model.__name__} is append-only")

    def delete(self):
        raise TypeError(f"{self.model.__name__} is append-only")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError(f"{type(self).__name__} is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} is append-only")


class JournalEntry(AppendOnlyModel):
    """Before/after snapshot of one golden record for one change (append-only)."""

    class Action(models.TextChoices):
        UPSERT = "upsert", "upsert"
        RETIRE = "retire", "retire source record"
        MERGE = "merge", "merge"
        SPLIT = "split", "split / unmerge"
        OVERRIDE = "override", "override"
        RECOMPUTE = "recompute", "recompute"

    operation = models.UUIDField(db_index=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    # Golden records are never deleted, and the journal is written only by the
    # services next to the record itself: no per-row constraint check on this
    # append-only table.
    golden_record = models.ForeignKey(
        GoldenRecord, on_delete=models.PROTECT, related_name="journal", db_constraint=False
    )
    global_id = models.CharField("global ID", max_length=24)
    before = DocumentJSONField(null=True, blank=True)
    after = DocumentJSONField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
    )
    actor_label = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "journal entries"

    def __str__(self) -> str:
        return f"{self.action} {self.global_id}"


class ChangeEvent(AppendOnlyModel):
    """The outbox: one row per published change, written in the changing transaction.

    Rows are numbered in commit order (on PostgreSQL writers serialise on an advisory
    lock while they append), so a consumer that remembers the last id never misses
    or reorders an event.
    """

    class Type(models.TextChoices):
        GOLDEN_CREATED = "golden.created", "golden record created"
        GOLDEN_UPDATED = "golden.updated", "golden record updated"
        GOLDEN_MERGED = "golden.merged", "golden record merged away"
        GOLDEN_RETIRED = "golden.retired", "golden record retired"
        GOLDEN_REACTIVATED = "golden.reactivated", "golden record reactivated"
        XREF_ADDED = "xref.added", "cross-reference added"
        XREF_MOVED = "xref.moved", "cross-reference moved"
        XREF_REMOVED = "xref.removed", "cross-reference removed"

    event_type = models.CharField(max_length=32, choices=Type.choices)
    domain = models.CharField(max_length=32, choices=domain_choices())
    global_id = models.CharField("global ID", max_length=24)
    payload = models.JSONField(default=dict)
    operation = models.UUIDField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        # Exact-ID lookups only: no pattern-matching index beside it.
        indexes = [models.Index(fields=["global_id"], name="change_event_global_id_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.event_type} {self.global_id}"


class GlobalIdCounter(models.Model):
    """Last serial number handed out per domain (used where there are no sequences)."""

    domain = models.CharField(max_length=32, primary_key=True)
    last_value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.domain}: {self.last_value}"


class MappingProfile(models.Model):
    """How one source system's files map to a domain's attributes: source columns to
    attributes, with simple transforms (see ``golden.importing.mapping``). Reusable by
    name: ``import_records FILE --mapping NAME``."""

    system = models.ForeignKey(SourceSystem, on_delete=models.CASCADE, related_name="mappings")
    domain = models.CharField(max_length=32, choices=domain_choices())
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    spec = models.JSONField(help_text="the profile: key column and one entry per attribute")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["system__code", "domain", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "domain", "name"], name="mapping_profile_unique_name"
            )
        ]

    def __str__(self) -> str:
        return f"{self.system.code}/{self.domain}/{self.name}"


class ImportJob(models.Model):
    """One import of one file: what it is, who started it, how far it got.

    ``rows_done`` is the progress marker: the number of file rows whose batches are
    committed. It is written in the same transaction as each batch, so a job that was
    killed resumes right after its last committed batch, and no row is lost or written
    twice.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        INTERRUPTED = "interrupted", "interrupted"
        COMPLETED = "completed", "completed"
        FAILED = "failed", "failed"

    system = models.ForeignKey(SourceSystem, on_delete=models.PROTECT, related_name="imports")
    domain = models.CharField(max_length=32, choices=domain_choices())
    file_name = models.CharField(max_length=255, help_text="as given or uploaded")
    file_path = models.CharField(max_length=1024, help_text="where the file is read from")
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the file")
    file_size = models.BigIntegerField(default=0)
    options = models.JSONField(default=dict, blank=True, help_text="how the file is read")
    dry_run = models.BooleanField(default=False, help_text="a preview: nothing kept")
    batch_size = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveBigIntegerField(default=0)
    rows_done = models.PositiveBigIntegerField(default=0)
    batches_done = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    errors_file = models.CharField(max_length=1024, blank=True)
    error = models.TextField(blank=True, help_text="why the job failed")
    attempts = models.PositiveIntegerField(default=0, help_text="runs, resumptions included")
    owner = models.CharField(
        max_length=200, blank=True, help_text="host:pid of the process running it"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(default=0.0, help_text="time spent running, all attempts")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status"], name="import_job_status_idx")]

    def __str__(self) -> str:
        return f"import #{self.pk} {self.file_name} ({self.status})"

    @property
    def progress(self) -> float:
        """Share of the file's rows committed, 0 to 1."""
        if self.status == self.Status.COMPLETED:
            return 1.0
        return self.rows_done / self.rows_total if self.rows_total else 0.0


class FieldPolicy(models.Model):
    """One cell of the field permissions: whether members of ``role`` may read and
    write ``attribute`` of ``domain``. It replaces that role's default for the cell,
    which comes from the attribute's sensitivity class (see ``golden.policy``)."""

    role = models.ForeignKey("auth.Group", on_delete=models.CASCADE, related_name="field_policies")
    domain = models.CharField(max_length=32, choices=domain_choices())
    attribute = models.CharField(max_length=64)
    can_read = models.BooleanField(default=False)
    can_write = models.BooleanField(default=False)

    class Meta:
        ordering = ["role__name", "domain", "attribute"]
        verbose_name_plural = "field policies"
        constraints = [
            models.UniqueConstraint(
                fields=["role", "domain", "attribute"], name="field_policy_one_per_cell"
            )
        ]

    def __str__(self) -> str:
        rights = "/".join(
            right for right, held in (("read", self.can_read), ("write", self.can_write)) if held
        )
        role = self.role.name if self.role_id else "?"
        return f"{role}: {self.domain}.{self.attribute} {rights or 'no access'}"

    def clean(self) -> None:
        domain = DOMAINS.get(self.domain)
        if domain is None:
            raise ValidationError({"domain": f"Unknown domain '{self.domain}'."})
        if self.attribute not in domain.attribute_names:
            raise ValidationError(
                {
                    "attribute": f"{domain.label} has no attribute '{self.attribute}' "
                    f"(choose one of: {', '.join(domain.attribute_names)})."
                }
            )
        if not self.can_read and domain.attribute(self.attribute).sensitivity == Sensitivity.PUBLIC:
            raise ValidationError(
                {
                    "can_read": f"'{self.attribute}' is public: every caller reads it, "
                    "with or without a role (display names are built from public "
                    "attributes). Declare it internal or restricted to guard it."
                }
            )
