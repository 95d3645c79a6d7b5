"""Stewardship: merge, unmerge and split golden records, and set or remove a
steward's override of one attribute. For data stewards (the ``data_steward`` role)
and superusers only; each call goes through ``golden.services`` with the caller as
the acting user, and answers with the golden records after the change.

The global ID in the path names the record itself: a merged-away ID is not
followed to its survivor (merging into it or overriding it is refused as retired).
"""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from golden.domains import get_domain
from golden.global_ids import GlobalIdError, parse_global_id
from golden.lookup import follow
from golden.models import AttributeOverride, GoldenRecord, SourceRecord, SourceSystem
from golden.policy import DATA_STEWARD, access_for_request
from golden.services import (
    MergeError,
    OverrideError,
    ServiceError,
    merge_golden_records,
    remove_attribute_override,
    set_attribute_override,
    split_source_records,
    unmerge_golden_record,
)

from .errors import error_response
from .idempotency import idempotent
from .lookup import golden_answer, xrefs_by_golden
from .probe import IDEMPOTENCY_HEADER
from .serializers import (
    MAX_REASON_LENGTH,
    ErrorSerializer,
    ForbiddenSerializer,
    GoldenListSerializer,
    GoldenSerializer,
    MergeSerializer,
    OverrideSerializer,
    SplitSerializer,
    UnmergeSerializer,
)
from .sources import actor_label


class IsSteward(BasePermission):
    """Data stewards and superusers; anyone else is refused with ``not_a_steward``."""

    message = "only data stewards may do this (role data_steward)"
    code = "not_a_steward"

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        return user.is_superuser or user.groups.filter(name=DATA_STEWARD).exists()


class Refusal(Exception):
    """A request the endpoint answers with an error instead of a change."""

    def __init__(self, status: int, detail: str, code: str, **extra) -> None:
        super().__init__(detail)
        self.status, self.detail, self.code, self.extra = status, detail, code, extra

    def response(self) -> Response:
        return error_response(self.status, self.detail, self.code, **self.extra)


class StewardView(APIView):
    permission_classes = [IsAuthenticated, IsSteward]

    def handle_exception(self, exc):
        if isinstance(exc, Refusal):
            return exc.response()
        return super().handle_exception(exc)


def steward_responses(ok, *extra: int, texts: dict[int, str] | None = None) -> dict:
    """The answers of a steward endpoint: ``ok`` on success, then the errors 400, 403,
    404 and ``extra`` (``texts`` replaces their default descriptions)."""
    described = {
        400: "invalid body, malformed global ID or wrong check character",
        403: "not a data steward, or an attribute the caller may not write",
        404: "no such domain, or no such global ID in it",
        409: "the records' state does not allow it (the reason says why)",
        422: "Idempotency-Key used for another request",
    } | (texts or {})
    responses = {200: ok}
    for status in (400, 403, 404, *extra):
        serializer = ForbiddenSerializer if status == 403 else ErrorSerializer
        responses[status] = OpenApiResponse(serializer, description=described[status])
    return responses


def global_id_of(text: str) -> str:
    try:
        return str(parse_global_id(text))
    except GlobalIdError as error:
        raise Refusal(400, error.reason, error.code) from None


def golden_of_path(domain: str, text: str) -> GoldenRecord:
    """The golden record the path names (never a redirect), or a 400/404 refusal."""
    global_id = global_id_of(text)
    golden = GoldenRecord.objects.filter(global_id=global_id).first()
    if golden is None:
        raise Refusal(404, f"no such ID: {global_id} was never issued", "not_found")
    if golden.domain != domain:
        raise Refusal(404, f"{global_id} is not a {domain} ID", "wrong_domain")
    return golden


def validated(serializer_class, request) -> dict:
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data


def answers(request, goldens: list[GoldenRecord]) -> list[dict]:
    """:func:`golden_answer` of each record (their cross-references read at once)."""
    xrefs = xrefs_by_golden(golden.pk for golden in goldens)
    return [
        golden_answer(
            request, golden, golden.global_id, [golden.global_id], xrefs.get(golden.pk, [])
        )
        for golden in goldens
    ]


