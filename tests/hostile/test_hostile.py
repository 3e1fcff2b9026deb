"""Hostile and malformed inputs (``bench.hostile``): every case must end in a correct run or one clear error.

Each case asserts everything ``Outcome.problems`` checks: exit code 0 or 2 and no
traceback, one ``[Ixxx]`` line of the expected code on failure, every row accounted
for against the file's true row count, nothing misread, no planted personal data in
any output or stored file, no live formula in CSV/Excel and no planted markup in the
HTML report. ``python -m bench robustness`` runs the same cases and counts them.
"""
from __future__ import annotations

import pytest

from bench.hostile import cases, run_case

_SLOW = ("e2e",)


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.name, marks=[pytest.mark.slow] if c.via_cli or c.target in _SLOW else []) for c in cases()],
)
def test_hostile_input(case, tmp_path):
    outcome = run_case(case, tmp_path)
    assert not outcome.problems(), outcome.problems()


def test_the_generator_covers_every_input():
    """At least 150 cases, over every format of feedback file and every other input the CLI takes."""
    all_cases = cases()
    assert len(all_cases) >= 150
    assert {c.target for c in all_cases} == {"feedback", "customers", "codeframe", "config", "cli", "e2e"}
    assert {c.name.split("/")[1] for c in all_cases if c.target == "feedback"} >= {
        "csv", "tsv", "xlsx", "json", "jsonl", "parquet"}
    assert sum(c.via_cli for c in all_cases) >= 5
