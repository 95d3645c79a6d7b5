"""Registration: a system upserts or retires its own source records and gets the global
ID and the match outcome back at once. A system may write only its own records (a
django-guardian object permission on its source system); another system's records
answer 404, as if they did not exist."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from golden.domains import get_domain
from golden.models import SourceRecord, SourceSystem
from golden.policy import access_for_request
from golden.services import Outcome, RetireError, retire_source_record, upsert_source_record

from .errors import error_response
from .keys import WRITE_RECORDS
from .models import ApiKey
from .serializers import ErrorSerializer, RegistrationSerializer, RetirementSerializer


def actor_label(request) -> str:
    if isinstance(request.auth, ApiKey):
        return f"api:{request.auth.system.code}:{request.auth.prefix}"
    return f"api:user:{request.user}"


def writable_system(request, code: str) -> SourceSystem | None:
    """The source system ``code`` if the caller may write its records, else None."""
    system = SourceSystem.objects.filter(code=code.strip().upper()).first()
    if system is None or not request.user.has_perm(WRITE_RECORDS, system):
        return None
    return system


def payload_problem(domain: str, payload) -> Response | None:
    """The 400 answer for a body that is not a JSON object of the domain's attributes."""
    if not isinstance(payload, dict):
        return error_response(400, "the body must be a JSON object of attributes", "invalid")
    unknown = get_domain(domain).unknown_attributes(payload)
    if unknown:
        return error_response(
            400,
            f"unknown attribute(s) for {domain}: {', '.join(sorted(unknown))}",
            "unknown_attribute",
            attributes=sorted(unknown),
        )
    return None


class SourceRecordView(APIView):
    @extend_schema(
        operation_id="source_upsert",
        summary="Create or update the caller's source record; answers with its global ID",
        request=OpenApiTypes.OBJECT,
        responses={
            200: RegistrationSerializer,
            201: RegistrationSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    def put(self, request, domain: str, system: str, key: str):
        target = writable_system(request, system)
        if target is None:
            return error_response(404, f"no source system {system.upper()} of yours", "not_found")
        payload = request.data
        problem = payload_problem(domain, payload)
        if problem is not None:
            return problem
        forbidden = access_for_request(request, domain).hidden_write(payload)
        if forbidden:
            return error_response(
                403,
                f"you may not write {', '.join(forbidden)} of a {domain}",
                "field_forbidden",
                attributes=forbidden,
            )
        result = upsert_source_record(
            system=target,
            domain=domain,
            source_key=key,
            payload=payload,
            acting_user=request.user,
            actor_label=actor_label(request),
        )
        if result.outcome == Outcome.REJECTED:
            return error_response(
                400, result.reason, "rejected", attribute=result.attribute or None
            )
        outcome = result.outcome.value
        if result.outcome == Outcome.CREATED and result.queued_for_review:
            outcome = "created_queued_for_review"
        access = access_for_request(request, domain)
        created = result.outcome in {Outcome.CREATED, Outcome.ATTACHED}
        return Response(
            {
                "global_id": result.global_id,
                "system": target.code,
                "key": result.source_key,
                "outcome": outcome,
                "probability": result.probability,
                "matched_on": result.matched_on,
                "explanation": access.redact_explanation(result.explanation),
                "queued_for_review": result.queued_for_review,
                "quality_issues": access.redact_issues(result.quality_issues),
            },
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        operation_id="source_retire",
        summary="Retire the caller's source record (the source no longer has it)",
        responses={200: RetirementSerializer, 404: ErrorSerializer},
    )
    def delete(self, request, domain: str, system: str, key: str):
        target = writable_system(request, system)
        record = (
            SourceRecord.objects.filter(system=target, domain=domain, source_key=key)
            .select_related("golden_record")
            .first()
            if target is not None
            else None
        )
        if record is None:
            return error_response(
                404, f"no {domain} with key {key!r} in system {system.upper()} of yours",
                "not_found",
            )  # fmt: skip
        golden = record.golden_record
        if not record.retired:
            try:
                golden = retire_source_record(
                    source_record=record,
                    acting_user=request.user,
                    actor_label=actor_label(request),
                    reason="retired through the API",
                )
            except RetireError as error:
                return error_response(409, str(error), "conflict")
        return Response(
            {
                "system": target.code,
                "key": key,
                "retired": True,
                "global_id": golden.global_id if golden else "",
                "golden_status": golden.status if golden else "",
            }
        )
