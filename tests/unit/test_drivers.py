"""Driver statistics on small simulated customer tables with planted effects."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insight.config import DriverConfig
from insight.drivers import (
    COLUMNS,
    COLLINEAR,
    CONFOUNDED,
    INSUFFICIENT,
    SEPARATION,
    DriverResult,
    _bootstrap_medians,
    _discrete_change,
    analyze_drivers,
)
from insight.errors import InsufficientDataError, InvalidValueError, MissingColumnError
from insight.join import join_customers
from insight.schemas import OUTPUT_CONTRACT


def simulate(n=3000, seed=0, *, rare=0, doomed=0):
    """Customers, comments and comment themes with planted effects.

    "billing" raises churn (log-odds +1.2), lowers the NPS score by 1.5 and
    CLV by 200; "price" is mentioned mostly on the Basic plan (high churn) and
    has no effect of its own; "docs" is null. ``rare`` customers mention
    "rare"; ``doomed`` customers mention "doomed" and all churn.
    """
    rng = np.random.default_rng(seed)
    plan = rng.choice(["Basic", "Pro"], n, p=[0.5, 0.5])
    tenure = rng.integers(1, 60, n)
    writes = rng.random(n) < 0.6
    basic = plan == "Basic"
    mentions = {
        "billing": writes & (rng.random(n) < 0.15),
        "price": writes & (rng.random(n) < np.where(basic, 0.3, 0.03)),
        "docs": writes & (rng.random(n) < 0.15),
        "rare": np.arange(n) < rare,
        "doomed": (np.arange(n) >= n - doomed),
    }
    logit = -1.6 + 1.2 * basic - 0.015 * tenure + 1.2 * mentions["billing"]
    churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    churned[mentions["doomed"]] = 1
    nps = np.clip(np.round(7.5 - 0.5 * basic - 1.5 * mentions["billing"] + rng.normal(0, 1.2, n)), 0, 10)
    clv = np.maximum(1000 - 300 * basic - 200 * mentions["billing"] + rng.normal(0, 150, n), 0.0)
    customers = pd.DataFrame({
        "customer_id": [f"K{i}" for i in range(n)], "plan": plan, "tenure_months": tenure,
        "churned": churned, "nps": nps, "clv": clv,
    })  # fmt: skip
    owners = [i for i in range(n) if writes[i] or any(m[i] for m in mentions.values())]
    comments = pd.DataFrame({"comment_id": range(len(owners)), "customer_id": [f"K{i}" for i in owners]})
    pairs = [
        (k, theme, bool(rng.random() < 0.7)) for k, i in enumerate(owners) for theme, m in mentions.items() if m[i]
    ]
    themes = pd.DataFrame(pairs, columns=["comment_id", "theme", "negative"])
    return comments, themes, customers


@pytest.fixture(scope="module")
def result() -> DriverResult:
    return analyze_drivers(join_customers(*simulate(rare=12, doomed=40)))


def _row(result, theme, outcome, exposure="mentioned"):
    t = result.table
    return t[(t.theme == theme) & (t.outcome == outcome) & (t.exposure == exposure)].iloc[0]


def test_planted_driver_is_found_with_its_size(result):
    churn = _row(result, "billing", "churn")
    assert churn.adjusted_q_value < 0.001 and churn.adjusted_effect > 0
    assert churn.adjusted_odds_ratio_ci_low < np.exp(1.2) < churn.adjusted_odds_ratio_ci_high
    nps = _row(result, "billing", "nps")
    assert nps.adjusted_ci_low < -1.5 < nps.adjusted_ci_high
    assert nps.effect < -20 and nps.nps_impact < 0  # NPS points; the theme drags NPS down
    clv = _row(result, "billing", "clv")
    assert clv.adjusted_ci_low < -200 < clv.adjusted_ci_high
    assert clv.median_ci_low < clv.median_difference < clv.median_ci_high < 0


def test_confounded_theme_is_flagged(result):
    price = _row(result, "price", "churn")
    assert price.q_value <= 0.05  # raw: price-mentioners churn more (they are on Basic)
    assert price.adjusted_q_value > 0.05
    assert CONFOUNDED in price["flags"].split(";")
    assert "likely confounded" in result.caption("price", "churn")


def test_min_support_flags_and_does_not_rank(result):
    rare = _row(result, "rare", "churn")
    assert rare.n_with == 12
    assert INSUFFICIENT in rare["flags"].split(";")
    assert np.isnan(rare.p_value) and np.isnan(rare.q_value) and np.isnan(rare.adjusted_effect)
    assert np.isfinite(rare.effect)  # shown, with its interval
    churn_rows = result.to_frame().query("outcome == 'churn'")
    assert churn_rows.theme.iloc[-1] in {"rare", "doomed"}  # unranked rows come last
    assert "Only 12 customers mention rare" in result.caption("rare", "churn")


def test_all_churned_theme_is_insufficient_not_separated(result):
    doomed = _row(result, "doomed", "churn")
    assert doomed.rate_with == 1.0
    assert doomed["flags"].split(";") == [INSUFFICIENT]  # no stayers: not ranked, one reason given
    assert "Only 40 customers mention doomed" in result.caption("doomed", "churn")


def test_separation_is_flagged_without_crashing_when_the_theme_enters_the_model():
    loose = analyze_drivers(join_customers(*simulate(doomed=40)), config=DriverConfig(min_events=0))
    doomed = _row(loose, "doomed", "churn")
    assert SEPARATION in doomed["flags"].split(";")
    assert np.isnan(doomed.adjusted_p_value)
    assert any(note.startswith("Separation") for note in loose.notes)
    assert _row(loose, "billing", "churn").adjusted_q_value < 0.001  # the rest of the model still fits


def test_bh_q_values_are_monotone_in_p(result):
    for p_col, q_col in (("p_value", "q_value"), ("adjusted_p_value", "adjusted_q_value")):
        t = result.table[[p_col, q_col]].dropna().sort_values(p_col)
        assert len(t) > 10
        assert (t[q_col] >= t[p_col] - 1e-12).all()
        assert (np.diff(t[q_col].to_numpy()) >= -1e-12).all()


def test_to_frame_has_the_contract_columns_first(result):
    frame = result.to_frame()
    assert tuple(frame.columns[: len(OUTPUT_CONTRACT["drivers.csv"])]) == OUTPUT_CONTRACT["drivers.csv"]
    assert tuple(frame.columns) == COLUMNS
    assert set(frame.exposure) == {"mentioned"}
    assert set(result.to_frame(None).exposure) == {"mentioned", "negative"}
    assert len(result.to_frame(None)) == 5 * 2 * 3
    with pytest.raises(InvalidValueError):
        result.to_frame("sometimes")


def test_summary_explains_drivers_and_numbered_notes(result):
    text = result.summary()
    assert "Customers who mention billing churn" in text
    assert "Notes:" in text and "[1]" in text
    assert "rare (churn, mentioned)" in text  # the insufficient-data note names the theme
    assert "Separation" not in text  # the all-churned theme is insufficient data, said once


def test_conf_int_other_alpha_is_narrower(result):
    ci95, ci80 = result.conf_int(0.05), result.conf_int(0.2)
    width = lambda c: (c.ci_high - c.ci_low).dropna()  # noqa: E731
    assert (width(ci80) < width(ci95).loc[width(ci80).index]).all()
    pd.testing.assert_series_equal(ci95.ci_low, result.table.set_index(["theme", "exposure", "outcome"]).ci_low)


def test_adjusted_effect_equals_statsmodels_margeff():
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(800), rng.random(800) < 0.3, rng.normal(size=800)]).astype(float)
    y = (rng.random(800) < 1 / (1 + np.exp(-(X @ [-1.0, 0.9, 0.5])))).astype(float)
    res = sm.Logit(y, X).fit(disp=0)
    margeff = res.get_margeff(at="overall", dummy=True)
    ame, se = _discrete_change(res.params, res.cov_params(), X, 1, np.ones(800, dtype=bool))
    assert ame == pytest.approx(margeff.margeff[0], rel=1e-6)
    assert se == pytest.approx(margeff.margeff_se[0], rel=1e-3)


def test_exact_bootstrap_median_matches_resampling():
    rng = np.random.default_rng(1)
    x = rng.exponential(size=40)
    exact = _bootstrap_medians(x, 20000, np.random.default_rng(2))
    resampled = np.sort(rng.choice(x, size=(20000, 40)), axis=1)[:, 19]  # lower median of each resample
    assert np.quantile(exact, [0.025, 0.5, 0.975]) == pytest.approx(np.quantile(resampled, [0.025, 0.5, 0.975]), rel=0.05)


def test_same_seed_same_result():
    data = simulate(n=800, seed=5)
    a = analyze_drivers(join_customers(*data), random_state=1).table
    b = analyze_drivers(join_customers(*data), random_state=1).table
    pd.testing.assert_frame_equal(a, b)


def test_no_matching_ids_is_insufficient_data():
    comments, themes, customers = simulate(n=300)
    customers = customers.assign(customer_id=[f"other-{i}" for i in range(len(customers))])
    join = join_customers(comments, themes, customers)
    assert join.match_rate == 0.0
    with pytest.raises(InsufficientDataError, match="match rate 0%"):
        analyze_drivers(join)


def test_bad_outcome_values_raise():
    comments, themes, customers = simulate(n=300)
    with pytest.raises(InvalidValueError, match="churned"):
        analyze_drivers(join_customers(comments, themes, customers.assign(churned=2)))
    with pytest.raises(InvalidValueError, match="0-10"):
        analyze_drivers(join_customers(comments, themes, customers.assign(nps=customers.nps + 5)))
    with pytest.raises(InvalidValueError, match="negative"):
        analyze_drivers(join_customers(comments, themes, customers.assign(clv=-customers.clv)))
    with pytest.raises(InsufficientDataError, match="no usable outcome"):
        analyze_drivers(join_customers(comments, themes, customers.drop(columns=["churned", "nps", "clv"])))


def test_min_support_follows_config():
    data = simulate(n=1500, seed=2)
    strict = analyze_drivers(join_customers(*data), config=DriverConfig(min_support=10_000))
    assert strict.table["flags"].str.contains(INSUFFICIENT).all()
    assert strict.table.adjusted_effect.isna().all()


def test_identical_themes_are_flagged_collinear_not_crashing():
    comments, themes, customers = simulate(n=1500, seed=4)
    twin = themes[themes.theme == "billing"].assign(theme="billing twin")
    result = analyze_drivers(join_customers(comments, pd.concat([themes, twin]), customers))
    rows = result.to_frame().query("theme in ['billing', 'billing twin'] and outcome == 'churn'")
    assert rows["flags"].str.contains(COLLINEAR).sum() == 1
    assert rows.adjusted_effect.notna().sum() == 1
    assert "Collinear" in result.summary()


@pytest.mark.parametrize("outcome", ["nps", "clv"])
def test_group_intervals_follow_the_analysis_alpha(result, outcome):
    wide = _row(result, "billing", outcome)
    narrow = _row(analyze_drivers(join_customers(*simulate(rare=12, doomed=40)), config=DriverConfig(alpha=0.2)),
                  "billing", outcome)
    assert narrow["rate_with"] == pytest.approx(wide["rate_with"])
    assert narrow["rate_with_ci_high"] - narrow["rate_with_ci_low"] < wide["rate_with_ci_high"] - wide["rate_with_ci_low"]


def test_clv_median_shift_with_equal_means_is_not_called_confounded():
    """Mann-Whitney sees the shift, the mean (and OLS) do not: no 'confounded' flag."""
    comments, themes, customers = simulate(seed=1)
    owners = set(comments.loc[comments.comment_id.isin(themes.loc[themes.theme == "docs", "comment_id"]), "customer_id"])
    rng = np.random.default_rng(7)
    docs = customers.customer_id.isin(owners).to_numpy()
    clv = rng.normal(1000, 100, len(customers))
    skewed = rng.random(len(customers)) < 0.1
    clv[docs] = np.where(skewed[docs], 1900, rng.normal(900, 100, docs.sum()))  # lower median, same mean
    customers = customers.assign(clv=clv)
    row = _row(analyze_drivers(join_customers(comments, themes, customers)), "docs", "clv")
    assert row.q_value <= 0.05 and row.ci_low < 0 < row.ci_high  # the premise: rank test yes, mean no
    assert CONFOUNDED not in row["flags"].split(";")


# ---------------------------------------------------------------- outcomes the user picks

_SAME_STATISTICS = ["theme", "exposure", "n_with", "n_without", "effect", "ci_low", "ci_high", "p_value",
                    "adjusted_effect", "adjusted_ci_low", "adjusted_ci_high", "adjusted_p_value", "test"]


@pytest.mark.parametrize(("picked", "standard"), [("left", "churned"), ("spend", "clv")])
def test_picked_outcome_gets_the_statistics_of_its_kind(picked, standard):
    comments, themes, customers = simulate(n=1500)
    customers = customers.assign(**{picked: customers[standard]})
    result = analyze_drivers(join_customers(comments, themes, customers), config=DriverConfig(outcomes=(picked,)))
    t = result.table
    name = {"churned": "churn", "clv": "clv"}[standard]
    mine = t[t.outcome == picked][_SAME_STATISTICS].reset_index(drop=True)
    theirs = t[t.outcome == name][_SAME_STATISTICS].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, theirs)
    assert t[t.outcome == picked]["revenue_at_risk"].isna().all()  # revenue at risk belongs to churn only
    assert f"{picked}:" in result.summary()


def test_unusable_picked_outcomes_are_refused_not_skipped():
    comments, themes, customers = simulate(n=300)
    join = join_customers(comments, themes, customers.assign(tier=np.where(customers.clv > 800, "gold", "tin")))
    with pytest.raises(MissingColumnError, match="'upsell'"):
        analyze_drivers(join, config=DriverConfig(outcomes=("upsell",)))
    with pytest.raises(InvalidValueError, match="'tier' must hold numbers"):
        analyze_drivers(join, config=DriverConfig(outcomes=("tier",)))
    with pytest.raises(InvalidValueError, match="covariate"):
        analyze_drivers(join, config=DriverConfig(outcomes=("tenure_months",)))


def test_picked_outcome_recovers_the_planted_upsell_driver_on_the_generated_corpus():
    generate = pytest.importorskip("corpora.generate")
    from bench.drivers_recovery import truth_comment_themes
    from insight.ingest import ingest_customers

    corpus = generate.generate_corpus(seed=0, **generate.SIZES["small"])
    customers = ingest_customers(corpus.customers).data
    join = join_customers(corpus.feedback, truth_comment_themes(corpus.sentences), customers)
    table = analyze_drivers(join, config=DriverConfig(outcomes=("upsell",))).to_frame()
    upsell = table[table.outcome == "upsell"].set_index("theme")
    planted = corpus.truth["outcome_models"]["upsell"]["theme_log_odds"]
    assert planted == {"ease of use": 1.2}
    row = upsell.loc["ease of use"]
    assert row.adjusted_q_value <= 0.05 and row.adjusted_effect > 0
    assert np.log(row.adjusted_odds_ratio_ci_low) <= 1.2 <= np.log(row.adjusted_odds_ratio_ci_high)
    assert upsell.index[0] == "ease of use"  # ranked first among the themes
