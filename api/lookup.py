"""ID lookup: one cross-reference, one golden record, or up to ``MDM_API_MAX_BATCH``
keys and IDs in one call. Answers carry global IDs and cross-references; attribute
values only after the caller's field policy."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

import orjson
import psycopg
from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from golden.global_ids import GlobalIdError, parse_global_id
from golden.lookup import resolve_global_id
from golden.models import GoldenRecord, SourceRecord, SourceSystem
from golden.policy import access_for_request
from golden.services import NotFound

from .authentication import valid_api_key
from .errors import error_response
from .idempotency import idempotent
from .serializers import (
    ErrorSerializer,
    GoldenSerializer,
    LookupAnswerSerializer,
    LookupRequestSerializer,
    XrefAnswerSerializer,
)
from .throttling import api_key_within_rate

SQL_IN_CHUNK = 500
MAX_REDIRECTS = 1000
_RECORD = SourceRecord._meta.db_table
_SYSTEM = SourceSystem._meta.db_table
_GOLDEN = GoldenRecord._meta.db_table
#: One source key → its golden record's ID, status and every live cross-reference.
XREF_SQL = (
    f"SELECT g.global_id, g.status, s2.code, x.source_key FROM {_RECORD} sr "
    f"JOIN {_SYSTEM} s ON s.id = sr.system_id "
    f"JOIN {_GOLDEN} g ON g.id = sr.golden_record_id "
    f"JOIN {_RECORD} x ON x.golden_record_id = g.id AND NOT x.retired "
    f"JOIN {_SYSTEM} s2 ON s2.id = x.system_id "
    f"WHERE s.code = %s AND sr.domain = %s AND sr.source_key = %s AND NOT sr.retired "
    f"ORDER BY s2.code, x.source_key"
)


def _select(sql: str, params: list) -> list[tuple]:
    """Rows of ``sql``. On PostgreSQL a prepared statement: planning these joins costs
    more than running them, and Django's cursors bind parameters client-side, so they
    never prepare (``prepare_threshold`` in the settings)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    with connection.wrap_database_errors:
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, params, prepare=True)
            return cursor.fetchall()


def _matching(sql: str, params: list, values: list) -> Iterator[tuple]:
    """Rows of ``sql`` whose ``{match}`` compares with ``values``: one prepared query
    with an array on PostgreSQL, chunks of an IN list elsewhere."""
    if connection.vendor == "postgresql":
        # %b: the array goes in binary form, dumped several times faster than as text.
        yield from _select(sql.format(match="= ANY(%b)"), [*params, values])
        return
    for chunk in _chunks(values):
        marks = ", ".join(["%s"] * len(chunk))
        yield from _select(sql.format(match=f"IN ({marks})"), [*params, *chunk])


#: Live cross-references of golden records (read from one covering index on
#: PostgreSQL; system codes and order are added in Python, cheaper than a join and a
#: sort in the database).
XREFS_OF_GOLDEN_SQL = (
    f"SELECT golden_record_id, system_id, source_key FROM {_RECORD} "
    f"WHERE NOT retired AND golden_record_id {{match}}"
)
SYSTEM_CODES_SQL = f"SELECT id, code FROM {_SYSTEM} WHERE id {{match}}"
SYSTEM_IDS_SQL = f"SELECT code, id FROM {_SYSTEM} WHERE code {{match}}"


def xrefs_by_golden(golden_ids: Iterable[int]) -> dict[int, list[dict[str, str]]]:
    """golden record id → its live cross-references, sorted by system and key."""
    rows = list(_matching(XREFS_OF_GOLDEN_SQL, [], sorted(set(golden_ids))))
    codes = dict(_matching(SYSTEM_CODES_SQL, [], sorted({row[1] for row in rows})))
    found: dict[int, list[dict[str, str]]] = defaultdict(list)
    for golden, code, key in sorted((golden, codes[system], key) for golden, system, key in rows):
        found[golden].append({"system": code, "key": key})
    return found


