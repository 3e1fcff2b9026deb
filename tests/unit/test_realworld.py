"""Real-text behaviour: normalisation, the no-topic bucket, theme names free of handles and
links, a names-only codeframe, negation and contrast in sentiment, hash-checked model files."""
from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
import pytest

from insight.config import EmbedConfig, ThemeConfig
from insight.errors import ModelIntegrityError
from insight.schemas import Col
from insight.text import CHATTER_WORDS, is_content_free, normalise_for_analysis, split_sentences

from conftest import TOPICS


@pytest.mark.parametrize(("raw", "expected"), [
    ("RT @united: Lost my bag AGAIN #customerservicefail http://t.co/x1", "Lost my bag AGAIN customer service fail"),
    ("@JetBlue the wifi never works https://t.co/abc", "the wifi never works"),
    ("cc @support the app crashes #BadUpdate", "the app crashes bad update"),
    ("Hi team, my card was declined. Sent from my iPhone", "my card was declined."),
    ("The seat was broken www.example.com/photo [URL]", "The seat was broken"),
    ("Delivery was late 😡", "Delivery was late 😡"),  # emojis stay: they carry sentiment
])
def test_normalisation_drops_handles_links_rt_and_splits_hashtags(raw, expected):
    assert normalise_for_analysis(raw) == expected


@pytest.mark.parametrize("text", ["Thanks!", "OMG", "ok", "Please help.", "What the heck??", "@united thank you!!"])
def test_content_free_sentences(text):
    assert is_content_free(normalise_for_analysis(text))


@pytest.mark.parametrize("text", ["The food was cold.", "Please fix the login page.", "Thanks for ruining my trip"])
def test_sentences_with_a_topic_are_not_content_free(text):
    assert not is_content_free(normalise_for_analysis(text))


def _noisy_comments() -> pd.DataFrame:
    """The four test topics written as tweets to brands: handles, links, hashtags, thanks."""
    rng = np.random.default_rng(0)
    handles = ["@ShopCo", "@ShopCoHelp", "@AcmeBank"]
    rows = []
    for texts in TOPICS.values():
        for i, text in enumerate(texts * 3):
            tail = ["", " http://t.co/x%d" % i, " #fail", " #customerservice"][i % 4]
            rows.append(f"{handles[rng.integers(3)]} {text}{tail}")
    rows += [f"{h} thanks!" for h in handles] * 10 + ["ok", "OMG", "Please help."] * 10
    return pd.DataFrame({Col.COMMENT_ID: [f"c{i}" for i in range(len(rows))], Col.ROW_ID: range(len(rows)),
                         Col.TEXT: rows})


def test_no_topic_bucket_and_theme_names_without_handles_links_or_filler(minilm):
    from insight.themes import assign_themes

    sentences = split_sentences(_noisy_comments()).sentences
    assert sentences[Col.NO_TOPIC].sum() >= 60  # every thanks/ok/OMG sentence
    vectors = minilm.embed(sentences[Col.ANALYSIS_TEXT].tolist())
    result = assign_themes(sentences, vectors, config=ThemeConfig(mode="discover", min_cluster_size=8))
    assert result.n_no_topic == sentences[Col.NO_TOPIC].sum()
    no_topic_ids = set(sentences.loc[sentences[Col.NO_TOPIC], Col.SENTENCE_ID])
    assert not no_topic_ids & set(result.assignments[Col.SENTENCE_ID])
    words = {w.lower() for name in result.themes[Col.THEME] for w in re.findall(r"[\w@#:/.]+", name)}
    assert not {w for w in words if w.startswith(("@", "http", "#", "shopco", "acmebank"))}
    assert not words & CHATTER_WORDS
    share = result.assignments.groupby(Col.THEME_ID)[Col.SENTENCE_ID].nunique().max() / (~sentences[Col.NO_TOPIC]).sum()
    assert share <= 0.3


def test_names_only_codeframe_assigns_most_topic_sentences():
    """A codeframe of bare theme names, calibrated on the corpus itself, on the shared encoder."""
    from insight.codeframe import Codeframe, CodeframeAssigner, CodeframeTheme
    from insight.embed import embed_texts
    from insight.registry import get_embedder

    texts = [t for ts in TOPICS.values() for t in ts] * 2
    gold = np.array([topic for topic, ts in TOPICS.items() for _ in ts] * 2)
    codeframe = Codeframe((CodeframeTheme("delivery"), CodeframeTheme("billing"), CodeframeTheme("app crashes"),
                           CodeframeTheme("friendly staff")))
    X = embed_texts(texts)
    assigner = CodeframeAssigner(codeframe, embedder=get_embedder(EmbedConfig().backend)).fit(texts, X)
    out = assigner.transform(texts, X)
    assert out["sentence_pos"].nunique() >= 0.8 * len(texts)
    top = np.array(["delivery", "billing", "crash", "staff"])[assigner.decision_function(X).argmax(axis=1)]
    assert (top == gold).mean() >= 0.9


