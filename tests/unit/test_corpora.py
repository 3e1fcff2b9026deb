"""The corpus generator: determinism, shape, and a ground truth the data actually obeys."""
from __future__ import annotations

import json
import re
import time

import numpy as np
import pandas as pd
import pytest

from corpora import phrases
from corpora.generate import CHURN_MODEL, SIZES, THEME_SPECS, THEMES, generate_corpus, main, theme_role, write_corpus

statsmodels_api = pytest.importorskip("statsmodels.api")

FILES = ("customers.csv", "feedback.csv", "truth_sentences.csv", "ground_truth.json")
EXPECTED_THEMES = {
    "billing errors": "Billing & pricing", "price increase": "Billing & pricing", "value for money": "Billing & pricing",
    "slow support": "Support", "friendly staff": "Support",
    "app crashes": "Product quality", "performance": "Product quality", "login problems": "Product quality",
    "onboarding confusion": "Usability", "ease of use": "Usability",
    "missing feature": "Features", "data export": "Features",
    "delivery delays": "Account & delivery", "cancellation difficulty": "Account & delivery",
}


@pytest.fixture(scope="module")
def corpus():
    return generate_corpus(seed=0, **SIZES["small"])


@pytest.fixture(scope="module")
def written(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    write_corpus(corpus, out)
    return out


def _exposure(customers: pd.DataFrame, feedback: pd.DataFrame, sentences: pd.DataFrame) -> pd.DataFrame:
    """Customer x theme 0/1 exposure rebuilt from the written tables (ids normalised like a join would)."""
    ids = feedback.set_index("comment_id")["customer_id"].str.strip().str.upper()
    mentions = sentences.loc[sentences["theme"].fillna("") != "", ["comment_id", "theme"]]
    mentions = mentions.assign(customer_id=mentions["comment_id"].map(ids))
    table = pd.crosstab(mentions["customer_id"], mentions["theme"]).clip(upper=1)
    return table.reindex(index=customers["customer_id"], columns=list(THEMES), fill_value=0)


def _design(customers: pd.DataFrame, exposure: pd.DataFrame) -> pd.DataFrame:
    covariates = pd.get_dummies(customers[["plan", "region"]], drop_first=True, dtype=float)
    covariates["tenure_months"] = customers["tenure_months"].astype(float)
    x = pd.concat([covariates.reset_index(drop=True), exposure.reset_index(drop=True).astype(float)], axis=1)
    return statsmodels_api.add_constant(x)


def _read(folder):
    return (pd.read_csv(folder / "customers.csv", keep_default_na=True),
            pd.read_csv(folder / "feedback.csv"),
            pd.read_csv(folder / "truth_sentences.csv", keep_default_na=False))


# ---------------------------------------------------------------- determinism


def test_same_seed_gives_byte_identical_files(written, tmp_path):
    write_corpus(generate_corpus(seed=0, **SIZES["small"]), tmp_path)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (written / name).read_bytes(), name


def test_different_seed_gives_different_files(written, tmp_path):
    write_corpus(generate_corpus(seed=1, **SIZES["small"]), tmp_path)
    for name in FILES:
        assert (tmp_path / name).read_bytes() != (written / name).read_bytes(), name


# ---------------------------------------------------------------- shape


def test_tables_have_the_documented_columns(corpus):
    assert list(corpus.customers.columns) == ["customer_id", "plan", "region", "tenure_months", "monthly_revenue",
                                              "clv", "nps", "churned", "signup_date", "upsell"]
    assert list(corpus.feedback.columns) == ["comment_id", "customer_id", "date", "channel", "rating", "text"]
    assert list(corpus.sentences.columns) == ["comment_id", "sentence_idx", "text", "theme", "sentiment"]


def test_sizes_themes_channels_and_dates(written):
    customers, feedback, sentences = _read(written)
    assert len(customers) >= 5000 and customers["customer_id"].is_unique
    assert set(THEMES) == set(EXPECTED_THEMES) and len(THEMES) >= 12
    assert set(sentences["theme"]) - {""} == set(EXPECTED_THEMES)
    assert set(feedback["channel"]) == {"review", "ticket", "survey"}
    dates = pd.to_datetime(feedback["date"])
    assert (dates.max() - dates.min()).days >= 360
    assert feedback["comment_id"].is_unique


def test_customer_table_values_are_realistic(corpus):
    assert corpus.truth["empirical"]["nps_clipped_share"] < 0.05  # clipping of the latent NPS stays rare
    c = corpus.customers
    assert set(c["plan"]) == {"Basic", "Standard", "Premium"}
    assert set(c["region"]) == {"NA", "EU", "APAC", "LATAM"}
    assert set(c["churned"]) == {"Yes", "No"}
    assert 0.15 <= (c["churned"] == "Yes").mean() <= 0.25
    nps = c["nps"].dropna()
    assert 0.1 < c["nps"].isna().mean() < 0.6
    assert nps.between(0, 10).all() and 6.5 <= nps.mean() <= 7.8
    assert (nps == 10).mean() < 0.12 and (nps <= 2).mean() < 0.05
    assert (c["clv"] >= 0).all() and (c["clv"] == 0).mean() < 0.01
    assert (c["tenure_months"] >= 1).all()
    plan_revenue = c.groupby("plan")["monthly_revenue"].min()
    assert plan_revenue["Basic"] < plan_revenue["Standard"] < plan_revenue["Premium"]


def test_share_of_commenters_and_repeat_commenters(corpus):
    ids = corpus.feedback["customer_id"].str.strip().str.upper()
    per_customer = ids[ids.isin(set(corpus.customers["customer_id"]))].value_counts()
    assert 0.4 <= len(per_customer) / len(corpus.customers) <= 0.62
    assert (per_customer >= 2).mean() > 0.2


def test_every_theme_has_enough_mentioning_customers(corpus):
    for theme in corpus.truth["themes"]:
        assert theme["empirical"]["n_with"] >= 200, theme["name"]


def test_ratings_follow_their_channel(corpus):
    fb = corpus.feedback
    assert fb.loc[fb["channel"] == "review", "rating"].between(1, 5).all()
    assert fb.loc[fb["channel"] == "ticket", "rating"].isna().all()
    survey = fb[(fb["channel"] == "survey") & fb["customer_id"].isin(set(corpus.customers["customer_id"]))]
    nps = corpus.customers.set_index("customer_id")["nps"]
    assert (survey["rating"].to_numpy() == nps.loc[survey["customer_id"]].to_numpy()).all()
    review = fb[fb["channel"] == "review"]
    sentiment = review["comment_id"].map({k: v["sentiment"] for k, v in corpus.truth["comments"].items()})
    means = review.groupby(sentiment)["rating"].mean()
    assert means["negative"] < means["neutral"] < means["positive"]


# ---------------------------------------------------------------- ids and the join


def test_unmatched_ids_and_id_variants(corpus):
    known = set(corpus.customers["customer_id"])
    raw = corpus.feedback["customer_id"]
    normalised = raw.str.strip().str.upper()
    unmatched = set(normalised[~normalised.isin(known)])
    assert unmatched == set(corpus.truth["unmatched_ids"])
    assert 0.01 <= (~normalised.isin(known)).mean() <= 0.03
    variants = raw[raw != normalised]
    assert len(variants) == len(corpus.truth["id_variants"]) > 0
    assert normalised[variants.index].isin(known).all()


# ---------------------------------------------------------------- text and per-sentence truth


def test_sentences_rebuild_the_feedback_text(written):
    _, feedback, sentences = _read(written)
    rebuilt = sentences.sort_values(["comment_id", "sentence_idx"]).groupby("comment_id")["text"].agg(" ".join)
    assert rebuilt.reindex(feedback["comment_id"]).tolist() == feedback["text"].tolist()
    assert sentences["text"].str.match(r".*[.!?]$").all()
    assert not sentences["text"].str.contains(r"[{}]").any()
    assert set(sentences["sentiment"]) == {"negative", "neutral", "positive"}


def test_per_comment_truth_matches_sentences(corpus):
    s = corpus.sentences
    themes = s[s["theme"] != ""].groupby("comment_id")["theme"].agg(lambda t: sorted(set(t), key=THEMES.index))
    truth = corpus.truth["comments"]
    assert list(truth) == corpus.feedback["comment_id"].tolist()
    for cid, entry in truth.items():
        assert entry["themes"] == themes.get(cid, []), cid
        assert entry["sentiment"] in {"negative", "neutral", "positive"}
    n_themes = pd.Series([len(v["themes"]) for v in truth.values()])
    assert (n_themes >= 2).mean() > 0.1 and (n_themes == 0).mean() > 0.02  # mixed comments and pure chatter


def test_text_is_varied_with_negations_typos_and_but(corpus):
    s = corpus.sentences
    theme_rows = s[s["theme"] != ""]
    per_theme = theme_rows.groupby(["theme", "sentiment"])["text"].nunique()
    assert per_theme.xs("negative", level="sentiment").min() >= 24  # dozens of phrasings per theme
    billing_positive = theme_rows[(theme_rows["theme"] == "billing errors") & (theme_rows["sentiment"] == "positive")]
    assert billing_positive["text"].str.contains(r"\b(?:[Nn]ever|[Nn]o)\b").any()
    assert s["text"].str.startswith("But ").any()
    assert (s["text"].str.len() < 30).any() and (corpus.feedback["text"].str.len() > 200).any()
    bank = [p for b in phrases.PHRASES.values() for t in b.values() for p in t]
    bank += [v for values in (*phrases.SLOTS.values(), *phrases.CHATTER.values(), *phrases.OPENERS.values())
             for v in values]
    known = {w.lower() for w in re.findall(r"[A-Za-z']+", " ".join(bank))} | {"but"}
    typos = {w for w in re.findall(r"[A-Za-z']+", " ".join(s["text"])) if w.lower() not in known}
    assert len(typos) >= 20  # typos were introduced


def test_a_sentence_splitter_recovers_the_truth_sentences(corpus):
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    truth = corpus.sentences.groupby("comment_id")["text"].agg(list)
    sample = corpus.feedback.iloc[:400]
    split = [[s.text for s in doc.sents] for doc in nlp.pipe(sample["text"])]
    assert split == truth.loc[sample["comment_id"]].tolist()


@pytest.mark.parametrize("theme", sorted(phrases.PHRASES))
def test_every_template_renders_to_a_sentence(theme):
    import random

    from corpora.generate import _fill

    rnd = random.Random(0)
    assert set(phrases.PHRASES[theme]) == {"negative", "neutral", "positive"}
    for templates in phrases.PHRASES[theme].values():
        for template in templates:
            text = _fill(template, rnd)
            assert "{" not in text and text[-1] in ".!?", template


# ---------------------------------------------------------------- ground truth vs data


def test_ground_truth_file_records_every_planted_effect(written):
    truth = json.loads((written / "ground_truth.json").read_text(encoding="utf-8"))
    assert truth["seed"] == 0 and truth["generator_version"]
    models = truth["outcome_models"]
    for outcome, key in (("churn", "theme_log_odds"), ("nps", "theme_effects"), ("clv", "theme_effects")):
        assert set(models[outcome][key]) == set(EXPECTED_THEMES)
        assert "intercept" in models[outcome] and "plan" in models[outcome]
    assert "tenure_per_month" in models["churn"] and models["nps"]["noise_sd"] > 0
    roles = {t["name"]: t["role"] for t in truth["themes"]}
    assert {t["name"]: t["parent"] for t in truth["themes"]} == EXPECTED_THEMES
    assert roles["price increase"] == "confounded"
    assert sum(r == "churn_driver" for r in roles.values()) >= 3 and sum(r == "null" for r in roles.values()) >= 3
    assert set(roles.values()) <= {"churn_driver", "protective", "confounded", "null", "nps_only", "clv_only"}
    confounded = next(t for t in truth["themes"] if t["role"] == "confounded")
    assert confounded["confounder"] == {"column": "plan", "value": "Basic"}
    assert confounded["churn_log_odds"] == confounded["nps_effect"] == confounded["clv_effect"] == 0
    assert truth["sizes"]["n_comments"] == len(truth["comments"])


def test_theme_roles_follow_the_effects():
    for spec in THEME_SPECS:
        role = theme_role(spec)
        if role == "null":
            assert spec.beta == spec.gamma == spec.delta == 0
        if role == "churn_driver":
            assert spec.beta > 0


def test_recorded_churn_rates_match_the_tables(written, corpus):
    customers, feedback, sentences = _read(written)
    exposure = _exposure(customers, feedback, sentences)
    churned = (customers["churned"] == "Yes").to_numpy()
    for theme in corpus.truth["themes"]:
        with_ = exposure[theme["name"]].to_numpy() == 1
        e = theme["empirical"]
        assert with_.sum() == e["n_with"]
        assert churned[with_].mean() == pytest.approx(e["churn_rate_with"], abs=1e-6)
        assert churned[~with_].mean() == pytest.approx(e["churn_rate_without"], abs=1e-6)
        # the churn flags were drawn from the stated model: observed rates sit within sampling error
        for observed, expected, n in ((e["churn_rate_with"], e["expected_churn_rate_with"], e["n_with"]),
                                      (e["churn_rate_without"], e["expected_churn_rate_without"], e["n_without"])):
            assert abs(observed - expected) < 4 * np.sqrt(expected * (1 - expected) / n), theme["name"]


def _churn_fit(corpus):
    exposure = _exposure(corpus.customers, corpus.feedback, corpus.sentences)
    x = _design(corpus.customers, exposure)
    y = (corpus.customers["churned"] == "Yes").astype(float).to_numpy()
    return statsmodels_api.Logit(y, x).fit(disp=0)


def test_logistic_regression_recovers_the_planted_churn_effects(corpus):
    fit = _churn_fit(corpus)
    ci = fit.conf_int()
    # coverage pooled over three seeds: 42 intervals, so one unlucky seed cannot decide it
    covered = [ci.loc[s.name, 0] <= s.beta <= ci.loc[s.name, 1] for s in THEME_SPECS]
    for seed in (1, 2):
        other = _churn_fit(generate_corpus(seed=seed)).conf_int()
        covered += [other.loc[s.name, 0] <= s.beta <= other.loc[s.name, 1] for s in THEME_SPECS]
    assert np.mean(covered) >= 0.85
    for spec in THEME_SPECS:
        if spec.beta != 0:
            assert np.sign(fit.params[spec.name]) == np.sign(spec.beta) and fit.pvalues[spec.name] < 0.05, spec.name
    plan_effect = CHURN_MODEL["plan"]
    for plan in ("Premium", "Standard"):  # relative to Basic, the baseline level
        effect = plan_effect[plan] - plan_effect["Basic"]
        assert ci.loc[f"plan_{plan}", 0] <= effect <= ci.loc[f"plan_{plan}", 1]


def test_confounded_theme_is_flagged_unadjusted_but_not_adjusted(corpus):
    exposure = _exposure(corpus.customers, corpus.feedback, corpus.sentences)
    x = _design(corpus.customers, exposure)
    y = (corpus.customers["churned"] == "Yes").astype(float).to_numpy()
    theme = "price increase"
    crude = statsmodels_api.Logit(y, statsmodels_api.add_constant(x[[theme]])).fit(disp=0)
    adjusted = statsmodels_api.Logit(y, x).fit(disp=0)
    assert crude.params[theme] > 0 and crude.pvalues[theme] < 0.001
    # 99% level so a single seed is not a coin toss at the 5% edge; the estimate must also collapse
    assert adjusted.pvalues[theme] > 0.01
    assert abs(adjusted.params[theme]) < 0.5 * crude.params[theme]


@pytest.mark.parametrize("outcome, attr", [("clv", "delta"), ("nps", "gamma")])
def test_linear_models_recover_the_planted_nps_and_clv_effects(corpus, outcome, attr):
    exposure = _exposure(corpus.customers, corpus.feedback, corpus.sentences)
    x = _design(corpus.customers, exposure)
    y = corpus.customers[outcome].astype(float)
    keep = y.notna().to_numpy()
    fit = statsmodels_api.OLS(y[keep].to_numpy(), x[keep]).fit()
    ci = fit.conf_int()
    covered = [ci.loc[s.name, 0] <= getattr(s, attr) <= ci.loc[s.name, 1] for s in THEME_SPECS]
    assert np.mean(covered) >= 0.8
    for spec in THEME_SPECS:
        if getattr(spec, attr) != 0:
            assert fit.pvalues[spec.name] < 0.05 and np.sign(fit.params[spec.name]) == np.sign(getattr(spec, attr))


# ---------------------------------------------------------------- sizes, CLI, arguments


def test_sizes_are_declared():
    assert SIZES["small"]["n_customers"] == 5000
    assert 5000 <= SIZES["demo"]["n_customers"] <= 8000


def test_large_size_has_at_least_100k_comments():
    t0 = time.perf_counter()
    corpus = generate_corpus(seed=0, **SIZES["large"])
    seconds = time.perf_counter() - t0
    assert len(corpus.feedback) >= 100_000
    assert corpus.truth["sizes"]["n_comments"] == len(corpus.feedback)
    print(f"large corpus: {len(corpus.feedback)} comments in {seconds:.1f} s")


def test_cli_writes_the_files_and_says_so(tmp_path, capsys):
    assert main(["--size", "small", "--seed", "3", "--out", str(tmp_path / "c")]) == 0
    assert all((tmp_path / "c" / name).exists() for name in FILES)
    assert "5000 customers" in capsys.readouterr().out


@pytest.mark.parametrize("kwargs", [{"n_customers": 10}, {"comment_rate": 1.5}, {"comment_rate": 0.0},
                                    {"months": 0}, {"comments_per_commenter": 0.5}])
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError):
        generate_corpus(**kwargs)


def test_comment_rate_scales_the_share_of_commenters():
    low = generate_corpus(n_customers=2000, comment_rate=0.4, seed=0).truth["parameters"]["commenter_share"]
    high = generate_corpus(n_customers=2000, comment_rate=0.7, seed=0).truth["parameters"]["commenter_share"]
    assert abs(low - 0.4) < 0.05 and abs(high - 0.7) < 0.05
