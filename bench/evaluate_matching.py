#!/usr/bin/env python3
"""Evaluate the matching engine on a labelled benchmark and print pairwise quality.

    python bench/evaluate_matching.py abt-buy PATH/TO/abt-buy
    python bench/evaluate_matching.py amazon-google PATH/TO/amazon-google

The two record files of the benchmark are loaded as materials from two source
systems, validated by the material domain, blocked, scored and clustered exactly as
the engine does for an import (``matching.engine.batch``), with the domain's default
parameters (no labels) or, with ``--train``, parameters estimated by EM on the data
itself (still no labels). Printed: blocking recall, pairs compared, precision,
recall and F1 of automatic merges, recall of automatic merges and review items
together, time and peak memory.

Only pairs across the two files count (the benchmarks label no pairs inside one file).
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mdm.settings")
os.environ.setdefault("DEBUG", "true")

import django  # noqa: E402

django.setup()

from golden.domains import RecordRejected, get_domain  # noqa: E402
from matching.engine import training  # noqa: E402
from matching.engine.batch import link_in_order  # noqa: E402
from matching.engine.blocking import group_pairs  # noqa: E402

DATASETS = {
    # name: (first file, second file, separator, column → attribute)
    "abt-buy": (
        "abt.csv",
        "buy.csv",
        "|",
        {"name": "name", "description": "description", "price": "list_price"},
    ),
    "amazon-google": (
        "amazon.csv",
        "google.csv",
        "#",
        {
            "title": "name",
            "description": "description",
            "manufacturer": "manufacturer",
            "price": "list_price",
        },
    ),
}


def load(path: Path, separator: str, columns: dict[str, str]) -> list[tuple[str, dict]]:
    domain = get_domain("material")
    records = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter=separator):
            raw = {attribute: row.get(column) or "" for column, attribute in columns.items()}
            raw = {k: v[:4000] for k, v in raw.items() if v.strip()}
            try:
                canonical = domain.validate(raw).canonical
            except RecordRejected as error:
                print(f"skipped {path.name} id {row['id']}: {error.reason}", file=sys.stderr)
                continue
            records.append((row["id"], canonical))
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", choices=sorted(DATASETS))
    parser.add_argument("path", type=Path)
    parser.add_argument("--train", action="store_true", help="estimate m/u by EM first")
    parser.add_argument(
        "--distinct",
        action="store_true",
        help="declare each file's system to hold every product once (as both files do)",
    )
    options = parser.parse_args()
    first, second, separator, columns = DATASETS[options.dataset]
    started = time.perf_counter()
    left = load(options.path / first, separator, columns)
    right = load(options.path / second, separator, columns)
    records = [("A", key, values) for key, values in left] + [
        ("B", key, values) for key, values in right
    ]
    index_of = {(system, key): i for i, (system, key, _) in enumerate(records)}
    labels = {}
    with (options.path / "gt.csv").open() as handle:
        header = handle.readline()
        split = "#" if "#" in header else "|"
        for number, line in enumerate(handle):
            a, b = line.strip().split(split)
            labels[("A", a)] = number
            labels[("B", b)] = number
            # A record in several true pairs joins them into one entity.
    truth = _true_pairs(options.path / "gt.csv", index_of)

    spec = get_domain("material").matching
    model = spec.model()
    blocker = spec.blocker()
    values = [v for _, _, v in records]
    features = [model.prepare(v) for v in values]
    pairs = blocker.candidate_pairs(values)
    blocker.measure_recall(pairs, truth)
    if options.train:
        random = training.random_pairs(200_000, len(values), seed=1)
        u = training.estimate_u(model, model.level_matrix(features, random))
        levels = model.level_matrix(features, pairs)
        parameters, report = training.expectation_maximisation(
            model, levels, u=u, random_pairs=len(random), candidate_u=True, monotone=True
        )
        print(report.line())
        model = model.with_parameters(parameters)
    groups = [system for system, _, _ in records] if options.distinct else None
    result = link_in_order(model, features, pairs, groups=groups, exclusivity=spec.exclusivity)
    elapsed = time.perf_counter() - started

    cluster_of = result.cluster_of
    predicted = set()
    for i, j in _same_cluster_pairs(cluster_of):
        if records[i][0] != records[j][0]:
            predicted.add((i, j))
    reviewed = set()
    for record, decision in enumerate(result.decisions):
        for item in decision.review:
            for other in range(len(records)):
                if cluster_of[other] == cluster_of[item.member] and other != record:
                    reviewed.add((min(other, record), max(other, record)))
    true_positive = len(predicted & truth)
    precision = true_positive / len(predicted) if predicted else 1.0
    recall = true_positive / len(truth)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    covered = len((predicted | reviewed) & truth) / len(truth)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"dataset {options.dataset}: {len(left):,} + {len(right):,} records, "
        f"{len(truth):,} true pairs"
    )
    for line in blocker.report.lines():
        print(line)
    print(
        f"automatic merges: precision {precision:.4f}, recall {recall:.4f}, F1 {f1:.4f} "
        f"({len(predicted):,} pairs)"
    )
    print(
        f"recall of automatic merges and review items: {covered:.4f} "
        f"({len(reviewed - predicted):,} pairs to review)"
    )
    print(f"time {elapsed:.1f} s, peak memory {peak:.0f} MB")


def _true_pairs(path: Path, index_of) -> set[tuple[int, int]]:
    labels = {}
    with path.open() as handle:
        header = handle.readline()
        split = "#" if "#" in header else "|"
        parent: dict = {}

        def find(x):
            while parent.setdefault(x, x) != x:
                x = parent[x]
            return x

        for line in handle:
            a, b = line.strip().split(split)
            parent[find(("A", a))] = find(("B", b))
        for node in list(parent):
            labels[node] = find(node)
    pairs = set()
    for i, j in group_pairs(labels, index_of):
        if (i < len(index_of)) and j < len(index_of):
            pairs.add((min(i, j), max(i, j)))
    return pairs


def _same_cluster_pairs(cluster_of):
    members: dict[int, list[int]] = {}
    for record, cluster in enumerate(cluster_of):
        members.setdefault(cluster, []).append(record)
    for group in members.values():
        for position, i in enumerate(group):
            for j in group[position + 1 :]:
                yield (i, j)


if __name__ == "__main__":
    main()