def rendered(serializer_class, data: dict) -> dict:
    """``data`` as its serializer renders it: JSON types only, so the copy that
    :func:`api.idempotency.idempotent` keeps replays exactly the first answer."""
    return serializer_class(data).data


def conflict(error: ServiceError) -> Refusal:
    return Refusal(409, str(error), "conflict")


class MergeView(StewardView):
    @extend_schema(
        operation_id="golden_merge",
        summary="Merge golden records into the one of the path (the survivor keeps its ID)",
        request=MergeSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses=steward_responses(GoldenSerializer, 409, 422),
    )
    @idempotent
    def post(self, request, domain: str, global_id: str):
        survivor = golden_of_path(domain, global_id)
        body = validated(MergeSerializer, request)
        wanted = [global_id_of(text) for text in body["merge"]]
        if survivor.global_id in wanted:
            raise Refusal(400, f"cannot merge {survivor.global_id} into itself", "invalid")
        twice = sorted({text for text in wanted if wanted.count(text) > 1})
        if twice:
            raise Refusal(400, f"listed more than once: {', '.join(twice)}", "invalid")
        found = {
            golden.global_id: golden for golden in GoldenRecord.objects.filter(global_id__in=wanted)
        }
        for text in wanted:
            if text not in found:
                raise Refusal(404, f"no such ID: {text} was never issued", "not_found")
            if found[text].domain != domain:
                raise Refusal(404, f"{text} is not a {domain} ID", "wrong_domain")
        try:
            with transaction.atomic():
                for text in wanted:
                    survivor = merge_golden_records(
                        survivor=survivor,
                        merged=found[text],
                        acting_user=request.user,
                        actor_label=actor_label(request),
                        reason=body["reason"],
                    )
        except MergeError as error:
            raise conflict(error) from None
        return Response(rendered(GoldenSerializer, answers(request, [survivor])[0]))


class UnmergeView(StewardView):
    @extend_schema(
        operation_id="golden_unmerge",
        summary="Undo the merge of the merged-away record of the path; its ID comes back",
        description="Answers with the restored record, then the survivor it left.",
        request=UnmergeSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses=steward_responses(
            GoldenListSerializer, 409, 422, texts={409: "the record of the path was not merged"}
        ),
    )
    @idempotent
    def post(self, request, domain: str, global_id: str):
        merged = golden_of_path(domain, global_id)
        body = validated(UnmergeSerializer, request)
        if merged.merged_into_id is None:
            raise Refusal(
                409, f"{merged.global_id} was not merged into another record", "not_merged"
            )
        survivor = follow(merged.global_id, merged).golden
        try:
            restored = unmerge_golden_record(
                merged=merged,
                acting_user=request.user,
                actor_label=actor_label(request),
                reason=body["reason"],
            )
        except ServiceError as error:
            raise conflict(error) from None
        survivor.refresh_from_db()
        return Response(
            rendered(GoldenListSerializer, {"results": answers(request, [restored, survivor])})
        )


class SplitView(StewardView):
    @extend_schema(
        operation_id="golden_split",
        summary="Move cross-references out of the record of the path into their own record",
        description=(
            "Answers with the record of the path, then the record that now holds the "
            "cross-references (a record merged earlier comes back with its ID when they "
            "are exactly its records)."
        ),
        request=SplitSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses=steward_responses(
            GoldenListSerializer,
            409,
            422,
            texts={404: "no such domain, global ID in it, or cross-reference"},
        ),
    )
    @idempotent
    def post(self, request, domain: str, global_id: str):
        golden = golden_of_path(domain, global_id)
        body = validated(SplitSerializer, request)
        records = source_records(domain, [(x["system"], x["key"]) for x in body["xrefs"]])
        try:
            target = split_source_records(
                golden=golden,
                source_records=records,
                acting_user=request.user,
                actor_label=actor_label(request),
                reason=body["reason"],
            )
        except ServiceError as error:
            raise conflict(error) from None
        golden.refresh_from_db()
        return Response(
            rendered(GoldenListSerializer, {"results": answers(request, [golden, target])})
        )


