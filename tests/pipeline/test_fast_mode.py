"""Fast mode end to end: `--embedder fast` runs without torch, and a large input switches to it by itself."""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd


def test_cli_fast_mode_runs_end_to_end_without_torch(small_corpus, tmp_path):
    out = tmp_path / "out"
    argv = ["analyze", "--feedback", str(small_corpus.folder / "feedback.csv"),
            "--customers", str(small_corpus.folder / "customers.csv"),
            "--codeframe", "models/codeframe_default.yaml", "--embedder", "fast", "--out", str(out), "--quiet"]
    code = ("import sys\n"
            "class NoTorch:  # any MiniLM path fails\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in ('torch', 'sentence_transformers', 'transformers'):\n"
            "            raise ImportError(f'{name} is blocked in this test')\n"
            "sys.meta_path.insert(0, NoTorch())\n"
            "from insight.cli import main\n"
            f"sys.exit(main({argv!r}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "lexicon alone" not in done.stderr  # sentiment came from the fast head, not the fallback
    settings = json.loads((out / "summary.json").read_text())["settings"]
    assert settings["embed"]["backend"] == "static.v1"  # the alias resolved to the name the run records
    comments = pd.read_csv(out / "comments.csv")
    assert set(comments["sentiment_label"]) == {"negative", "neutral", "positive"}


def test_a_large_input_switches_to_fast_mode_and_says_so(small_corpus):
    from insight.codeframe import Codeframe
    from insight.config import InsightConfig
    from insight.pipeline import run_pipeline
    from insight.sentiment import StaticSentimentModel

    config = InsightConfig().replace(embed__fast_above=100)
    result = run_pipeline(small_corpus.folder / "feedback.csv", config=config, codeframe=Codeframe.default())
    assert result.config.embed.backend == "static.v1"
    assert isinstance(result.sentiment_model, StaticSentimentModel)
    note = next(n for n in result.notes if "fast static embedder" in n)
    assert "more than embed.fast_above = 100" in note and "name the embedder minilm-idf.v1" in note
    assert result.assignments["theme_sentiment_label"].notna().all()


def test_a_partitioned_run_in_fast_mode_scores_with_the_fast_head(small_corpus):
    from insight.codeframe import Codeframe
    from insight.config import InsightConfig
    from insight.pipeline import run_pipeline
    from insight.sentiment import StaticSentimentModel

    config = InsightConfig().replace(embed__backend="fast", engine__partitioned_above=0, engine__partition_rows=300,
                                     engine__sample_sentences=1500)
    feedback = pd.read_csv(small_corpus.folder / "feedback.csv").head(900)
    result = run_pipeline(feedback, config=config, codeframe=Codeframe.default())
    assert result.kpis["partitions"]["partitions"] == 3
    assert isinstance(result.sentiment_model, StaticSentimentModel)
    assert result.kpis["sentiment_adaptation"] == {"skipped": "fast mode's sentiment head is not adapted to the file's scores"}
    assert set(result.sentences["sentiment_label"]) == {"negative", "neutral", "positive"}
