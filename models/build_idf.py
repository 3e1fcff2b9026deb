"""Build ``models/embed/idf.v1.npy``: the word-piece IDF that pools MiniLM token states into topic vectors.

The table is one smoothed inverse document frequency per MiniLM vocabulary id,
``ln((1 + N) / (1 + df)) + 1`` (scikit-learn's ``smooth_idf``), counted over
public feedback from several domains in ``../shared/datasets`` (or
``$INSIGHT_DATASETS``): clothing reviews, Skytrax reviews, TweetEval tweets,
banking77 training queries, 20,000 Airbnb guest reviews and 10,000 IMDB reviews.
The SemEval-2014 sets, the app reviews and banking77's test split are left out:
they judge the result. Special tokens get the lowest weight, 1.

Run ``.venv/bin/python models/build_idf.py``; then put the printed sha256 in
``insight/encoder.py`` (``IDF_SHA256``).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DATASETS = Path(os.environ.get("INSIGHT_DATASETS", REPO.parent / "shared" / "datasets"))
SEED = 0


def corpus(root: Path = DATASETS) -> list[str]:
    """The texts the IDF is counted over (see the module docstring)."""
    if not root.is_dir():
        sys.exit(f"The public datasets folder {root} does not exist; set INSIGHT_DATASETS (see DESIGN.md).")
    airbnb = pd.read_csv(root / "large_reviews" / "airbnb_reviews.csv.gz")["text"].dropna()
    imdb = pd.read_csv(root / "large_reviews" / "imdb_reviews.csv.gz")["text"].dropna()
    parts = [
        pd.read_csv(root / "womens_clothing_reviews" / "reviews.csv")["Review Text"],
        pd.read_csv(root / "skytrax_reviews" / "seat.csv")["content"],
        pd.read_csv(root / "skytrax_reviews" / "lounge.csv")["content"],
        pd.read_csv(root / "tweeteval_sentiment" / "tweets.csv")["text"],
        pd.read_csv(root / "banking77" / "train.csv")["text"],
        airbnb.sample(min(20000, len(airbnb)), random_state=SEED),
        imdb.sample(min(10000, len(imdb)), random_state=SEED),
    ]
    return pd.concat(parts).dropna().astype(str).drop_duplicates().tolist()


def word_piece_idf(texts: list[str], tokenizer) -> np.ndarray:
    """Smoothed IDF of every vocabulary id over ``texts`` (read as the encoder reads them)."""
    from insight.emoji import emojis_as_words
    from insight.text import normalise_for_analysis

    df = np.zeros(tokenizer.vocab_size, np.int64)
    for start in range(0, len(texts), 2000):
        batch = [emojis_as_words(normalise_for_analysis(t)) for t in texts[start:start + 2000]]
        for ids in tokenizer(batch, add_special_tokens=False, truncation=True, max_length=512)["input_ids"]:
            df[np.unique(np.asarray(ids, dtype=np.int64))] += 1
    idf = np.log((1 + len(texts)) / (1 + df)) + 1.0
    idf[tokenizer.all_special_ids] = 1.0
    return idf.astype(np.float32)


def main() -> None:
    from insight.backends import load_minilm, sha256_file
    from insight.encoder import IDF_PATH

    texts = corpus()
    idf = word_piece_idf(texts, load_minilm().tokenizer)
    IDF_PATH.parent.mkdir(parents=True, exist_ok=True)
    np.save(IDF_PATH, idf, allow_pickle=False)
    print(f"{len(texts)} texts -> {IDF_PATH.name}, sha256 {sha256_file(IDF_PATH)}")


if __name__ == "__main__":
    main()
