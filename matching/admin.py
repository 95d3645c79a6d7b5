"""Admin: the review queue for stewards, stored parameters and the key index.

Decisions go through ``matching.reviews``, which merges or splits through the
golden-record services. Values, explanations and keys are shown only as far as
``request.user`` may read them (``golden.policy``)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from golden.admin import FieldPolicyViewsMixin, ReadOnlyAdminMixin, viewer_access
from golden.domains import DOMAINS
from golden.policy import access_for_request
from golden.services import ServiceError

from . import reviews
from .models import MatchKey, MatchParameters, ReviewItem


@admin.register(MatchKey)
class MatchKeyAdmin(FieldPolicyViewsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["key", "domain", "source_record"]
    list_filter = ["domain"]
    search_fields = ["key"]
    list_select_related = ["source_record__system"]

    def get_queryset(self, request):
        # A key is made of attribute values (identifiers, names with birth dates, ...):
        # listed and searched only in domains whose every attribute the user reads.
        domains = [name for name in DOMAINS if access_for_request(request, name).reads_everything]
        return super().get_queryset(request).filter(domain__in=domains)


@admin.register(MatchParameters)
class MatchParametersAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["domain", "version", "source", "created_at", "created_by"]
    list_filter = ["domain", "source"]
    fields = ["domain", "version", "source", "created_at", "created_by", "training_report"]
    readonly_fields = fields

    @admin.display(description="report")
    def training_report(self, obj):
        return format_html("<pre>{}</pre>", obj.report)


@admin.register(ReviewItem)
class ReviewItemAdmin(FieldPolicyViewsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "pk",
        "domain",
        "record_a",
        "golden_a",
        "record_b",
        "golden_b",
        "probability_shown",
        "status",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["status", "domain"]
    search_fields = ["record_a__source_key", "record_b__source_key"]
    list_select_related = [
        "record_a__system",
        "record_b__system",
        "record_a__golden_record",
        "record_b__golden_record",
        "decided_by",
    ]
    fields = [
        "domain",
        "status",
        "probability_shown",
        "why",
        "side_by_side",
        "decided_by",
        "decided_at",
        "note",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    actions = ["merge_pairs", "not_a_match"]

    def has_change_permission(self, request, obj=None):
        # Viewing is allowed; the only changes are the decision actions.
        return False

    @admin.display(description="probability", ordering="probability")
    def probability_shown(self, obj):
        return f"{obj.probability:.3f}"

    @admin.display(description="golden record A")
    def golden_a(self, obj):
        return obj.record_a.golden_record.global_id

    @admin.display(description="golden record B")
    def golden_b(self, obj):
        return obj.record_b.golden_record.global_id

    @admin.display(description="why this score")
    def why(self, obj):
        explanation = viewer_access(obj.domain).redact_explanation(obj.explanation)
        rows = sorted(explanation, key=lambda item: -abs(item.get("weight") or 0))
        return format_html(
            "<table><tr><th>attribute</th><th>level</th><th>weight (bits)</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        item["comparison"],
                        item["description"],
                        "" if item["weight"] is None else f"{item['weight']:+.2f}",
                    )
                    for item in rows
                ),
            ),
        )

    @admin.display(description="values")
    def side_by_side(self, obj):
        access = viewer_access(obj.domain)
        a, b = access.redact(obj.record_a.canonical), access.redact(obj.record_b.canonical)
        names = [name for name in sorted(set(a) | set(b))]
        return format_html(
            "<table><tr><th></th><th>{}</th><th>{}</th></tr>{}</table>",
            str(obj.record_a),
            str(obj.record_b),
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((name, a.get(name, ""), b.get(name, "")) for name in names),
            ),
        )

    @admin.action(description="Merge: they are the same")
    def merge_pairs(self, request, queryset):
        self._decide(request, queryset, merge=True)

    @admin.action(description="Not a match: keep them apart")
    def not_a_match(self, request, queryset):
        self._decide(request, queryset, merge=False)

    def _decide(self, request, queryset, *, merge: bool):
        done = 0
        for item in queryset.filter(status=ReviewItem.Status.PENDING).order_by("-probability"):
            try:
                reviews.decide(item, merge=merge, user=request.user, note="decided in admin")
            except ServiceError as error:
                self.message_user(request, f"item {item.pk}: {error}", messages.ERROR)
                continue
            done += 1
        verb = "merged" if merge else "marked not a match"
        self.message_user(request, f"{done} pair(s) {verb}.")
