"""Startup cost of the toolkit: median wall time of `inv --list` beside `python -c "import invoke"`.

Prints numbers; asserts nothing (DESIGN.md: benchmarks never time-assert).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 20


def median_ms(argv: list[str]) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(argv, cwd=REPO, check=True, capture_output=True)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    baseline = median_ms([sys.executable, "-c", "import invoke"])
    listing = median_ms([sys.executable, "-m", "invoke", "--list"])
    print(f"startup over {RUNS} runs (median):")
    print(f"  python -c 'import invoke'  {baseline:8.1f} ms")
    print(f"  inv --list                 {listing:8.1f} ms")
    print(f"  toolkit overhead           {listing - baseline:8.1f} ms")


if __name__ == "__main__":
    main()
