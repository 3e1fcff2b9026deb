"""Train the shipped sentiment head (``models/sentiment/head.v1``).

Reads three public, rated sources from ``../shared/datasets`` next to the repository (or
``$INSIGHT_DATASETS``), turns their ratings into 3-class labels, embeds the
texts with MiniLM and fits :class:`insight.sentiment.SentimentHead` on the
training split of every source at once. The test splits stay untouched, so
``bench/sentiment_quality.py`` can report held-out figures for the shipped head.

Run ``.venv/bin/python models/train_sentiment.py``; the datasets are never
copied into the repository.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from insight.errors import InsufficientDataError  # noqa: E402

DATASETS = Path(os.environ.get("INSIGHT_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"))
SOURCES = ("clothing", "skytrax", "tweets")
MAX_PER_SOURCE = 8000
TEST_SHARE = 0.3
MAX_TEST = 3000
SEED = 0
MAX_TOKENS = 128
ALPHA = 1.0
LEXICON_ALPHA = 1e-3


def _bin_stars(rating: pd.Series) -> pd.Series:
    """1-5 stars -> negative (1-2) / neutral (3) / positive (4-5)."""
    return pd.cut(rating, [0, 2, 3, 5], labels=["negative", "neutral", "positive"]).astype(str)


def _load_clothing(root: Path) -> pd.DataFrame:
    df = pd.read_csv(root / "womens_clothing_reviews" / "reviews.csv")
    text = (df["Title"].fillna("") + ". " + df["Review Text"].fillna("")).str.strip(". ")
    out = pd.DataFrame({"text": text, "label": _bin_stars(df["Rating"]), "score": df["Rating"]})
    return out[df["Review Text"].notna()]


def _load_skytrax(root: Path) -> pd.DataFrame:
    """Seat reviews rate 1-10, lounge reviews 1-5 (their 67 ratings above 5 are dropped: scale unknown)."""
    seat = pd.read_csv(root / "skytrax_reviews" / "seat.csv").dropna(subset=["overall_rating", "content"])
    lounge = pd.read_csv(root / "skytrax_reviews" / "lounge.csv").dropna(subset=["overall_rating", "content"])
    lounge = lounge[lounge["overall_rating"] <= 5]
    seat_label = pd.cut(seat["overall_rating"], [0, 4, 6, 10], labels=["negative", "neutral", "positive"]).astype(str)
    return pd.concat(
        [pd.DataFrame({"text": seat["content"], "label": seat_label, "score": seat["overall_rating"]}),
         pd.DataFrame({"text": lounge["content"], "label": _bin_stars(lounge["overall_rating"]),
                       "score": lounge["overall_rating"]})],
        ignore_index=True,
    )


def _load_tweets(root: Path) -> pd.DataFrame:
    df = pd.read_csv(root / "tweeteval_sentiment" / "tweets.csv")
    return df[["text", "label"]].assign(score=np.nan)


_LOADERS = {"clothing": _load_clothing, "skytrax": _load_skytrax, "tweets": _load_tweets}


def load_sources(root: Path = DATASETS) -> dict[str, pd.DataFrame]:
    """Every source as a frame with ``text``, ``label`` and ``split`` (train|test).

    Each source is sampled to at most ``MAX_PER_SOURCE`` rows (seeded) and split
    70/30, stratified by label, with at most ``MAX_TEST`` test rows.

    Raises
    ------
    InsufficientDataError
        When the datasets folder is missing.
    """
    if not root.is_dir():
        raise InsufficientDataError(
            f"The public datasets folder {root} does not exist.",
            hint="Set INSIGHT_DATASETS to the folder holding womens_clothing_reviews/, skytrax_reviews/ "
            "and tweeteval_sentiment/ (see DESIGN.md, 'Data you may use').",
        )
    from sklearn.model_selection import train_test_split

    out = {}
    for name in SOURCES:
        df = _LOADERS[name](root)
        df = df[df["text"].astype(str).str.strip().str.len() > 0].reset_index(drop=True)
        if len(df) > MAX_PER_SOURCE:
            df = df.sample(MAX_PER_SOURCE, random_state=SEED).reset_index(drop=True)
        n_test = min(MAX_TEST, int(round(TEST_SHARE * len(df))))
        _, test_idx = train_test_split(np.arange(len(df)), test_size=n_test, stratify=df["label"], random_state=SEED)
        df["split"] = "train"
        df.loc[test_idx, "split"] = "test"
        df["source"] = name
        out[name] = df
    return out


def embed_training_texts(texts: list[str], *, cache_dir: Path | None = None) -> np.ndarray:
    """MiniLM embeddings of whole reviews truncated to ``MAX_TOKENS`` word pieces.

    Truncation keeps training affordable on a shared CPU; the product embeds
    sentences, which are far shorter than ``MAX_TOKENS``. The vectors are cached
    in one ``.npy`` per text list (keyed by a hash of the texts) under
    ``$INSIGHT_CACHE_DIR/sentiment_training`` and not in the shared embedding
    cache, whose keys assume untruncated texts.
    """
    import hashlib

    from insight.embed import default_cache_dir, load_minilm

    digest = hashlib.sha256(f"{MAX_TOKENS}\0".encode() + "\0".join(texts).encode("utf-8")).hexdigest()[:32]
    path = (default_cache_dir() if cache_dir is None else cache_dir) / "sentiment_training" / f"{digest}.npy"
    if path.is_file():
        return np.load(path, allow_pickle=False)
    model = load_minilm()
    previous, model.max_seq_length = model.max_seq_length, MAX_TOKENS
    try:
        vectors = model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False).astype(np.float32)
    finally:
        model.max_seq_length = previous
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors, allow_pickle=False)
    return vectors


def source_class_weights(labels: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """Weights that give every source, and every class within it, the same total."""
    key = pd.Series(sources).astype(str) + "|" + pd.Series(labels).astype(str)
    return (1.0 / key.map(key.value_counts())).to_numpy()


def train_model(
    X: np.ndarray,
    labels: np.ndarray,
    sources: np.ndarray,
    *,
    alpha: float = ALPHA,
    lexicon_alpha: float = LEXICON_ALPHA,
    val_share: float = 0.15,
    random_state: int = SEED,
):
    """Fit the head on ``1 - val_share`` of the rows and its temperature on the rest.

    ``X`` is :func:`insight.sentiment.build_features` of the texts.
    """
    from sklearn.model_selection import train_test_split

    from insight.sentiment import SentimentHead, SentimentModel, fit_temperature

    labels, sources = np.asarray(labels).astype(str), np.asarray(sources).astype(str)
    strata = np.char.add(np.char.add(sources, "|"), labels)
    fit_idx, val_idx = train_test_split(np.arange(len(labels)), test_size=val_share, stratify=strata, random_state=random_state)
    weight = source_class_weights(labels[fit_idx], sources[fit_idx])
    head = SentimentHead(alpha=alpha, lexicon_alpha=lexicon_alpha).fit(X[fit_idx], labels[fit_idx], sample_weight=weight)
    temperature = fit_temperature(head.decision_function(X[val_idx]), labels[val_idx])
    return SentimentModel(head=head, temperature=temperature)


def main(embed=None, *, name: str = "head.v1", directory: Path | None = None) -> Path:
    """Embed, train on every source's train split, evaluate on the test splits, save."""
    from sklearn.metrics import accuracy_score, f1_score

    from insight.sentiment import CLASSES, MODELS_DIR, build_features

    embed = embed_training_texts if embed is None else embed
    t0 = time.perf_counter()
    data = load_sources()
    frames = pd.concat(data.values(), ignore_index=True)
    X = np.vstack([build_features(df["text"].tolist(), embed(df["text"].tolist())) for df in data.values()])
    t1 = time.perf_counter()
    train = (frames["split"] == "train").to_numpy()
    model = train_model(X[train], frames["label"].to_numpy()[train], frames["source"].to_numpy()[train])
    t2 = time.perf_counter()
    metrics = {}
    for source in SOURCES:
        test = ((frames["split"] == "test") & (frames["source"] == source)).to_numpy()
        y = frames["label"].to_numpy()[test]
        pred = np.asarray(CLASSES)[model.proba_from_features(X[test]).argmax(axis=1)]
        metrics[source] = {"n_test": int(test.sum()), "accuracy": round(float(accuracy_score(y, pred)), 4),
                           "macro_f1": round(float(f1_score(y, pred, average="macro")), 4)}
    model.metadata = {
        "training_data": {
            source: {"n_train": int(((frames["split"] == "train") & (frames["source"] == source)).sum()),
                     "train_labels": frames.loc[train & (frames["source"] == source).to_numpy(), "label"]
                     .value_counts().to_dict()}
            for source in SOURCES
        },
        "labelling": "clothing stars 1-2/3/4-5; Skytrax seat overall 1-4/5-6/7-10, lounge 1-2/3/4-5 "
        "(lounge ratings above 5 dropped); TweetEval human labels",
        "sampling": f"at most {MAX_PER_SOURCE} rows per source, seed {SEED}, 70/30 stratified train/test; "
        "head on 85% of train, temperature on 15%",
        "weighting": "every source and every class within a source has the same total weight",
        "held_out_metrics": metrics,
        "seconds": {"features": round(t1 - t0, 1), "fit": round(t2 - t1, 1)},
    }
    path = model.save(name, directory=MODELS_DIR if directory is None else directory)
    print(f"saved {path} (features {t1 - t0:.0f} s, fit {t2 - t1:.1f} s)")
    print(json.dumps(metrics, indent=2))
    return path


if __name__ == "__main__":
    main()
