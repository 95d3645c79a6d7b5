"""The change feed: every golden-record and cross-reference change, in commit order,
read from the outbox. A consumer keeps the last ``next_cursor`` and passes it as
``?after=``; since outbox rows are numbered in commit order, it never misses an event
and never sees one twice or out of order."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from golden.domains import DOMAINS
from golden.models import ChangeEvent
from golden.policy import Access, access_for_request

from .errors import error_response
from .paging import PageError, limit_of
from .serializers import ChangePageSerializer, ErrorSerializer

DEFAULT_LIMIT = 100


class ChangeFeedView(APIView):
    @extend_schema(
        operation_id="changes_list",
        summary="Changes after a cursor, oldest first",
        parameters=[
            OpenApiParameter(
                "after", OpenApiTypes.STR, description="cursor of the last event seen"
            ),
            OpenApiParameter("domain", OpenApiTypes.STR, enum=list(DOMAINS)),
            OpenApiParameter("limit", OpenApiTypes.INT, description="events per page"),
        ],
        responses={200: ChangePageSerializer, 400: ErrorSerializer},
    )
    def get(self, request):
        after = request.query_params.get("after", "0") or "0"
        if not after.isdigit() or len(after) > 18:
            return error_response(400, f"'{after}' is not a cursor of this feed", "bad_cursor")
        domain = request.query_params.get("domain")
        if domain is not None and domain not in DOMAINS:
            return error_response(
                400, f"unknown domain '{domain}' (use {', '.join(DOMAINS)})", "unknown_domain"
            )
        try:
            limit = limit_of(
                request.query_params.get("limit"), default=DEFAULT_LIMIT, noun="events"
            )
        except PageError as error:
            return error_response(400, error.detail, error.code)
        events = ChangeEvent.objects.filter(pk__gt=int(after)).order_by("pk")
        if domain is not None:
            events = events.filter(domain=domain)
        page = list(events[: limit + 1])
        more = len(page) > limit
        page = page[:limit]
        access = {name: access_for_request(request, name) for name in {e.domain for e in page}}
        return Response(
            {
                "events": [
                    {
                        "cursor": str(event.pk),
                        "event_type": event.event_type,
                        "domain": event.domain,
                        "global_id": event.global_id,
                        "payload": _visible(event.payload, access[event.domain]),
                        "operation": event.operation,
                        "created_at": event.created_at,
                    }
                    for event in page
                ],
                "next_cursor": str(page[-1].pk) if page else after,
                "has_more": more,
            }
        )


def _visible(payload: dict, access: Access) -> dict:
    """Events carry IDs and attribute names, never values; a ``golden.updated`` event
    names only the changed attributes the caller may read."""
    if "changed" not in payload:
        return payload
    return payload | {"changed": [name for name in payload["changed"] if access.can_read(name)]}
