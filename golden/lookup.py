"""Read-side helpers: find golden records by global ID or by (system, key)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .domains import domain_for_prefix, get_domain
from .global_ids import GlobalIdError, parse_global_id
from .models import GoldenRecord, SourceRecord
from .services.errors import NotFound

MAX_REDIRECTS = 1000


@dataclass
class Resolution:
    """A golden record found for a request, and how: ``chain`` lists every global ID
    from the requested one to the record answered (one entry when no redirect)."""

    requested: str
    golden: GoldenRecord
    chain: list[str] = field(default_factory=list)

    @property
    def redirected(self) -> bool:
        return len(self.chain) > 1


def resolve_global_id(text: str) -> Resolution:
    """Find a golden record by global ID; a merged-away ID resolves to its survivor.

    Raises GlobalIdError for malformed IDs or a wrong check character, NotFound when
    a well-formed ID was never issued.
    """
    global_id = str(parse_global_id(text))
    golden = GoldenRecord.objects.filter(global_id=global_id).first()
    if golden is None:
        raise NotFound(f"no such ID: {global_id} was never issued")
    return follow(global_id, golden)


def follow(requested: str, golden: GoldenRecord) -> Resolution:
    chain = [golden.global_id]
    while golden.merged_into_id is not None:
        if len(chain) > MAX_REDIRECTS:
            raise NotFound(f"the redirect chain of {requested} does not end")
        golden = GoldenRecord.objects.get(pk=golden.merged_into_id)
        chain.append(golden.global_id)
    return Resolution(requested=requested, golden=golden, chain=chain)


def find_by_xref(system_code: str, domain: str, source_key: str) -> Resolution:
    """The golden record that holds ``system_code:source_key`` of ``domain``."""
    get_domain(domain)
    record = (
        SourceRecord.objects.select_related("golden_record", "system")
        .filter(system__code=system_code, domain=domain, source_key=source_key)
        .first()
    )
    if record is None or record.golden_record is None:
        raise NotFound(f"no {domain} with key {source_key!r} in system {system_code}")
    if record.retired:
        raise NotFound(f"{system_code}:{source_key} was retired by its source system")
    return follow(f"{system_code}:{source_key}", record.golden_record)


def xrefs_of(golden: GoldenRecord) -> list[SourceRecord]:
    return list(
        golden.source_records.filter(retired=False)
        .select_related("system")
        .order_by("system__code", "source_key")
    )


def domain_of_global_id(text: str) -> str:
    parsed = parse_global_id(text)
    domain = domain_for_prefix(parsed.prefix)
    if domain is None:  # pragma: no cover - parse_global_id checks prefixes
        raise GlobalIdError(f"unknown prefix {parsed.prefix}", code="unknown_prefix")
    return domain.name
