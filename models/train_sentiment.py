"""Train the shipped sentiment model: a fine-tuned MiniLM branch and a head on it.

all-MiniLM-L6-v2 is trained for topical similarity, so a head on its frozen
vectors has a low ceiling ("I love this flight" and "I hate this flight" sit
close). This script fine-tunes copies of its top two layers for 3-class
sentiment on the public labelled sets in ``../shared/datasets`` (or
``$INSIGHT_DATASETS``), on top of the frozen lower layers that the theme vectors
share (:mod:`insight.encoder`), then fits :class:`insight.sentiment.SentimentHead`
(with its lexicon cues) on the branch's pooled vectors.

Sources and labels: clothing reviews (stars 1-2/3/4-5), Skytrax seat and lounge
reviews (overall rating), TweetEval tweets (human labels), SemEval-2014 restaurant
and laptop sentences whose aspect polarities agree (conflict and mixed sentences
left out; the official train file trains, the gold test file tests) and IMDB
reviews (pos/neg). App-store reviews are evaluation only (no licence to train).

Writes ``models/sentiment/branch.v2.safetensors`` (float16) and ``head.v2.npz/json``;
put the printed branch sha256 in ``insight/encoder.py`` (``BRANCH_SHA256``).
``--hold-out SOURCE`` trains without one source and writes to ``--out`` instead, for
the leave-one-source-out figure. Run ``.venv/bin/python models/train_sentiment.py``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from insight.errors import InsufficientDataError  # noqa: E402

DATASETS = Path(os.environ.get("INSIGHT_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"))
SOURCES = ("clothing", "skytrax", "tweets", "restaurants", "laptops", "imdb")
MAX_PER_SOURCE = {"clothing": 8000, "skytrax": 8000, "tweets": 8000, "imdb": 4000}
TEST_SHARE = 0.3
MAX_TEST = 3000
SEED = 0
ALPHA = 1.0
LEXICON_ALPHA = 1e-3
FINETUNE_TOKENS = 64
BATCH = 32
EPOCHS = 2
LAYER_LR = 5e-5
HEAD_LR = 1e-3
HEAD_NAME = "head.v2"


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


def semeval_sentences(path: Path) -> pd.DataFrame:
    """One row per sentence of a SemEval-2014 ABSA file: ``text``, ``categories`` (list)
    and ``polarities`` ({category: polarity})."""
    rows = []
    for sentence in ET.parse(path).getroot().iter("sentence"):
        cats = {c.get("category"): c.get("polarity") for c in sentence.iter("aspectCategory")}
        terms = [t.get("polarity") for t in sentence.iter("aspectTerm")]
        rows.append({"text": sentence.findtext("text", ""), "categories": sorted(cats), "polarities": cats,
                     "term_polarities": terms})
    return pd.DataFrame(rows)


def single_polarity(frame: pd.DataFrame) -> pd.DataFrame:
    """Sentences whose aspect polarities (categories, else terms) all agree, labelled with it."""
    def label(row) -> str | None:
        found = set(row["polarities"].values()) or set(row["term_polarities"])
        found.discard(None)
        return found.pop() if len(found) == 1 and "conflict" not in found else None

    labels = frame.apply(label, axis=1)
    return pd.DataFrame({"text": frame["text"], "label": labels}).dropna().reset_index(drop=True)


def _load_semeval(root: Path, domain: str) -> pd.DataFrame:
    """The official split: the train file trains, the gold test file tests."""
    folder = root / "semeval2014_absa"
    train = single_polarity(semeval_sentences(folder / f"{domain}_Train.xml")).assign(split="train")
    test = single_polarity(semeval_sentences(folder / f"{domain}_Test_Gold.xml")).assign(split="test")
    return pd.concat([train, test], ignore_index=True).assign(score=np.nan)


def _load_imdb(root: Path) -> pd.DataFrame:
    df = pd.read_csv(root / "large_reviews" / "imdb_reviews.csv.gz")
    return pd.DataFrame({"text": df["text"], "label": df["label"].map({"pos": "positive", "neg": "negative"}),
                         "score": df["rating"]})


_LOADERS = {"clothing": _load_clothing, "skytrax": _load_skytrax, "tweets": _load_tweets,
            "restaurants": lambda root: _load_semeval(root, "Restaurants"),
            "laptops": lambda root: _load_semeval(root, "Laptops"), "imdb": _load_imdb}


def load_sources(root: Path = DATASETS) -> dict[str, pd.DataFrame]:
    """Every source as a frame with ``text``, ``label``, ``score`` and ``split`` (train|test).

    Sources without an official split are sampled to ``MAX_PER_SOURCE`` rows
    (seeded) and split 70/30, stratified by label, with at most ``MAX_TEST`` test rows.

    Raises
    ------
    InsufficientDataError
        When the datasets folder is missing.
    """
    if not root.is_dir():
        raise InsufficientDataError(
            f"The public datasets folder {root} does not exist.",
            hint="Set INSIGHT_DATASETS to the shared datasets folder (see DESIGN.md, 'Data you may use').",
        )
    from sklearn.model_selection import train_test_split

    out = {}
    for name in SOURCES:
        df = _LOADERS[name](root)
        df = df[df["text"].astype(str).str.strip().str.len() > 0].reset_index(drop=True)
        if "split" not in df:
            if len(df) > MAX_PER_SOURCE[name]:
                df = df.sample(MAX_PER_SOURCE[name], random_state=SEED).reset_index(drop=True)
            n_test = min(MAX_TEST, int(round(TEST_SHARE * len(df))))
            _, test_idx = train_test_split(np.arange(len(df)), test_size=n_test, stratify=df["label"], random_state=SEED)
            df["split"] = "train"
            df.loc[test_idx, "split"] = "test"
        df["source"] = name
        out[name] = df
    return out


def trunk_states(texts: list[str], encoder, *, batch_size: int = 64) -> list:
    """Each text's states after the shared lower layers (float16, padding trimmed), truncated to
    ``FINETUNE_TOKENS``: computed once, since those layers stay frozen."""
    import torch

    from insight.encoder import MAX_TOKENS

    states: list = [None] * len(texts)
    order = np.argsort([-len(t) for t in texts], kind="stable")
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            idx = order[start:start + batch_size]
            enc = encoder.tokenize([texts[i] for i in idx], max_length=min(FINETUNE_TOKENS, MAX_TOKENS))
            hidden, _ = encoder.trunk(enc["input_ids"], enc["attention_mask"])
            lengths = enc["attention_mask"].sum(dim=1)
            for row, i in enumerate(idx):
                states[i] = hidden[row, : int(lengths[row])].to(torch.float16).clone()
            if start // batch_size % 50 == 0:
                print(f"  trunk states {start + len(idx)}/{len(texts)}", flush=True)
    return states


def _batch(states: list, idx) -> tuple:
    """Pad a batch of trimmed states; return states, attention mask and additive mask."""
    import torch

    from insight.encoder import additive_mask

    longest = max(int(states[i].shape[0]) for i in idx)
    hidden = torch.zeros(len(idx), longest, states[idx[0]].shape[1])
    am = torch.zeros(len(idx), longest)
    for row, i in enumerate(idx):
        n = states[i].shape[0]
        hidden[row, :n], am[row, :n] = states[i].float(), 1.0
    return hidden, am, additive_mask(am, hidden.dtype)


def fine_tune(states: list, labels: np.ndarray, weights: np.ndarray, bert, *, epochs: int = EPOCHS, seed: int = SEED):
    """Train copies of the top layers plus a linear layer on mean-pooled output, ``epochs`` passes,
    batches of similar length; return the layers (eval mode)."""
    import torch

    from insight.encoder import SentimentBranch, branch_layers, pool
    from insight.sentiment import CLASSES

    torch.manual_seed(seed)
    layers = branch_layers(bert).train()
    linear = torch.nn.Linear(bert.config.hidden_size, len(CLASSES))
    optimiser = torch.optim.AdamW([{"params": layers.parameters(), "lr": LAYER_LR},
                                   {"params": linear.parameters(), "lr": HEAD_LR}], weight_decay=0.01)
    y = torch.as_tensor(pd.Categorical(labels, categories=CLASSES).codes, dtype=torch.long)
    w = torch.as_tensor(weights / weights.mean(), dtype=torch.float32)
    rng = np.random.default_rng(seed)
    order = np.argsort([s.shape[0] for s in states], kind="stable")
    batches = [order[i:i + BATCH] for i in range(0, len(order), BATCH)]
    branch, started = SentimentBranch(layers), time.perf_counter()
    steps = epochs * len(batches)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: max(0.0, 1 - step / steps))
    for epoch in range(epochs):
        for step, b in enumerate(rng.permutation(len(batches))):
            idx = batches[b]
            hidden, am, mask = _batch(states, idx)
            logits = linear(pool(branch(hidden, mask), am) * 10.0)
            loss = (torch.nn.functional.cross_entropy(logits, y[idx], reduction="none") * w[idx]).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            scheduler.step()
            if step % 50 == 0:
                print(f"  epoch {epoch} step {step}/{len(batches)} loss {loss.item():.3f} "
                      f"{time.perf_counter() - started:.0f} s", flush=True)
    return layers.eval()


def branch_vectors(states: list, layers) -> np.ndarray:
    """The pooled, L2-normalised branch output of every text (what the product computes)."""
    import torch

    from insight.encoder import SentimentBranch, pool

    branch = SentimentBranch(layers)
    out = np.zeros((len(states), states[0].shape[1]), np.float32)
    order = np.argsort([s.shape[0] for s in states], kind="stable")
    with torch.inference_mode():
        for start in range(0, len(order), 128):
            idx = order[start:start + 128]
            hidden, am, mask = _batch(states, idx)
            out[idx] = pool(branch(hidden, mask), am).numpy()
    return out


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


def evaluate(model, X: np.ndarray, frames: pd.DataFrame) -> dict:
    """Accuracy and macro-F1 of ``model`` on every source's test split."""
    from sklearn.metrics import accuracy_score, f1_score

    from insight.sentiment import CLASSES

    metrics = {}
    for source in SOURCES:
        test = ((frames["split"] == "test") & (frames["source"] == source)).to_numpy()
        y = frames["label"].to_numpy()[test]
        pred = np.asarray(CLASSES)[model.proba_from_features(X[test]).argmax(axis=1)]
        metrics[source] = {"n_test": int(test.sum()), "accuracy": round(float(accuracy_score(y, pred)), 4),
                           "macro_f1": round(float(f1_score(y, pred, average="macro", labels=list(CLASSES))), 4)}
    return metrics


