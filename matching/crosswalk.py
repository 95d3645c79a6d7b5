"""Crosswalks: legacy mapping tables that pair a key of one system with a key of another.

A crosswalk row says "ERP customer 1000123 is CRM customer C-7". :func:`import_crosswalk`
reads such a table (CSV or JSON Lines) and puts each pair into one golden record as a
steward's decision: the two golden records are merged through
:func:`golden.services.merge_golden_records` (the older one, lower id, survives, as in
:func:`matching.reviews.decide`), and the pair is recorded as a merged review item. The
review queue and rematch treat merged items as forced links
(:func:`matching.reviews.forced_links`), so rematch never parts the two records.

The whole file is read and checked before anything is written, so a file that cannot
be read changes nothing. Then each row is one of:

- *rejected* when it is malformed, lacks a key, or names a key that is not a live
  source record of its system in the domain (a crosswalk never creates records);
- a *conflict* when one of its keys is mapped to different partners in the file (every
  row of that key is refused), when a steward's binding not-a-match keeps the two golden
  records apart, or when they carry different strong identifiers (tax ID, national ID,
  D-U-N-S, GTIN);
- *repeated* when an earlier row holds the same pair (the earlier row counts);
- else *merged*, or *already linked* when both records are in one golden record already.

Pairs are written in batches, one transaction each. A pair already recorded as merged
and already in one golden record changes nothing, so the same file can be loaded again.
"""

from __future__ import annotations

import csv
import os
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from golden.bulk import chunks
from golden.cells import safe_cell
from golden.domains import Domain
from golden.importing.files import REPORT_COLUMNS, ImportFileError, detect_format
from golden.importing.pairs import (
    FORMATS,
    LEFT_DEFAULT,
    RIGHT_DEFAULT,
    PairRow,
    PairTable,
    read_pairs,
)
from golden.models import GoldenRecord, SourceRecord, SourceSystem
from golden.services import ServiceError, merge_golden_records

from . import reviews, services
from .engine.deterministic import DeterministicResolver, attribute_of, identity_keys
from .models import ReviewItem


class CrosswalkError(ServiceError):
    """The crosswalk cannot be imported as asked; the message names the problem."""


@dataclass
class CrosswalkSummary:
    read: int = 0  # non-blank rows
    merged: int = 0  # pairs whose two golden records were merged into one
    already_linked: int = 0  # pairs whose records were in one golden record already
    rejected: int = 0  # malformed rows, missing keys, keys not on file
    conflicts: int = 0  # ambiguous keys, not-a-match decisions, different identifiers
    repeated: int = 0  # rows with the same pair as an earlier row
    links_recorded: int = 0  # steward links (merged review items) created or updated
    dry_run: bool = False
    errors_file: str = ""
    seconds: float = 0.0


@dataclass(slots=True)
class _Rejection:
    row: PairRow
    column: str
    value: str
    reason: str


@dataclass(slots=True)
class _Member:
    label: str  # SYSTEM:KEY
    canonical: Mapping[str, Any]
    identity: frozenset[str]


class _DryRunRollback(Exception):
    pass


def import_crosswalk(
    path: str | os.PathLike,
    *,
    domain: Domain,
    left: SourceSystem,
    right: SourceSystem,
    left_column: str | None = None,
    right_column: str | None = None,
    file_format: str | None = None,
    delimiter: str = "auto",
    encoding: str = "auto",
    dry_run: bool = False,
    errors_out: str | os.PathLike | None = None,
    batch_size: int | None = None,
    acting_user=None,
    progress: Callable[[int], None] | None = None,
) -> CrosswalkSummary:
    """Load one crosswalk file; see the module docstring.

    ``left_column``/``right_column`` name the key columns (case-insensitive); by default
    the column named like the system's code, else ``left_key``/``right_key``. Rejected,
    conflicting and repeated rows go to ``errors_out`` (CSV), written on every run.
    Raises ImportFileError for a file that cannot be read and CrosswalkError for a
    request that cannot be honoured; then nothing is written.
    """
    started = time.perf_counter()
    path = Path(path)
    if left.pk == right.pk:
        raise CrosswalkError(
            f"--left and --right name the same system ({left.code}); a crosswalk pairs two systems"
        )
    if batch_size is not None and batch_size < 1:
        raise CrosswalkError(f"the batch size must be at least 1, not {batch_size}")
    file_format = detect_format(path, file_format)
    if file_format not in FORMATS:
        raise ImportFileError(
            f"{path}: a crosswalk is read from CSV or JSON Lines, not {file_format}"
        )
    table = read_pairs(
        path,
        domain=domain,
        file_format=file_format,
        left=(left.code, left_column, "--left-column", LEFT_DEFAULT),
        right=(right.code, right_column, "--right-column", RIGHT_DEFAULT),
        delimiter=delimiter,
        encoding=encoding,
    )
    loader = _Loader(path, domain, left, right, table, acting_user)
    loader.summary.dry_run = dry_run
    pairs = loader.check()
    size = batch_size or settings.MDM_IMPORT_BATCH_SIZE
    if dry_run:
        try:
            with transaction.atomic():
                loader.link(pairs, size, progress)
                raise _DryRunRollback
        except _DryRunRollback:
            pass
    else:
        loader.link(pairs, size, progress)
    if errors_out is not None:
        loader.write_errors(Path(errors_out))
        loader.summary.errors_file = str(errors_out)
    loader.summary.seconds = time.perf_counter() - started
    return loader.summary


