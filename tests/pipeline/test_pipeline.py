"""End-to-end behaviour of the pipeline on the generated corpus with ground truth."""
from __future__ import annotations

import numpy as np
import pandas as pd
from insight.schemas import Col


def _truth_themes(small_corpus) -> dict[str, set[str]]:
    return {cid: set(v["themes"]) for cid, v in small_corpus.truth["comments"].items()}


def test_every_row_accounted_for(small_run, small_corpus):
    acc = small_run.feedback.accounting()
    assert acc["rows_in"] == len(small_corpus.feedback)
    assert acc["rows_in"] == acc["rows_kept"] + acc["rows_dropped"]
    assert len(small_run.comments) == acc["rows_kept"]


def test_multi_theme_comments_get_several_themes(small_run, small_corpus):
    truth = _truth_themes(small_corpus)
    found = small_run.comments.set_index(Col.COMMENT_ID)[Col.THEMES]
    multi = [cid for cid, themes in truth.items() if len(themes) >= 2 and cid in found.index]
    assert len(multi) >= 50
    several = np.mean([len(found[cid]) >= 2 for cid in multi])
    assert several >= 0.6, f"only {several:.0%} of multi-theme comments got two or more themes"


def test_codeframe_themes_match_truth(small_run, small_corpus):
    truth = _truth_themes(small_corpus)
    found = small_run.comments.set_index(Col.COMMENT_ID)[Col.THEMES]
    tp = fp = fn = 0
    for cid, true in truth.items():
        if cid not in found.index:
            continue
        got = set(found[cid])
        tp += len(got & true)
        fp += len(got - true)
        fn += len(true - got)
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert f1 >= 0.75, f"comment-level micro-F1 {f1:.2f}"


def test_sentiment_follows_truth(small_run, small_corpus):
    truth = {cid: v["sentiment"] for cid, v in small_corpus.truth["comments"].items()}
    comments = small_run.comments.set_index(Col.COMMENT_ID)
    neg = [comments.loc[c, Col.SENTIMENT_SCORE] for c, s in truth.items() if s == "negative" and c in comments.index]
    pos = [comments.loc[c, Col.SENTIMENT_SCORE] for c, s in truth.items() if s == "positive" and c in comments.index]
    assert np.mean(neg) < -0.2 < 0.2 < np.mean(pos)
    assert small_run.comments[Col.SENTIMENT_SCORE].between(-1, 1).all()
    assert set(small_run.comments[Col.SENTIMENT_LABEL]) <= {"negative", "neutral", "positive"}


def test_planted_churn_driver_is_found(small_run, small_corpus):
    drivers = small_run.drivers.to_frame()
    churn = drivers[drivers[Col.OUTCOME] == "churn"].set_index(Col.THEME)
    strongest = max(small_corpus.truth["themes"], key=lambda t: t["churn_log_odds"])
    row = churn.loc[strongest["name"]]
    assert row[Col.EFFECT] > 0 and row[Col.CI_LOW] > 0


def test_reassign_after_merge_does_not_reembed(small_run, monkeypatch):
    from insight import embed
    from insight.codeframe import Codeframe
    from insight.pipeline import reassign

    stage_calls, prototype_calls = [], []
    original_stage, embedder = embed.embed_texts, small_run.theme_model.embedder
    original_embed = embedder.embed

    def spy_stage(texts, **kwargs):
        stage_calls.append(len(texts))
        return original_stage(texts, **kwargs)

    def spy_embed(texts, *args, **kwargs):
        prototype_calls.append(len(texts))
        return original_embed(texts, *args, **kwargs)

    monkeypatch.setattr(embed, "embed_texts", spy_stage)
    monkeypatch.setattr(embedder, "embed", spy_embed)  # the assigner embeds prototypes through its embedder
    frame = Codeframe.default().merge(["slow support", "friendly staff"], into="support")
    merged = reassign(small_run, frame)
    assert "support" in set(merged.themes[Col.THEME])
    assert not {"slow support", "friendly staff"} & set(merged.themes[Col.THEME])
    assert not stage_calls, "sentences were embedded again"
    assert 0 < sum(prototype_calls) < 50  # only the merged theme's new prototype texts
    assert merged.embeddings is small_run.embeddings


def test_pipeline_does_not_mutate_input(small_corpus):
    from insight.codeframe import Codeframe
    from insight.pipeline import run_pipeline

    feedback = pd.read_csv(small_corpus.folder / "feedback.csv", dtype=str).head(60)
    before = feedback.copy()
    run_pipeline(feedback, codeframe=Codeframe.default())
    pd.testing.assert_frame_equal(feedback, before)


def test_discovery_is_deterministic(small_run):
    from insight.config import ThemeConfig
    from insight.themes import assign_themes

    sentences = small_run.sentences.head(600)
    vectors = small_run.embeddings[:600]
    first = assign_themes(sentences, vectors, config=ThemeConfig(mode="discover"), random_state=3)
    second = assign_themes(sentences, vectors, config=ThemeConfig(mode="discover"), random_state=3)
    pd.testing.assert_frame_equal(first.assignments, second.assignments)
    assert list(first.themes[Col.THEME]) == list(second.themes[Col.THEME])


