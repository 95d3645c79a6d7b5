"""Why two records match or not, in plain words.

A side is a source record (``SYSTEM:KEY``) or a golden record (global ID, standing
for all its live source records). Between two golden records the verdict follows
the placement rule: the best pair must reach the automatic threshold and every pair
must be at least doubtful, so the strongest and the weakest pair are both shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from golden.domains import Domain, UnknownDomain, get_domain
from golden.global_ids import GlobalIdError
from golden.lookup import resolve_global_id
from golden.models import SourceRecord
from golden.policy import Access
from golden.services.errors import NotFound

from . import reviews, services
from .engine.deterministic import DeterministicResolver
from .engine.scoring import Model, Score


class ExplainError(Exception):
    pass


@dataclass
class Side:
    label: str
    domain: Domain
    records: list[SourceRecord]


def resolve(text: str, domain_name: str | None = None) -> Side:
    """``SYSTEM:KEY`` (with ``domain_name`` when the key exists in several
    domains) or a global ID."""
    try:
        resolution = resolve_global_id(text)
    except (GlobalIdError, NotFound) as error:
        if ":" not in text:
            raise ExplainError(f"{text!r}: {error}; or give SYSTEM:KEY") from None
    else:
        golden = resolution.golden
        records = list(
            SourceRecord.objects.filter(golden_record=golden, retired=False)
            .select_related("system")
            .order_by("pk")
        )
        label = golden.global_id
        if resolution.redirected:
            label = f"{text} (merged into {golden.global_id})"
        return Side(label, get_domain(golden.domain), records)
    system, _, key = text.partition(":")
    found = SourceRecord.objects.filter(system__code=system.upper(), source_key=key)
    if domain_name:
        try:
            get_domain(domain_name)
        except UnknownDomain as error:
            raise ExplainError(str(error)) from None
        found = found.filter(domain=domain_name)
    records = list(found.select_related("system", "golden_record"))
    if not records:
        raise ExplainError(f"no source record {system.upper()}:{key}")
    if len(records) > 1:
        domains = ", ".join(sorted(record.domain for record in records))
        raise ExplainError(
            f"{system.upper()}:{key} exists in several domains ({domains}): --domain"
        )
    record = records[0]
    return Side(f"{record.system.code}:{record.source_key}", get_domain(record.domain), [record])


def explain(a: Side, b: Side, model: Model | None = None, access: Access | None = None) -> str:
    """The match of ``a`` and ``b`` in plain words. With ``access``, comparisons over
    attributes it may not read show their level's declared text instead of values,
    and record names are built from readable values only."""
    if a.domain.name != b.domain.name:
        raise ExplainError(f"{a.label} is a {a.domain.name}, {b.label} a {b.domain.name}")
    domain = a.domain
    if domain.matching is None:
        raise ExplainError(f"the {domain.name} domain declares no fuzzy matching")
    model = model or services.current_model(domain)
    if not a.records or not b.records:
        raise ExplainError("a golden record without live source records has nothing to compare")
    scored: list[tuple[Score, SourceRecord, SourceRecord]] = []
    for left in a.records:
        for right in b.records:
            if left.pk != right.pk:
                score = model.score(model.prepare(left.canonical), model.prepare(right.canonical))
                scored.append((score, left, right))
    if not scored:
        return f"{a.label} and {b.label} are the same record"
    scored.sort(key=lambda item: -item[0].probability)
    thresholds = model.thresholds
    lines = [f"{a.label} vs {b.label} ({domain.name})"]
    best, weakest = scored[0], scored[-1]
    shown = [("strongest pair", best)] if len(scored) > 1 else [("", best)]
    if len(scored) > 1:
        shown.append(("weakest pair", weakest))
    for title, (score, left, right) in shown:
        lines.append("")
        names = f"{_name(left, access)} vs {_name(right, access)}"
        lines.append(f"{title}: {names}" if title else names)
        descriptions = None
        if access is not None:
            shown_items = access.redact_explanation(
                [item.to_json() for item in score.contributions]
            )
            descriptions = [item["description"] for item in shown_items]
        lines.append(score.explain(descriptions))
    lines.append("")
    lines.append(_identity_note(domain, a, b))
    vetoes = reviews.vetoes(model, [record.pk for record in a.records])
    if any(right.pk in vetoes.get(left.pk, ()) for _, left, right in scored):
        lines.append("A steward decided these are not a match: matching keeps them apart.")
    verdict = (
        f"thresholds: automatic {thresholds.auto:g}, review {thresholds.review:g}; "
        + _verdict(best[0].probability, weakest[0].probability, thresholds)
    )
    lines.append(verdict)
    return "\n".join(line for line in lines if line is not None)


def _verdict(best: float, weakest: float, thresholds) -> str:
    if best >= thresholds.auto and weakest >= thresholds.review:
        return "they would be merged automatically."
    if best >= thresholds.review:
        if best >= thresholds.auto:
            return (
                "the best pair is strong, but another pair is too weak: "
                "a steward reviews them (no merge through one weak link)."
            )
        return "doubtful: a steward reviews them."
    return "not a match: they stay apart."


def _identity_note(domain: Domain, a: Side, b: Side) -> str:
    specs = services.identity_specs(domain)
    resolver = DeterministicResolver(
        specs=specs,
        known=[
            (key, "a")
            for record in a.records
            for key in services.record_keys(domain, record.canonical).identity.values()
        ],
    )
    found, conflict = [], False
    for record in b.records:
        identity = services.record_keys(domain, record.canonical).identity
        placement = resolver.find(identity)
        if placement is not None:
            found.extend(placement.matched_on)
        conflict = conflict or resolver.conflicts("a", identity)
    if conflict:
        return "They carry different strong identifiers: never merged automatically."
    if found:
        return f"Same identifier ({', '.join(sorted(set(found)))}): matched on it directly."
    return "No shared identifier: the fuzzy score decides."


def _name(record: SourceRecord, access: Access | None = None) -> str:
    canonical = record.canonical if access is None else access.redact(record.canonical)
    display = record.domain and get_domain(record.domain).display_name(canonical)
    return f"{record.system.code}:{record.source_key} ({display})" if display else str(record)
