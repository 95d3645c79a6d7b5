#!/usr/bin/env python3
"""Evaluate customer or supplier matching on generated, labelled data.

    python bench/evaluate_parties.py --domain customer --entities 20000 --seed 42
    python bench/evaluate_parties.py --domain supplier --entities 100000 --seed 7 --train

Files are generated into a temporary folder with bench/generate_parties.py (one file
per source system and a labels file), every row is validated through the domain
(rejected rows are counted and skipped), and the records are blocked, scored and
clustered in memory exactly as the engine does for an import
(``matching.engine.batch.link_in_order``), with the domain's default parameters or,
with ``--train``, m and u estimated by EM on the data itself (no labels).

Printed: the blocking report and blocking recall; precision, recall and F1 of
automatic merges over all record pairs, then within one system and across systems;
recall of automatic merges and review items together; time and peak memory.
``--show N`` prints up to N false merges and missed pairs with their explanation.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mdm.settings")
os.environ.setdefault("DEBUG", "true")

import django  # noqa: E402

django.setup()

import generate_parties  # noqa: E402

from golden.domains import RecordRejected, get_domain  # noqa: E402
from matching.engine import training  # noqa: E402
from matching.engine.batch import link_in_order  # noqa: E402
from matching.engine.blocking import group_pairs  # noqa: E402

SYSTEMS = ("ERP", "CRM", "LEGACY")


def generate(domain: str, entities: int, seed: int, folder: Path) -> None:
    argv = ["--domain", domain, "--entities", str(entities), "--seed", str(seed)]
    argv += ["--systems", ",".join(SYSTEMS), "--output-dir", str(folder)]
    generate_parties.main(argv)


def load(domain: str, folder: Path):
    """(system, source key, canonical values) per valid row, labels, rejected count."""
    validator = get_domain(domain)
    records, rejected = [], 0
    for system in SYSTEMS:
        with (folder / f"{domain}-{system}.csv").open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                key = row.pop("source_key")
                raw = {name: value for name, value in row.items() if value.strip()}
                try:
                    canonical = validator.validate(raw).canonical
                except RecordRejected:
                    rejected += 1
                    continue
                records.append((system, key, canonical))
    labels = {}
    with (folder / f"{domain}-labels.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            labels[(row["system"], row["source_key"])] = row["entity_id"]
    return records, labels, rejected


def cluster_pairs(cluster_of):
    members = defaultdict(list)
    for record, cluster in enumerate(cluster_of):
        members[cluster].append(record)
    for group in members.values():
        for position, i in enumerate(group):
            for j in group[position + 1 :]:
                yield (i, j)


def review_pairs(result):
    """Pairs a steward would see: each review item links its record to the whole
    cluster of the member it names."""
    members = defaultdict(list)
    for record, cluster in enumerate(result.cluster_of):
        members[cluster].append(record)
    pairs = set()
    for record, decision in enumerate(result.decisions):
        for item in decision.review:
            for other in members[result.cluster_of[item.member]]:
                if other != record:
                    pairs.add((min(other, record), max(other, record)))
    return pairs


def quality(predicted: set, truth: set) -> tuple[float, float, float]:
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def show(title, pairs, records, model, features, limit):
    if not limit or not pairs:
        return
    print(f"\n{title} ({len(pairs):,}), first {min(limit, len(pairs))}:")
    for i, j in sorted(pairs)[:limit]:
        for index in (i, j):
            system, key, values = records[index]
            print(f"  {system}:{key} {values}")
        print("  " + model.score(features[i], features[j]).explain().replace("\n", "\n  "))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domain", choices=("customer", "supplier"), required=True)
    parser.add_argument("--entities", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--train", action="store_true", help="estimate m/u by EM first")
    parser.add_argument("--show", type=int, default=0, help="print N errors of each kind")
    options = parser.parse_args(argv)

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="parties-") as folder:
        generate(options.domain, options.entities, options.seed, Path(folder))
        generated = time.perf_counter()
        records, labels, rejected = load(options.domain, Path(folder))
    loaded = time.perf_counter()

    index_of = {(system, key): i for i, (system, key, _) in enumerate(records)}
    truth = {(min(i, j), max(i, j)) for i, j in group_pairs(labels, index_of)}

    spec = get_domain(options.domain).matching
    model = spec.model()
    blocker = spec.blocker()
    values = [v for _, _, v in records]
    features = [model.prepare(v) for v in values]
    pairs = blocker.candidate_pairs(values)
    blocker.measure_recall(pairs, truth)
    blocked = time.perf_counter()
    if options.train:
        random = training.random_pairs(200_000, len(values), seed=1)
        u = training.estimate_u(model, model.level_matrix(features, random))
        levels = model.level_matrix(features, pairs)
        parameters, report = training.expectation_maximisation(
            model, levels, u=u, random_pairs=len(random)
        )
        print(report.line())
        model = model.with_parameters(parameters)
    result = link_in_order(model, features, pairs)
    elapsed = time.perf_counter() - started

    predicted = set(cluster_pairs(result.cluster_of))
    reviewed = review_pairs(result)
    precision, recall, f1 = quality(predicted, truth)
    covered = len((predicted | reviewed) & truth) / len(truth) if truth else 1.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"domain {options.domain}, {options.entities:,} entities, seed {options.seed}: "
        f"{len(records):,} records ({rejected:,} rejected), {len(truth):,} true pairs"
    )
    for line in blocker.report.lines():
        print(line)
    print(
        f"automatic merges: precision {precision:.4f}, recall {recall:.4f}, F1 {f1:.4f} "
        f"({len(predicted):,} pairs)"
    )
    system_of = [system for system, _, _ in records]
    for label, same in (("within one system", True), ("across systems", False)):
        part = {p for p in predicted if (system_of[p[0]] == system_of[p[1]]) == same}
        part_truth = {p for p in truth if (system_of[p[0]] == system_of[p[1]]) == same}
        p, r, f = quality(part, part_truth)
        print(
            f"  {label}: precision {p:.4f}, recall {r:.4f}, F1 {f:.4f} "
            f"({len(part):,} pairs, {len(part_truth):,} true)"
        )
    print(f"recall of automatic merges and review items: {covered:.4f}")
    print(
        f"time {elapsed:.1f} s (generate {generated - started:.1f}, validate "
        f"{loaded - generated:.1f}, block {blocked - loaded:.1f}, score and cluster "
        f"{elapsed - (blocked - started):.1f}), peak memory {peak:.0f} MB"
    )
    show("false merges", predicted - truth, records, model, features, options.show)
    show("missed pairs", truth - predicted, records, model, features, options.show)


if __name__ == "__main__":
    main()
