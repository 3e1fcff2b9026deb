"""NLP quality benchmark in one run: sentiment, themes/codeframe, throughput.

``python -m bench.quality`` or ``make bench``. Reads ../shared/datasets where a
part needs public data and says clearly when it is missing.
"""
from __future__ import annotations

import importlib

PARTS = ("bench.sentiment_quality", "bench.themes_quality", "bench.throughput")


def run(report=print) -> None:
    for name in PARTS:
        report(f"\n--- {name.split('.')[-1]} ---")
        importlib.import_module(name).run(report=report)


if __name__ == "__main__":
    run()
