"""Search golden records of one domain: by a loosely typed text (global ID, display
name, source key), status, source system and survived attribute values, in pages.

Filters and ordering over attributes go through the caller's field policy before
any query reads master data: an attribute the caller may not read is refused with
403 naming it, so neither a count, nor an ordering, nor the time an answer takes
says anything about its values.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import BooleanField, Exists, F, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from golden.domains import DOMAINS, get_domain
from golden.global_ids import GlobalIdError, parse_global_id
from golden.models import GoldenRecord, SourceRecord, SourceSystem
from golden.policy import access_for_request

from .errors import error_response
from .lookup import golden_answer, xrefs_by_golden
from .paging import PageError, limit_of, offset_of
from .serializers import ErrorSerializer, ForbiddenSerializer, GoldenPageSerializer

DEFAULT_LIMIT = 50
MAX_TEXT_LENGTH = 300
MAX_ORDERING_KEYS = 3
ATTRIBUTE_PREFIX = "attr."
COLUMNS = {"global_id": "global_id", "display_name": "display_name", "updated_at": "updated_at"}
STATUSES = ("active", "retired")
PLAIN_PARAMETERS = frozenset({"q", "status", "system", "ordering", "limit", "offset"})


class BadQuery(Exception):
    """A parameter the search cannot honour: answered as it says."""

    def __init__(self, status: int, detail: str, code: str, **extra) -> None:
        super().__init__(detail)
        self.status, self.detail, self.code, self.extra = status, detail, code, extra

    def response(self) -> Response:
        return error_response(self.status, self.detail, self.code, **self.extra)


@dataclass
class Search:
    """The parsed parameters of one search."""

    q: str = ""
    status: str = ""
    system: str = ""
    attributes: dict[str, str] = field(default_factory=dict)  # name → wanted value
    ordering: list[tuple[str, bool]] = field(default_factory=list)  # (key, descending)
    limit: int = DEFAULT_LIMIT
    offset: int = 0


def _attribute_parameters() -> list[OpenApiParameter]:
    by_name: dict[str, list[str]] = {}
    for domain in DOMAINS.values():
        for name in domain.attribute_names:
            by_name.setdefault(name, []).append(domain.name)
    return [
        OpenApiParameter(
            f"{ATTRIBUTE_PREFIX}{name}",
            OpenApiTypes.STR,
            description=(
                f"exact survived value of {name} ({', '.join(domains)}); for a multi-valued "
                "attribute, one of its values. 400 in another domain, 403 when the caller "
                "may not read it"
            ),
        )
        for name, domains in sorted(by_name.items())
    ]


class GoldenSearchView(APIView):
    @extend_schema(
        operation_id="golden_search",
        summary="Search golden records (text, status, system, attribute values), in pages",
        parameters=[
            OpenApiParameter(
                "q",
                OpenApiTypes.STR,
                description=(
                    "a global ID (typed loosely), part of the display name (any case), or a "
                    "source key of any system (exact)"
                ),
            ),
            OpenApiParameter("status", OpenApiTypes.STR, enum=list(STATUSES)),
            OpenApiParameter(
                "system",
                OpenApiTypes.STR,
                description="only records with a live cross-reference from this system",
            ),
            OpenApiParameter(
                "ordering",
                OpenApiTypes.STR,
                description=(
                    "comma-separated keys among global_id, display_name, updated_at and "
                    "attr.<name> (a readable attribute); '-' before a key sorts descending. "
                    "Default: global_id"
                ),
            ),
            OpenApiParameter(
                "limit",
                OpenApiTypes.INT,
                description=f"records per page (default {DEFAULT_LIMIT}, at most "
                "MDM_API_MAX_PAGE_SIZE)",
            ),
            OpenApiParameter("offset", OpenApiTypes.INT, description="records to skip"),
            *_attribute_parameters(),
        ],
        responses={
            200: GoldenPageSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="unknown parameter or attribute, bad ordering, limit or offset",
            ),
            403: OpenApiResponse(
                ForbiddenSerializer,
                description="a filter or ordering on an attribute the caller may not read",
            ),
            404: OpenApiResponse(ErrorSerializer, description="no such domain"),
        },
    )
    def get(self, request, domain: str):
        try:
            search = parse_search(request, domain)
            found = matching_records(domain, search)
        except BadQuery as refusal:
            return refusal.response()
        count = found.count()
        page = list(found[search.offset : search.offset + search.limit])
        xrefs = xrefs_by_golden(golden.pk for golden in page)
        end = search.offset + len(page)
        return Response(
            {
                "count": count,
                "next_offset": end if page and end < count else None,
                "results": [
                    golden_answer(
                        request,
                        golden,
                        golden.global_id,
                        [golden.global_id],
                        xrefs.get(golden.pk, []),
                    )
                    for golden in page
                ],
            }
        )


def parse_search(request, domain_name: str) -> Search:
    """Every parameter checked, the field policy included, without reading master data."""
    params = request.query_params
    domain = get_domain(domain_name)
    search = Search()
    unknown = sorted(
        name
        for name in params
        if name not in PLAIN_PARAMETERS and not name.startswith(ATTRIBUTE_PREFIX)
    )
    if unknown:
        raise BadQuery(400, f"unknown parameter(s): {', '.join(unknown)}", "unknown_parameter")
    for name in params:
        if name.startswith(ATTRIBUTE_PREFIX):
            search.attributes[name[len(ATTRIBUTE_PREFIX) :]] = _text(params, name)
    search.q = _text(params, "q")
    search.status = _text(params, "status")
    if search.status and search.status not in STATUSES:
        raise BadQuery(400, f"status must be one of {', '.join(STATUSES)}", "bad_status")
    search.system = _text(params, "system").upper()
    search.ordering = _ordering(_text(params, "ordering") or "global_id")

    named = list(search.attributes) + [
        key[len(ATTRIBUTE_PREFIX) :]
        for key, _ in search.ordering
        if key.startswith(ATTRIBUTE_PREFIX)
    ]
    unknown_attributes = sorted(set(domain.unknown_attributes(named)))
    if unknown_attributes:
        raise BadQuery(
            400,
            f"unknown attribute(s) for {domain.name}: {', '.join(unknown_attributes)}",
            "unknown_attribute",
            attributes=unknown_attributes,
        )
    hidden = access_for_request(request, domain.name).hidden_read(named)
    if hidden:
        raise BadQuery(
            403,
            f"you may not filter or order {domain.name} records by {', '.join(hidden)}",
            "field_forbidden",
            attributes=hidden,
        )
    try:
        search.limit = limit_of(params.get("limit"), default=DEFAULT_LIMIT, noun="records")
        search.offset = offset_of(params.get("offset"))
    except PageError as error:
        raise BadQuery(400, error.detail, error.code) from None
    return search


def matching_records(domain_name: str, search: Search) -> QuerySet[GoldenRecord]:
    domain = get_domain(domain_name)
    found = GoldenRecord.objects.filter(domain=domain.name)
    if search.status:
        found = found.filter(status=search.status)
    if search.system:
        system = SourceSystem.objects.filter(code=search.system).first()
        if system is None:
            raise BadQuery(400, f"unknown source system {search.system}", "unknown_system")
        found = found.filter(
            Exists(
                SourceRecord.objects.filter(
                    golden_record=OuterRef("pk"), system=system, domain=domain.name, retired=False
                )
            )
        )
    if search.q:
        found = found.filter(_text_match(domain.name, search.q))
    for position, (name, value) in enumerate(sorted(search.attributes.items())):
        found = _filter_value(
            found, name, value, multi=domain.attribute(name).multi_valued, alias=f"_a{position}"
        )
    return found.order_by(*_order_expressions(search.ordering))


def _text_match(domain: str, text: str) -> Q:
    condition = Q(display_name__icontains=text) | Q(
        Exists(
            SourceRecord.objects.filter(
                golden_record=OuterRef("pk"), domain=domain, source_key=text, retired=False
            )
        )
    )
    with contextlib.suppress(GlobalIdError):
        condition |= Q(global_id=str(parse_global_id(text)))
    return condition


def _filter_value(found: QuerySet, name: str, value: str, *, multi: bool, alias: str) -> QuerySet:
    if not multi:
        return found.alias(**{alias: KeyTransform(name, "values")}).filter(**{alias: value})
    if connection.vendor == "postgresql":
        return found.alias(**{alias: KeyTransform(name, "values")}).filter(
            **{f"{alias}__contains": [value]}
        )
    table = connection.ops.quote_name(GoldenRecord._meta.db_table)
    column = connection.ops.quote_name(GoldenRecord._meta.get_field("values").column)
    return found.filter(
        RawSQL(
            f"EXISTS (SELECT 1 FROM json_each({table}.{column}, %s) AS element "
            f"WHERE element.value = %s)",
            [f'$."{name}"', value],
            output_field=BooleanField(),
        )
    )


def _order_expressions(ordering: list[tuple[str, bool]]) -> list:
    expressions = []
    for key, descending in ordering:
        if key.startswith(ATTRIBUTE_PREFIX):
            expression = KeyTextTransform(key[len(ATTRIBUTE_PREFIX) :], "values")
        else:
            expression = F(COLUMNS[key])
        expressions.append(
            expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
        )
    if not any(key == "global_id" for key, _ in ordering):
        expressions.append(F("global_id").asc())  # a stable order for paging
    return expressions


def _ordering(text: str) -> list[tuple[str, bool]]:
    keys = [part.strip() for part in text.split(",")]
    if len(keys) > MAX_ORDERING_KEYS or not all(keys):
        raise BadQuery(
            400, f"ordering takes 1 to {MAX_ORDERING_KEYS} comma-separated keys", "bad_ordering"
        )
    result = []
    for key in keys:
        descending = key.startswith("-")
        name = key[1:] if descending else key
        if name not in COLUMNS and not (
            name.startswith(ATTRIBUTE_PREFIX) and len(name) > len(ATTRIBUTE_PREFIX)
        ):
            raise BadQuery(
                400,
                f"cannot order by '{name}' (use global_id, display_name, updated_at or "
                "attr.<name>, with '-' for descending)",
                "bad_ordering",
            )
        result.append((name, descending))
    return result


def _text(params, name: str) -> str:
    value = (params.get(name) or "").strip()
    if len(value) > MAX_TEXT_LENGTH:
        raise BadQuery(400, f"{name} is longer than {MAX_TEXT_LENGTH} characters", "invalid")
    if "\x00" in value:
        raise BadQuery(400, f"{name} contains a NUL character", "invalid")
    return value