def source_records(domain: str, xrefs: list[tuple[str, str]]) -> list[SourceRecord]:
    """The source records named by (system, key), or a 404 refusal naming the first
    one missing."""
    wanted = list(dict.fromkeys((system.strip().upper(), key) for system, key in xrefs))
    systems = dict(
        SourceSystem.objects.filter(code__in={code for code, _ in wanted}).values_list("code", "pk")
    )
    found: dict[tuple[str, str], SourceRecord] = {}
    code_of = {pk: code for code, pk in systems.items()}
    for record in SourceRecord.objects.filter(
        domain=domain,
        system_id__in=list(systems.values()),
        source_key__in=list({key for _, key in wanted}),
    ):
        found[(code_of[record.system_id], record.source_key)] = record
    for code, key in wanted:
        if (code, key) not in found:
            raise Refusal(404, f"no {domain} with key {key!r} in system {code}", "not_found")
    return [found[pair] for pair in wanted]


class OverrideView(StewardView):
    def target(self, request, domain: str, global_id: str, attribute: str) -> GoldenRecord:
        golden = golden_of_path(domain, global_id)
        if get_domain(domain).unknown_attributes([attribute]):
            raise Refusal(
                400,
                f"{domain} has no attribute '{attribute}'",
                "unknown_attribute",
                attributes=[attribute],
            )
        if access_for_request(request, domain).hidden_write([attribute]):
            raise Refusal(
                403,
                f"you may not write {attribute} of a {domain}",
                "field_forbidden",
                attributes=[attribute],
            )
        if not golden.is_active:
            raise Refusal(409, f"{golden.global_id} is retired", "conflict")
        return golden

    @extend_schema(
        operation_id="golden_override_set",
        summary="Set a steward's value for one attribute; it wins until removed",
        request=OverrideSerializer,
        responses=steward_responses(
            GoldenSerializer,
            409,
            texts={
                400: "invalid body or value, unknown attribute, malformed global ID",
                409: "the record is retired",
            },
        ),
    )
    def put(self, request, domain: str, global_id: str, attribute: str):
        golden = self.target(request, domain, global_id, attribute)
        body = validated(OverrideSerializer, request)
        try:
            golden = set_attribute_override(
                golden=golden,
                attribute=attribute,
                value=body["value"],
                reason=body["reason"],
                acting_user=request.user,
                actor_label=actor_label(request),
            )
        except OverrideError as error:
            raise Refusal(400, str(error), "invalid_value") from None
        return Response(rendered(GoldenSerializer, answers(request, [golden])[0]))

    @extend_schema(
        operation_id="golden_override_remove",
        summary="Remove the override of one attribute: survivorship decides again",
        parameters=[
            OpenApiParameter(
                "reason",
                OpenApiTypes.STR,
                description=f"why (journalled; at most {MAX_REASON_LENGTH} characters)",
            )
        ],
        responses=steward_responses(
            GoldenSerializer,
            409,
            texts={
                400: "unknown attribute, malformed global ID, reason too long",
                404: "no such domain, global ID in it, or override of the attribute",
                409: "the record is retired",
            },
        ),
    )
    def delete(self, request, domain: str, global_id: str, attribute: str):
        golden = self.target(request, domain, global_id, attribute)
        reason = (request.query_params.get("reason") or "").strip()
        if len(reason) > MAX_REASON_LENGTH or "\x00" in reason:
            raise Refusal(400, f"reason: at most {MAX_REASON_LENGTH} characters, no NUL", "invalid")
        if not AttributeOverride.objects.filter(golden_record=golden, attribute=attribute).exists():
            raise Refusal(404, f"{golden.global_id} has no override of '{attribute}'", "not_found")
        try:
            golden = remove_attribute_override(
                golden=golden,
                attribute=attribute,
                reason=reason,
                acting_user=request.user,
                actor_label=actor_label(request),
            )
        except OverrideError as error:
            raise conflict(error) from None
        return Response(rendered(GoldenSerializer, answers(request, [golden])[0]))
