"""``python -m bench [names...]``: run the benchmarks and print their figures.

Names: quality (= sentiment + themes + throughput), sentiment, themes, throughput,
drivers, outcomes (the planted upsell driver found through a picked outcome),
robustness (hostile inputs), realworld (themes and sentiment on real
feedback), fast (fast mode's figures beside the default's), scale (10k to 1M
real comments end to end: about an hour, so not in the default set), app (the
app's load and page render times on a 1,000,000-comment run: minutes, so not in
the default set). Default: quality, realworld, fast, drivers, outcomes and
robustness. Each benchmark says clearly when the public datasets
(../shared/datasets) are missing.
"""
from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
from datetime import date

BENCHMARKS = {
    "quality": "bench.quality",
    "sentiment": "bench.sentiment_quality",
    "themes": "bench.themes_quality",
    "throughput": "bench.throughput",
    "drivers": "bench.drivers_recovery",
    "outcomes": "bench.outcomes",
    "robustness": "bench.robustness",
    "realworld": "bench.realworld",
    "fast": "bench.fast",
    "scale": "bench.scale",
    "app": "bench.app",
}
DEFAULT = ("quality", "realworld", "fast", "drivers", "outcomes", "robustness")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"one of: {', '.join(BENCHMARKS)}")
    names = parser.parse_args(argv).names or list(DEFAULT)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    print(f"insight benchmarks — {date.today().isoformat()} — {platform.processor() or platform.machine()}, "
          f"{platform.python_version()}")
    for name in names:
        print(f"\n=== {name} ===")
        start = time.perf_counter()
        importlib.import_module(BENCHMARKS[name]).run(report=print)
        print(f"({name}: {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