def test_store_round_trip(small_run, tmp_path):
    from insight.store import list_runs, load_run, save_run

    save_run(small_run, tmp_path / "run")
    loaded = load_run(tmp_path / "run")
    assert not small_run.kpis_by_segment.empty and not small_run.kpis_by_theme.empty
    for field in ("comments", "sentences", "assignments", "themes", "segments", "kpis_by_segment", "kpis_by_month",
                  "kpis_by_theme"):
        pd.testing.assert_frame_equal(getattr(loaded, field), getattr(small_run, field), check_dtype=False)
    pd.testing.assert_frame_equal(loaded.drivers.table, small_run.drivers.table, check_dtype=False)
    pd.testing.assert_frame_equal(loaded.join.mentions, small_run.join.mentions, check_dtype=False)
    np.testing.assert_array_equal(loaded.embeddings, small_run.embeddings)
    assert loaded.config == small_run.config
    assert loaded.feedback.accounting() == small_run.feedback.accounting()
    # list cells come back as lists, as in a fresh run (Parquet hands back arrays)
    assert isinstance(loaded.themes[Col.KEYWORDS].iloc[0], list)
    assert all(isinstance(v, list) for v in loaded.comments[Col.THEMES])
    assert len(list_runs(tmp_path / "runs.duckdb")) == 1


def test_other_theme_backend_scores_sentiment_on_minilm_once(small_run, small_corpus, monkeypatch):
    """With TF-IDF/LSA themes the sentiment head still reads its own vectors, the sentences' embedded once for
    both their uses (adaptation and scoring)."""
    from insight import embed
    from insight.codeframe import Codeframe
    from insight.config import InsightConfig
    from insight.pipeline import run_pipeline
    from insight.sentiment import EMBEDDER

    backends = []
    original = embed.embed_texts

    def spy(texts, **kwargs):
        backends.append((kwargs["config"].backend, len(texts)))
        return original(texts, **kwargs)

    monkeypatch.setattr(embed, "embed_texts", spy)
    config = InsightConfig().replace(embed__backend="tfidf_lsa.v1", sentiment__adapt_to_scores=True)
    run = run_pipeline(small_corpus.folder / "feedback.csv", small_corpus.folder / "customers.csv",
                       codeframe=Codeframe.default(), config=config)
    n_sentences = len(run.sentences)
    assert backends.count((EMBEDDER, n_sentences)) == 1 and ("tfidf_lsa.v1", n_sentences) in backends
    assert run.kpis["sentiment_adaptation"]["n_train"] > 0
    assert run.embeddings.shape[1] != small_run.embeddings.shape[1]  # themes really ran on TF-IDF/LSA


def test_saved_tfidf_run_reassigns_like_the_live_one(small_corpus, tmp_path):
    """A corpus-fitted backend's space is rebuilt from the run's sentences, so a saved run can be edited."""
    from insight.codeframe import Codeframe
    from insight.config import InsightConfig
    from insight.pipeline import reassign, run_pipeline
    from insight.store import load_run, save_run

    config = InsightConfig().replace(embed__backend="tfidf_lsa.v1")
    run = run_pipeline(small_corpus.folder / "feedback.csv", small_corpus.folder / "customers.csv",
                       codeframe=Codeframe.default(), config=config)
    edited = Codeframe.default().merge(["slow support", "friendly staff"], into="support")
    save_run(run, tmp_path / "run")
    live, saved = reassign(run, edited), reassign(load_run(tmp_path / "run"), edited)
    assert (live.assignments[Col.THEME] == "support").sum() > 50
    pd.testing.assert_frame_equal(saved.assignments, live.assignments, check_dtype=False)


def test_without_torch_a_tfidf_run_scores_sentiment_from_the_lexicon(small_corpus, monkeypatch):
    """A TF-IDF/LSA-only setup (no sentence-transformers/torch) still runs end to end, and says how it scored."""
    from insight import registry
    from insight.codeframe import Codeframe
    from insight.config import InsightConfig
    from insight.errors import MissingDependencyError
    from insight.pipeline import run_pipeline

    def no_torch(**kwargs):
        raise MissingDependencyError("The 'minilm.v1' embedder needs the Python package 'torch', which is not installed.")

    monkeypatch.setitem(registry.embedders._factories, "minilm-sentiment.v1", no_torch)
    feedback = pd.read_csv(small_corpus.folder / "feedback.csv").head(300)
    feedback.loc[0, "text"] = "I was charged twice and nobody helped. Not good at all."
    config = InsightConfig().replace(embed__backend="tfidf_lsa.v1", sentiment__adapt_to_scores=True)
    run = run_pipeline(feedback, codeframe=Codeframe.default(), config=config)
    assert "lexicon alone" in run.sentiment_fallback and "torch" in run.sentiment_fallback
    assert run.kpis["sentiment_adaptation"]["skipped"]
    assert run.comments[Col.SENTIMENT_LABEL].iloc[0] == "negative"
    assert set(run.comments[Col.SENTIMENT_LABEL]) == {"negative", "neutral", "positive"}
    assert len(run.assignments) > 0


def test_a_missing_segment_column_skips_segments_not_the_run(small_corpus):
    from insight.codeframe import Codeframe
    from insight.config import InsightConfig
    from insight.pipeline import run_pipeline

    feedback = pd.read_csv(small_corpus.folder / "feedback.csv").head(150)
    config = InsightConfig().replace(segments__columns=("plan", "no_such_column"))
    run = run_pipeline(feedback, small_corpus.folder / "customers.csv", codeframe=Codeframe.default(), config=config)
    assert "no_such_column" in run.skipped["segments"] and run.drivers is not None
