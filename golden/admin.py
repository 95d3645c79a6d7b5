"""Admin: a window on master data. Changes go through ``golden.services``."""

from __future__ import annotations

import contextlib
import json

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils.html import format_html, format_html_join

from .domains import get_domain
from .global_ids import GlobalIdError, normalise_global_id
from .models import (
    AttributeOverride,
    ChangeEvent,
    GlobalIdCounter,
    GoldenRecord,
    JournalEntry,
    SourceRecord,
    SourceSystem,
)
from .services import (
    ServiceError,
    merge_golden_records,
    recompute_golden_record,
    retire_source_record,
)


class ReadOnlyAdminMixin:
    """Rows written only by the services: visible, never edited by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _issues_table(issues):
    if not issues:
        return "—"
    return format_html(
        "<table><tr><th>attribute</th><th>value</th><th>problem</th></tr>{}</table>",
        format_html_join(
            "",
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            ((issue["attribute"], issue["value"], issue["reason"]) for issue in issues),
        ),
    )


def _json(value):
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))


@admin.register(SourceSystem)
class SourceSystemAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "priority", "distinct_domains", "record_count"]
    search_fields = ["code", "name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_records=Count("records"))

    @admin.display(description="source records", ordering="_records")
    def record_count(self, obj):
        return obj._records


class SourceRecordInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SourceRecord
    fields = ["system", "source_key", "canonical_values", "issues", "content_changed_at"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    verbose_name = "cross-reference"
    verbose_name_plural = "cross-references (live source records)"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(retired=False).select_related("system")

    @admin.display(description="canonical values")
    def canonical_values(self, obj):
        return format_html_join(
            "", "<div><b>{}</b>: {}</div>", ((k, _shown(v)) for k, v in obj.canonical.items())
        )

    @admin.display(description="data-quality issues")
    def issues(self, obj):
        return _issues_table(obj.quality_issues)


class AttributeOverrideInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AttributeOverride
    fields = ["attribute", "value", "reason", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0


class JournalInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = JournalEntry
    fields = ["created_at", "action", "actor_label", "reason", "change_summary"]
    readonly_fields = fields
    extra = 0
    ordering = ["-id"]
    show_change_link = True
    verbose_name_plural = "journal"

    @admin.display(description="change")
    def change_summary(self, obj):
        return _summarise(obj.before, obj.after)


@admin.register(GoldenRecord)
class GoldenRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["global_id", "domain", "display_name", "status", "xref_count", "version"]
    list_filter = ["domain", "status", "source_records__system"]
    search_fields = ["global_id", "display_name", "source_records__source_key"]
    fields = [
        "global_id",
        "domain",
        "display_name",
        "status",
        "merged_into",
        "version",
        "golden_values",
        "quality_issues",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [SourceRecordInline, AttributeOverrideInline, JournalInline]
    actions = ["merge_selected", "recompute_selected"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("merged_into")
            .annotate(_xrefs=Count("source_records", filter=Q(source_records__retired=False)))
        )

    def get_search_results(self, request, queryset, search_term):
        with contextlib.suppress(GlobalIdError):
            search_term = normalise_global_id(search_term)
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="cross-references", ordering="_xrefs")
    def xref_count(self, obj):
        return obj._xrefs

    @admin.display(description="values and lineage")
    def golden_values(self, obj):
        domain = get_domain(obj.domain)
        names = {
            record.pk: str(record)
            for record in SourceRecord.objects.filter(
                pk__in=_lineage_ids(obj.lineage)
            ).select_related("system")
        }
        rows = []
        for attribute in domain.attributes:
            if attribute.name not in obj.values:
                continue
            lineage = obj.lineage.get(attribute.name, {})
            rows.append(
                (
                    attribute.verbose_name,
                    _shown(obj.values[attribute.name]),
                    _describe_lineage(lineage, names),
                )
            )
        if not rows:
            return "—"
        return format_html(
            "<table><tr><th>attribute</th><th>value</th><th>lineage (source, rule)</th></tr>"
            "{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description="data-quality issues of its sources")
    def quality_issues(self, obj):
        issues = []
        for record in obj.source_records.filter(retired=False).select_related("system"):
            issues.extend(
                issue | {"attribute": f"{record}: {issue['attribute']}"}
                for issue in record.quality_issues
            )
        return _issues_table(issues)

    @admin.action(description="Merge selected records into the oldest of them")
    def merge_selected(self, request, queryset):
        records = list(queryset.order_by("pk"))
        if len(records) < 2:
            self.message_user(request, "Select at least two golden records.", messages.WARNING)
            return
        survivor = records[0]
        try:
            for merged in records[1:]:
                survivor = merge_golden_records(
                    survivor=survivor,
                    merged=merged,
                    acting_user=request.user,
                    reason="merged in admin",
                )
        except ServiceError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(
            request, f"Merged {len(records) - 1} record(s) into {survivor.global_id}."
        )

    @admin.action(description="Recompute survivorship")
    def recompute_selected(self, request, queryset):
        changed = sum(
            recompute_golden_record(golden=golden, acting_user=request.user)
            for golden in queryset.filter(status=GoldenRecord.Status.ACTIVE)
        )
        self.message_user(request, f"{changed} golden record(s) changed.")


@admin.register(SourceRecord)
class SourceRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "domain", "golden_record", "has_issues", "retired", "updated_at"]
    list_filter = ["domain", "system", "retired"]
    search_fields = ["source_key", "golden_record__global_id"]
    list_select_related = ["system", "golden_record"]
    fields = [
        "system",
        "domain",
        "source_key",
        "golden_record",
        "retired",
        "retired_at",
        "raw",
        "canonical_values",
        "issues",
        "payload_hash",
        "created_at",
        "updated_at",
        "content_changed_at",
    ]
    readonly_fields = fields
    actions = ["retire_selected"]

    @admin.display(boolean=True, description="quality issues")
    def has_issues(self, obj):
        return bool(obj.quality_issues)

    @admin.display(description="raw payload")
    def raw(self, obj):
        return _json(obj.raw_payload)

    @admin.display(description="canonical values")
    def canonical_values(self, obj):
        return _json(obj.canonical)

    @admin.display(description="data-quality issues")
    def issues(self, obj):
        return _issues_table(obj.quality_issues)

    @admin.action(description="Retire selected source records")
    def retire_selected(self, request, queryset):
        count = 0
        for record in queryset.filter(retired=False):
            try:
                retire_source_record(
                    source_record=record, acting_user=request.user, reason="retired in admin"
                )
                count += 1
            except ServiceError as error:
                self.message_user(request, str(error), messages.ERROR)
        self.message_user(request, f"Retired {count} source record(s).")


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "created_at", "action", "global_id", "actor_label", "reason"]
    list_filter = ["action"]
    search_fields = ["global_id", "operation", "actor_label"]
    fields = [
        "operation",
        "action",
        "global_id",
        "golden_record",
        "actor",
        "actor_label",
        "reason",
        "created_at",
        "before_json",
        "after_json",
    ]
    readonly_fields = fields

    @admin.display(description="before")
    def before_json(self, obj):
        return _json(obj.before)

    @admin.display(description="after")
    def after_json(self, obj):
        return _json(obj.after)


@admin.register(ChangeEvent)
class ChangeEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "created_at", "event_type", "domain", "global_id", "payload"]
    list_filter = ["event_type", "domain"]
    search_fields = ["global_id", "operation"]


@admin.register(AttributeOverride)
class AttributeOverrideAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["golden_record", "attribute", "value", "reason", "created_by", "created_at"]
    search_fields = ["golden_record__global_id", "attribute"]


@admin.register(GlobalIdCounter)
class GlobalIdCounterAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["domain", "last_value"]


def _shown(value):
    return "; ".join(str(item) for item in value) if isinstance(value, list) else value


def _lineage_ids(lineage: dict) -> set[int]:
    ids: set[int] = set()
    for entry in lineage.values():
        if "source_record" in entry:
            ids.add(entry["source_record"])
        ids.update(entry.get("source_records", []))
    return ids


def _describe_lineage(lineage: dict, names: dict[int, str]) -> str:
    rule = lineage.get("rule", "")
    if rule == "override":
        return f"steward override by {lineage.get('by') or 'unknown'}: {lineage.get('reason', '')}"
    if rule == "aggregate":
        sources = sorted({names.get(pk, f"#{pk}") for pk in lineage.get("source_records", [])})
        return "aggregate of " + ", ".join(sources)
    if "source_record" in lineage:
        pk = lineage["source_record"]
        return f"{names.get(pk, f'#{pk}')} ({rule.replace('_', ' ')})"
    return rule


def _summarise(before, after) -> str:
    if before is None:
        return f"created with {len(after['xrefs'])} cross-reference(s)"
    parts = []
    if before["status"] != after["status"]:
        parts.append(f"{before['status']} → {after['status']}")
    if before["xrefs"] != after["xrefs"]:
        parts.append(f"cross-references {len(before['xrefs'])} → {len(after['xrefs'])}")
    changed = sorted(
        name
        for name in set(before["values"]) | set(after["values"])
        if before["values"].get(name) != after["values"].get(name)
    )
    if changed:
        parts.append("changed " + ", ".join(changed))
    return "; ".join(parts) or "no visible change"


from . import admin_imports, admin_jobs  # noqa: E402,F401  (mapping profiles, import jobs)
