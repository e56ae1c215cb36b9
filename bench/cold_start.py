"""Print how long `abca-deploy --help` takes to start, next to `python -c pass` (goal: under 15x, ~0.3 s).

Run: uv run python bench/cold_start.py [RUNS]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def best_of(argv: list[str], runs: int) -> float:
    """The median wall time of ``runs`` runs of argv, in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    base = best_of([sys.executable, "-c", "pass"], runs)
    cli = best_of([sys.executable, "-m", "abca_deploy", "--help"], runs)
    heavy = subprocess.run([sys.executable, "-X", "importtime", "-m", "abca_deploy", "--help"],
                           capture_output=True, text=True, check=True).stderr
    loaded = [m for m in ("boto3", "botocore", "docker", "github", "pydantic") if f" {m}\n" in heavy
              or f"| {m}\n" in heavy]
    print(f"python -c pass        {base * 1000:7.1f} ms (median of {runs})")
    print(f"abca-deploy --help    {cli * 1000:7.1f} ms (median of {runs})")
    print(f"ratio                 {cli / base:7.1f}x (goal: under 15x)")
    print(f"heavy modules loaded  {', '.join(loaded) or 'none'}")


if __name__ == "__main__":
    main()
