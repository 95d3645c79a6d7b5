"""ID lookup: one cross-reference, one golden record, or up to ``MDM_API_MAX_BATCH``
keys and IDs in one call. Answers carry global IDs and cross-references; attribute
values only after the caller's field policy."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import connection
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from golden.global_ids import GlobalIdError, parse_global_id
from golden.lookup import resolve_global_id
from golden.models import GoldenRecord, SourceRecord, SourceSystem
from golden.policy import access_for_request
from golden.services import NotFound

from .errors import error_response
from .idempotency import idempotent
from .serializers import (
    ErrorSerializer,
    GoldenSerializer,
    LookupAnswerSerializer,
    LookupRequestSerializer,
    XrefAnswerSerializer,
)

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


def xrefs_by_golden(golden_ids: Iterable[int]) -> dict[int, list[dict[str, str]]]:
    """golden record id → its live cross-references, sorted by system and key."""
    found: dict[int, list[dict[str, str]]] = defaultdict(list)
    ids = sorted(set(golden_ids))
    record_table = SourceRecord._meta.db_table
    system_table = SourceSystem._meta.db_table
    sql = (
        f"SELECT sr.golden_record_id, s.code, sr.source_key FROM {record_table} sr "
        f"JOIN {system_table} s ON s.id = sr.system_id "
        f"WHERE NOT sr.retired AND sr.golden_record_id {{match}} "
        f"ORDER BY sr.golden_record_id, s.code, sr.source_key"
    )
    with connection.cursor() as cursor:
        for chunk in _chunks(ids):
            if connection.vendor == "postgresql":
                cursor.execute(sql.format(match="= ANY(%s)"), [chunk])
            else:
                cursor.execute(sql.format(match=f"IN ({', '.join(['%s'] * len(chunk))})"), chunk)
            for golden, code, key in cursor.fetchall():
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


class XrefDetailView(APIView):
    @extend_schema(
        operation_id="xref_lookup",
        summary="Global ID and every cross-reference of one source key",
        responses={200: XrefAnswerSerializer, 404: ErrorSerializer},
    )
    def get(self, request, domain: str, system: str, key: str):
        code = system.strip().upper()
        # The hot path: one query, no ORM compilation.
        with connection.cursor() as cursor:
            cursor.execute(XREF_SQL, [code, domain, key])
            rows = cursor.fetchall()
        if not rows:
            return error_response(
                404, f"no {domain} with key {key!r} in system {code}", "not_found"
            )
        return Response(
            {
                "global_id": rows[0][0],
                "status": rows[0][1],
                "system": code,
                "key": key,
                "xrefs": [{"system": other, "key": other_key} for _, _, other, other_key in rows],
            }
        )


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
        for index, item in enumerate(items):
            problem = _item_problem(item)
            if problem:
                return error_response(400, f"keys[{index}]: {problem}", "invalid", index=index)
        wanted = [
            {name: item[name].strip() for name in ITEM_LIMITS if name in item} for item in items
        ]
        return Response({"results": lookup_many(domain, wanted)}, status=status.HTTP_200_OK)


#: Longest accepted text per field of a batch item (as LookupItemSerializer declares).
ITEM_LIMITS = {"system": 32, "key": 200, "global_id": 64}


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


def lookup_many(domain: str, wanted: list[dict]) -> list[dict]:
    """The answer for each item (``system`` + ``key``, or ``global_id``), in order."""
    by_system: dict[str, set[str]] = defaultdict(set)
    for item in wanted:
        if "global_id" not in item:
            by_system[item["system"].strip().upper()].add(item["key"])
    golden_of_key = _goldens_of_keys(domain, by_system)
    parsed: list[str | GlobalIdError] = []
    for item in wanted:
        if "global_id" in item:
            try:
                parsed.append(str(parse_global_id(item["global_id"])))
            except GlobalIdError as error:
                parsed.append(error)
    chains = _chains([text for text in parsed if isinstance(text, str)], domain)
    answered = {hit[0] for hit in golden_of_key.values()}
    answered |= {chain[-1][0] for chain in chains.values() if chain is not None}
    xrefs = xrefs_by_golden(answered)
    results: list[dict] = []
    position = 0
    for item in wanted:
        if "global_id" not in item:
            code = item["system"].strip().upper()
            hit = golden_of_key.get((code, item["key"]))
            if hit is None:
                results.append({"status": "unknown", "system": code, "key": item["key"]})
                continue
            results.append(
                {
                    "status": "found",
                    "system": code,
                    "key": item["key"],
                    "global_id": hit[1],
                    "golden_status": hit[2],
                    "xrefs": xrefs.get(hit[0], []),
                }
            )
            continue
        text = parsed[position]
        position += 1
        requested = item["global_id"]
        if isinstance(text, GlobalIdError):
            results.append({"status": "invalid", "requested_id": requested, "detail": text.reason})
            continue
        chain = chains.get(text)
        if chain is None:
            results.append({"status": "unknown", "requested_id": requested})
            continue
        survivor_pk, survivor_id, survivor_status = chain[-1]
        results.append(
            {
                "status": "redirected" if len(chain) > 1 else "found",
                "requested_id": requested,
                "global_id": survivor_id,
                "golden_status": survivor_status,
                "xrefs": xrefs.get(survivor_pk, []),
            }
        )
    return results


def _goldens_of_keys(
    domain: str, by_system: dict[str, set[str]]
) -> dict[tuple[str, str], tuple[int, str, str]]:
    """(system code, key) → (golden pk, global ID, status) of live source records."""
    found: dict[tuple[str, str], tuple[int, str, str]] = {}
    systems = dict(SourceSystem.objects.filter(code__in=list(by_system)).values_list("code", "pk"))
    record_table = SourceRecord._meta.db_table
    golden_table = GoldenRecord._meta.db_table
    sql = (
        f"SELECT sr.source_key, g.id, g.global_id, g.status FROM {record_table} sr "
        f"JOIN {golden_table} g ON g.id = sr.golden_record_id "
        f"WHERE sr.system_id = %s AND sr.domain = %s AND NOT sr.retired AND sr.source_key {{match}}"
    )
    with connection.cursor() as cursor:
        for code, keys in by_system.items():
            system_pk = systems.get(code)
            if system_pk is None:
                continue
            for chunk in _chunks(sorted(keys)):
                if connection.vendor == "postgresql":
                    cursor.execute(sql.format(match="= ANY(%s)"), [system_pk, domain, chunk])
                else:
                    marks = ", ".join(["%s"] * len(chunk))
                    cursor.execute(sql.format(match=f"IN ({marks})"), [system_pk, domain, *chunk])
                for key, golden_pk, global_id, golden_status in cursor.fetchall():
                    found[(code, key)] = (golden_pk, global_id, golden_status)
    return found


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
