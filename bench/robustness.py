"""``python -m bench robustness``: every hostile case of ``bench.hostile``, counted.

Prints the cases, how many failed with a clear error and how many ran correctly, and
every way insight fell short: internal errors, tracebacks, rows lost, personal data
leaked (by file), formula or markup injections, and cases whose outcome was not the
expected one (listed by name).
"""
from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.hostile import Outcome, cases, run_case


def run(report: Callable[[str], None] = print) -> list[Outcome]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    outcomes = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="insight-robustness-") as tmp:
        for i, case in enumerate(cases()):
            outcomes.append(run_case(case, Path(tmp) / f"case{i}"))
    leaks = Counter(path for o in outcomes for path in o.leaks)
    by_target = Counter(o.case.target for o in outcomes)
    wrong = [o for o in outcomes if o.problems()]
    report(f"cases:             {len(outcomes)} ({', '.join(f'{t} {n}' for t, n in by_target.items())}; "
           f"{sum(o.case.via_cli for o in outcomes)} through the CLI process) in {time.perf_counter() - start:.0f} s")
    report(f"clear errors:      {sum(o.exit_code == 2 and len(o.errors) == 1 and o.code is not None for o in outcomes)}"
           " (exit 2, one [Ixxx] line)")
    report(f"correct runs:      {sum(o.exit_code == 0 and not o.problems() for o in outcomes)}")
    report(f"internal errors:   {sum(o.exit_code not in (0, 2) for o in outcomes)}")
    report(f"tracebacks:        {sum(o.traceback for o in outcomes)}")
    report(f"rows lost:         {sum(o.rows_lost for o in outcomes)}")
    report(f"misread inputs:    {sum(bool(o.misread) for o in outcomes)}")
    report(f"PII leaks by file: {', '.join(f'{p} {n}' for p, n in leaks.most_common()) or 'none'}")
    report(f"injection leaks:   {sum(len(o.injections) for o in outcomes)}")
    report(f"wrong outcomes:    {len(wrong)}")
    for outcome in wrong:
        report(f"  {outcome.case.name}: {'; '.join(outcome.problems())}")
    return outcomes


if __name__ == "__main__":
    run()
