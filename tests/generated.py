"""Generated customer files (bench/generate_customers.py) for tests that import one."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def customer_file(path: Path, *, rows: int, seed: int, duplicate_rate: float = 0.2) -> Path:
    """Write ``rows`` generated customers to ``path`` (same seed, same file)."""
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate_customers.py"), "--rows", str(rows),
         "--seed", str(seed), "--duplicate-rate", str(duplicate_rate), "--output", str(path)],
        check=True, capture_output=True,
    )  # fmt: skip
    return path
