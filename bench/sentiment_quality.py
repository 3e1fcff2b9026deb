"""Sentiment quality: the shipped model and VADER on every source's held-out test split.

Sources and splits are those of ``models/train_sentiment.py`` (clothing, Skytrax,
tweets, SemEval restaurants and laptops, IMDB), plus 2,000 app-store reviews the
model never trained on (their licence allows evaluation only). Scores come from
the product's path: sentences encoded by the shared encoder (``minilm-sentiment.v1``),
the shipped head (``models/sentiment/head.v2``). Macro-F1 is over the classes a set
has (IMDB and app reviews have no neutral). Leave-one-source-out figures come from
``models/train_sentiment.py --hold-out SOURCE`` (see the model card).

Run ``python -m bench sentiment`` (needs ../shared/datasets or ``$INSIGHT_DATASETS``).
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
for _p in (REPO, REPO / "models"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import train_sentiment as ts  # noqa: E402

from insight.schemas import Col  # noqa: E402


def run(report: Callable[[str], None] = print) -> None:
    """Print accuracy / macro-F1 of the shipped model and of VADER on every test split."""
    from sklearn.metrics import accuracy_score, f1_score

    from insight.config import EmbedConfig
    from insight.embed import embed_texts
    from insight.sentiment import EMBEDDER, LEXICON_FEATURES, SentimentModel, lexicon_features

    if not ts.DATASETS.is_dir():
        report(f"public datasets not found under {ts.DATASETS} (set INSIGHT_DATASETS): sentiment skipped")
        return
    model = SentimentModel.load()
    data = {name: df[df["split"] == "test"] for name, df in ts.load_sources().items()}
    apps = pd.read_csv(ts.DATASETS / "large_reviews" / "android_app_reviews.csv.gz").dropna()
    data["apps (never trained on)"] = apps.sample(2000, random_state=0)
    report(f"{'sentiment test split':26s} {'n':>5s}  {'insight acc / F1':>17s}  {'VADER acc / F1':>15s}")
    for name, df in data.items():
        texts, y = df["text"].astype(str).tolist(), df["label"].to_numpy().astype(str)
        labels = sorted(set(y))
        pred = model.predict(texts, embed_texts(texts, config=EmbedConfig(backend=EMBEDDER)))[Col.SENTIMENT_LABEL]
        compound = lexicon_features(texts)[:, LEXICON_FEATURES.index("vader_compound")]
        vader = np.where(compound >= 0.05, "positive", np.where(compound <= -0.05, "negative", "neutral"))
        ours = (accuracy_score(y, pred), f1_score(y, pred, average="macro", labels=labels))
        theirs = (accuracy_score(y, vader), f1_score(y, vader, average="macro", labels=labels))
        report(f"{name:26s} {len(y):5d}  {ours[0]:8.3f} / {ours[1]:.3f}  {theirs[0]:6.3f} / {theirs[1]:.3f}")
    held = model.metadata.get("held_out_source")
    report(f"(trained on every source's train split{'' if not held else f' except {held}'}; macro-F1 over the "
           "classes present; see models/sentiment/MODEL_CARD.md for leave-one-source-out)")
