#!/usr/bin/env python3
"""Benchmark: the blocking-key table's layout on SQLite, stand-alone (no Django).

    python bench/blocking_key_table.py [--records 100000] [--keys 10]

Writes ``--records`` records of ``--keys`` random 64-bit blocking codes each, in
batches of 2,000 as an import does, into two layouts of the table, and before each
batch looks up the codes of a batch as matching does:

- ``surrogate``: an integer id, an index on (code, id) and one on the record (the
  layout before migration ``matching.0007``);
- ``composite``: primary key (code, record) in a WITHOUT ROWID table, and an index on
  the record (the layout since).

Prints microseconds per record for writing and for looking up, and the file size.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import tempfile
import time
from pathlib import Path

LAYOUTS = {
    "surrogate": (
        "CREATE TABLE bk (id INTEGER PRIMARY KEY AUTOINCREMENT, code INTEGER NOT NULL, "
        "rec INTEGER NOT NULL); CREATE INDEX bk_code ON bk (code, id); "
        "CREATE INDEX bk_rec ON bk (rec);",
        "SELECT code, rec FROM bk WHERE code IN ({}) ORDER BY code, id DESC",
    ),
    "composite": (
        "CREATE TABLE bk (code INTEGER NOT NULL, rec INTEGER NOT NULL, "
        "PRIMARY KEY (code, rec)) WITHOUT ROWID; CREATE INDEX bk_rec ON bk (rec);",
        "SELECT code, rec FROM bk WHERE code IN ({}) ORDER BY code, rec DESC",
    ),
}
BATCH = 2_000


def measure(layout: str, records: int, keys: int, folder: Path) -> tuple[float, float, int]:
    schema, query = LAYOUTS[layout]
    path = folder / f"{layout}.sqlite3"
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536"):
        connection.execute(f"PRAGMA {pragma}")
    connection.executescript(schema)
    universe = 3 * records  # codes shared by about three records each
    rng = random.Random(7)
    codes = [rng.getrandbits(63) for _ in range(universe)]
    writing = looking = 0.0
    for start in range(0, records, BATCH):
        batch = [
            (code, record)
            for record in range(start, min(start + BATCH, records))
            for code in {codes[rng.randrange(universe)] for _ in range(keys)}  # distinct
        ]
        wanted = sorted({code for code, _ in batch})
        began = time.perf_counter()
        for offset in range(0, len(wanted), 30_000):
            chunk = wanted[offset : offset + 30_000]
            connection.execute(query.format(", ".join("?" * len(chunk))), chunk).fetchall()
        looking += time.perf_counter() - began
        began = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany("INSERT INTO bk (code, rec) VALUES (?, ?)", batch)
        connection.execute("COMMIT")
        writing += time.perf_counter() - began
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return writing / records * 1e6, looking / records * 1e6, os.path.getsize(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--keys", type=int, default=10, help="blocking keys per record")
    options = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; SQLite {sqlite3.sqlite_version}")
    print(f"{'layout':<12}{'records':>10}{'write µs/record':>18}{'lookup µs/record':>19}{'MB':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for layout in LAYOUTS:
            write, lookup, size = measure(layout, options.records, options.keys, Path(folder))
            print(
                f"{layout:<12}{options.records:>10,}{write:>18.1f}{lookup:>19.1f}{size / 1e6:>8.1f}"
            )


if __name__ == "__main__":
    main()
