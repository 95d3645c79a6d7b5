"""Admin: a window on master data. Changes go through ``golden.services``.

Every page that shows attribute values shows only what ``request.user`` may read
(``golden.policy``): the admins below answer their pages through
:class:`FieldPolicyViewsMixin`, and their displays ask :func:`viewer_access`.
"""

from __future__ import annotations

import contextlib
import contextvars
import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from .domains import domain_for_prefix, get_domain
from .global_ids import GlobalIdError, normalise_global_id
from .models import (
    AttributeOverride,
    ChangeEvent,
    FieldPolicy,
    GlobalIdCounter,
    GoldenRecord,
    JournalEntry,
    SourceRecord,
    SourceSystem,
)
from .policy import Access, access_for, access_for_request
from .services import (
    ServiceError,
    merge_golden_records,
    recompute_golden_record,
    retire_source_record,
    set_attribute_override,
)

#: Shown in place of a value the viewer may not read.
HIDDEN = "hidden"
#: Fields that hold attribute values: never filtered on through the page's URL.
VALUE_FIELDS = frozenset(
    {"values", "lineage", "canonical", "raw_payload", "quality_issues", "payload_hash"}
    | {"before", "after", "value", "reason", "explanation"}
)

_viewer: contextvars.ContextVar = contextvars.ContextVar("admin_viewer", default=None)


def viewer_access(domain: str) -> Access:
    """What the user whose page is being answered may read and write in ``domain``;
    outside such a page, what a user without a role may."""
    request = _viewer.get()
    if request is None:
        return access_for(None, domain)
    return access_for_request(request, domain)