def golden_answer(
    request,
    golden: GoldenRecord,
    requested: str,
    chain: list[str],
    xrefs: list[dict[str, str]] | None = None,
) -> dict:
    """The answer for one golden record, values through the caller's field policy.
    ``xrefs``: its live cross-references when already read (a page of records reads
    those of every record at once with :func:`xrefs_by_golden`)."""
    access = access_for_request(request, golden.domain)
    if xrefs is None:
        xrefs = xrefs_by_golden([golden.pk]).get(golden.pk, [])
    return {
        "global_id": golden.global_id,
        "domain": golden.domain,
        "status": golden.status,
        "display_name": golden.display_name,
        "version": golden.version,
        "values": access.redact(golden.values),
        "lineage": access.redact(golden.lineage),
        "xrefs": xrefs,
        "requested_id": requested,
        "redirect_chain": chain,
        "updated_at": golden.updated_at,
    }


def _xref_rows(domain: str, code: str, key: str) -> list[tuple]:
    return _select(XREF_SQL, [code, domain, key])  # the hot path: no ORM compilation


def _xref_answer(rows: list[tuple], code: str, key: str) -> dict:
    return {
        "global_id": rows[0][0],
        "status": rows[0][1],
        "system": code,
        "key": key,
        "xrefs": [{"system": other, "key": other_key} for _, _, other, other_key in rows],
    }


#: Accept headers the JSON-only API answers without content negotiation.
_PLAIN_ACCEPT = frozenset({"", "*/*", "application/json"})


class XrefDetailView(APIView):
    """The most frequent call of all. A plain GET with a valid API key within its rate
    is answered straight from :meth:`dispatch`, skipping DRF's request cycle (which
    costs more than the query); anything else (session login, a missing, wrong or
    throttled key, content negotiation, not found) takes the full DRF path, so
    every answer but the found one comes from the one place."""

    def dispatch(self, request, *args, **kwargs):
        if (
            request.method == "GET"
            and not request.META.get("QUERY_STRING")
            and request.META.get("HTTP_ACCEPT", "") in _PLAIN_ACCEPT
        ):
            api_key = valid_api_key(request)
            if api_key is not None and api_key_within_rate(api_key):
                code = kwargs["system"].strip().upper()
                rows = _xref_rows(kwargs["domain"], code, kwargs["key"])
                if rows:
                    response = HttpResponse(
                        orjson.dumps(_xref_answer(rows, code, kwargs["key"])),
                        content_type="application/json",
                    )
                    for name, value in self.default_response_headers.items():
                        response.headers[name] = value
                    return response
        return super().dispatch(request, *args, **kwargs)

    @extend_schema(
        operation_id="xref_lookup",
        summary="Global ID and every cross-reference of one source key",
        responses={200: XrefAnswerSerializer, 404: ErrorSerializer},
    )
    def get(self, request, domain: str, system: str, key: str):
        code = system.strip().upper()
        rows = _xref_rows(domain, code, key)
        if not rows:
            return error_response(
                404, f"no {domain} with key {key!r} in system {code}", "not_found"
            )
        return Response(_xref_answer(rows, code, key))


