"""Segment x theme priority tables."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insight.config import SegmentConfig
from insight.errors import MissingColumnError
from insight.join import join_customers
from insight.schemas import OUTPUT_CONTRACT
from insight.segments import SMALL_CELL, high_value_high_churn, segment_table


@pytest.fixture(scope="module")
def join():
    """Region "North" is high-CLV; there, and only there, "outage" mentioners churn far more."""
    rng = np.random.default_rng(0)
    n = 4000
    region = rng.choice(["North", "South", "East", "West"], n)
    plan = rng.choice(["Basic", "Pro"], n)
    north = region == "North"
    outage = rng.random(n) < 0.12
    noise = rng.random(n) < 0.12
    tiny = np.arange(n) < 8
    churn_p = 0.12 + 0.05 * north + 0.45 * (north & outage)
    customers = pd.DataFrame({
        "customer_id": np.arange(n), "region": region, "plan": plan, "tenure_months": rng.integers(1, 60, n),
        "churned": (rng.random(n) < churn_p).astype(int), "clv": np.where(north, 2000.0, 800.0) + rng.normal(0, 50, n),
    })  # fmt: skip
    owners = np.flatnonzero(outage | noise | tiny)
    comments = pd.DataFrame({"comment_id": owners, "customer_id": owners})
    pairs = [(i, t) for i in owners for t, m in (("outage", outage), ("noise", noise), ("tiny", tiny)) if m[i]]
    return join_customers(comments, pd.DataFrame(pairs, columns=["comment_id", "theme"]), customers)


def test_segment_table_contract_and_ranking(join):
    table = segment_table(join)
    contract = OUTPUT_CONTRACT["segments.csv"]
    assert tuple(table.columns[: len(contract)]) == contract
    top = table.iloc[0]
    assert (top.segment_column, top.segment_value, top.theme) == ("region", "North", "outage")
    assert top.priority_ci_low > 0 and top.priority_ci_low < top.priority < top.priority_ci_high
    assert top.priority == pytest.approx(top.n_customers * top.mean_clv * top.excess_churn)
    assert set(table.segment_column) == {"region", "plan", "tenure_band"}  # auto-detected + derived band
    assert (table.n_customers <= table.n_segment).all()


def test_small_cells_are_flagged_and_ranked_last(join):
    table = segment_table(join)
    tiny = table[table.theme == "tiny"]
    assert tiny["flags"].str.contains(SMALL_CELL).all()
    flagged = table["flags"].str.contains(SMALL_CELL).to_numpy()
    assert not flagged[: (~flagged).sum()].any()


def test_segment_columns_from_config(join):
    table = segment_table(join, config=SegmentConfig(columns=("plan",)))
    assert set(table.segment_column) == {"plan"}
    with pytest.raises(MissingColumnError, match="channel"):
        segment_table(join, config=SegmentConfig(columns=("channel",)))


def test_high_value_high_churn_names_the_segment_and_theme(join):
    hot = high_value_high_churn(join)
    assert (hot.segment_column.iloc[0], hot.segment_value.iloc[0]) == ("region", "North")
    assert hot.top_themes.iloc[0].split(";")[0] == "outage"


def test_niche_view_reuses_a_given_segment_table(join):
    config = SegmentConfig(min_customers=5)
    cells = segment_table(join, config=config)
    reused = high_value_high_churn(join, config=config, cells=cells)
    assert not reused.empty
    pd.testing.assert_frame_equal(reused, high_value_high_churn(join, config=config))


@pytest.mark.parametrize(("size", "seed"), [("demo", 0), ("small", 1)])
def test_planted_niche_of_the_generated_corpus_is_found(size, seed):
    generate = pytest.importorskip("corpora.generate")
    from bench.drivers_recovery import analyse_corpus

    corpus = generate.generate_corpus(seed=seed, **generate.SIZES[size])
    join, drivers = analyse_corpus(corpus)
    niche = corpus.truth["niche"]
    hot = high_value_high_churn(join, drivers)
    assert (hot.segment_column.iloc[0], hot.segment_value.iloc[0]) == (niche["column"], niche["value"])
    assert hot.top_themes.iloc[0].split(";")[0] == niche["theme"]
