"""Sentiment head, comment aggregation, score agreement and model integrity.

Uses the shipped head (models/sentiment/head.v2) and short sentences written
here; needs no ../shared data.
"""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from insight.config import SentimentConfig
from insight.errors import InputError, InsufficientDataError, ModelIntegrityError
from insight.schemas import Col
from insight.sentiment import (
    LEXICON_FEATURES,
    MODELS_DIR,
    SentimentModel,
    adapt_to_scores,
    aggregate_comments,
    label_from_score,
    lexicon_features,
    score_agreement,
    score_sentences,
)

SENTENCES = {
    "never": "NEVER answered, absolutely terrible",
    "not_bad": "not bad at all",
    "good": "the app is good",
    "not_good": "the app is not good",
    "good_plain": "The delivery was good.",
    "good_intense": "The delivery was REALLY good!!!",
    "bad_plain": "The support was bad.",
    "bad_intense": "The support was extremely bad!!!",
    "love": "I love this dress, it fits perfectly and the fabric is lovely.",
    "hate": "Worst airline ever, rude staff and my bag was lost.",
    "fact": "I ordered it on Monday.",
    "fact2": "The seat is next to the window.",
}


@pytest.fixture(scope="module")
def model() -> SentimentModel:
    return SentimentModel.load()


@pytest.fixture(scope="module")
def pred(model) -> pd.DataFrame:
    return model.predict(list(SENTENCES.values())).set_index(pd.Index(list(SENTENCES)))


def test_vader_floor_case_is_negative(pred):
    assert pred.loc["never", Col.SENTIMENT_LABEL] == "negative"
    assert pred.loc["never", Col.SENTIMENT_SCORE] < -0.3


def test_not_bad_at_all_is_not_negative(pred):
    assert pred.loc["not_bad", Col.SENTIMENT_LABEL] != "negative"


def test_negation_flips(pred):
    assert pred.loc["good", Col.SENTIMENT_LABEL] == "positive"
    assert pred.loc["not_good", Col.SENTIMENT_LABEL] == "negative"


def test_intensifier_raises_magnitude(pred):
    assert pred.loc["good_intense", Col.SENTIMENT_SCORE] > pred.loc["good_plain", Col.SENTIMENT_SCORE] > 0
    assert pred.loc["bad_intense", Col.SENTIMENT_SCORE] < pred.loc["bad_plain", Col.SENTIMENT_SCORE] < 0


def test_clear_cases(pred):
    assert pred.loc["love", Col.SENTIMENT_LABEL] == "positive"
    assert pred.loc["hate", Col.SENTIMENT_LABEL] == "negative"


def test_scores_bounded_and_labels_consistent(pred):
    s, lab = pred[Col.SENTIMENT_SCORE], pred[Col.SENTIMENT_LABEL]
    assert s.between(-1, 1).all()
    assert np.allclose(pred[["p_negative", "p_neutral", "p_positive"]].sum(axis=1), 1)
    assert (s[lab == "negative"] < 0).all() and (s[lab == "positive"] > 0).all()
    assert (s[lab == "neutral"].abs() < 0.5).all()
    assert set(lab) <= {"negative", "neutral", "positive"}


def test_precomputed_embeddings_match(model, pred):
    from insight.config import EmbedConfig
    from insight.embed import embed_texts
    from insight.sentiment import EMBEDDER

    texts = list(SENTENCES.values())
    again = model.predict(texts, embed_texts(texts, config=EmbedConfig(backend=EMBEDDER)))
    assert np.allclose(again[Col.SENTIMENT_SCORE], pred[Col.SENTIMENT_SCORE], atol=1e-4)
    with pytest.raises(InputError):
        model.predict(texts, np.zeros((len(texts), 10), dtype=np.float32))
    with pytest.raises(InputError):
        model.predict("one string")


def test_lexicon_features_see_negation_and_intensity():
    f = pd.DataFrame(
        lexicon_features(["the app is good", "the app is not good", "GREAT!!!", "NEVER answered, absolutely terrible"]),
        columns=LEXICON_FEATURES,
    )
    assert list(f["negation"]) == [0, 1, 0, 1]
    assert f.loc[2, "caps_ratio"] > 0 and f.loc[2, "exclamations"] > 0
    # VADER lets "never" negate "terrible" across the comma; the clause-scoped compound does not
    assert f.loc[3, "vader_compound"] > 0 > f.loc[3, "clause_compound"]


def test_emojis_carry_sentiment(model):
    texts = ["👍", "👎", "😡", "Delivery came today 😡", "The support team 🙄", "Great seller 👍🏻"]
    score = dict(zip(texts, model.predict(texts)[Col.SENTIMENT_SCORE]))
    assert score["👍"] > 0 > score["👎"]
    assert score["😡"] < 0 and score["Delivery came today 😡"] < 0
    assert score["The support team 🙄"] <= 0
    assert score["Great seller 👍🏻"] > 0.5


