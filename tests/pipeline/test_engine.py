"""The partitioned path: large inputs in bounded memory, on the local engine or on Dask, with one result."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insight.codeframe import Codeframe
from insight.config import InsightConfig
from insight.pipeline import run_pipeline
from insight.schemas import Col

FRAMES = ("comments", "sentences", "assignments", "themes")


def _partitioned(engine: str, **changes) -> InsightConfig:
    """Partitions of 300 comments even for a small input; vectors computed afresh (no cache)."""
    return InsightConfig().replace(engine__engine=engine, engine__partitioned_above=0, engine__partition_rows=300,
                                   engine__sample_sentences=1500, embed__use_cache=False, **changes)


@pytest.fixture(scope="module")
def inputs(small_corpus):
    return pd.read_csv(small_corpus.folder / "feedback.csv").head(1200), small_corpus.folder / "customers.csv"


@pytest.fixture(scope="module")
def local_run(inputs):
    return run_pipeline(*inputs, config=_partitioned("local"))


def test_local_and_dask_engines_give_the_same_run(inputs, local_run):
    """Discovery is the sensitive case: a rounding difference in one vector changes the clusters."""
    pytest.importorskip("distributed")
    dask_run = run_pipeline(*inputs, config=_partitioned("dask", engine__n_workers=2))
    assert dask_run.kpis["partitions"]["engine"] == "dask"
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(local_run, name), getattr(dask_run, name), obj=name)
    pd.testing.assert_frame_equal(local_run.drivers.to_frame(), dask_run.drivers.to_frame())
    assert np.array_equal(np.asarray(local_run.embeddings), np.asarray(dask_run.embeddings))


def test_a_partitioned_run_keeps_every_comment_and_stores_half_precision_vectors(inputs, local_run):
    info = local_run.kpis["partitions"]
    assert (info["engine"], info["partitions"], info["partition_rows"]) == ("local", 4, 300)
    assert 1200 <= info["theme_sample_sentences"] <= 1800  # whole comments are sampled
    assert len(local_run.comments) == local_run.feedback.accounting()["rows_kept"] == len(inputs[0])
    assert set(local_run.sentences[Col.COMMENT_ID]) == set(local_run.comments[Col.COMMENT_ID])
    assert local_run.sentences[Col.SENTENCE_ID].is_unique
    assert local_run.embeddings.dtype == np.float16 and isinstance(local_run.embeddings, np.memmap)
    assert local_run.embeddings.shape[0] == len(local_run.sentences)
    assert local_run.assignments[Col.SENTENCE_ID].isin(local_run.sentences[Col.SENTENCE_ID]).all()
    counted = local_run.assignments.groupby(Col.THEME_ID)[Col.SENTENCE_ID].nunique()
    themes = local_run.themes.set_index(Col.THEME_ID)
    assert (themes["n_sentences"] == counted.reindex(themes.index, fill_value=0)).all()  # over every shard, not the sample
    assert local_run.drivers is not None and local_run.segments is not None


def test_inputs_above_the_threshold_take_the_partitioned_path_with_the_same_themes(small_corpus, small_run):
    """The one-pass codeframe run and a partitioned one (half-precision vectors, calibration on a
    sample) assign nearly every sentence alike; small inputs stay on the one-pass path."""
    assert "partitions" not in small_run.kpis
    config = InsightConfig().replace(engine__partitioned_above=1000, engine__partition_rows=1500)
    run = run_pipeline(small_corpus.folder / "feedback.csv", small_corpus.folder / "customers.csv",
                       config=config, codeframe=Codeframe.default())
    assert run.kpis["partitions"]["partitions"] == -(-len(run.comments) // 1500) > 1
    pd.testing.assert_frame_equal(run.sentences[[Col.SENTENCE_ID, Col.TEXT]],
                                  small_run.sentences[[Col.SENTENCE_ID, Col.TEXT]])

    def theme_sets(result):
        return result.assignments.groupby(Col.SENTENCE_ID)[Col.THEME].agg(frozenset).reindex(
            result.sentences[Col.SENTENCE_ID], fill_value=frozenset())

    agree = (theme_sets(run).to_numpy() == theme_sets(small_run).to_numpy()).mean()
    assert agree >= 0.95
    labels = run.sentences[Col.SENTIMENT_LABEL].to_numpy() == small_run.sentences[Col.SENTIMENT_LABEL].to_numpy()
    assert labels.mean() >= 0.95


def test_a_failed_partitioned_run_leaves_no_shards_behind(tmp_path):
    """Content-free comments only: discovery has nothing to cluster, the error is the user's to read,
    and the work folder is gone."""
    from insight.errors import InsufficientDataError

    feedback = pd.DataFrame({"comment": ["Thanks!", "ok", "Thank you.", "hi"] * 30})
    config = _partitioned("local", engine__workdir=str(tmp_path), themes__mode="discover")
    with pytest.raises(InsufficientDataError):
        run_pipeline(feedback, config=config)
    assert not any((tmp_path / "partitions").iterdir())


def test_a_bad_scheduler_address_is_a_clear_input_error():
    pytest.importorskip("distributed")
    from insight.engine import DaskEngine
    from insight.errors import InputError

    with pytest.raises(InputError, match="Could not reach the Dask scheduler at nonsense"):
        DaskEngine("nonsense")
