"""Theme quality benchmark: discovery on banking77, codeframe zero-shot, codeframe on the generated corpus.

Prints, in one run:

* discovery on the banking77 test split (3,080 queries, 77 gold intents): NMI, ARI,
  unclassified share, number of themes and clustering seconds for ``ThemeModel``
  with default settings next to the previous silhouette criterion, HDBSCAN and
  ``KMeans(k=77)`` on the same MiniLM embeddings, and whether the same seed gives
  identical labels;
* discovery on the generated corpus (``corpora.generate``, seed 0; 14 true themes
  plus chatter): themes found, NMI / ARI against the true themes (chatter counted
  as one more label, and with chatter left out), the same for the parent themes,
  unclassified share and the theme names;
* codeframe zero-shot on banking77 with only the 77 intent names, and with 3
  training examples per intent: top-1 accuracy;
* the default codeframe on the generated corpus (``corpora.generate``, seed 0):
  sentence-level micro precision / recall / F1 against the true sentence themes.

Run: ``.venv/bin/python -m bench.themes_quality``. Embeddings are cached in a temp
directory, so a second run only clusters and scores.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from bench import DATASETS

CACHE = Path(tempfile.gettempdir()) / "insight_bench_embeddings"


class CachedEmbedder:
    """Wraps an embedder with an on-disk cache (one .npy per text hash batch key)."""

    def __init__(self, embedder, model_id: str) -> None:
        self.embedder = embedder
        self.model_id = model_id

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        key = hashlib.sha256(json.dumps([self.model_id, texts]).encode()).hexdigest()[:24]
        path = CACHE / f"{key}.npy"
        if path.exists():
            return np.load(path)
        vectors = np.asarray(self.embedder.embed(texts), dtype=np.float32)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
        return vectors


def _embedder():
    from insight.registry import get_embedder

    from insight.config import EmbedConfig

    backend = EmbedConfig().backend
    return CachedEmbedder(get_embedder(backend), backend)


def discovery(report: Callable[[str], None], embedder) -> None:
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from insight.schemas import Col
    from insight.themes import HDBSCANClusterer, PCAReducer, SpectralWardClusterer, ThemeModel

    test = pd.read_csv(DATASETS / "banking77" / "test.csv")
    texts, gold = test["text"].tolist(), test["category"].to_numpy()
    X = embedder.embed(texts)
    report(f"banking77 test: {len(texts)} texts, {len(set(gold))} intents, embeddings {X.shape}")
    report(f"{'model':58s} {'themes':>6s} {'unclass':>7s} {'NMI':>6s} {'ARI':>6s} {'secs':>6s}")

    def line(name: str, labels: np.ndarray, secs: float) -> None:
        k = len(set(labels.tolist()) - {-1})
        report(f"{name:58s} {k:6d} {np.mean(labels < 0):7.1%} {normalized_mutual_info_score(gold, labels):6.3f} "
               f"{adjusted_rand_score(gold, labels):6.3f} {secs:6.1f}")

    t = time.perf_counter()
    line("KMeans(k=77, n_init=1) baseline", KMeans(77, n_init=1, random_state=0).fit_predict(X),
         time.perf_counter() - t)
    silhouette = SpectralWardClusterer(n_neighbors=10, k_max=150, criterion="silhouette", random_state=0)
    settings = {
        "ThemeModel() defaults [k by vMF BIC, max_themes=120, mcs=15]": {},
        "  same, min_cluster_size=10": dict(min_cluster_size=10),
        "k by silhouette (previous default), max_themes=60": dict(
            max_themes=60, clusterer=SpectralWardClusterer(k_max=60, criterion="silhouette", random_state=0)),
        "k by silhouette, max_themes=150, mcs=10 (previous tuned run)": dict(
            max_themes=150, min_cluster_size=10, clusterer=silhouette),
        "HDBSCAN(mcs=10) on PCA-50 + outlier reassignment": dict(
            max_themes=150, min_cluster_size=10, reducer=PCAReducer(50), clusterer=HDBSCANClusterer(10)),
    }
    first = None
    for name, params in settings.items():
        t = time.perf_counter()
        model = ThemeModel(**params, random_state=0).fit(texts, X)
        line(name, model.labels_, time.perf_counter() - t)
        first = first or (params, model)
    params, model = first
    again = ThemeModel(**params, random_state=0).fit(texts, X)
    same = np.array_equal(model.labels_, again.labels_) and model.themes_.equals(again.themes_)
    report(f"same seed twice -> identical labels and themes: {'yes' if same else 'NO'}")
    report("largest themes: " + "; ".join(model.themes_[Col.THEME].head(8)))


def _generated(embedder) -> tuple[pd.DataFrame, list[str], np.ndarray]:
    """The generated demo corpus (seed 0): sentences frame, texts and their embeddings."""
    from corpora.generate import generate_corpus

    sentences = generate_corpus(seed=0).sentences
    unique = sorted(set(sentences["text"]))
    U = embedder.embed(unique)
    row = {t: i for i, t in enumerate(unique)}
    return sentences, sentences["text"].tolist(), U[[row[t] for t in sentences["text"]]]


def discovery_generated(report: Callable[[str], None], embedder) -> None:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from insight.schemas import Col
    from insight.themes import SpectralWardClusterer, ThemeModel

    sentences, texts, X = _generated(embedder)
    truth = sentences["theme"].to_numpy()
    themed = truth != ""
    report(f"generated corpus (seed 0): {len(texts)} sentences ({len(set(texts))} distinct), "
           f"{len(set(truth) - {''})} true themes + chatter ({1 - themed.mean():.0%} of sentences)")
    report(f"{'model':58s} {'themes':>6s} {'unclass':>7s} {'NMI':>6s} {'ARI':>6s} {'NMI-t':>6s} {'ARI-t':>6s} "
           f"{'secs':>5s}")

    def line(name: str, labels: np.ndarray, k: int, secs: float) -> None:
        t = themed
        report(f"{name:58s} {k:6d} {np.mean(labels == -1):7.1%} {normalized_mutual_info_score(truth, labels):6.3f} "
               f"{adjusted_rand_score(truth, labels):6.3f} {normalized_mutual_info_score(truth[t], labels[t]):6.3f} "
               f"{adjusted_rand_score(truth[t], labels[t]):6.3f} {secs:5.1f}")

    report("(NMI/ARI: chatter is one more label; NMI-t/ARI-t: sentences with a true theme only)")
    previous = ThemeModel(max_themes=60, clusterer=SpectralWardClusterer(k_max=60, criterion="silhouette"))
    for name, model in (("ThemeModel() defaults [k by vMF BIC]", ThemeModel(random_state=0)),
                        ("k by silhouette (previous default), max_themes=60", previous)):
        t = time.perf_counter()
        model.fit(texts, X)
        secs = time.perf_counter() - t
        line(name, model.labels_, model.n_themes_, secs)
        parent_of = model.themes_[Col.PARENT].to_numpy()
        parents = np.where(model.labels_ >= 0, parent_of[np.maximum(model.labels_, 0)], "")
        line("  its parent themes", pd.factorize(parents)[0], len(model.parents_), 0.0)
        if name.startswith("ThemeModel"):
            again = ThemeModel(random_state=0).fit(texts, X)
            same = np.array_equal(model.labels_, again.labels_) and model.themes_.equals(again.themes_)
            report(f"  same seed twice -> identical labels and themes: {'yes' if same else 'NO'}")
            majority = [pd.Series(truth[model.labels_ == c]).mode()[0] or "chatter" for c in range(model.n_themes_)]
            report("  largest themes (true majority): " + "; ".join(
                f"{n} ({m})" for n, m in zip(model.themes_[Col.THEME].head(20), majority[:20])))
            report("  parents: " + "; ".join(model.parents_[Col.PARENT]))


def codeframe_banking(report: Callable[[str], None], embedder) -> None:
    from insight.codeframe import Codeframe, CodeframeAssigner, CodeframeTheme

    test = pd.read_csv(DATASETS / "banking77" / "test.csv")
    train = pd.read_csv(DATASETS / "banking77" / "train.csv")
    intents = json.loads((DATASETS / "banking77" / "categories.json").read_text())
    X = embedder.embed(test["text"].tolist())
    gold = test["category"].map({c: i for i, c in enumerate(intents)}).to_numpy()

    def accuracy(codeframe: Codeframe) -> float:
        assigner = CodeframeAssigner(codeframe, embedder=embedder).fit(test["text"].tolist(), X)
        return float(np.mean(assigner.decision_function(X).argmax(axis=1) == gold))

    names_only = Codeframe(tuple(CodeframeTheme(c.replace("_", " ")) for c in intents))
    report(f"codeframe zero-shot, 77 intent names only: top-1 accuracy {accuracy(names_only):.3f}")
    shots = train.groupby("category", sort=False).apply(
        lambda g: tuple(g.sample(3, random_state=0)["text"]), include_groups=False)
    few = Codeframe(tuple(CodeframeTheme(c.replace("_", " "), examples=shots[c]) for c in intents))
    report(f"codeframe, intent names + 3 train examples per intent: top-1 accuracy {accuracy(few):.3f}")


def codeframe_generated(report: Callable[[str], None], embedder) -> None:
    from insight.codeframe import Codeframe, CodeframeAssigner

    sentences, texts, X = _generated(embedder)
    codeframe = Codeframe.default()
    t = time.perf_counter()
    assigner = CodeframeAssigner(codeframe, embedder=embedder).fit(texts, X)
    pred = assigner.transform(texts, X)
    secs = time.perf_counter() - t
    predicted = set(zip(pred["sentence_pos"], pred["theme"]))
    truth = {(i, th) for i, th in enumerate(sentences["theme"]) if th}
    tp = len(predicted & truth)
    p, r = tp / max(len(predicted), 1), tp / max(len(truth), 1)
    f1 = 2 * p * r / max(p + r, 1e-12)
    multi = pred.groupby("sentence_pos").size().gt(1).sum()
    report(f"generated corpus (seed 0): {len(texts)} sentences, {len(truth)} with a true theme, "
           f"{len(texts) - len(truth)} chatter")
    report(f"default codeframe micro precision {p:.3f}  recall {r:.3f}  F1 {f1:.3f}  "
           f"({multi} sentences with 2+ themes, assign {secs:.2f}s)")
    per = []
    for name in codeframe.names:
        pt = {i for i, th in predicted if th == name}
        tt = {i for i, th in truth if th == name}
        per.append(f"{name} {2 * len(pt & tt) / max(len(pt) + len(tt), 1):.2f}")
    report("per-theme F1: " + ", ".join(per))


def run(report: Callable[[str], None] = print) -> None:
    """Run every part; parts that need the public datasets say so when it is missing."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    embedder = _embedder()
    if (DATASETS / "banking77" / "test.csv").exists():
        discovery(report, embedder)
        codeframe_banking(report, embedder)
    else:
        report(f"banking77 not found under {DATASETS} (set INSIGHT_DATASETS): discovery and zero-shot skipped")
    discovery_generated(report, embedder)
    codeframe_generated(report, embedder)


if __name__ == "__main__":
    run()