def test_lexicon_features_of_text_without_emojis_are_vaders():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    texts = ["The support team was helpful.", "Très bien, the café was great — merci"]
    feats = lexicon_features(texts)
    col = LEXICON_FEATURES.index("vader_compound")
    assert feats[:, col].tolist() == pytest.approx([vader.polarity_scores(t)["compound"] for t in texts])


def test_score_sentences_returns_copy(model):
    sentences = pd.DataFrame({Col.COMMENT_ID: ["a", "b"], Col.TEXT: [SENTENCES["love"], SENTENCES["hate"]]})
    before = sentences.copy()
    out = score_sentences(sentences, None, model=model)
    pd.testing.assert_frame_equal(sentences, before)
    assert list(out[Col.SENTIMENT_LABEL]) == ["positive", "negative"]
    adapted = score_sentences(sentences, None, model=model, config=SentimentConfig(adapt_priors=True))
    assert adapted[Col.SENTIMENT_SCORE].between(-1, 1).all()
    with pytest.raises(InputError):
        score_sentences(sentences.drop(columns=[Col.TEXT]), None, model=model)


def test_aggregate_one_strong_negative_among_neutral_stays_negative():
    sentences = pd.DataFrame(
        {
            Col.COMMENT_ID: ["c1", "c1", "c1", "c2", "c2", "c3"],
            Col.TEXT: ["I ordered on Monday.", "It came in a box.", "Terrible.", "Awful staff.", "Lovely staff.", "ok"],
            Col.SENTIMENT_SCORE: [0.05, 0.0, -0.9, -0.8, 0.8, 0.1],
        }
    )
    comments = pd.DataFrame({Col.COMMENT_ID: ["c1", "c2", "c3", "c4"], "extra": [1, 2, 3, 4]})
    out = aggregate_comments(sentences, comments)
    assert list(out[Col.SENTIMENT_LABEL]) == ["negative", "neutral", "neutral", "neutral"]
    assert out.loc[0, Col.SENTIMENT_SCORE] < -0.5
    assert abs(out.loc[1, Col.SENTIMENT_SCORE]) < 0.05
    assert out.loc[3, Col.SENTIMENT_SCORE] == 0.0
    assert Col.SENTIMENT_SCORE not in comments.columns and list(out["extra"]) == [1, 2, 3, 4]
    # a plain length-weighted mean would call c1 neutral: the intensity weighting is what keeps it negative
    plain = np.average([0.05, 0.0, -0.9], weights=[20, 17, 9])
    assert label_from_score(np.array([plain]), 0.2)[0] == "neutral"


def test_score_agreement_stars_and_nps():
    rng = np.random.default_rng(0)
    stars = rng.integers(1, 6, 200)
    noisy = np.clip((stars - 3) / 2 + rng.normal(0, 0.3, 200), -1, 1)
    comments = pd.DataFrame({Col.SENTIMENT_SCORE: noisy, Col.SENTIMENT_LABEL: label_from_score(noisy, 0.2), Col.SCORE: stars})
    agree = score_agreement(comments)
    assert agree["scale"] == "stars" and agree["n"] == 200
    assert agree["spearman_rho"] > 0.8 and agree["accuracy_3class"] > 0.7
    shuffled = comments.assign(**{Col.SCORE: rng.permutation(stars)})
    assert abs(score_agreement(shuffled)["spearman_rho"]) < 0.2
    nps = comments.assign(**{Col.SCORE: np.r_[0, 10, stars[2:] * 2]})
    assert score_agreement(nps)["scale"] == "nps"
    assert score_agreement(comments.drop(columns=[Col.SCORE])) is None
    assert score_agreement(comments.assign(**{Col.SCORE: 100 + stars})) is None


def test_adapt_to_scores_learns_the_users_neutral(model):
    # a corpus whose 3-star reviews are mildly worded complaints: the shipped head calls them negative
    pos = ["Great product, works perfectly.", "Love it, fast delivery.", "Excellent quality and kind staff."]
    neu = ["It's fine I guess, sizing runs a bit small.", "Okay, nothing special, took a while to arrive."]
    neg = ["Broken on arrival, refund refused.", "Terrible, never answered my emails."]
    texts = [t for t in pos for _ in range(8)] + [t for t in neu for _ in range(12)] + [t for t in neg for _ in range(12)]
    scores = [5] * 24 + [3] * 24 + [1] * 24
    adapted, report = adapt_to_scores(model, texts, None, scores)
    assert report["scale"] == "stars" and report["n_test"] > 0
    assert report["after"]["accuracy"] >= report["before"]["accuracy"]
    assert report["after"]["accuracy"] > 0.9
    with pytest.raises(InsufficientDataError):
        adapt_to_scores(model, texts[:10], None, scores[:10])


