"""Shapes of requests and answers (also the OpenAPI schema). Global IDs are named
``global_id`` everywhere; attribute values pass the caller's field policy first."""

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
