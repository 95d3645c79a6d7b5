"""The review queue for data stewards: doubtful pairs of source records, and a
steward's decision on one (``matching.reviews.decide``: merge, or not a match).
Canonical values and explanations pass the caller's field policy."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response

from golden.models import GoldenRecord, SourceRecord
from golden.policy import Access, access_for_request
from golden.services import ServiceError
from matching.models import ReviewItem
from matching.reviews import decide

from .errors import error_response
from .idempotency import idempotent
from .paging import PageError, limit_of, offset_of
from .probe import IDEMPOTENCY_HEADER
from .serializers import (
    ErrorSerializer,
    ForbiddenSerializer,
    ReviewDecisionAnswerSerializer,
    ReviewDecisionSerializer,
    ReviewPageSerializer,
)
from .sources import actor_label
from .stewardship import (
    Refusal,
    StewardView,
    answers,
    rendered,
    steward_responses,
    validated,
)

DEFAULT_LIMIT = 50
MAX_ITEM_ID = 2**63 - 1
STATUSES = [choice for choice, _ in ReviewItem.Status.choices]
RELATED = (
    "record_a__system",
    "record_a__golden_record",
    "record_b__system",
    "record_b__golden_record",
    "decided_by",
)


def review_answer(item: ReviewItem, access: Access) -> dict:
    return {
        "id": item.pk,
        "status": item.status,
        "probability": item.probability,
        "explanation": access.redact_explanation(item.explanation),
        "record_a": _record(item.record_a, access),
        "record_b": _record(item.record_b, access),
        "created_at": item.created_at,
        "decided_by": item.decided_by.get_username() if item.decided_by_id else None,
        "decided_at": item.decided_at,
    }


def _record(record: SourceRecord, access: Access) -> dict:
    golden = record.golden_record
    return {
        "system": record.system.code,
        "key": record.source_key,
        "global_id": golden.global_id if golden is not None else None,
        "retired": record.retired,
        "values": access.redact(record.canonical),
    }


class ReviewListView(StewardView):
    @extend_schema(
        operation_id="reviews_list",
        summary="Review items of the domain, most probable first",
        parameters=[
            OpenApiParameter(
                "status", OpenApiTypes.STR, enum=STATUSES, description="default: pending"
            ),
            OpenApiParameter(
                "limit",
                OpenApiTypes.INT,
                description=f"items per page (default {DEFAULT_LIMIT}, at most "
                "MDM_API_MAX_PAGE_SIZE)",
            ),
            OpenApiParameter("offset", OpenApiTypes.INT, description="items to skip"),
        ],
        responses={
            200: ReviewPageSerializer,
            400: OpenApiResponse(ErrorSerializer, description="bad status, limit or offset"),
            403: OpenApiResponse(ForbiddenSerializer, description="not a data steward"),
            404: OpenApiResponse(ErrorSerializer, description="no such domain"),
        },
    )
    def get(self, request, domain: str):
        params = request.query_params
        status = params.get("status") or ReviewItem.Status.PENDING
        if status not in STATUSES:
            return error_response(400, f"status must be one of {', '.join(STATUSES)}", "bad_status")
        try:
            limit = limit_of(params.get("limit"), default=DEFAULT_LIMIT)
            offset = offset_of(params.get("offset"))
        except PageError as error:
            return error_response(400, error.detail, error.code)
        items = ReviewItem.objects.filter(domain=domain, status=status).order_by(
            "-probability", "pk"
        )
        count = items.count()
        page = list(items.select_related(*RELATED)[offset : offset + limit])
        access = access_for_request(request, domain)
        end = offset + len(page)
        return Response(
            {
                "count": count,
                "next_offset": end if page and end < count else None,
                "results": [review_answer(item, access) for item in page],
            }
        )


class ReviewDecisionView(StewardView):
    @extend_schema(
        operation_id="review_decide",
        summary="Decide a pending review item: merge the pair, or declare it not a match",
        description=(
            "Answers with the decided item and the golden records of both records after "
            "the decision. A not-a-match is binding while the compared attributes of both "
            "records stay as they are."
        ),
        request=ReviewDecisionSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses=steward_responses(
            ReviewDecisionAnswerSerializer,
            409,
            422,
            texts={
                400: "invalid body",
                403: "not a data steward",
                404: "no such domain, or no such review item in it",
                409: "already decided, or one of the records is retired",
            },
        ),
    )
    @idempotent
    def post(self, request, domain: str, item_id: int):
        item = (
            ReviewItem.objects.filter(pk=item_id, domain=domain).first()
            if item_id <= MAX_ITEM_ID
            else None
        )
        if item is None:
            raise Refusal(404, f"no {domain} review item {item_id}", "not_found")
        body = validated(ReviewDecisionSerializer, request)
        if item.status != ReviewItem.Status.PENDING:
            raise Refusal(
                409, f"review item {item.pk} is already decided ({item.status})", "already_decided"
            )
        try:
            decide(
                item,
                merge=body["decision"] == "merge",
                user=request.user,
                note=body["note"],
                actor_label=actor_label(request),
            )
        except ServiceError as error:
            raise Refusal(409, str(error), "conflict") from None
        item = ReviewItem.objects.select_related(*RELATED).get(pk=item.pk)
        golden_ids = SourceRecord.objects.filter(
            pk__in=[item.record_a_id, item.record_b_id]
        ).values_list("golden_record_id", flat=True)
        goldens = list(GoldenRecord.objects.filter(pk__in=set(golden_ids)).order_by("pk"))
        answer = {
            "review": review_answer(item, access_for_request(request, domain)),
            "results": answers(request, goldens),
        }
        return Response(rendered(ReviewDecisionAnswerSerializer, answer))