class FieldPolicyViewsMixin:
    """Answers the list and form pages knowing who asks, so that displays (which
    Django calls with the object only) can ask :func:`viewer_access`. Pages are
    rendered before the answer leaves the view. Lookups in the URL on fields that
    hold values are refused."""

    def changelist_view(self, request, extra_context=None):
        return _answer(request, super().changelist_view, request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        view = super().changeform_view
        return _answer(request, view, request, object_id, form_url, extra_context)

    def lookup_allowed(self, lookup, value, request=None):
        if VALUE_FIELDS.intersection(lookup.split("__")):
            return False
        return super().lookup_allowed(lookup, value, request)


def _answer(request, view, *args):
    token = _viewer.set(request)
    try:
        response = view(*args)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        return response
    finally:
        _viewer.reset(token)


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
        values = viewer_access(obj.domain).redact(obj.canonical)
        return format_html_join(
            "", "<div><b>{}</b>: {}</div>", ((k, _shown(v)) for k, v in values.items())
        )

    @admin.display(description="data-quality issues")
    def issues(self, obj):
        return _issues_table(viewer_access(obj.domain).redact_issues(obj.quality_issues))


class OverrideColumnsMixin:
    """An override's value and reason, as the viewer may see them."""

    @admin.display(description="value")
    def shown_value(self, obj):
        return _override_value(obj)

    @admin.display(description="reason")
    def shown_reason(self, obj):
        return _override_reason(obj)


class AttributeOverrideInline(OverrideColumnsMixin, ReadOnlyAdminMixin, admin.TabularInline):
    model = AttributeOverride
    fields = ["attribute", "shown_value", "shown_reason", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("golden_record", "created_by")


class JournalInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = JournalEntry
    fields = ["created_at", "action", "actor_label", "shown_reason", "change_summary"]
    readonly_fields = fields
    extra = 0
    ordering = ["-id"]
    show_change_link = True
    verbose_name_plural = "journal"

    @admin.display(description="change")
    def change_summary(self, obj):
        return _summarise(obj.before, obj.after)

    @admin.display(description="reason")
    def shown_reason(self, obj):
        return _journal_reason(obj)


@admin.register(GoldenRecord)
class GoldenRecordAdmin(FieldPolicyViewsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
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
        "set_override",
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
        access = viewer_access(obj.domain)
        names = {
            record.pk: str(record)
            for record in SourceRecord.objects.filter(
                pk__in=_lineage_ids(obj.lineage)
            ).select_related("system")
        }
        rows = []
        for attribute in domain.attributes:
            if attribute.name not in obj.values or not access.can_read(attribute.name):
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
        access = viewer_access(obj.domain)
        issues = []
        for record in obj.source_records.filter(retired=False).select_related("system"):
            issues.extend(
                issue | {"attribute": f"{record}: {issue['attribute']}"}
                for issue in access.redact_issues(record.quality_issues)
            )
        return _issues_table(issues)

    @admin.display(description="steward override")
    def set_override(self, obj):
        request = _viewer.get()
        allowed = request is not None and request.user.has_perm("golden.add_attributeoverride")
        if not (obj.is_active and allowed and viewer_access(obj.domain).writable):
            return "—"
        url = reverse("admin:golden_attributeoverride_add")
        query = urlencode({"global_id": obj.global_id})
        return format_html('<a href="{}?{}">set an override</a>', url, query)

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
class SourceRecordAdmin(FieldPolicyViewsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
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
        "shown_hash",
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
        return _json(viewer_access(obj.domain).redact(obj.raw_payload))

    @admin.display(description="canonical values")
    def canonical_values(self, obj):
        return _json(viewer_access(obj.domain).redact(obj.canonical))

    @admin.display(description="data-quality issues")
    def issues(self, obj):
        return _issues_table(viewer_access(obj.domain).redact_issues(obj.quality_issues))

    @admin.display(description="payload hash")
    def shown_hash(self, obj):
        # A digest of every value: a hidden birth date is found by hashing each date.
        return obj.payload_hash if viewer_access(obj.domain).reads_everything else HIDDEN

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
class JournalEntryAdmin(FieldPolicyViewsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "created_at", "action", "global_id", "actor_label", "shown_reason"]
    list_filter = ["action"]
    search_fields = ["global_id", "operation", "actor_label"]
    fields = [
        "operation",
        "action",
        "global_id",
        "golden_record",
        "actor",
        "actor_label",
        "shown_reason",
        "created_at",
        "before_json",
        "after_json",
    ]
    readonly_fields = fields

    @admin.display(description="before")
    def before_json(self, obj):
        return _json(_journal_access(obj).redact_snapshot(obj.before))

    @admin.display(description="after")
    def after_json(self, obj):
        return _json(_journal_access(obj).redact_snapshot(obj.after))

    @admin.display(description="reason")
    def shown_reason(self, obj):
        return _journal_reason(obj)


@admin.register(ChangeEvent)
class ChangeEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "created_at", "event_type", "domain", "global_id", "payload"]
    list_filter = ["event_type", "domain"]
    search_fields = ["global_id", "operation"]


class AttributeOverrideForm(forms.ModelForm):
    """A steward override, set through ``set_attribute_override`` when the form is
    validated (so that the service's refusal shows on the form), and only on an
    attribute the user may write."""

    global_id = forms.CharField(label="golden record (global ID)", max_length=64)
    attribute_name = forms.CharField(label="attribute", max_length=64)
    new_value = forms.CharField(
        label="value", help_text="several values of a multi-valued attribute separated by ';'"
    )
    why = forms.CharField(label="reason", widget=forms.Textarea(attrs={"rows": 3}))

    class Meta:
        model = AttributeOverride
        fields: list[str] = []

    #: Set per request by ``AttributeOverrideAdmin.get_form`` (a new class each time).
    request = None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            golden = GoldenRecord.objects.get(global_id=normalise_global_id(data["global_id"]))
        except GlobalIdError as error:
            raise ValidationError({"global_id": error.reason}) from None
        except GoldenRecord.DoesNotExist:
            raise ValidationError({"global_id": "No golden record has this global ID."}) from None
        domain = get_domain(golden.domain)
        attribute = data["attribute_name"].strip()
        if attribute not in domain.attribute_names:
            raise ValidationError(
                {"attribute_name": f"{domain.label} records have no attribute {attribute}."}
            )
        if not access_for_request(self.request, domain.name).can_write(attribute):
            raise ValidationError(
                {
                    "attribute_name": f"Your role may not write {attribute} of "
                    f"{domain.label.lower()} records."
                }
            )
        try:
            set_attribute_override(
                golden=golden,
                attribute=attribute,
                value=data["new_value"],
                reason=data["why"],
                acting_user=self.request.user,
            )
        except ServiceError as error:
            raise ValidationError(str(error)) from None
        self.instance = AttributeOverride.objects.get(golden_record=golden, attribute=attribute)
        return data


@admin.register(AttributeOverride)
class AttributeOverrideAdmin(
    OverrideColumnsMixin, FieldPolicyViewsMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
    list_display = [
        "golden_record",
        "attribute",
        "shown_value",
        "shown_reason",
        "created_by",
        "created_at",
    ]
    list_select_related = ["golden_record", "created_by"]
    search_fields = ["golden_record__global_id", "attribute"]
    form = AttributeOverrideForm
    shown_fields = [
        "golden_record",
        "attribute",
        "shown_value",
        "shown_reason",
        "created_by",
        "created_at",
    ]

    def has_add_permission(self, request):
        return admin.ModelAdmin.has_add_permission(self, request)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["global_id", "attribute_name", "new_value", "why"]
        return self.shown_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.shown_fields

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.request = request
        return form

    def save_model(self, request, obj, form, change):
        """Saved by the service when the form was validated."""


@admin.register(FieldPolicy)
class FieldPolicyAdmin(admin.ModelAdmin):
    list_display = ["role", "domain", "attribute", "can_read", "can_write"]
    list_filter = ["role", "domain", "can_read", "can_write"]
    search_fields = ["role__name", "attribute"]
    list_select_related = ["role"]


@admin.register(GlobalIdCounter)
class GlobalIdCounterAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["domain", "last_value"]


def _shown(value):
    return "; ".join(str(item) for item in value) if isinstance(value, list) else value


def _override_value(override: AttributeOverride):
    if not viewer_access(override.golden_record.domain).can_read(override.attribute):
        return HIDDEN
    return _shown(override.value)


def _override_reason(override: AttributeOverride) -> str:
    # A steward's reason for a value may quote it: it is read with the value.
    if not viewer_access(override.golden_record.domain).can_read(override.attribute):
        return HIDDEN
    return override.reason


def _journal_access(entry: JournalEntry) -> Access:
    domain = domain_for_prefix(entry.global_id[:3])
    return viewer_access(domain.name if domain else entry.golden_record.domain)


def _journal_reason(entry: JournalEntry) -> str:
    """The reason of a journal entry; that of an override is read with its value."""
    if entry.action != JournalEntry.Action.OVERRIDE or entry.before is None:
        return entry.reason
    if _journal_access(entry).hidden_read(_changed(entry.before, entry.after)):
        return HIDDEN
    return entry.reason


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
    changed = _changed(before, after)
    if changed:
        parts.append("changed " + ", ".join(changed))
    return "; ".join(parts) or "no visible change"


def _changed(before, after) -> list[str]:
    """The attributes whose values differ between two journal snapshots."""
    return sorted(
        name
        for name in set(before["values"]) | set(after["values"])
        if before["values"].get(name) != after["values"].get(name)
    )


from . import admin_imports, admin_jobs  # noqa: E402,F401  (mapping profiles, import jobs)
