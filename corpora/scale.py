"""Scale corpus: the generator's planted business, written in real, non-repeating text.

``corpora.generate`` writes every comment from templates, so a 100k-comment corpus
has only ~20k distinct sentences: an embedding cache then hides the encoder's
cost and throughput benchmarks look better than on a real export. This builder
keeps what carries the planted truth -- the customers, the comments' owners,
dates, channels and ratings, and every *themed* sentence (the effects flow
through "customer mentioned theme X") -- and replaces the rest of the text with
real sentences from ``../shared/datasets``:

* the generator's chatter / general sentences (no theme) are dropped;
* each comment gets 1-3 real sentences, drawn without replacement from a
  seeded shuffle of the distinct-sentence pool (cycling only when it runs out),
  at random positions between its themed sentences;
* most themed sentences get a real sentence joined on as a clause ("..., and
  the room was clean."; before a question: "The room was clean - why ...?"),
  which makes them distinct strings while they still discuss their theme; the
  rest stay plain, as short repeated remarks do in real exports.

The sentence-level repeat rate (1 - distinct / sentences, exact match after
strip) of the result, of its parts, and of the real datasets themselves is
written to ``ground_truth.json`` -> ``scale`` and printed. Usage::

    python -m corpora.scale --comments 100000 --seed 0 --out corpora/scale
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from corpora.generate import (SENTIMENT, SIZES, UNMATCHED_SHARE, Corpus, _POLARITY_SIGN, _prefix, generate_corpus,
                              write_corpus)
from insight.schemas import Col

ENV_DATASETS = "INSIGHT_SHARED_DATASETS"
POOL_VERSION = "3"  # bump when the splitter or the filters change: the cached pool is rebuilt
SOURCES: tuple[tuple[str, str, str], ...] = (
    # (source name, glob under the datasets folder, text column; "" = SemEval XML <text>)
    ("airbnb", "large_reviews/airbnb_reviews.csv.gz", "text"),
    ("app_reviews", "large_reviews/android_app_reviews.csv.gz", "text"),
    ("imdb", "large_reviews/imdb_reviews.csv.gz", "text"),
    ("clothing", "womens_clothing_reviews/reviews.csv", "Review Text"),
    ("skytrax", "skytrax_reviews/*.csv", "content"),
    ("tweets", "tweeteval_sentiment/tweets.csv", "text"),
    ("banking77", "banking77/*.csv", "text"),
    ("semeval_absa", "semeval2014_absa/*.xml", ""),
)
REFERENCE_SOURCES = ("airbnb", "app_reviews")  # the "real export" repeat rates the corpus is compared with
SPLIT = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')]))\s+(?=[A-Z0-9\"'(])")  # after . ! ? (and a closing quote)
ENDS = r"[.!?][\"')]*$"
MIN_WORDS, MAX_WORDS = 3, 60
LARGE = SIZES["large"]
COMMENTS_PER_CUSTOMER = LARGE["comment_rate"] * LARGE["comments_per_commenter"] * (1 + UNMATCHED_SHARE)
MARGIN = 1.03  # generate ~3% more comments than asked, then drop redundant ones to hit N exactly
P_CLAUSE = 0.9  # share of themed sentences that get a real clause joined on
CONNECTORS = (", and ", ", but ", "; ", " - ", ", also ")


class DatasetsMissing(RuntimeError):
    """The shared datasets folder (or every known file in it) is absent."""


def datasets_dir() -> Path:
    """``$INSIGHT_SHARED_DATASETS`` or ``../shared/datasets`` next to the repository root (never copied in)."""
    env = os.environ.get(ENV_DATASETS)
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def repeat_rate(texts) -> float:
    """Sentence-level repeat rate: 1 - distinct / sentences, exact string match after strip (0 when empty)."""
    s = pd.Series(texts, dtype=object).str.strip()
    return round(1.0 - s.nunique() / len(s), 6) if len(s) else 0.0


def split_sentences(texts: pd.Series) -> pd.Series:
    """Regex sentence split (spaCy is too slow for a million texts), 3-60 words, each ending in . ! or ?.

    A word holds a letter or digit: ".. , . .." is no sentence (ingest would drop it as empty text)."""
    s = texts.dropna().astype(str).str.replace(r"\s+", " ", regex=True).str.split(SPLIT).explode().str.strip()
    words = s.str.count(r"[^\W_]+")
    s = s[(words >= MIN_WORDS) & (s.str.count(" ") + 1 <= MAX_WORDS)]
    return s.where(s.str.contains(ENDS), s + ".").reset_index(drop=True)


def _read_texts(path: Path, column: str) -> pd.Series:
    if not column:
        return pd.Series([t.text or "" for t in ET.parse(path).getroot().iter("text")], dtype=object)
    return pd.read_csv(path, usecols=[column])[column]


def _files(root: Path) -> list[tuple[str, Path, str]]:
    return [(name, p, col) for name, pattern, col in SOURCES for p in sorted(root.glob(pattern))]


def build_pool(root: Path, cache_dir: Path) -> tuple[pd.DataFrame, dict]:
    """Distinct real sentences (columns text, source) in source order, and per-source figures; cached as Parquet.

    De-duplication is case-insensitive and first-come across sources, so the pool never holds a sentence
    twice. The cache key hashes the files' names, sizes and mtimes, so a changed dataset rebuilds it.
    """
    if not root.is_dir():
        raise DatasetsMissing(f"shared datasets folder not found: {root} (set {ENV_DATASETS} to its path)")
    files = _files(root)
    if not files:
        raise DatasetsMissing(f"no known dataset file under {root} (expected e.g. {SOURCES[0][1]})")
    key = hashlib.sha256(repr([POOL_VERSION] + [(str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns)
                                                for _, p, _ in files]).encode()).hexdigest()[:16]
    cache, meta = cache_dir / f"real_pool-{key}.parquet", cache_dir / f"real_pool-{key}.json"
    if cache.exists() and meta.exists():
        return pd.read_parquet(cache), json.loads(meta.read_text(encoding="utf-8"))
    parts = [pd.DataFrame({"text": split_sentences(_read_texts(p, col)), "source": name}) for name, p, col in files]
    raw = pd.concat(parts, ignore_index=True)
    pool = raw[~raw["text"].str.lower().duplicated()].reset_index(drop=True)
    info = {"sources": {name: {"sentences": int((raw["source"] == name).sum()),
                               "repeat_rate": repeat_rate(raw.loc[raw["source"] == name, "text"]),
                               "in_pool": int((pool["source"] == name).sum())}
                        for name in dict.fromkeys(raw["source"])},
            "pool_size": len(pool), "files": [str(p.relative_to(root)) for _, p, _ in files]}
    cache_dir.mkdir(parents=True, exist_ok=True)
    pool.to_parquet(cache, index=False)
    meta.write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    return pool, info


def _trim(corpus: Corpus, n: int, seed: int) -> Corpus:
    """Drop random surplus comments whose removal changes no customer's exposure, to keep exactly ``n``.

    A comment may go only if its customer is in the table, keeps another comment, and mentions each of
    this comment's themes in another kept comment: the planted effects and every empirical figure in the
    truth stay exact. Random (not latest-first) so the comment volume per month gets no artificial dip.
    Keeps only the themed sentences of the kept comments (the others are re-rendered away).
    """
    fb, truth = corpus.feedback, corpus.truth
    surplus = len(fb) - n
    owners = fb[Col.CUSTOMER_ID].str.strip().str.upper().to_numpy()
    themes = [truth["comments"][c]["themes"] for c in fb[Col.COMMENT_ID]]
    per_owner = Counter(owners)
    per_theme = Counter((o, t) for o, ts in zip(owners, themes) for t in ts)
    ghosts = set(truth["unmatched_ids"])
    keep = np.ones(len(fb), dtype=bool)
    for k in np.random.default_rng([seed, 3]).permutation(len(fb)):
        if surplus <= 0:
            break
        o = owners[k]
        if o in ghosts or per_owner[o] < 2 or any(per_theme[o, t] < 2 for t in themes[k]):
            continue
        keep[k], surplus = False, surplus - 1
        per_owner[o] -= 1
        per_theme.update({(o, t): -1 for t in themes[k]})
    fb = fb[keep].reset_index(drop=True)
    kept = set(fb[Col.COMMENT_ID])
    truth = {**truth, "comments": {c: v for c, v in truth["comments"].items() if c in kept},
             "id_variants": {c: v for c, v in truth["id_variants"].items() if c in kept}}
    truth["sizes"] = {**truth["sizes"], "n_comments": len(fb), "n_id_variants": len(truth["id_variants"])}
    themed = corpus.sentences[Col.THEME] != ""
    sentences = corpus.sentences[corpus.sentences[Col.COMMENT_ID].isin(kept) & themed]
    return Corpus(customers=corpus.customers, feedback=fb, sentences=sentences, truth=truth)


def _with_clause(themed: str, real: str, connector: str) -> str:
    """One sentence: ``themed`` then ``real`` as a clause, or ``real`` first when ``themed`` is a question."""
    if themed[-1] == "?":
        return re.sub(r"[.!?]+([\"')]*)$", r"\1", real) + _prefix(" - ", themed)
    return themed[:-1] + _prefix(connector, real)


def _rerender(corpus: Corpus, pool: pd.DataFrame, seed: int) -> tuple[Corpus, dict]:
    """Themed sentences (with a real clause for most) plus 1-3 real sentences per comment at random positions."""
    rng = np.random.default_rng([seed, 2])
    fb, size = corpus.feedback, len(pool)
    texts = pool["text"].to_numpy(dtype=object)
    themed = corpus.sentences[corpus.sentences[Col.THEME] != ""].reset_index(drop=True)
    # a real clause joined to most themed sentences: a distinct string that still discusses the theme
    clause_at = np.flatnonzero(rng.random(len(themed)) < P_CLAUSE)
    clauses = texts[rng.permutation(size)[np.arange(len(clause_at)) % size]]
    connectors = rng.choice(len(CONNECTORS), size=len(clause_at))
    themed_text = themed[Col.TEXT].to_numpy(dtype=object)
    themed_text[clause_at] = [_with_clause(t, r, CONNECTORS[c])
                              for t, c, r in zip(themed_text[clause_at], connectors, clauses)]
    # 1 + Binomial(2, p) real sentences per comment; p shrinks so the draws fit the pool when they can
    p = min(0.5, max(0.0, (0.98 * size / len(fb) - 1) / 2))
    k = 1 + rng.binomial(2, p, size=len(fb))
    drawn = rng.permutation(size)[np.arange(int(k.sum())) % size]
    position = pd.Series(np.arange(len(fb)), index=fb[Col.COMMENT_ID])
    n_themed = themed[Col.COMMENT_ID].value_counts().reindex(fb[Col.COMMENT_ID], fill_value=0).to_numpy()
    real_comment = np.repeat(np.arange(len(fb)), k)
    # themed sentences keep their order (keys 0..m-1); real ones fall into one of the m+1 gaps
    real_key = rng.integers(0, n_themed[real_comment] + 1) - 0.5 + rng.random(len(real_comment)) / 10
    rows = pd.DataFrame({
        "pos": np.concatenate([themed[Col.COMMENT_ID].map(position).to_numpy(), real_comment]),
        "key": np.concatenate([themed.groupby(Col.COMMENT_ID, sort=False).cumcount().to_numpy(), real_key]),
        Col.TEXT: np.concatenate([themed_text, texts[drawn]]),
        Col.THEME: np.concatenate([themed[Col.THEME].to_numpy(dtype=object), np.full(len(drawn), "", dtype=object)]),
        SENTIMENT: np.concatenate([themed[SENTIMENT].to_numpy(dtype=object),
                                     np.full(len(drawn), "", dtype=object)]),
        "real": np.r_[np.zeros(len(themed), bool), np.ones(len(drawn), bool)],
    }).sort_values(["pos", "key"], kind="stable", ignore_index=True)
    rows.insert(0, Col.COMMENT_ID, fb[Col.COMMENT_ID].to_numpy()[rows["pos"].to_numpy()])
    rows.insert(1, Col.SENTENCE_IDX, rows.groupby("pos", sort=False).cumcount())
    text = rows.groupby("pos", sort=True)[Col.TEXT].agg(" ".join).to_numpy()
    feedback = fb.assign(**{Col.TEXT: text})
    sentences = rows[[Col.COMMENT_ID, Col.SENTENCE_IDX, Col.TEXT, Col.THEME, SENTIMENT]]

    # a comment's sentiment is that of its themed sentences; without any it is unknown ("")
    sign = themed.assign(s=themed[SENTIMENT].map(_POLARITY_SIGN)).groupby(Col.COMMENT_ID)["s"].sum()
    label = {c: ("positive" if s > 0 else "negative" if s < 0 else "neutral") for c, s in sign.items()}
    truth = {**corpus.truth, "comments": {c: {**v, "sentiment": label.get(c, "")}
                                          for c, v in corpus.truth["comments"].items()}}
    truth["sizes"] = {**truth["sizes"], "n_sentences": len(sentences)}
    real = rows["real"].to_numpy()
    stats = {
        "n_comments": len(feedback), "n_sentences": len(sentences),
        "real_sentences": int(real.sum()), "real_sentence_share": round(float(real.mean()), 6),
        "real_sentences_per_comment": round(float(k.mean()), 4), "pool_cycled": bool(max(k.sum(), len(clause_at)) > size),
        "themed_sentences": len(themed), "themed_with_real_clause": len(clause_at),
        "repeat_rate": {"all": repeat_rate(rows[Col.TEXT]), "real": repeat_rate(rows.loc[real, Col.TEXT]),
                        "themed": repeat_rate(rows.loc[~real, Col.TEXT])},
    }
    return Corpus(customers=corpus.customers, feedback=feedback, sentences=sentences, truth=truth), stats


def build_scale_corpus(n_comments: int, seed: int = 0, datasets: Path | None = None,
                       cache_dir: Path | None = None) -> Corpus:
    """``n_comments`` comments with the generator's planted effects and real text; see the module doc.

    Exact from ~600 comments up; below that the generator's smallest run (100 customers, ~530 comments)
    cannot always be trimmed far enough without changing an exposure, and ``scale.n_comments`` says so.
    """
    if n_comments < 1:
        raise ValueError(f"n_comments must be >= 1, got {n_comments!r}.")
    root = datasets or datasets_dir()
    pool, info = build_pool(root, cache_dir or Path.home() / ".cache" / "insight")  # shuffled in _rerender
    n_customers = max(100, math.ceil(n_comments / COMMENTS_PER_CUSTOMER * MARGIN))
    while True:
        corpus = generate_corpus(seed=seed, n_customers=n_customers, **{k: v for k, v in LARGE.items()
                                                                         if k != "n_customers"})
        if len(corpus.feedback) >= n_comments:
            break
        n_customers = math.ceil(n_customers * 1.05)
    corpus = _trim(corpus, n_comments, seed)  # reassigned one step at a time: one copy in memory
    corpus, stats = _rerender(corpus, pool, seed)
    corpus.truth["scale"] = {
        "builder": "corpora.scale", "n_comments_requested": n_comments, **stats,
        "pool": {"size": info["pool_size"], "per_source": {s: v["in_pool"] for s, v in info["sources"].items()}},
        "datasets_repeat_rate": {s: v["repeat_rate"] for s, v in info["sources"].items()},
    }
    return corpus


def main(argv: list[str] | None = None) -> int:
    """CLI: build, write, and print the repeat rates next to the real datasets' own."""
    parser = argparse.ArgumentParser(prog="python -m corpora.scale", description=__doc__.split("\n")[0])
    parser.add_argument("--comments", type=int, required=True, help="number of comments (exact from ~600 up)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where the real-sentence pool is cached (default ~/.cache/insight)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    try:
        corpus = build_scale_corpus(args.comments, args.seed, cache_dir=args.cache_dir)
    except DatasetsMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_corpus(corpus, args.out)
    sc = corpus.truth["scale"]
    rr = sc["repeat_rate"]
    print(f"pool: {sc['pool']['size']:,} distinct real sentences ("
          + ", ".join(f"{s} {n:,}" for s, n in sc["pool"]["per_source"].items()) + ")")
    print("real datasets' own sentence repeat rate: "
          + ", ".join(f"{s} {r:.1%}" for s, r in sc["datasets_repeat_rate"].items())
          + f" (reference: {', '.join(REFERENCE_SOURCES)})")
    asked = "" if sc["n_comments"] == args.comments else f" (asked {args.comments:,})"
    print(f"wrote {args.out}: {sc['n_comments']:,} comments{asked}, {sc['n_sentences']:,} sentences "
          f"({sc['real_sentence_share']:.1%} real{', pool cycled' if sc['pool_cycled'] else ''}); "
          f"sentence repeat rate {rr['all']:.1%} (real part {rr['real']:.1%}, themed part {rr['themed']:.1%}) "
          f"[seed={args.seed}, {time.perf_counter() - t0:.1f} s]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