class _Loader:
    def __init__(
        self,
        path: Path,
        domain: Domain,
        left: SourceSystem,
        right: SourceSystem,
        table: PairTable,
        acting_user,
    ) -> None:
        self.path = path
        self.domain = domain
        self.systems = (left, right)
        self.table = table
        self.acting_user = acting_user
        self.model = services.current_model(domain)
        self.specs = services.identity_specs(domain)
        self.actor_label = f"crosswalk:{path.name}"[:200]
        self.summary = CrosswalkSummary(read=len(table.rows))
        self.rejections: list[_Rejection] = []

    # Checking the whole file -----------------------------------------------------------

    def check(self) -> list[PairRow]:
        """The rows that name a pair of live records, in file order; every other row
        is reported."""
        left, right = self.systems
        left_column, right_column = self.table.columns
        complete = []
        for row in self.table.rows:
            if row.problem is not None:
                self._reject(row, *row.problem)
            elif not row.left:
                self._reject(row, left_column, "", f"no {left.code} key")
            elif not row.right:
                self._reject(row, right_column, "", f"no {right.code} key")
            else:
                complete.append(row)
        return self._on_file(self._unambiguous(complete))

    def _unambiguous(self, rows: list[PairRow]) -> list[PairRow]:
        """Rows whose keys each have one partner in the whole file, the first of each pair."""
        partners: tuple[dict[str, dict[str, list[int]]], ...] = ({}, {})
        for row in rows:
            partners[0].setdefault(row.left, {}).setdefault(row.right, []).append(row.number)
            partners[1].setdefault(row.right, {}).setdefault(row.left, []).append(row.number)
        first: dict[tuple[str, str], int] = {}
        kept = []
        for row in rows:
            reasons, where = [], None
            for side, key, partner in ((0, row.left, row.right), (1, row.right, row.left)):
                others = {p: numbers for p, numbers in partners[side][key].items() if p != partner}
                if not others:
                    continue
                where = where or (self.table.columns[side], key)
                other = self.systems[1 - side].code
                listed = " and ".join(
                    f"{other} key {p} ({_row_numbers(numbers)})" for p, numbers in others.items()
                )
                reasons.append(f"{self.systems[side].code} key {key} is also mapped to {listed}")
            if reasons:
                self._conflict(
                    row, *where, "; ".join(reasons) + "; a key may be mapped to one partner only"
                )
                continue
            earlier = first.setdefault((row.left, row.right), row.number)
            if earlier != row.number:
                self.rejections.append(_Rejection(row, "", "", f"the same pair as row {earlier}"))
                self.summary.repeated += 1
            else:
                kept.append(row)
        return kept

    def _on_file(self, rows: list[PairRow]) -> list[PairRow]:
        """Rows whose two keys are live source records; the others are rejected."""
        found = [
            self._records(system, {row.right if side else row.left for row in rows})
            for side, system in enumerate(self.systems)
        ]
        kept = []
        for row in rows:
            problems = []
            for side, key in enumerate((row.left, row.right)):
                system = self.systems[side]
                hit = found[side].get(key)
                if hit is None:
                    reason = f"no {self.domain.name} record of {system.code} has key {key!r}"
                elif hit[1]:
                    reason = f"the {system.code} record {key!r} is retired"
                else:
                    if side:
                        row.right_id = hit[0]
                    else:
                        row.left_id = hit[0]
                    continue
                problems.append((self.table.columns[side], key, reason, hit is None))
            if problems:
                column, value, *_ = problems[0]
                reason = "; ".join(reason for _, _, reason, _ in problems)
                if any(unknown for *_, unknown in problems):
                    reason += " (a crosswalk creates no records: import them first)"
                self._reject(row, column, value, reason)
            else:
                kept.append(row)
        return kept

    def _records(self, system: SourceSystem, keys: set[str]) -> dict[str, tuple[int, bool]]:
        """key → (source record id, retired) of ``system``'s records in the domain."""
        found: dict[str, tuple[int, bool]] = {}
        for chunk in chunks(sorted(keys)):
            for key, pk, retired in SourceRecord.objects.filter(
                system=system, domain=self.domain.name, source_key__in=chunk
            ).values_list("source_key", "pk", "retired"):
                found[key] = (pk, retired)
        return found

    # Linking ---------------------------------------------------------------------------

    def link(
        self, rows: list[PairRow], batch_size: int, progress: Callable[[int], None] | None
    ) -> None:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            with transaction.atomic():
                self._link_batch(batch)
            if progress is not None:
                progress(len(batch))

    def _link_batch(self, batch: list[PairRow]) -> None:
        ids = sorted({pk for row in batch for pk in (row.left_id, row.right_id)})
        # Lock the golden records of the batch in id order, as the services do, so that
        # no record joins or leaves them between the checks and the merges; again if
        # one of the pair's records moved meanwhile.
        goldens: dict[int, GoldenRecord] = {}
        golden_of = _goldens_of(ids)
        while not set(golden_of.values()) <= set(goldens):
            for chunk in chunks(sorted(set(golden_of.values()) - set(goldens))):
                for golden in (
                    GoldenRecord.objects.select_for_update()
                    .filter(pk__in=chunk)
                    .order_by("pk")
                    .only("global_id")
                ):
                    goldens[golden.pk] = golden
            golden_of = _goldens_of(ids)
        members: dict[int, set[int]] = defaultdict(set)
        records: dict[int, _Member] = {}
        for chunk in chunks(sorted(set(golden_of.values()))):
            for pk, golden, code, key, canonical in SourceRecord.objects.filter(
                golden_record_id__in=chunk, retired=False
            ).values_list("pk", "golden_record_id", "system__code", "source_key", "canonical"):
                members[golden].add(pk)
                golden_of[pk] = golden
                identity = frozenset(identity_keys(self.specs, canonical).values())
                records[pk] = _Member(f"{code}:{key}", canonical, identity)
        vetoed = reviews.vetoes(self.model, records)
        existing = _items_of({_pair(row.left_id, row.right_id) for row in batch})
        now = timezone.now()
        created: list[ReviewItem] = []
        changed: list[ReviewItem] = []
        for row in batch:
            a, b = row.left_id, row.right_id
            if a not in golden_of or b not in golden_of:
                self._reject(row, "", "", "a record of the pair was retired meanwhile")
                continue
            ga, gb = golden_of[a], golden_of[b]
            if ga == gb:
                if b in vetoed.get(a, ()):
                    self._conflict(
                        row,
                        "",
                        "",
                        f"a steward declared {records[a].label} and {records[b].label} not a match",
                    )
                    continue
                self.summary.already_linked += 1
            else:
                reason = self._kept_apart(members[ga], members[gb], vetoed, records)
                if reason is None:
                    reason = self._different_identifiers(
                        (goldens[ga], a), (goldens[gb], b), members, records
                    )
                if reason is not None:
                    self._conflict(row, "", "", reason)
                    continue
                survivor, merged = sorted((ga, gb))
                try:
                    merge_golden_records(
                        survivor=goldens[survivor],
                        merged=goldens[merged],
                        acting_user=self.acting_user,
                        actor_label=self.actor_label,
                        reason=self._note(row),
                    )
                except ServiceError as error:
                    self._reject(row, "", "", f"not merged: {error}")
                    continue
                for pk in members[merged]:
                    golden_of[pk] = survivor
                members[survivor] |= members.pop(merged)
                self.summary.merged += 1
            item = self._steward_link(row, existing.get(_pair(a, b)), records, now)
            if item is not None:
                (changed if item.pk else created).append(item)
        ReviewItem.objects.bulk_create(created)
        ReviewItem.objects.bulk_update(
            changed,
            ["status", "fingerprint_a", "fingerprint_b", "decided_by", "decided_at", "note"]
            + ["updated_at"],
        )
        self.summary.links_recorded += len(created) + len(changed)

    def _kept_apart(
        self,
        first: set[int],
        second: set[int],
        vetoed: Mapping[int, set[int]],
        records: Mapping[int, _Member],
    ) -> str | None:
        """Why merging golden records of members ``first`` and ``second`` would break a
        binding not-a-match decision, or None."""
        for a in sorted(first):
            for b in sorted(vetoed.get(a, set()) & second):
                return (
                    f"a steward declared {records[a].label} and {records[b].label} not a match; "
                    "the pair would put them into one golden record"
                )
        return None

    def _different_identifiers(
        self,
        first: tuple[GoldenRecord, int],
        second: tuple[GoldenRecord, int],
        members: Mapping[int, set[int]],
        records: Mapping[int, _Member],
    ) -> str | None:
        """Why two golden records (each with the pair's record in it) may not become one
        because of their strong identifiers, or None: the veto of matching
        (:meth:`DeterministicResolver.conflicts`) applied to everything both carry."""
        (ga, a), (gb, b) = first, second
        resolver = DeterministicResolver(
            specs=self.specs,
            known=[(key, ga.pk) for pk in members[ga.pk] for key in records[pk].identity],
        )
        theirs = sorted({key for pk in members[gb.pk] for key in records[pk].identity})
        attributes = sorted(
            {
                attribute_of(key)
                for key in theirs
                if resolver.conflicts(ga.pk, {attribute_of(key): key})
            }
        )
        if not attributes:
            return None
        return (
            f"{ga.global_id} ({records[a].label}) and {gb.global_id} ({records[b].label}) "
            f"carry different {', '.join(attributes)}"
        )

    def _steward_link(
        self,
        row: PairRow,
        item: ReviewItem | None,
        records: Mapping[int, _Member],
        now,
    ) -> ReviewItem | None:
        """The merged review item that records the pair (None: recorded already)."""
        if item is not None and item.status == ReviewItem.Status.MERGED:
            return None
        a, b = _pair(row.left_id, row.right_id)
        if item is None:
            probability, explanation = self._score(records[a].canonical, records[b].canonical)
            item = ReviewItem(
                domain=self.domain.name,
                record_a_id=a,
                record_b_id=b,
                probability=probability,
                explanation=explanation,
            )
        item.status = ReviewItem.Status.MERGED
        item.fingerprint_a = services.fingerprint(self.model, records[a].canonical)
        item.fingerprint_b = services.fingerprint(self.model, records[b].canonical)
        item.decided_by = self.acting_user
        item.decided_at = now
        item.note = self._note(row)
        item.updated_at = now
        return item

    def _score(
        self, a: Mapping[str, Any], b: Mapping[str, Any]
    ) -> tuple[float, list[dict[str, Any]]]:
        """The model's view of the pair, kept on the review item for stewards."""
        if self.model is None:
            return 1.0, []
        score = self.model.score(self.model.prepare(a), self.model.prepare(b))
        return score.probability, [part.to_json() for part in score.contributions]

    def _note(self, row: PairRow) -> str:
        return f"crosswalk {self.path.name} row {row.number}"

    # Reporting -------------------------------------------------------------------------

    def _reject(self, row: PairRow, column: str, value: str, reason: str) -> None:
        self.rejections.append(_Rejection(row, column, value, reason))
        self.summary.rejected += 1

    def _conflict(self, row: PairRow, column: str, value: str, reason: str) -> None:
        self.rejections.append(_Rejection(row, column, value, reason))
        self.summary.conflicts += 1

    def write_errors(self, target: Path) -> None:
        """Every reported row, in file order: row number, column, value and reason, then
        the row's cells (report columns of a crosswalk read from an errors file left
        out). Cells that would start a formula are written as text."""
        header = self.table.header
        kept = [i for i, name in enumerate(header) if name.lower() not in REPORT_COLUMNS]
        with target.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                [safe_cell(cell) for cell in (*REPORT_COLUMNS, *(header[i] for i in kept))]
            )
            for rejection in sorted(self.rejections, key=lambda item: item.row.number):
                cells = rejection.row.original
                if len(cells) == len(header):
                    cells = [cells[i] for i in kept]
                writer.writerow(
                    [
                        rejection.row.number,
                        *(
                            safe_cell(cell)
                            for cell in (
                                rejection.column,
                                rejection.value,
                                rejection.reason,
                                *cells,
                            )
                        ),
                    ]
                )


# Helpers -------------------------------------------------------------------------------


def _goldens_of(ids: Sequence[int]) -> dict[int, int]:
    """Live source record id → its golden record id."""
    found: dict[int, int] = {}
    for chunk in chunks(ids):
        found.update(
            SourceRecord.objects.filter(pk__in=chunk, retired=False).values_list(
                "pk", "golden_record_id"
            )
        )
    return found


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _items_of(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], ReviewItem]:
    found: dict[tuple[int, int], ReviewItem] = {}
    for chunk in chunks(sorted({a for a, _ in pairs})):
        for item in ReviewItem.objects.filter(record_a_id__in=chunk):
            if (item.record_a_id, item.record_b_id) in pairs:
                found[(item.record_a_id, item.record_b_id)] = item
    return found


def _row_numbers(numbers: Sequence[int]) -> str:
    if len(numbers) == 1:
        return f"row {numbers[0]}"
    return "rows " + ", ".join(str(number) for number in numbers)
