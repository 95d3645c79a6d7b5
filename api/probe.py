"""Match probe: "does this already exist?" for a set of attributes, without storing
anything. The attributes are validated by the domain and placed by the same matcher
an upsert uses (``matching.services.match_new_records``), inside a transaction that
is rolled back, so a probe leaves no row behind (the advisory locks the matcher takes
on PostgreSQL end with it)."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from golden.domains import RecordRejected, get_domain
from golden.models import GoldenRecord, SourceRecord
from golden.policy import access_for_request
from matching import services as matching

from .errors import error_response
from .idempotency import idempotent
from .models import ApiKey
from .serializers import ErrorSerializer, ForbiddenSerializer, MatchProbeSerializer
from .sources import payload_problem

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    description="repeat the request with the same key to get the first answer again "
    "(at most 200 characters)",
)


class MatchProbeView(APIView):
    @extend_schema(
        operation_id="match_probe",
        summary="Would these attributes attach to an existing golden record? Stores nothing",
        description=(
            "The body is a JSON object of attributes, as for a registration. The answer "
            "says what an upsert would do now: attach to a golden record, create one and "
            "queue doubtful candidates for review, or create one. A caller with an API key "
            "is matched as a record of the key's source system."
        ),
        request=OpenApiTypes.OBJECT,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            200: MatchProbeSerializer,
            400: OpenApiResponse(
                ErrorSerializer, description="not an object, unknown attribute, or rejected"
            ),
            403: OpenApiResponse(
                ForbiddenSerializer,
                description="an attribute the caller may neither read nor write",
            ),
            404: OpenApiResponse(ErrorSerializer, description="no such domain"),
            422: OpenApiResponse(
                ErrorSerializer, description="Idempotency-Key used for another request"
            ),
        },
    )
    @idempotent
    def post(self, request, domain: str):
        declared = get_domain(domain)
        payload = request.data
        problem = payload_problem(domain, payload)
        if problem is not None:
            return problem
        access = access_for_request(request, domain)
        # A caller that may register a value learns the same by registering it; one that
        # may neither read nor write it must not learn whether a record carries it.
        hidden = [name for name in payload if not (access.can_read(name) or access.can_write(name))]
        if hidden:
            return error_response(
                403,
                f"you may not match {domain} records on {', '.join(hidden)}",
                "field_forbidden",
                attributes=hidden,
            )
        try:
            canonical = declared.validate(payload).canonical
        except RecordRejected as error:
            return error_response(400, error.reason, "rejected", attribute=error.attribute or None)
        system_id = request.auth.system_id if isinstance(request.auth, ApiKey) else None
        with transaction.atomic():
            (decision,) = matching.match_new_records(
                declared,
                [canonical],
                keys_per_record=[matching.record_keys(declared, canonical)],
                system_id=system_id,
            )
            transaction.set_rollback(True)
        return Response(answer(decision, access))


def answer(decision: matching.MatchDecision, access) -> dict:
    """The probe's answer for the matcher's decision, explanations redacted."""
    reviewed = [(member, p, why) for member, p, why in decision.review if isinstance(member, int)]
    golden_of_record = dict(
        SourceRecord.objects.filter(pk__in=[member for member, _, _ in reviewed]).values_list(
            "pk", "golden_record__global_id"
        )
    )
    candidates: dict[str, dict] = {}
    matched_on: list[str] = []
    if decision.attaches:
        global_id = GoldenRecord.objects.values_list("global_id", flat=True).get(
            pk=decision.golden_record_id
        )
        candidates[global_id] = _candidate(
            global_id, decision.probability, decision.explanation, access
        )
        matched_on = [
            entry["comparison"]
            for entry in decision.explanation
            if entry["weight"] is None or entry["weight"] > 0
        ]
    for member, probability, explanation in sorted(reviewed, key=lambda item: -item[1]):
        global_id = golden_of_record.get(member)
        if global_id is None or global_id in candidates:
            continue
        candidates[global_id] = _candidate(global_id, probability, explanation, access)
    if decision.attaches:
        outcome = "would_attach"
    elif candidates:
        outcome = "would_create_and_review"
    else:
        outcome = "would_create"
    return {"decision": outcome, "candidates": list(candidates.values()), "matched_on": matched_on}


def _candidate(global_id: str, probability: float, explanation, access) -> dict:
    return {
        "global_id": global_id,
        "probability": probability,
        "explanation": access.redact_explanation(explanation),
    }
