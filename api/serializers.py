"""Shapes of requests and answers (also the OpenAPI schema). Global IDs are named
``global_id`` everywhere; attribute values pass the caller's field policy first."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class XrefSerializer(serializers.Serializer):
    system = serializers.CharField()
    key = serializers.CharField()


class XrefAnswerSerializer(serializers.Serializer):
    global_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["active", "retired"])
    system = serializers.CharField()
    key = serializers.CharField()
    xrefs = XrefSerializer(many=True, help_text="every live cross-reference of the record")


class GoldenSerializer(serializers.Serializer):
    global_id = serializers.CharField()
    domain = serializers.CharField()
    status = serializers.ChoiceField(choices=["active", "retired"])
    display_name = serializers.CharField()
    version = serializers.IntegerField()
    values = serializers.DictField(help_text="survived values the caller may read")
    lineage = serializers.DictField(help_text="per value: source record and rule that won")
    xrefs = XrefSerializer(many=True)
    requested_id = serializers.CharField(help_text="the ID asked for")
    redirect_chain = serializers.ListField(
        child=serializers.CharField(),
        help_text="IDs from the requested one to the answered survivor (one when none)",
    )
    updated_at = serializers.DateTimeField()


class GoldenPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next_offset = serializers.IntegerField(allow_null=True)
    results = GoldenSerializer(many=True)


class LookupItemSerializer(serializers.Serializer):
    system = serializers.CharField(required=False, max_length=32)
    key = serializers.CharField(required=False, max_length=200)
    global_id = serializers.CharField(required=False, max_length=64)

    def validate(self, data):
        by_key = "system" in data or "key" in data
        if by_key == ("global_id" in data) or (by_key and not ("system" in data and "key" in data)):
            raise serializers.ValidationError("give either system and key, or global_id")
        return data


class LookupRequestSerializer(serializers.Serializer):
    keys = LookupItemSerializer(many=True, allow_empty=False)


class LookupResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["found", "redirected", "unknown", "invalid"])
    system = serializers.CharField(required=False)
    key = serializers.CharField(required=False)
    requested_id = serializers.CharField(required=False)
    global_id = serializers.CharField(required=False)
    golden_status = serializers.CharField(required=False)
    xrefs = XrefSerializer(many=True, required=False)
    detail = serializers.CharField(required=False)


class LookupAnswerSerializer(serializers.Serializer):
    results = LookupResultSerializer(many=True)


class RegistrationSerializer(serializers.Serializer):
    global_id = serializers.CharField()
    system = serializers.CharField()
    key = serializers.CharField()
    outcome = serializers.ChoiceField(
        choices=["created", "created_queued_for_review", "attached", "updated", "unchanged"]
    )
    probability = serializers.FloatField()
    matched_on = serializers.ListField(child=serializers.CharField())
    explanation = serializers.ListField(child=serializers.DictField())
    queued_for_review = serializers.IntegerField()
    quality_issues = serializers.ListField(child=serializers.DictField())


class RetirementSerializer(serializers.Serializer):
    system = serializers.CharField()
    key = serializers.CharField()
    retired = serializers.BooleanField()
    global_id = serializers.CharField(help_text="the golden record it belonged to")
    golden_status = serializers.CharField()


class ChangeEventSerializer(serializers.Serializer):
    cursor = serializers.CharField(help_text="pass as ?after= to read on from here")
    event_type = serializers.CharField()
    domain = serializers.CharField()
    global_id = serializers.CharField()
    payload = serializers.DictField()
    operation = serializers.UUIDField()
    created_at = serializers.DateTimeField()


class ChangePageSerializer(serializers.Serializer):
    events = ChangeEventSerializer(many=True)
    next_cursor = serializers.CharField(help_text="the cursor to pass next time")
    has_more = serializers.BooleanField()


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


# Search, match probe and stewardship --------------------------------------------------

MAX_REASON_LENGTH = 2000
MAX_MERGE_IDS = 100
MAX_SPLIT_XREFS = 1000


class ForbiddenSerializer(ErrorSerializer):
    attributes = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="the attributes the caller may not use (code field_forbidden)",
    )


class ExplanationItemSerializer(serializers.Serializer):
    comparison = serializers.CharField()
    level = serializers.CharField()
    description = serializers.CharField(help_text="the declared text of the level")
    weight = serializers.FloatField(
        allow_null=True, help_text="evidence in bits; null for identifiers, steward links and notes"
    )


class MatchCandidateSerializer(serializers.Serializer):
    global_id = serializers.CharField()
    probability = serializers.FloatField()
    explanation = ExplanationItemSerializer(many=True)


class MatchProbeSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=["would_attach", "would_create_and_review", "would_create"],
        help_text="what an upsert of these attributes would do now",
    )
    candidates = MatchCandidateSerializer(
        many=True,
        help_text="the record it would join first (would_attach), then doubtful candidates",
    )
    matched_on = serializers.ListField(
        child=serializers.CharField(),
        help_text="comparisons that spoke for the match it would join (empty otherwise)",
    )


class ReviewRecordSerializer(serializers.Serializer):
    system = serializers.CharField()
    key = serializers.CharField()
    global_id = serializers.CharField(allow_null=True, help_text="its golden record")
    retired = serializers.BooleanField()
    values = serializers.DictField(help_text="canonical values the caller may read")


class ReviewItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["pending", "merged", "not_a_match"])
    probability = serializers.FloatField()
    explanation = ExplanationItemSerializer(many=True)
    record_a = ReviewRecordSerializer()
    record_b = ReviewRecordSerializer()
    created_at = serializers.DateTimeField()
    decided_by = serializers.CharField(allow_null=True, help_text="username of the steward")
    decided_at = serializers.DateTimeField(allow_null=True)


class ReviewPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next_offset = serializers.IntegerField(allow_null=True)
    results = ReviewItemSerializer(many=True)


class ReviewDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["merge", "not_a_match"])
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=MAX_REASON_LENGTH
    )


class GoldenListSerializer(serializers.Serializer):
    results = GoldenSerializer(many=True)


class ReviewDecisionAnswerSerializer(serializers.Serializer):
    review = ReviewItemSerializer()
    results = GoldenSerializer(many=True, help_text="the golden records of both records now")


class MergeSerializer(serializers.Serializer):
    merge = serializers.ListField(
        child=serializers.CharField(max_length=64),
        allow_empty=False,
        max_length=MAX_MERGE_IDS,
        help_text="global IDs to merge into the record of the path",
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=MAX_REASON_LENGTH
    )


class UnmergeSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=MAX_REASON_LENGTH
    )


class SplitXrefSerializer(serializers.Serializer):
    system = serializers.CharField(max_length=32)
    key = serializers.CharField(max_length=200)


class SplitSerializer(serializers.Serializer):
    xrefs = SplitXrefSerializer(many=True, allow_empty=False, max_length=MAX_SPLIT_XREFS)
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=MAX_REASON_LENGTH
    )


@extend_schema_field(
    {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
)
class OverrideValueField(serializers.Field):
    """A text, or a list of texts for a multi-valued attribute."""

    default_error_messages = {
        "invalid": "give a text, or a list of texts",
        "null_characters": "must not contain NUL characters",
    }

    def to_internal_value(self, data):
        texts = data if isinstance(data, list) else [data]
        if not all(isinstance(item, str) for item in texts):
            self.fail("invalid")
        if any("\x00" in item for item in texts):
            self.fail("null_characters")
        return data

    def to_representation(self, value):
        return value


class OverrideSerializer(serializers.Serializer):
    value = OverrideValueField(help_text="validated like a source value")
    reason = serializers.CharField(max_length=MAX_REASON_LENGTH)
