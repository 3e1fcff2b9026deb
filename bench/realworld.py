"""Themes and sentiment on real feedback (issue 10), each beside its plain anchor.

Every figure comes from the product's own path (``run_pipeline`` on a frame of
comments, as a user's upload) on public sets in ``../shared/datasets``; nothing
is tuned on a test file.

- SemEval-2014 restaurants, ``Restaurants_Test_Gold.xml`` (800 sentences): a
  four-theme codeframe of names and one-line descriptions, alone and with 5
  examples per theme from ``Restaurants_Train.xml``; micro/macro-F1 of the
  comment's themes against the gold categories food, service, price, ambience.
  Anchor: plain cosine between mean-pooled MiniLM vectors and "name: description",
  one threshold chosen on the train file.
- Same run: sentence polarity of single-polarity sentences (anchor: VADER), and
  per-theme sentiment in sentences whose gold categories disagree (anchor: the
  whole sentence's label for every theme).
- Discovery on train + test sentences (3,844): largest theme share, best F1 of a
  theme or parent per gold category. Anchor: KMeans k=5 on plain MiniLM vectors.
  Cost: the NLP stages' sentences per second against a bare MiniLM encode.
- Sentiment on every source's held-out test split (``models/train_sentiment.py``)
  plus app-store reviews (never trained on); anchor VADER.
- TweetEval tweets (3,000): discovered theme names that are a handle, link or filler.
- Guards: banking77 discovery NMI, the generated corpus's codeframe micro-F1.

Run ``python -m bench realworld`` (needs ../shared/datasets or ``$INSIGHT_DATASETS``).
"""
from __future__ import annotations

import re
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

from insight.schemas import Col  # noqa: E402

CATEGORIES = ("food", "service", "price", "ambience")
CODEFRAME = {
    "food": "The food and drinks: taste, dishes, menu, portions, freshness.",
    "service": "The staff and service: waiters, friendliness, attentiveness, speed of service.",
    "price": "Prices and value for money: expensive, cheap, worth it.",
    "ambience": "The atmosphere and decor: music, noise, seating, cosiness, the look of the place.",
}
FILLER = re.compile(r"^(?:http\S*|www\S*|@\S+|user|ok|okay|omg|lol|heck|thanks?|thank you|rt|cc|amp)$", re.I)


def _semeval(split: str) -> pd.DataFrame:
    name = "Restaurants_Train.xml" if split == "train" else "Restaurants_Test_Gold.xml"
    frame = ts.semeval_sentences(ts.DATASETS / "semeval2014_absa" / name)
    return frame.assign(comment_id=[f"{split}{i}" for i in range(len(frame))])


def _run(comments: pd.DataFrame, codeframe=None, *, use_cache: bool = True, backend: str | None = None):
    from insight.config import InsightConfig
    from insight.pipeline import run_pipeline

    config = InsightConfig().replace(embed__use_cache=use_cache)
    if backend is not None:
        config = config.replace(embed__backend=backend)
    if codeframe is not None:
        config = config.replace(themes__mode="codeframe")
    frame = pd.DataFrame({"comment_id": comments["comment_id"], "text": comments["text"]})
    return run_pipeline(frame, config=config, codeframe=codeframe)


def _comment_sets(result) -> dict[str, set[str]]:
    return {str(k): set(v) for k, v in zip(result.comments[Col.COMMENT_ID], result.comments[Col.THEMES])}


def _f1(pred: list[set], gold: list[set]) -> tuple[float, float]:
    """Micro- and macro-F1 over CATEGORIES of predicted vs gold label sets."""
    per, tp_all, fp_all, fn_all = [], 0, 0, 0
    for c in CATEGORIES:
        tp = sum(c in p and c in g for p, g in zip(pred, gold))
        fp = sum(c in p and c not in g for p, g in zip(pred, gold))
        fn = sum(c not in p and c in g for p, g in zip(pred, gold))
        per.append(2 * tp / max(2 * tp + fp + fn, 1))
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
    return 2 * tp_all / max(2 * tp_all + fp_all + fn_all, 1), float(np.mean(per))


def _codeframe(examples: dict[str, tuple[str, ...]] | None = None):
    from insight.codeframe import Codeframe, CodeframeTheme

    return Codeframe(tuple(CodeframeTheme(name, description=desc, examples=(examples or {}).get(name, ()))
                           for name, desc in CODEFRAME.items()))


def _plain_cosine(train: pd.DataFrame, test: pd.DataFrame) -> float:
    """Anchor: one threshold on cosine(MiniLM mean vector, 'name: description'), chosen on the train file."""
    from insight.config import EmbedConfig
    from insight.embed import embed_texts

    config = EmbedConfig(backend="minilm.v1")
    protos = embed_texts([f"{n}: {d}" for n, d in CODEFRAME.items()], config=config)

    def predict(frame: pd.DataFrame, threshold: float) -> list[set]:
        sims = embed_texts(frame["text"].tolist(), config=config) @ protos.T
        return [{c for c, s in zip(CATEGORIES, row) if s >= threshold} for row in sims]

    gold_train = [set(c) & set(CATEGORIES) for c in train["categories"]]
    best = max(np.arange(0.05, 0.6, 0.01), key=lambda t: _f1(predict(train, t), gold_train)[0])
    return _f1(predict(test, best), [set(c) & set(CATEGORIES) for c in test["categories"]])[0]


