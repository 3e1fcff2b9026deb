"""Theme discovery on real MiniLM vectors of four clearly different topics (16 sentences each, written here)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.preprocessing import normalize

from insight.config import ThemeConfig
from insight.errors import InputError, NotFittedError
from insight.schemas import Col
from insight.themes import (
    ClassTfidfTransformer,
    CTfidfLabeller,
    FixedLabels,
    PCAReducer,
    SpectralWardClusterer,
    ThemeModel,
    assign_themes,
    cosine_silhouette,
    is_content_term,
    key_phrase,
    light_lemma,
    theme_name,
    vmf_bic,
)




@pytest.fixture(scope="session")
def fitted(topic_corpus):
    texts, _, X = topic_corpus
    return ThemeModel(min_cluster_size=8, random_state=0).fit(texts, X)


def test_discovery_finds_the_four_topics(fitted, topic_corpus):
    _, gold, _ = topic_corpus
    assert fitted.n_themes_ == 4
    assert adjusted_rand_score(gold, fitted.labels_) > 0.9
    assert (fitted.labels_ >= 0).all()
    assert fitted.themes_["n_sentences"].tolist() == sorted(fitted.themes_["n_sentences"], reverse=True)
    assert fitted.themes_["n_sentences"].sum() == len(gold)


def test_keywords_and_names_describe_each_topic(fitted, topic_corpus):
    _, gold, _ = topic_corpus
    expected = {"delivery": {"parcel", "package", "delivered", "arrived", "courier", "transit", "shipment"},
                "billing": {"charged", "invoice", "fee", "refund", "overcharged", "bill", "amount", "statement"},
                "crash": {"app", "crash", "crashe", "crashing", "freeze", "error", "mobile app"},
                "staff": {"friendly", "polite", "helpful", "staff", "agent", "kind", "patient", "team"}}
    for row in fitted.themes_.to_dict("records"):
        topic = pd.Series(gold[fitted.labels_ == row[Col.THEME_ID]]).mode()[0]
        words = {w for kw in row[Col.KEYWORDS] for w in kw.split()}
        assert len(words & expected[topic]) >= 2, (topic, row[Col.KEYWORDS])
        name_words = set(row[Col.THEME].replace(" · ", " ").split())
        assert name_words & expected[topic], (topic, row[Col.THEME])
        assert all(is_content_term(kw) for kw in row[Col.KEYWORDS])
        assert len(row["representatives"]) == 3
        assert all(gold[[i for i, t in enumerate(topic_corpus[0]) if t == r][0]] == topic
                   for r in row["representatives"])


def test_same_seed_gives_identical_themes(topic_corpus, fitted):
    texts, _, X = topic_corpus
    again = ThemeModel(min_cluster_size=8, random_state=0).fit(texts, X)
    np.testing.assert_array_equal(again.labels_, fitted.labels_)
    pd.testing.assert_frame_equal(again.themes_, fitted.themes_)
    pd.testing.assert_frame_equal(again.parents_, fitted.parents_)


def test_params_are_stored_as_given_and_fit_returns_self(topic_corpus):
    texts, _, X = topic_corpus
    model = ThemeModel(min_cluster_size=8, max_themes=3)
    assert model.get_params()["max_themes"] == 3 and model.reducer is None and model.clusterer is None
    assert model.fit(texts, X) is model
    assert model.n_themes_ <= 3 and model.reducer is None


def test_transform_assigns_new_sentences(fitted, topic_corpus, minilm):
    texts, gold, _ = topic_corpus
    new = ["My package never showed up.", "The app just crashed on me again.", "Quantum chromodynamics lecture notes"]
    out = fitted.transform(new, minilm.embed(new))
    assert list(out.columns) == [Col.THEME_ID, Col.THEME, Col.THEME_CONFIDENCE]
    topic_of = {c: pd.Series(gold[fitted.labels_ == c]).mode()[0] for c in range(fitted.n_themes_)}
    assert topic_of[out[Col.THEME_ID][0]] == "delivery"
    assert topic_of[out[Col.THEME_ID][1]] == "crash"
    assert out[Col.THEME_CONFIDENCE].between(0, 1).all()
    assert out[Col.THEME_CONFIDENCE][0] > 0.5


def test_transform_marks_far_sentences_unclassified(fitted, minilm):
    strict = ThemeModel(min_cluster_size=8, outlier_threshold=0.99)
    strict.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    out = strict.transform(["The package arrived late."], minilm.embed(["The package arrived late."]))
    assert out[Col.THEME_ID][0] == -1 and out[Col.THEME_CONFIDENCE][0] == 0.0


def test_not_fitted_and_bad_input_raise_clear_errors(topic_corpus):
    texts, _, X = topic_corpus
    with pytest.raises(NotFittedError):
        ThemeModel().transform(texts, X)
    with pytest.raises(InputError, match="shape"):
        ThemeModel().fit(texts, X[:-1])
    with pytest.raises(InputError, match="one string"):
        ThemeModel().fit("one text", X[:1])
    with pytest.raises(InputError, match="min_cluster_size"):
        ThemeModel(min_cluster_size=1).fit(texts, X)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        ThemeModel().fit(texts, bad)


def test_outliers_reassigned_and_near_duplicates_merged(topic_corpus):
    texts, gold, X = topic_corpus
    topic_ids = {t: i for i, t in enumerate(sorted(set(gold)))}
    labels = np.array([topic_ids[g] for g in gold])
    labels[(gold == "staff") & (np.arange(len(gold)) % 2 == 0)] = 4  # staff split in two halves
    labels[:6] = -1  # six outliers
    model = ThemeModel(min_cluster_size=2, merge_threshold=0.8, clusterer=FixedLabels(tuple(labels))).fit(texts, X)
    assert model.n_themes_ == 4
    assert adjusted_rand_score(gold, model.labels_) == 1.0
    ops = [m["op"] for m in model.merges_]
    assert "merge" in ops and "reassign_outliers" in ops
    assert next(m for m in model.merges_ if m["op"] == "reassign_outliers")["reassigned"] == 6


def test_max_themes_merges_most_similar(topic_corpus):
    texts, gold, X = topic_corpus
    model = ThemeModel(min_cluster_size=2, max_themes=2, clusterer=FixedLabels(tuple(pd.factorize(gold)[0])))
    model.fit(texts, X)
    assert model.n_themes_ == 2
    assert sum(m["op"] == "merge" for m in model.merges_) == 2


def test_hierarchy_has_parents_over_themes(fitted):
    assert set(fitted.themes_[Col.PARENT]) == set(fitted.parents_[Col.PARENT])
    children = sorted(c for cs in fitted.parents_["children"] for c in cs)
    assert children == list(range(fitted.n_themes_))
    assert 1 < len(fitted.parents_) < fitted.n_themes_


def test_pca_reducer_keeps_the_topics(topic_corpus):
    texts, gold, X = topic_corpus
    model = ThemeModel(min_cluster_size=8, reducer=PCAReducer(n_components=20)).fit(texts, X)
    assert model.n_themes_ == 4
    assert adjusted_rand_score(gold, model.labels_) > 0.8  # centring before cosine costs a little here


def test_class_tfidf_ranks_class_specific_terms_first():
    docs = [["refund refund late refund"], ["crash crash late"]]
    assert CTfidfLabeller().keywords(docs, 1) == [["refund"], ["crash"]]
    from sklearn.feature_extraction.text import CountVectorizer

    counts = CountVectorizer().fit_transform(["a1 shared", "b1 shared"])
    weights = ClassTfidfTransformer(norm=None).fit(counts).transform(counts).toarray()
    assert weights[0, 0] > weights[0, 2] and weights[1, 1] > weights[1, 2]


@pytest.mark.parametrize(("word", "lemma"), [("charges", "charge"), ("deliveries", "delivery"), ("boxes", "box"),
                                             ("does", "does"), ("was", "was"), ("access", "access"),
                                             ("customer's", "customer"), ("status", "status")])
def test_light_lemma(word, lemma):
    assert light_lemma(word) == lemma


def test_theme_name_pairs_distinct_keywords():
    assert theme_name(["refund", "refund missing", "bank"], "x") == "refund · bank"
    assert theme_name([], "theme 3") == "theme 3"


def test_theme_name_skips_generic_words_and_rare_keywords():
    # "going" and "don't" are top c-TF-IDF terms here but say nothing; "zebra" is distinctive but in 1 of 20
    texts = ["The price increase is going too far."] * 8 + ["I don't like the price increase."] * 6 + [
        "Another price hike, sadly."] * 5 + ["A zebra price note."]
    keywords = ["going", "don't", "zebra", "price", "increase", "price increase", "hike"]
    assert theme_name(keywords, "x", texts) == "price increase · hike"
    assert theme_name(["price", "hike", "increase", "price increase"], "x", texts[:14]) == "price increase"
    assert theme_name(["going", "told", "zebra"], "fallback phrase", texts) == "fallback phrase"
    assert not is_content_term("don't feel") and not is_content_term("recommend recommend")
    assert is_content_term("price increase")


def test_key_phrase_keeps_content_words_in_order():
    assert key_phrase("I was told the delivery window was missed again!") == "delivery window missed"
    assert key_phrase("Just going to say hi") == ""  # greetings and chatter name nothing
    assert key_phrase("I don't know, I think so.") == ""


def test_vmf_bic_prefers_the_true_clusters():
    rng = np.random.default_rng(0)
    centres = normalize(rng.normal(size=(4, 32)))
    X = normalize(np.repeat(centres, 60, axis=0) + rng.normal(0, 0.15, (240, 32)))
    truth = np.repeat(np.arange(4), 60)
    split = truth * 2 + (np.arange(240) % 2)  # every cluster cut in two at random
    merged = truth // 2
    assert vmf_bic(X, truth) < vmf_bic(X, split) and vmf_bic(X, truth) < vmf_bic(X, merged)


def test_clusterer_stops_below_k_max_and_ignores_repeats(topic_corpus):
    _, gold, X = topic_corpus
    labels = SpectralWardClusterer(n_neighbors=8, k_max=8).fit_predict(X)
    assert labels.max() + 1 == 4 and adjusted_rand_score(gold, labels) > 0.9
    # every sentence repeated three times: the same partition, and repeats share their label
    again = SpectralWardClusterer(n_neighbors=8, k_max=8).fit_predict(np.tile(X, (3, 1)))
    assert adjusted_rand_score(np.tile(labels, 3), again) == 1.0
    with pytest.raises(InputError, match="criterion"):
        SpectralWardClusterer(criterion="gap").fit_predict(X)


def test_cosine_silhouette_matches_sklearn():
    rng = np.random.default_rng(1)
    X = normalize(rng.normal(size=(120, 6)))
    labels = rng.integers(0, 5, 120)
    assert cosine_silhouette(X, labels) == pytest.approx(silhouette_score(X, labels, metric="cosine"), abs=1e-6)


def test_assign_themes_discover_mode(topic_corpus):
    texts, gold, X = topic_corpus
    sentences = pd.DataFrame({Col.SENTENCE_ID: [f"c{i}:0" for i in range(len(texts))], Col.TEXT: texts})
    calls = []
    result = assign_themes(sentences, X, config=ThemeConfig(mode="discover", min_cluster_size=8),
                           progress=lambda *a: calls.append(a))
    assert list(result.themes.columns) == [Col.THEME_ID, Col.THEME, Col.PARENT, Col.KEYWORDS, "description",
                                           "representatives", "n_sentences"]
    assert list(result.assignments.columns) == [Col.SENTENCE_ID, Col.THEME_ID, Col.THEME, Col.THEME_CONFIDENCE]
    assert len(result.assignments) == len(texts) and result.assignments[Col.SENTENCE_ID].is_unique
    assert result.assignments[Col.THEME_CONFIDENCE].between(0, 1).all()
    assert isinstance(result.model, ThemeModel) and calls and calls[-1][0] == "themes"
    with pytest.raises(InputError, match="mode"):
        assign_themes(sentences, X, config=ThemeConfig(mode="cluster"))
    with pytest.raises(InputError, match="sentence_id"):
        assign_themes(sentences.drop(columns=[Col.SENTENCE_ID]), X)


def test_one_off_typos_do_not_become_keywords():
    docs = [["refund arrived late"] * 10 + ["refnud zzyzx"], ["app crash"] * 10]
    first = CTfidfLabeller().keywords(docs, 10)[0]
    assert "refund" in first and not {"refnud", "zzyzx"} & {w for kw in first for w in kw.split()}


def test_ctfidf_bigrams_never_span_two_sentences():
    from insight.themes import CTfidfLabeller

    keywords = CTfidfLabeller().keywords([["refund missing", "bank late", "refund missing"], ["app crash"] * 3], 10)
    assert "missing bank" not in keywords[0] and "late refund" not in keywords[0]
    assert "crash app" not in keywords[1] and "app crash" in keywords[1]


def test_representatives_differ_by_more_than_case():
    from insight.themes import first_distinct

    assert first_distinct(["Slow app.", "slow app.", "SLOW APP.", "Crashes daily.", "Bad login.", "x"]) == [
        "Slow app.", "Crashes daily.", "Bad login."]


def test_cached_clusterer_reuses_labels_for_the_same_rows_and_settings(tmp_path):
    from insight.themes import CachedClusterer, SpectralWardClusterer

    calls = []

    class Counting(SpectralWardClusterer):
        def fit_predict(self, X):
            calls.append(len(X))
            return super().fit_predict(X)

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(m, 0.05, (30, 8)) for m in np.eye(8)[:3]])
    first = CachedClusterer(Counting(k_max=6), tmp_path).fit_predict(X)
    again = CachedClusterer(Counting(k_max=6), tmp_path).fit_predict(X)
    assert np.array_equal(first, again) and calls == [90]  # read back, not clustered again
    CachedClusterer(Counting(k_max=5), tmp_path).fit_predict(X)  # other settings: a miss
    CachedClusterer(Counting(k_max=6), tmp_path).fit_predict(X[:60])  # other rows: a miss
    assert calls == [90, 90, 60]
    for path in (tmp_path / "themes").iterdir():
        path.write_bytes(b"garbage")  # an unreadable file is a miss, never an error
    assert np.array_equal(CachedClusterer(Counting(k_max=6), tmp_path).fit_predict(X), first)