def test_tampered_weights_are_refused(tmp_path):
    for suffix in (".npz", ".json"):
        shutil.copy(MODELS_DIR / f"head.v2{suffix}", tmp_path / f"head.v2{suffix}")
    assert SentimentModel.load(directory=tmp_path).metadata["sha256"]
    raw = bytearray((tmp_path / "head.v2.npz").read_bytes())
    raw[-100] ^= 0xFF
    (tmp_path / "head.v2.npz").write_bytes(bytes(raw))
    with pytest.raises(ModelIntegrityError):
        SentimentModel.load(directory=tmp_path)
    with pytest.raises(InputError):
        SentimentModel.load("no-such-head")
    with pytest.raises(InputError):
        SentimentModel.load("../sentiment/head.v2")


def test_loading_never_unpickles(tmp_path, monkeypatch):
    calls = []
    real_load = np.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("allow_pickle"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(np, "load", spy)
    SentimentModel.load()
    assert calls == [False]
    assert not list(MODELS_DIR.glob("*.pkl")) and not list(MODELS_DIR.glob("*.pickle"))


def test_score_agreement_per_channel_keeps_scales_apart():
    rng = np.random.default_rng(1)
    stars = rng.integers(1, 6, 300)
    nps = rng.integers(0, 11, 300)
    reviews = pd.DataFrame({Col.SCORE: stars, Col.SENTIMENT_SCORE: (stars - 3) / 2 + rng.normal(0, 0.3, 300)})
    surveys = pd.DataFrame({Col.SCORE: nps, Col.SENTIMENT_SCORE: (nps - 5) / 5 + rng.normal(0, 0.3, 300)})
    both = pd.concat([reviews.assign(**{Col.CHANNEL: "review"}), surveys.assign(**{Col.CHANNEL: "survey"})])
    both[Col.SENTIMENT_LABEL] = np.select(
        [both[Col.SENTIMENT_SCORE] < -0.2, both[Col.SENTIMENT_SCORE] > 0.2], ["negative", "positive"], "neutral"
    )
    agree = score_agreement(both, by=Col.CHANNEL)
    assert agree["overall"] is None  # stars and NPS must not be pooled
    assert agree["groups"]["review"]["scale"] == "stars" and agree["groups"]["survey"]["scale"] == "nps"
    assert min(g["spearman_rho"] for g in agree["groups"].values()) > 0.7
    pooled = score_agreement(both)
    assert pooled["scale"] == "nps" and pooled["accuracy_3class"] < agree["groups"]["review"]["accuracy_3class"]



def test_adapt_from_comments_uses_each_channels_own_scale_and_reports_the_gain():
    from insight.sentiment import adapt_from_comments

    rng = np.random.default_rng(0)
    good = ["I love it, works great.", "Excellent service, very happy.", "Really good value."]
    bad = ["It broke and nobody helped.", "Terrible, I want a refund.", "Awful experience, very slow."]
    rows = []
    for i in range(160):
        positive = i % 2 == 0
        rows.append({Col.COMMENT_ID: f"c{i}", Col.TEXT: (good if positive else bad)[i % 3],
                     Col.CHANNEL: "review" if i < 120 else "survey",
                     Col.SCORE: (rng.integers(4, 6) if positive else rng.integers(1, 3)) if i < 120
                     else (rng.integers(9, 11) if positive else rng.integers(0, 6))})
    comments = pd.DataFrame(rows)
    sentences = comments[[Col.COMMENT_ID, Col.TEXT]].copy()
    model, report = adapt_from_comments(comments, sentences, None)
    assert report["channel"] == "review" and report["scale"] == "stars"  # stars and NPS are not pooled
    assert report["n_train"] + report["n_test"] == 120
    assert report["after"]["accuracy"] >= report["before"]["accuracy"]
    # on by default, so the adapted head is used only when it beat the shipped one on held-out comments
    assert report["used"] == (report["after"]["macro_f1"] > report["before"]["macro_f1"])
    assert model.metadata.get("adapted_to_scores") == ("stars" if report["used"] else None)
    unreadable = comments.assign(**{Col.SCORE: np.where(comments[Col.CHANNEL] == "survey", 55, comments[Col.SCORE])})
    assert adapt_from_comments(unreadable, sentences, None)[1]["channel"] == "review"  # a 0-100 channel is skipped
    _, skipped = adapt_from_comments(comments.drop(columns=[Col.SCORE]), sentences, None)
    assert skipped == {"skipped": "no score column"}