def codeframe_and_polarity(report: Callable[[str], None]) -> None:
    from sklearn.metrics import accuracy_score, f1_score

    from insight.sentiment import CLASSES, LEXICON_FEATURES, lexicon_features

    train, test = _semeval("train"), _semeval("test")
    gold = [set(c) & set(CATEGORIES) for c in test["categories"]]
    result = _run(test, _codeframe())
    themes = _comment_sets(result)
    micro, macro = _f1([themes[c] for c in test["comment_id"]], gold)
    report(f"SemEval restaurants test ({len(test)} sentences), codeframe of 4 names + descriptions:")
    report(f"  insight             micro-F1 {micro:.3f}  macro-F1 {macro:.3f}   (issue anchor: 0.29 / 0.37)")
    rng = np.random.default_rng(0)
    examples = {}
    for c in CATEGORIES:
        pool = train.loc[train["categories"].map(lambda cats, c=c: cats == [c]), "text"].tolist()
        examples[c] = tuple(rng.choice(pool, 5, replace=False))
    shot = _comment_sets(_run(test, _codeframe(examples)))
    micro5, macro5 = _f1([shot[c] for c in test["comment_id"]], gold)
    report(f"  + 5 train examples  micro-F1 {micro5:.3f}  macro-F1 {macro5:.3f}   (target >= 0.80)")
    report(f"  anchor: plain cosine, threshold chosen on train  micro-F1 {_plain_cosine(train, test):.3f}")

    polar = ts.single_polarity(test)
    labels = result.comments.set_index(Col.COMMENT_ID)[Col.SENTIMENT_LABEL]
    keep = test["text"].isin(polar["text"])
    y = ts.single_polarity(test[keep]).set_index("text")["label"].reindex(test.loc[keep, "text"]).to_numpy()
    pred = labels.reindex(test.loc[keep, "comment_id"]).to_numpy().astype(str)
    compound = lexicon_features(test.loc[keep, "text"].tolist())[:, LEXICON_FEATURES.index("vader_compound")]
    vader = np.where(compound >= 0.05, "positive", np.where(compound <= -0.05, "negative", "neutral"))
    report(f"SemEval restaurants sentence polarity ({keep.sum()} single-polarity sentences; majority "
           f"{pd.Series(y).value_counts(normalize=True).max():.3f}):")
    report(f"  insight  accuracy {accuracy_score(y, pred):.3f}  macro-F1 {f1_score(y, pred, average='macro', labels=list(CLASSES)):.3f}"
           "   (issue anchor 0.745 / 0.47; target >= 0.80 / 0.65)")
    report(f"  VADER    accuracy {accuracy_score(y, vader):.3f}  macro-F1 {f1_score(y, vader, average='macro', labels=list(CLASSES)):.3f}")
    _per_theme(result, test, report)


def _per_theme(result, test: pd.DataFrame, report: Callable[[str], None]) -> None:
    """Sentences whose gold categories carry opposite polarities: is each theme's own sentiment right?"""
    sentences = result.sentences[[Col.SENTENCE_ID, Col.COMMENT_ID, Col.SENTIMENT_LABEL]]
    links = result.assignments.merge(sentences, on=Col.SENTENCE_ID)
    polarities = dict(zip(test["comment_id"], test["polarities"]))
    right_theme = right_sentence = n = 0
    for row in links.itertuples(index=False):
        gold = polarities.get(str(getattr(row, Col.COMMENT_ID)), {})
        mixed = {p for c, p in gold.items() if c in CATEGORIES} >= {"positive", "negative"}
        theme = getattr(row, Col.THEME)
        if not mixed or gold.get(theme) not in ("positive", "negative"):
            continue
        n += 1
        right_theme += getattr(row, Col.THEME_SENTIMENT_LABEL) == gold[theme]
        right_sentence += getattr(row, Col.SENTIMENT_LABEL) == gold[theme]
    if n:
        report(f"Per-theme sentiment in sentences with a positive and a negative category ({n} theme mentions): "
               f"theme's own clause {right_theme / n:.3f} right; the whole sentence's label {right_sentence / n:.3f}")


