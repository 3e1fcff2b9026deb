"""The notebook API: ``from insight import analyze``, ``result.summary()``, ``result.save(folder)``."""
from __future__ import annotations

import dataclasses
import re
import subprocess
import sys

import pytest

from insight.schemas import SENTIMENT_FALLBACK, SKIPPED


def test_import_insight_is_light_and_exports_the_api():
    code = ("import sys, insight; assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules; "
            "[getattr(insight, name) for name in insight.__all__]; print(sorted(insight.__all__))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['Codeframe', 'InsightConfig', 'RunResult', 'analyze', 'load_run']"


@pytest.fixture(scope="module")
def analyzed(small_corpus):
    from insight import analyze

    return analyze(small_corpus.folder / "feedback.csv", customers=small_corpus.folder / "customers.csv")


def test_analyze_runs_on_files_and_summary_prints(analyzed):
    text = str(analyzed.summary())
    assert re.search(rf"^themes +{len(analyzed.themes)}$", text, re.M)
    assert analyzed.themes.nlargest(1, "n_comments")["theme"].iloc[0] in text
    assert "<table" in analyzed.summary()._repr_html_()


def test_save_and_load_run_give_the_same_summary(analyzed, tmp_path):
    from insight import load_run

    analyzed.save(tmp_path / "run")
    assert str(load_run(tmp_path / "run").summary()) == str(analyzed.summary())


def test_skipped_stages_and_fallbacks_are_numbered_notes(small_run):
    kpis = {**small_run.kpis, SKIPPED: {"drivers": "no outcome column <b>"}, SENTIMENT_FALLBACK: "lexicon alone"}
    result = dataclasses.replace(small_run, kpis=kpis)
    assert result.skipped == {"drivers": "no outcome column <b>"}
    assert result.notes == ["drivers skipped: no outcome column <b>", "lexicon alone"]
    text = str(result.summary())
    assert text.index("[1] drivers skipped") < text.index("[2] lexicon alone")
    assert "no outcome column &lt;b&gt;" in result.summary()._repr_html_()

