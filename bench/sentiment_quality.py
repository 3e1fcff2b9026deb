"""Sentiment quality: accuracy and macro-F1 in-domain, cross-domain and source to source.

Sources (see ``models/train_sentiment.py``): women's clothing reviews (stars),
Skytrax seat + lounge reviews (overall rating), TweetEval tweets (human labels),
each sampled and split 70/30 with a fixed seed. Every figure is on a test split
that the evaluated head never saw; hyper-parameters are not tuned on them.

Rows printed:

- ``vader``: the lexicon floor (compound >= 0.05 positive, <= -0.05 negative).
- ``shipped``: the shipped head (``models/sentiment/head.v1``, trained on the
  train splits of all sources) on each test split (in-domain, held out).
- ``loso``: leave one source out, train on the other sources' train splits,
  test on the left-out source ("cross-domain"). ``+em`` re-estimates the class
  priors on the test texts by EM without their labels.
- ``A->B``: trained on source A only, tested on B (every pair, A == B in-domain).
- ``ceiling``: plain supervised references trained on the test source's own train
  split (scikit-learn ``LogisticRegression`` on the same MiniLM embeddings, and on
  TF-IDF word 1-2-grams; natural class priors), i.e. how far the labels can be
  learnt *in* domain with this encoder; the cross-domain rows are read against them.
- the score-agreement and ``adapt_to_scores`` gain on clothing treated as a
  user's corpus, starting from the head that never saw clothing.

Run: ``.venv/bin/python bench/sentiment_quality.py`` (needs ../shared/datasets or ``$INSIGHT_DATASETS``).
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
for p in (REPO, REPO / "models"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import train_sentiment as ts  # noqa: E402

from insight.schemas import Col  # noqa: E402
from insight.sentiment import CLASSES, EMBEDDING_DIM, LEXICON_FEATURES, SentimentModel, build_features  # noqa: E402


def _metrics(y_true, y_pred) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return accuracy_score(y_true, y_pred), f1_score(y_true, y_pred, average="macro", labels=list(CLASSES))


def _vader_labels(X: np.ndarray) -> np.ndarray:
    compound = X[:, EMBEDDING_DIM + LEXICON_FEATURES.index("vader_compound")]
    return np.where(compound >= 0.05, "positive", np.where(compound <= -0.05, "negative", "neutral"))


def _predict(model: SentimentModel, X: np.ndarray, *, em: bool) -> np.ndarray:
    return np.asarray(CLASSES)[model.proba_from_features(X, adapt_priors=em).argmax(axis=1)]


def run(report: Callable[[str], None] = print, embed: Callable[[list[str]], np.ndarray] | None = None) -> pd.DataFrame:
    """Print the table and return it (one row per method x test set).

    ``embed`` defaults to :func:`train_sentiment.embed_training_texts` (the
    training recipe's truncated, cached MiniLM embeddings).
    """
    embed = ts.embed_training_texts if embed is None else embed
    t0 = time.perf_counter()
    data = ts.load_sources()
    feats = {name: build_features(df["text"].tolist(), embed(df["text"].tolist())) for name, df in data.items()}
    report(f"features for {sum(len(d) for d in data.values())} texts in {time.perf_counter() - t0:.0f} s")

    def part(name: str, split: str):
        mask = (data[name]["split"] == split).to_numpy()
        return feats[name][mask], data[name]["label"].to_numpy()[mask]

    def train_on(names: list[str]) -> SentimentModel:
        X = np.vstack([part(n, "train")[0] for n in names])
        y = np.concatenate([part(n, "train")[1] for n in names])
        src = np.concatenate([[n] * len(part(n, "train")[1]) for n in names])
        return ts.train_model(X, y, src)

    rows = []

    def add(method: str, test: str, y, pred) -> None:
        acc, f1 = _metrics(y, pred)
        rows.append({"method": method, "test": test, "n": len(y), "accuracy": acc, "macro_f1": f1})

    t1 = time.perf_counter()
    shipped = train_on(list(data))
    report(f"shipped-recipe head trained in {time.perf_counter() - t1:.1f} s")
    for name in data:
        X, y = part(name, "test")
        add("vader", name, y, _vader_labels(X))
        add("shipped (all sources)", name, y, _predict(shipped, X, em=False))
        add("shipped (all sources) +em", name, y, _predict(shipped, X, em=True))
        loso = train_on([n for n in data if n != name])
        add("loso (cross-domain)", name, y, _predict(loso, X, em=False))
        add("loso (cross-domain) +em", name, y, _predict(loso, X, em=True))
    for name in data:
        _ceilings(data[name], part(name, "train")[0], part(name, "test")[0], name, add)
    for a in data:
        single = train_on([a])
        for b in data:
            X, y = part(b, "test")
            add(f"{a}->{b}", b, y, _predict(single, X, em=False))
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 160, "display.float_format", "{:.3f}".format):
        report(table.to_string(index=False))

    _adaptation(data, feats, train_on, report)
    report(f"total {time.perf_counter() - t0:.0f} s")
    return table


def _ceilings(df: pd.DataFrame, X_train: np.ndarray, X_test: np.ndarray, name: str, add) -> None:
    """In-domain supervised references on one source (no lexicon cues, no class re-weighting)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    train = (df["split"] == "train").to_numpy()
    y_train, y_test = df["label"].to_numpy()[train], df["label"].to_numpy()[~train]
    minilm = LogisticRegression(max_iter=2000).fit(X_train[:, :EMBEDDING_DIM], y_train)
    add("ceiling: in-domain MiniLM + LR", name, y_test, minilm.predict(X_test[:, :EMBEDDING_DIM]))
    tfidf = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                          LogisticRegression(C=3.0, max_iter=2000))
    add("ceiling: in-domain TF-IDF + LR", name, y_test, tfidf.fit(df["text"][train], y_train).predict(df["text"][~train]))


def _adaptation(data, feats, train_on, report) -> None:
    """Clothing test split as 'the user's corpus' for a head that never saw clothing."""
    from insight.sentiment import adapt_to_scores, score_agreement

    df = data["clothing"]
    mask = (df["split"] == "test").to_numpy()
    texts, X, scores = df["text"][mask].tolist(), feats["clothing"][mask], df["score"][mask].to_numpy()
    model = train_on([n for n in data if n != "clothing"])
    pred = model.predict(texts, X[:, :EMBEDDING_DIM])
    comments = pd.DataFrame({Col.SENTIMENT_SCORE: pred[Col.SENTIMENT_SCORE], Col.SENTIMENT_LABEL: pred[Col.SENTIMENT_LABEL],
                             Col.SCORE: scores})
    report(f"score agreement (loso head, clothing test, stars): {score_agreement(comments)}")
    _, gain = adapt_to_scores(model, texts, X[:, :EMBEDDING_DIM], scores)
    report(f"adapt_to_scores on clothing (70/30 of its test split): {gain}")


if __name__ == "__main__":
    run()