class GoldenDetailView(APIView):
    @extend_schema(
        operation_id="golden_retrieve",
        summary="A golden record by global ID (a merged-away ID answers with its survivor)",
        responses={200: GoldenSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request, domain: str, global_id: str):
        try:
            resolution = resolve_global_id(global_id)
        except GlobalIdError as error:
            return error_response(400, error.reason, error.code)
        except NotFound as error:
            return error_response(404, str(error), "not_found")
        if resolution.golden.domain != domain:
            return error_response(
                404, f"{resolution.requested} is not a {domain} ID", "wrong_domain"
            )
        return Response(
            golden_answer(request, resolution.golden, resolution.requested, resolution.chain)
        )


class LookupView(APIView):
    @extend_schema(
        operation_id="xref_batch_lookup",
        summary="Many source keys or global IDs at once, answered in the same order",
        request=LookupRequestSerializer,
        responses={
            200: LookupAnswerSerializer,
            400: OpenApiResponse(ErrorSerializer, description="invalid body or batch too large"),
            404: OpenApiResponse(ErrorSerializer, description="no such domain"),
        },
    )
    @idempotent
    def post(self, request, domain: str):
        items = request.data.get("keys") if isinstance(request.data, dict) else None
        limit = settings.MDM_API_MAX_BATCH
        if isinstance(items, list) and len(items) > limit:
            return error_response(
                400,
                f"at most {limit:,} keys per call, this one has {len(items):,}",
                "batch_too_large",
            )
        if not isinstance(items, list) or not items:
            return error_response(
                400, 'the body must be {"keys": [...]} with at least one item', "invalid"
            )
        wanted: list[tuple[str, str] | str] = []
        for index, item in enumerate(items):
            wanted_item = _plain_key_item(item)
            if wanted_item is None:
                problem = _item_problem(item)
                if problem:
                    return error_response(400, f"keys[{index}]: {problem}", "invalid", index=index)
                wanted_item = _wanted(item)
            wanted.append(wanted_item)
        return Response({"results": lookup_many(domain, wanted)}, status=status.HTTP_200_OK)


#: Longest accepted text per field of a batch item (as LookupItemSerializer declares).
ITEM_LIMITS = {"system": 32, "key": 200, "global_id": 64}
_SYSTEM_LIMIT, _KEY_LIMIT = ITEM_LIMITS["system"], ITEM_LIMITS["key"]


def _plain_key_item(item) -> tuple[str, str] | None:
    """(system code, key) of an item that is exactly ``{"system", "key"}`` with valid
    values (nearly every item of a batch), else None: :func:`_item_problem` decides."""
    if type(item) is not dict or len(item) != 2:
        return None
    system, key = item.get("system"), item.get("key")
    if (
        type(system) is str
        and type(key) is str
        and len(system) <= _SYSTEM_LIMIT
        and len(key) <= _KEY_LIMIT
        and "\x00" not in system
        and "\x00" not in key
    ):
        system, key = system.strip(), key.strip()
        if system and key:
            return system.upper(), key
    return None


def _wanted(item: dict) -> tuple[str, str] | str:
    """A valid item (see :func:`_item_problem`) as :func:`lookup_many` takes it."""
    if "global_id" in item:
        return item["global_id"].strip()
    return item["system"].strip().upper(), item["key"].strip()


def _item_problem(item) -> str:
    """Why a batch item is not ``{"system", "key"}`` or ``{"global_id"}``, or "".

    Checked by hand rather than by LookupItemSerializer (which documents the same
    shape): a batch holds up to 10,000 items, and a serializer per item costs more
    than the lookup itself."""
    if not isinstance(item, dict):
        return "each item must be an object"
    names = set(item) & set(ITEM_LIMITS)  # other members are ignored
    if names not in ({"system", "key"}, {"global_id"}):
        return "give either system and key, or global_id"
    for name in names:
        value = item[name]
        if not isinstance(value, str) or not value.strip():
            return f"'{name}' must be a non-empty string"
        if len(value) > ITEM_LIMITS[name]:
            return f"'{name}' is longer than {ITEM_LIMITS[name]} characters"
        if "\x00" in value:
            return f"'{name}' contains a NUL character"
    return ""


def lookup_many(domain: str, wanted: list[tuple[str, str] | str]) -> list[dict]:
    """The answer for each item, in order: a (system code, key) pair or a global ID."""
    by_system: dict[str, set[str]] = defaultdict(set)
    parsed: dict[str, str | GlobalIdError] = {}
    for item in wanted:
        if type(item) is tuple:
            by_system[item[0]].add(item[1])
        elif item not in parsed:
            try:
                parsed[item] = str(parse_global_id(item))
            except GlobalIdError as error:
                parsed[item] = error
    golden_of_key = _goldens_of_keys(domain, by_system)
    chains = _chains([text for text in parsed.values() if isinstance(text, str)], domain)
    answered = {hit[0] for hit in golden_of_key.values()}
    answered |= {chain[-1][0] for chain in chains.values() if chain is not None}
    xrefs = xrefs_by_golden(answered)
    results: list[dict] = []
    append = results.append
    for item in wanted:
        if type(item) is tuple:
            code, key = item
            hit = golden_of_key.get(item)
            if hit is None:
                append({"status": "unknown", "system": code, "key": key})
            else:
                append(
                    {
                        "status": "found",
                        "system": code,
                        "key": key,
                        "global_id": hit[1],
                        "golden_status": hit[2],
                        "xrefs": xrefs.get(hit[0], []),
                    }
                )
            continue
        text = parsed[item]
        if isinstance(text, GlobalIdError):
            append({"status": "invalid", "requested_id": item, "detail": text.reason})
            continue
        chain = chains.get(text)
        if chain is None:
            append({"status": "unknown", "requested_id": item})
            continue
        survivor_pk, survivor_id, survivor_status = chain[-1]
        append(
            {
                "status": "redirected" if len(chain) > 1 else "found",
                "requested_id": item,
                "global_id": survivor_id,
                "golden_status": survivor_status,
                "xrefs": xrefs.get(survivor_pk, []),
            }
        )
    return results


#: Golden record id of live source records of one system.
GOLDEN_OF_KEYS_SQL = (
    f"SELECT source_key, golden_record_id FROM {_RECORD} "
    f"WHERE system_id = %s AND domain = %s AND NOT retired AND source_key {{match}}"
)
#: Global ID and status of golden records.
GOLDEN_IDS_SQL = f"SELECT id, global_id, status FROM {_GOLDEN} WHERE id {{match}}"


def _goldens_of_keys(
    domain: str, by_system: dict[str, set[str]]
) -> dict[tuple[str, str], tuple[int, str, str]]:
    """(system code, key) → (golden pk, global ID, status) of live source records.

    Two plain queries rather than one join: an index scan per query, each over
    sorted values, costs PostgreSQL less than a nested loop of random probes."""
    systems = dict(_matching(SYSTEM_IDS_SQL, [], sorted(by_system)))
    golden_of_key: dict[tuple[str, str], int] = {}
    for code, keys in by_system.items():
        system_pk = systems.get(code)
        if system_pk is None:
            continue
        for key, golden_pk in _matching(GOLDEN_OF_KEYS_SQL, [system_pk, domain], sorted(keys)):
            golden_of_key[(code, key)] = golden_pk
    goldens = {
        pk: (pk, global_id, golden_status)
        for pk, global_id, golden_status in _matching(
            GOLDEN_IDS_SQL, [], sorted(set(golden_of_key.values()))
        )
    }
    return {wanted: goldens[pk] for wanted, pk in golden_of_key.items() if pk in goldens}


def _chains(global_ids: list[str], domain: str) -> dict[str, list[tuple[int, str, str]] | None]:
    """global ID → [(pk, global ID, status), ...] from it to its survivor (None: never
    issued in ``domain``). One query per step of the longest redirect chain."""
    fields = ("pk", "global_id", "status", "merged_into_id")
    requested: dict[str, tuple] = {}
    for chunk in _chunks(sorted(set(global_ids))):
        for row in GoldenRecord.objects.filter(domain=domain, global_id__in=chunk).values_list(
            *fields
        ):
            requested[row[1]] = row
    by_pk = {row[0]: row for row in requested.values()}
    for _ in range(MAX_REDIRECTS):
        pending = {row[3] for row in by_pk.values() if row[3] is not None} - set(by_pk)
        if not pending:
            break
        for chunk in _chunks(sorted(pending)):
            for row in GoldenRecord.objects.filter(pk__in=chunk).values_list(*fields):
                by_pk[row[0]] = row
    result: dict[str, list[tuple[int, str, str]] | None] = {}
    for global_id in global_ids:
        row = requested.get(global_id)
        if row is None:
            result[global_id] = None
            continue
        chain = [row[:3]]
        while row[3] is not None and row[3] in by_pk and len(chain) <= MAX_REDIRECTS:
            row = by_pk[row[3]]
            chain.append(row[:3])
        result[global_id] = chain
    return result


def _chunks(items: list, size: int = SQL_IN_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]