@pytest.fixture(scope="module")
def sentiment_model():
    from insight.sentiment import SentimentModel

    return SentimentModel.load()


def _labels(model, texts):
    return dict(zip(texts, model.predict(texts)[Col.SENTIMENT_LABEL]))


def test_negation_flips_sentiment(sentiment_model):
    labels = _labels(sentiment_model, ["The food was bad.", "Not bad.",
                                       "The staff were helpful.", "The staff were not helpful."])
    assert labels["The food was bad."] == "negative" and labels["Not bad."] == "positive"
    assert labels["The staff were helpful."] == "positive" and labels["The staff were not helpful."] == "negative"


@pytest.mark.parametrize("text", ["Thanks for ruining my trip - AGAIN!", "So disappointed.",
                                  "Been waiting 3 weeks for a refund."])
def test_sarcasm_and_complaints_read_negative(sentiment_model, text):
    assert _labels(sentiment_model, [text])[text] == "negative"


def test_contrast_gives_each_theme_its_own_sentiment(sentiment_model):
    from insight.embed import embed_texts
    from insight.sentiment import EMBEDDER, score_sentences, theme_sentiments

    sentences = pd.DataFrame({Col.SENTENCE_ID: ["a", "b"],
                              Col.TEXT: ["Great food but rude staff.", "The service was slow, although the food was lovely."]})
    topic = EmbedConfig()
    X = embed_texts(sentences[Col.TEXT].tolist(), config=topic)
    sentiment = EmbedConfig(backend=EMBEDDER)
    scored = score_sentences(sentences, embed_texts(sentences[Col.TEXT].tolist(), config=sentiment), model=sentiment_model)
    assignments = pd.DataFrame({Col.SENTENCE_ID: ["a", "a", "b", "b"], Col.THEME_ID: [0, 1, 1, 0],
                                Col.THEME: ["food", "service", "service", "food"], Col.THEME_CONFIDENCE: 0.9})
    centroid_texts = {"food": "The food and the dishes.", "service": "The staff and the service."}
    # one plain sentence per theme, so each theme's mean vector points at its topic
    vectors = np.vstack([X, embed_texts(list(centroid_texts.values()), config=topic)])
    rows = pd.concat([scored, pd.DataFrame({Col.SENTENCE_ID: ["food", "service"], Col.TEXT: list(centroid_texts.values()),
                                            Col.SENTIMENT_SCORE: 0.0, Col.SENTIMENT_LABEL: "neutral"})], ignore_index=True)
    anchors = pd.DataFrame({Col.SENTENCE_ID: ["food", "service"], Col.THEME_ID: [0, 1], Col.THEME: ["food", "service"],
                            Col.THEME_CONFIDENCE: 0.9})
    out = theme_sentiments(rows, pd.concat([assignments, anchors], ignore_index=True), vectors,
                           embed_topic=lambda t: embed_texts(t, config=topic),
                           embed_sentiment=lambda t: embed_texts(t, config=sentiment), model=sentiment_model)
    got = out.set_index([Col.SENTENCE_ID, Col.THEME])[Col.THEME_SENTIMENT_LABEL]
    assert got[("a", "food")] == "positive" and got[("a", "service")] == "negative"
    assert got[("b", "food")] == "positive" and got[("b", "service")] == "negative"


def test_model_files_are_hash_checked(tmp_path):
    from insight.backends import check_sha256, sha256_file
    from insight.encoder import BRANCH_PATH, BRANCH_SHA256, IDF_PATH, IDF_SHA256, load_idf

    assert load_idf().shape == (30522,)
    assert sha256_file(BRANCH_PATH) == BRANCH_SHA256
    for path, digest in ((IDF_PATH, IDF_SHA256), (BRANCH_PATH, BRANCH_SHA256)):
        copy = tmp_path / path.name
        shutil.copy(path, copy)
        raw = bytearray(copy.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        copy.write_bytes(bytes(raw))
        with pytest.raises(ModelIntegrityError, match="sha256"):
            check_sha256(copy, digest, "a model file", hint="restore it")
    with pytest.raises(ModelIntegrityError, match="not found"):
        load_idf(tmp_path / "missing.npy")
