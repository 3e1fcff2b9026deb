"""Fast mode beside the default (issue 3): speed, themes and sentiment on the same public sets.

Each row runs the product's own path once per mode:

- NLP-stage speed: text, embed, sentiment and themes stages of ``run_pipeline`` on
  SemEval restaurants train + test (3,844 comments, caches off), in sentences/s;
  and fast mode's embed + sentiment alone on 40,000 review sentences of 8 or more
  words (target >= 40,000 sentences/s).
- banking77 test discovery NMI (``ThemeModel`` on each mode's vectors).
- SemEval restaurants test codeframe micro-F1 (4 names + descriptions, as in
  ``bench/realworld.py``).
- Sentiment macro-F1 on every source's held-out test split
  (``models/train_sentiment.py``), over the classes a set has.

Target: fast mode within 5 points of the default on each quality figure.
Run ``python -m bench fast`` (needs ../shared/datasets or ``$INSIGHT_DATASETS``).
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
for _p in (REPO, REPO / "models"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import train_sentiment as ts  # noqa: E402

from bench import realworld  # noqa: E402
from insight.schemas import Col  # noqa: E402

MODES = {"default": "minilm-idf.v1", "fast": "static.v1"}


def nlp_rate(backend: str) -> float:
    """Sentences/s of the NLP stages (text, embed, sentiment, themes) on SemEval train + test."""
    both = pd.concat([realworld._semeval("train"), realworld._semeval("test")], ignore_index=True)
    result = realworld._run(both, use_cache=False, backend=backend)
    seconds = sum(result.timings.get(s, 0.0) for s in ("text", "embed", "sentiment", "themes"))
    return len(result.sentences) / seconds


def review_sentences(n: int = 40_000) -> list[str]:
    """``n`` sentences of 8 or more words from the clothing reviews (seeded draw)."""
    reviews = pd.read_csv(ts.DATASETS / "womens_clothing_reviews" / "reviews.csv")["Review Text"].dropna()
    sentences = [s.strip() for r in reviews.astype(str) for s in r.split(".") if len(s.split()) >= 8]
    return [sentences[i] for i in np.random.default_rng(0).choice(len(sentences), n)]


def fast_embed_sentiment_rate(texts: list[str]) -> float:
    """Sentences/s of fast mode's vectors plus sentiment labels (models loaded beforehand)."""
    from insight.sentiment import StaticSentimentModel
    from insight.static import StaticEmbedder

    embedder, model = StaticEmbedder(), StaticSentimentModel.load()
    model.predict(texts[:10], embedder.embed(texts[:10]))
    started = time.perf_counter()
    model.predict(texts, embedder.embed(texts))
    return len(texts) / (time.perf_counter() - started)


def banking77_nmi(backend: str) -> float:
    """Discovery NMI on the banking77 test split with ``backend``'s vectors."""
    from sklearn.metrics import normalized_mutual_info_score

    from insight.config import EmbedConfig
    from insight.embed import embed_texts
    from insight.themes import ThemeModel

    test = pd.read_csv(ts.DATASETS / "banking77" / "test.csv")
    X = embed_texts(test["text"].tolist(), config=EmbedConfig(backend=backend))
    labels = ThemeModel(random_state=0).fit(test["text"].tolist(), X).labels_
    return normalized_mutual_info_score(test["category"], labels)


def semeval_codeframe_f1(backend: str) -> float:
    """Micro-F1 of the 4-theme codeframe on SemEval restaurants test."""
    test = realworld._semeval("test")
    themes = realworld._comment_sets(realworld._run(test, realworld._codeframe(), backend=backend))
    gold = [set(c) & set(realworld.CATEGORIES) for c in test["categories"]]
    return realworld._f1([themes[c] for c in test["comment_id"]], gold)[0]


def sentiment_f1(backend: str) -> dict[str, float]:
    """Macro-F1 (classes present) on every source's test split, with the head ``backend`` uses."""
    from sklearn.metrics import f1_score

    from insight.sentiment import head_for

    model = head_for(backend)  # predict() makes the vectors it reads
    out = {}
    for name, frame in ts.load_sources().items():
        test = frame[frame["split"] == "test"]
        texts, y = test["text"].astype(str).tolist(), test["label"].to_numpy().astype(str)
        pred = model.predict(texts)[Col.SENTIMENT_LABEL].to_numpy().astype(str)
        out[name] = f1_score(y, pred, average="macro", labels=sorted(set(y)))
    return out


def run(report: Callable[[str], None] = print) -> None:
    """Print every figure of both modes side by side."""
    if not (ts.DATASETS / "banking77").is_dir():
        report(f"public datasets not found under {ts.DATASETS} (set INSIGHT_DATASETS): fast skipped")
        return
    report(f"fast mode: embed + sentiment on 40,000 review sentences: "
           f"{fast_embed_sentiment_rate(review_sentences()):,.0f} sentences/s (target >= 40,000)")
    rows = [("NLP stages, SemEval 3,844 comments (sentences/s)", nlp_rate, "{:,.0f}"),
            ("banking77 discovery NMI", banking77_nmi, "{:.3f}"),
            ("SemEval codeframe micro-F1", semeval_codeframe_f1, "{:.3f}")]
    report(f"{'':52s} {'default':>9s} {'fast':>9s}")
    for label, measure, fmt in rows:
        values = [fmt.format(measure(backend)) for backend in MODES.values()]
        report(f"{label:52s} {values[0]:>9s} {values[1]:>9s}")
    f1 = {mode: sentiment_f1(backend) for mode, backend in MODES.items()}
    for source in f1["default"]:
        report(f"{'sentiment macro-F1, ' + source:52s} {f1['default'][source]:9.3f} {f1['fast'][source]:9.3f}")