def main(argv: list[str] | None = None) -> Path:
    """Trunk states, fine-tune on the train splits, fit the head, evaluate on the test splits, save."""
    import torch
    from safetensors.torch import save_file

    from insight.backends import sha256_file
    from insight.encoder import BRANCH_PATH, MiniLMEncoder
    from insight.sentiment import MODELS_DIR, build_features

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hold-out", choices=SOURCES, help="train without this source (leave-one-source-out figure)")
    parser.add_argument("--out", type=Path, help="folder for the artefacts (default: models/sentiment)")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help=f"passes over the training rows (default {EPOCHS})")
    args = parser.parse_args(argv)
    if args.hold_out and args.out is None:
        parser.error("--hold-out needs --out: a held-out model is a measurement, not the shipped one")
    out_dir = args.out or MODELS_DIR
    torch.set_num_threads(os.cpu_count() or 1)
    t0 = time.perf_counter()
    frames = pd.concat(load_sources().values(), ignore_index=True)
    frames["text"] = frames["text"].astype(str)
    encoder = MiniLMEncoder(with_sentiment=False)
    states = trunk_states(frames["text"].tolist(), encoder)
    t1 = time.perf_counter()
    train = ((frames["split"] == "train") & (frames["source"] != args.hold_out)).to_numpy()
    labels, sources = frames["label"].to_numpy().astype(str), frames["source"].to_numpy().astype(str)
    weights = source_class_weights(labels[train], sources[train])
    layers = fine_tune([s for s, keep in zip(states, train) if keep], labels[train], weights, encoder.bert,
                       epochs=args.epochs)
    t2 = time.perf_counter()
    X = build_features(frames["text"].tolist(), branch_vectors(states, layers))
    model = train_model(X[train], labels[train], sources[train])
    t3 = time.perf_counter()
    metrics = evaluate(model, X, frames)
    out_dir.mkdir(parents=True, exist_ok=True)
    branch_path = out_dir / BRANCH_PATH.name
    save_file({k: v.detach().to(torch.float16).contiguous() for k, v in layers.state_dict().items()}, str(branch_path))
    model.metadata = {
        "branch": {"file": branch_path.name, "sha256": sha256_file(branch_path),
                   "recipe": f"copies of MiniLM layers 5-6 on frozen layers 1-4, mean-pooled, linear layer; "
                             f"{args.epochs} epoch(s), batch {BATCH} by length, AdamW lr {LAYER_LR} (layers) / {HEAD_LR} "
                             f"(linear), linear decay, {FINETUNE_TOKENS} word pieces, class x source balanced"},
        "embedding": "minilm-sentiment.v1: the fine-tuned branch's mean-pooled output, L2-normalised, 384 dims",
        "held_out_source": args.hold_out,
        "training_data": {s: {"n_train": int((train & (sources == s)).sum()),
                              "train_labels": pd.Series(labels[train & (sources == s)]).value_counts().to_dict()}
                          for s in SOURCES},
        "labelling": "clothing stars 1-2/3/4-5; Skytrax seat overall 1-4/5-6/7-10, lounge 1-2/3/4-5; TweetEval "
                     "human labels; SemEval-2014 sentences whose aspect polarities agree; IMDB pos/neg",
        "held_out_metrics": metrics,
        "seconds": {"trunk_states": round(t1 - t0), "fine_tune": round(t2 - t1), "head": round(t3 - t2)},
    }
    path = model.save(HEAD_NAME, directory=out_dir)
    print(f"saved {branch_path.name} (sha256 {model.metadata['branch']['sha256']}) and {path.name}")
    print(json.dumps(metrics, indent=2))
    return path


if __name__ == "__main__":
    main()
