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
