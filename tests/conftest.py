"""Session fixtures shared by the pipeline, CLI, store and app tests.

The embedding cache goes to a temporary folder for the whole session (so tests
never touch the user's cache but reuse each other's vectors), and one small
generated corpus with ground truth is written once.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_CACHE = tempfile.mkdtemp(prefix="insight-test-cache-")


def pytest_configure(config: pytest.Config) -> None:
    os.environ["INSIGHT_CACHE_DIR"] = _CACHE
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory: pytest.TempPathFactory):
    """A small generated corpus (customers, feedback, truth) written to disk once."""
    from corpora.generate import generate_corpus, write_corpus

    corpus = generate_corpus(n_customers=2500, seed=0)
    folder = tmp_path_factory.mktemp("corpus")
    write_corpus(corpus, folder)
    corpus.folder = Path(folder)
    return corpus


@pytest.fixture(scope="session")
def small_run(small_corpus):
    """The real pipeline run once on the small corpus with the default codeframe."""
    from insight.codeframe import Codeframe
    from insight.pipeline import run_pipeline

    return run_pipeline(
        small_corpus.folder / "feedback.csv",
        small_corpus.folder / "customers.csv",
        codeframe=Codeframe.default(),
    )


@pytest.fixture
def flagged_segment_cells():
    """Three segment x theme cells in ``segment_table``'s order: a plain cell, a confounded theme's cell,
    and a small cell last despite the highest priority (what the app and the report must keep)."""
    import pandas as pd

    from insight.schemas import Col

    return pd.DataFrame({
        Col.SEGMENT_COLUMN: ["plan", "plan", "region"], Col.SEGMENT_VALUE: ["basic", "pro", "north"],
        Col.THEME: ["billing errors", "slow app", "friendly staff"], Col.N_CUSTOMERS: [40, 30, 2],
        Col.CHURN_RATE: [0.5, 0.3, 1.0], Col.EXCESS_CHURN: [0.3, 0.1, 0.9],
        Col.CLV_AT_RISK: [20000.0, 9000.0, 80000.0], Col.PRIORITY: [6000.0, 900.0, 72000.0],
        "priority_ci_low": [3000.0, -400.0, 10000.0], "priority_ci_high": [9000.0, 2200.0, 80000.0],
        "flags": ["", "confounded", "small_cell"],
    })  # fmt: skip