def discovery(report: Callable[[str], None]) -> None:
    from sklearn.cluster import KMeans

    from insight.config import EmbedConfig
    from insight.backends import MiniLMEmbedder
    from insight.embed import embed_texts

    both = pd.concat([_semeval("train"), _semeval("test")], ignore_index=True)
    gold = [set(c) for c in both["categories"]]
    started = time.perf_counter()
    result = _run(both, use_cache=False)
    seconds = time.perf_counter() - started
    nlp = sum(result.timings.get(s, 0.0) for s in ("text", "embed", "sentiment", "themes"))
    themes = _comment_sets(result)
    parent = dict(zip(result.themes[Col.THEME], result.themes[Col.PARENT]))
    pred = [themes[c] for c in both["comment_id"]]
    largest = result.themes["n_sentences"].max() / max(len(result.sentences) - result.kpis["theme_coverage"]["no_topic"], 1)

    def best(c: str, groups: list[set]) -> tuple[float, str]:
        truth = np.array([c in g for g in gold])
        names = {n for g in groups for n in g}
        scores = []
        for name in names:
            hit = np.array([name in g for g in groups])
            scores.append((2 * (hit & truth).sum() / max(hit.sum() + truth.sum(), 1), name))
        return max(scores, default=(0.0, ""))

    parents = [{parent.get(t) for t in p} - {None} for p in pred]
    report(f"SemEval restaurants discovery (train + test, {len(both)} sentences): {len(result.themes)} themes, "
           f"largest {largest:.1%} of topical sentences (target <= 30%)")
    f1s = []
    for c in CATEGORIES:
        (f_t, n_t), (f_p, n_p) = best(c, pred), best(c, parents)
        f1s.append(max(f_t, f_p))
        report(f"  {c:9s} best theme F1 {f_t:.3f} ({n_t!r})  best parent F1 {f_p:.3f} ({n_p!r})")
    report(f"  mean of the best {np.mean(f1s):.3f} (target each >= 0.45, mean >= 0.55; issue anchor 0.59/0.32/0.38/0.32)")
    X = embed_texts(both["text"].tolist(), config=EmbedConfig(backend="minilm.v1"))
    km = KMeans(5, n_init=4, random_state=0).fit_predict(X)
    km_sets = [{str(k)} for k in km]
    report("  anchor KMeans k=5 on plain MiniLM: " + ", ".join(f"{c} {best(c, km_sets)[0]:.3f}" for c in CATEGORIES))
    report("  largest themes: " + "; ".join(result.themes[Col.THEME].head(12)))
    texts = result.sentences[Col.ANALYSIS_TEXT].tolist()
    t = time.perf_counter()
    MiniLMEmbedder().embed(texts)
    bare = time.perf_counter() - t
    report(f"  cost: NLP stages (text, embed, sentiment, themes) {len(texts) / nlp:.0f} sentences/s; bare MiniLM "
           f"encode {len(texts) / bare:.0f} sentences/s; ratio {bare / nlp:.2f} (target >= 0.6); whole run {seconds:.0f} s")


def tweet_theme_names(report: Callable[[str], None]) -> None:
    tweets = pd.read_csv(ts.DATASETS / "tweeteval_sentiment" / "tweets.csv").sample(3000, random_state=0)
    result = _run(tweets.assign(comment_id=[f"t{i}" for i in range(len(tweets))]))
    words = [w for name in result.themes[Col.THEME] for w in re.split(r"\s*·\s*|\s+", str(name)) if w]
    bad = sorted({w for w in words if FILLER.match(w)})
    coverage = result.kpis["theme_coverage"]
    report(f"TweetEval tweets (3,000): {len(result.themes)} themes, {coverage['no_topic']} no-topic sentences; "
           f"theme-name words that are a handle, link or filler: {len(bad)} {bad}")
    report("  largest themes: " + "; ".join(result.themes[Col.THEME].head(10)))


def guards(report: Callable[[str], None]) -> None:
    from sklearn.metrics import normalized_mutual_info_score

    from bench import themes_quality
    from insight.config import EmbedConfig
    from insight.embed import embed_texts
    from insight.registry import get_embedder
    from insight.themes import ThemeModel

    test = pd.read_csv(ts.DATASETS / "banking77" / "test.csv")
    X = embed_texts(test["text"].tolist())
    labels = ThemeModel(random_state=0).fit(test["text"].tolist(), X).labels_
    report(f"banking77 test discovery NMI {normalized_mutual_info_score(test['category'], labels):.3f} (keep >= 0.82)")
    themes_quality.codeframe_generated(report, get_embedder(EmbedConfig().backend))


def run(report: Callable[[str], None] = print) -> None:
    """Print every figure; say so and stop when the public datasets are missing."""
    if not (ts.DATASETS / "semeval2014_absa").is_dir():
        report(f"public datasets not found under {ts.DATASETS} (set INSIGHT_DATASETS): realworld skipped")
        return
    from bench import sentiment_quality

    for part in (codeframe_and_polarity, discovery, sentiment_quality.run, tweet_theme_names, guards):
        started = time.perf_counter()
        part(report)
        report(f"  ({time.perf_counter() - started:.0f} s)")
