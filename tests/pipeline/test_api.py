"""The notebook API: ``from insight import analyze``, ``result.summary()``, ``result.save(folder)``."""
from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import warnings

import pytest



def test_import_insight_is_light_and_exports_the_api():
    code = ("import sys, insight; assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules; "
            "[getattr(insight, name) for name in insight.__all__]; print(sorted(insight.__all__))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['Codeframe', 'InsightConfig', 'RunResult', 'analyze', 'load_run']"


@pytest.fixture(scope="module")
def analyzed(small_corpus):
    from insight import analyze
    from insight.errors import InsightWarning

    with warnings.catch_warnings():  # the notes it raises are tested in test_notes_are_raised_as_warnings_of_their_kind
        warnings.simplefilter("ignore", InsightWarning)
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


def test_a_run_saved_with_notes_in_its_kpis_loads_them_as_fields(analyzed, tmp_path):
    """Runs saved before RunResult had ``skipped`` and ``sentiment_fallback`` kept them as kpis keys."""
    import json

    from insight import load_run

    analyzed.save(tmp_path / "run")
    path = tmp_path / "run" / "run.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    for name in ("skipped", "sentiment_fallback"):
        meta["result"].pop(name)
    meta["result"]["kpis"].update(skipped={"drivers": "no outcome column"}, sentiment_fallback="lexicon alone")
    path.write_text(json.dumps(meta), encoding="utf-8")
    loaded = load_run(tmp_path / "run")
    assert loaded.skipped == {"drivers": "no outcome column"} and loaded.sentiment_fallback == "lexicon alone"
    assert "skipped" not in loaded.kpis and "sentiment_fallback" not in loaded.kpis


def test_skipped_stages_and_fallbacks_are_numbered_notes(small_run):
    result = dataclasses.replace(
        small_run, skipped={"drivers": "no outcome column <b>"}, sentiment_fallback="lexicon alone"
    )
    assert result.skipped == {"drivers": "no outcome column <b>"}
    assert result.notes == ["drivers skipped: no outcome column <b>", "lexicon alone"]
    text = str(result.summary())
    assert text.index("[1] drivers skipped") < text.index("[2] lexicon alone")
    assert "no outcome column &lt;b&gt;" in result.summary()._repr_html_()



def test_notes_are_raised_as_warnings_of_their_kind(small_run):
    """A notebook hears what limits the figures: a simpler method, a skipped stage, themes with too few customers."""
    from insight.errors import FallbackWarning, InsightWarning, SmallSampleWarning

    result = dataclasses.replace(small_run, skipped={"segments": "too few customers"}, sentiment_fallback="lexicon alone")
    with pytest.warns(InsightWarning) as caught:
        assert result.warn() is result
    kinds = [(w.category, str(w.message)) for w in caught]
    assert (FallbackWarning, "lexicon alone") in kinds
    assert (SmallSampleWarning, "segments skipped: too few customers") in kinds
    flagged = small_run.drivers.to_frame()["flags"].astype(str).str.contains("insufficient_data").sum()
    assert any(c is SmallSampleWarning and m.startswith(f"{flagged} theme-outcome") for c, m in kinds) == (flagged > 0)
