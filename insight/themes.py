"""Theme discovery (clustering + c-TF-IDF labels) and the theme stage entry point.

Discovery follows BERTopic's shape with scikit-learn parts only: an optional
``reducer`` (identity by default, PCA available), a ``clusterer`` that chooses the
number of themes itself (default: spectral embedding of the cosine k-NN graph, Ward
linkage, number of clusters by the BIC of a von Mises-Fisher mixture), a ``labeller``
(class-based TF-IDF keywords; names from distinctive content words), then the clean-up
that makes themes usable by an analyst: tiny clusters dissolved, near-duplicate themes
merged (every merge logged), outliers reassigned to the nearest theme when similar
enough, ids sorted by size and a two-level hierarchy.

:func:`assign_themes` is what the pipeline calls: it either discovers themes or
assigns sentences to a codeframe (:mod:`insight.codeframe`).
"""
from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, TfidfTransformer
from sklearn.preprocessing import normalize

from insight.codeframe import Codeframe, CodeframeAssigner
from insight.config import EmbedConfig, ThemeConfig
from insight.errors import InputError, InsufficientDataError
from insight.registry import get_embedder
from insight.schemas import UNCLASSIFIED, UNCLASSIFIED_ID, Col, make_unique
from insight.text import CHATTER_WORDS, first_distinct
from insight.types import Embedder
from insight.validation import check_fitted

logger = logging.getLogger(__name__)

SOFT_ASSIGN_TEMPERATURE = 0.05
"""Temperature of the softmax over centroid similarities that gives ``theme_confidence``."""


# --------------------------------------------------------------------------- protocols
@runtime_checkable
class Reducer(Protocol):
    """Maps embeddings ``(n, d)`` to the space the clusterer works in ``(n, d')``."""

    def fit_transform(self, X: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class Clusterer(Protocol):
    """Returns one integer label per row; ``-1`` marks outliers."""

    def fit_predict(self, X: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class Labeller(Protocol):
    """Returns the top keywords of each class, given one list of texts per class."""

    def keywords(self, docs_per_class: Sequence[Sequence[str]], n_keywords: int) -> list[list[str]]: ...


# --------------------------------------------------------------------------- reducers
class IdentityReducer:
    """Null reducer: cluster the embeddings as they are."""

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        return X


@dataclass(frozen=True)
class PCAReducer:
    """PCA to ``n_components`` dimensions, then L2-normalised rows (cosine geometry kept)."""

    n_components: int = 50
    random_state: int = 0

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        from sklearn.decomposition import PCA

        n = min(self.n_components, X.shape[0] - 1, X.shape[1])
        return normalize(PCA(n, random_state=self.random_state).fit_transform(X))


# --------------------------------------------------------------------------- clusterers
@dataclass(frozen=True)
class SpectralWardClusterer:
    """Spectral embedding of the cosine k-NN graph, Ward linkage, k chosen by a criterion.

    The graph embedding pulls apart groups that overlap in the raw space (on
    banking77 it lifts NMI from 0.80 for KMeans to about 0.83); cutting one Ward
    tree at many k is cheap, so every k in ``[k_min, k_max]`` is scored in the
    input space and the best cut wins. Identical rows (repeated texts) are
    clustered once: repeats would otherwise fill each other's neighbourhoods,
    cut themselves off from the graph and pass for tight clusters. Inputs with
    more than ``max_fit`` distinct rows are clustered on a seeded sample and the
    rest go to the nearest cluster centroid, which keeps time and memory bounded.

    The default ``criterion="bic"`` scores a cut by the Bayesian information
    criterion of a von Mises-Fisher mixture (one mean direction and one
    concentration per cluster, see :func:`vmf_bic`): splitting a cluster must
    raise the likelihood by more than the ``(d + 1) log n`` its parameters cost,
    so k stops growing where the data stop supporting it instead of running to
    ``k_max``. ``"silhouette"`` keeps the cosine silhouette (it keeps rising with
    k on data with many near-duplicate sentences).

    Parameters
    ----------
    n_neighbors : int, default=15
        Neighbours per point in the similarity graph.
    n_components : int, default=50
        Dimensions of the spectral embedding (at most ``k_max``).
    k_min, k_max : int, default=2, 120
        Range searched for the number of clusters.
    criterion : {"bic", "silhouette"}, default="bic"
    max_resultant : float, default=0.7
        Cap on a cluster's mean resultant length in the BIC (see :func:`vmf_bic`):
        groups tighter than this (a sentence template and its variants,
        paraphrases) gain nothing by being split further, so the BIC rewards
        separating ideas rather than wordings. 0.7 sits between the demo
        corpus's templates and banking77's intents; 0.999 is the plain BIC.
    max_fit : int, default=5000
        Distinct rows used to build the tree (Ward is quadratic in memory).
    random_state : int, default=0
    """

    n_neighbors: int = 15
    n_components: int = 50
    k_min: int = 2
    k_max: int = 120
    criterion: str = "bic"
    max_resultant: float = 0.7
    max_fit: int = 5000
    random_state: int = 0

    def fit_predict(self, X: np.ndarray) -> np.ndarray:
        if self.criterion not in ("bic", "silhouette"):
            raise InputError(f"Unknown criterion {self.criterion!r}.", hint="Use 'bic' or 'silhouette'.")
        Xn = normalize(X)
        unique, inverse = np.unique(Xn, axis=0, return_inverse=True)
        n = unique.shape[0]
        if n < 3:
            return np.zeros(X.shape[0], dtype=int) if n < 2 else inverse.ravel().astype(int)
        rng = np.random.default_rng(self.random_state)
        fit_idx = np.sort(rng.choice(n, self.max_fit, replace=False)) if n > self.max_fit else np.arange(n)
        labels_fit = self._cluster(unique[fit_idx])
        if len(fit_idx) == n:
            return labels_fit[inverse.ravel()]
        centroids = _centroids(unique[fit_idx], labels_fit)
        return np.argmax(Xn @ centroids.T, axis=1)

    def _cluster(self, Xn: np.ndarray) -> np.ndarray:
        from scipy.cluster.hierarchy import fcluster, linkage
        from sklearn.manifold import SpectralEmbedding
        from sklearn.neighbors import kneighbors_graph

        n = Xn.shape[0]
        graph = kneighbors_graph(Xn, min(self.n_neighbors, n - 1), mode="distance", metric="cosine")
        graph.data = np.clip(1.0 - graph.data, 1e-6, None)  # distance -> similarity weight
        graph = 0.5 * (graph + graph.T)
        k_hi = max(2, min(self.k_max, n - 1))
        k_lo = max(2, min(self.k_min, k_hi))
        # more dimensions than clusters sought only adds noise eigenvectors (matters on small inputs)
        n_components = max(2, min(self.n_components, k_hi, n - 2))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Graph is not fully connected")
            spectral = SpectralEmbedding(
                n_components, affinity="precomputed", random_state=self.random_state
            ).fit_transform(graph)
        tree = linkage(normalize(spectral), "ward")
        if self.criterion == "bic":
            def score(labels: np.ndarray) -> float:
                return -vmf_bic(Xn, labels, self.max_resultant)
        else:
            def score(labels: np.ndarray) -> float:
                return cosine_silhouette(Xn, labels)
        scores = {k: score(fcluster(tree, k, "maxclust") - 1) for k in range(k_lo, k_hi + 1)}
        best = max(scores, key=lambda k: (scores[k], -k))  # ties: fewer themes
        return fcluster(tree, best, "maxclust") - 1


@dataclass(frozen=True)
class CachedClusterer:
    """A clusterer whose labels are kept on disk, keyed by the rows, its settings and insight's version.

    Clustering is deterministic for given rows and seed, so a re-run on the same
    sentences (another alpha, other covariates, a second CLI run) reads the labels
    back instead of repeating the spectral embedding, the slowest step of discovery.
    Files are written to a temporary name and renamed, so concurrent runs never
    read half a file; an unreadable file is a cache miss.
    """

    clusterer: Clusterer
    cache_dir: Path

    def fit_predict(self, X: np.ndarray) -> np.ndarray:
        import hashlib
        import os

        from insight import __version__

        rows = np.ascontiguousarray(X, dtype=np.float32)
        digest = hashlib.sha256(f"{__version__}|{self.clusterer!r}|{rows.shape}".encode() + rows.tobytes()).hexdigest()
        path = Path(self.cache_dir) / "themes" / f"labels-{digest[:32]}.npy"
        try:
            labels = np.load(path, allow_pickle=False)
            if labels.shape == (X.shape[0],):
                return labels
        except (OSError, ValueError):
            pass
        labels = np.asarray(self.clusterer.fit_predict(X), dtype=np.int64)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}-{os.getpid()}.npy")
        np.save(tmp, labels, allow_pickle=False)
        os.replace(tmp, path)
        return labels


def vmf_bic(X: np.ndarray, labels: np.ndarray, max_resultant: float = 0.999) -> float:
    """BIC of a von Mises-Fisher mixture with one component per label (lower is better).

    Each cluster gets its mean direction, a concentration ``kappa`` from the mean
    resultant length ``r`` (Banerjee et al. 2005: ``kappa = r (d - r^2) / (1 - r^2)``)
    and a weight, so the log-likelihood is
    ``sum_c kappa_c R_c + n_c (log C_d(kappa_c) + log(n_c / n))`` and the penalty
    ``(k (d + 1) - 1) log n``. ``r`` is capped at ``max_resultant`` so a cluster of
    near-identical rows does not get an unbounded likelihood. O(n k d).

    Parameters
    ----------
    X : array of shape (n, d), L2-normalised rows
    labels : array of shape (n,), values 0..k-1
    """
    from scipy.special import ive

    n, d = X.shape
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=k).astype(np.float64)
    resultant = np.linalg.norm(_class_sums(X, labels, k), axis=1)
    r = np.clip(resultant / np.maximum(sizes, 1.0), 1e-6, max_resultant)
    kappa = r * (d - r**2) / (1.0 - r**2)
    nu = d / 2.0 - 1.0
    # log I_nu(kappa) = log(ive(nu, kappa)) + kappa; ive underflows only far outside this range
    log_bessel = np.log(np.maximum(ive(nu, kappa), 1e-300)) + kappa
    log_norm = nu * np.log(kappa) - (d / 2.0) * np.log(2.0 * np.pi) - log_bessel
    loglik = float(np.sum(kappa * resultant + sizes * (log_norm + np.log(sizes / n))))
    return -2.0 * loglik + (k * (d + 1) - 1) * np.log(n)


def cosine_silhouette(X: np.ndarray, labels: np.ndarray) -> float:
    """Exact mean silhouette under cosine distance for L2-normalised rows, in O(n k d).

    With unit vectors the mean cosine distance from ``x`` to a cluster is
    ``1 - x . mean(cluster)``, so no n-by-n distance matrix is needed (same value as
    ``sklearn.metrics.silhouette_score(X, labels, metric="cosine")``).
    """
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=k).astype(np.float64)
    if k < 2 or k >= X.shape[0]:
        return -1.0
    means = (_class_sums(X, labels, k) / sizes[:, None]).astype(X.dtype)
    dist = 1.0 - X @ means.T
    own = sizes[labels]
    rows = np.arange(X.shape[0])
    a = dist[rows, labels] * own / np.maximum(own - 1, 1)
    dist[rows, labels] = np.inf
    b = dist.min(axis=1)
    s = np.where(own > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(s.mean())


@dataclass(frozen=True)
class HDBSCANClusterer:
    """scikit-learn HDBSCAN (density-based, finds k itself, marks outliers ``-1``)."""

    min_cluster_size: int = 10
    min_samples: int | None = None

    def fit_predict(self, X: np.ndarray) -> np.ndarray:
        from sklearn.cluster import HDBSCAN

        return HDBSCAN(min_cluster_size=self.min_cluster_size, min_samples=self.min_samples, copy=True).fit_predict(X)


@dataclass(frozen=True)
class FixedLabels:
    """Null clusterer: use given labels (predefined groups reuse labelling and hierarchy)."""

    labels: tuple[int, ...]

    def fit_predict(self, X: np.ndarray) -> np.ndarray:
        if len(self.labels) != X.shape[0]:
            raise InputError(f"FixedLabels has {len(self.labels)} labels for {X.shape[0]} rows.")
        return np.asarray(self.labels, dtype=int)


# --------------------------------------------------------------------------- c-TF-IDF
_TOKEN = re.compile(r"(?u)\b[a-z][a-z']*[a-z]\b")


_NO_LEMMA = frozenset({"does", "goes", "was", "has", "is", "this", "yes", "bus", "gas", "plus", "always", "news",
                       "series", "perhaps", "various", "access", "process", "analysis", "basis", "its", "us"})


def light_lemma(token: str) -> str:
    """Strip plural and possessive endings (``charges`` -> ``charge``); stop words untouched.

    A rule-based lemma is enough to stop ``card``/``cards`` splitting a keyword and
    needs no trained spaCy pipeline.
    """
    if token.endswith("'s"):
        token = token[:-2]
    if token in ENGLISH_STOP_WORDS or token in _NO_LEMMA or len(token) <= 3:
        return token
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith(("sses", "shes", "ches", "xes")):
        return token[:-2]
    if token.endswith("s") and not token.endswith(("ss", "us", "is", "ous")):
        return token[:-1]
    return token


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens, lightly lemmatised; stop words are removed later by n-gram."""
    return [light_lemma(t) for t in _TOKEN.findall(text.lower().replace("\u2019", "'"))]


class ClassTfidfTransformer(TfidfTransformer):
    """Class-based TF-IDF: one row per class (all its texts concatenated).

    ``w(t, c) = tf(t, c) / |c| * log(1 + A / f(t))`` where ``tf(t, c)`` counts term
    ``t`` in class ``c``, ``|c|`` is the class's number of terms, ``f(t)`` the term's
    count over all classes and ``A`` the average number of terms per class. Terms
    frequent in one class and rare elsewhere score high.
    """

    def fit(self, X: Any, y: Any = None) -> "ClassTfidfTransformer":
        super().fit(X)
        freq = np.asarray(X.sum(axis=0)).ravel()
        avg_terms = float(X.sum()) / X.shape[0]
        self.idf_ = np.log(1.0 + avg_terms / np.maximum(freq, 1.0))
        return self

    def transform(self, X: Any, copy: bool = True) -> Any:
        return super().transform(normalize(X, norm="l1"), copy=False)


STOP_WORDS = sorted(ENGLISH_STOP_WORDS | {
    "i've", "i'm", "i'd", "i'll", "you're", "you've", "we're", "we've", "they're", "they've", "ive", "im",
})
"""scikit-learn's English stop words plus pronoun contractions ("it's" is already "it" after
:func:`light_lemma`; negations such as "can't" are kept)."""


@dataclass(frozen=True)
class CTfidfLabeller:
    """Keywords per class by c-TF-IDF over light lemmas, stop words removed, bigrams allowed.

    A keyword must occur at least ``max(2, min_share * class size)`` times in its
    class, so one-off typos and names (rare everywhere, hence a high IDF) do not
    become a theme's label.
    """

    ngram_range: tuple[int, int] = (1, 2)
    min_share: float = 0.02

    def keywords(self, docs_per_class: Sequence[Sequence[str]], n_keywords: int) -> list[list[str]]:
        """The top ``n_keywords`` terms of each class, corpus stop terms (:func:`corpus_stop_terms`) left out."""
        from scipy.sparse import csr_matrix

        vectorizer = CountVectorizer(
            tokenizer=tokenize, token_pattern=None, lowercase=False, stop_words=STOP_WORDS,
            ngram_range=self.ngram_range,
        )
        # count per sentence, then sum per class: bigrams never span two sentences
        flat = [doc for docs in docs_per_class for doc in docs]
        owner = np.repeat(np.arange(len(docs_per_class)), [len(docs) for docs in docs_per_class])
        try:
            per_doc = vectorizer.fit_transform(flat)
        except ValueError:  # every class has only stop words / no letters
            return [[] for _ in docs_per_class]
        to_class = csr_matrix((np.ones(len(flat)), (owner, np.arange(len(flat)))), shape=(len(docs_per_class), len(flat)))
        counts = to_class @ per_doc
        weights = ClassTfidfTransformer(norm=None).fit(counts).transform(counts).toarray()
        floor = np.maximum(2.0, self.min_share * np.array([len(d) for d in docs_per_class], dtype=float))
        frequent = counts.toarray() >= floor[:, None]
        weights = np.where(frequent | ~frequent.any(axis=1, keepdims=True), weights, 0.0)
        weights[:, corpus_stop_terms(counts.toarray(), [len(d) for d in docs_per_class])] = 0.0
        vocab = vectorizer.get_feature_names_out()
        result = []
        for row in weights:
            order = np.lexsort((vocab, -row))  # ties broken alphabetically: deterministic
            result.append([str(vocab[i]) for i in order[:n_keywords] if row[i] > 0])
        return result


def corpus_stop_terms(counts: np.ndarray, class_sizes: Sequence[int], *, min_classes: float = 0.5,
                      max_lift: float = 2.0, min_rate: float = 0.01) -> np.ndarray:
    """Terms spread evenly over the classes: present in at least ``min_classes`` of them,
    nowhere ``max_lift`` times more frequent than in the corpus as a whole, and in at
    least ``min_rate`` of all texts.

    Such a term (the company's or product's own name, "flight" in airline feedback)
    says what the whole corpus is about, not what one theme is about, so it never
    names a theme. Needs three classes or more.

    Parameters
    ----------
    counts : array of shape (n_classes, n_terms)
        Term counts per class.
    class_sizes : sequence of int
        Texts per class.

    Returns
    -------
    ndarray of shape (n_terms,), bool
    """
    counts = np.asarray(counts, dtype=np.float64)
    sizes = np.maximum(np.asarray(class_sizes, dtype=np.float64), 1.0)
    if counts.shape[0] < 3:
        return np.zeros(counts.shape[1], dtype=bool)
    overall = counts.sum(axis=0) / sizes.sum()
    lift = (counts / sizes[:, None]).max(axis=0) / np.maximum(overall, 1e-12)
    present = (counts > 0).mean(axis=0)
    return (present >= min_classes) & (lift <= max_lift) & (overall >= min_rate)


GENERIC_WORDS = frozenset({
    "able", "actually", "ask", "asked", "bit", "came", "come", "day", "did", "does", "doing", "don't", "feel",
    "felt", "gave", "get", "getting", "give", "going", "gone", "got", "guy", "having", "honestly", "just",
    "keep", "kept", "know", "let", "like", "look", "lot", "made", "make", "need", "needed", "new", "old",
    "pretty", "quite", "really", "run", "said", "say", "seriously", "sorry", "super", "sure", "tell", "thing",
    "think", "thought", "time", "told", "took", "tried", "try", "trying", "ugh", "use", "used", "using",
    "want", "wanted", "way", "week", "went", "yes",
})
"""Light verbs, hedges and time fillers that say nothing about a topic: never part of a theme's
name or keywords (words with an apostrophe, such as "don't", are dropped too). Sentiment words
("happy", "love") stay: they are what a chatter theme is about."""


def is_content_term(term: str) -> bool:
    """True for a keyword worth showing: no generic or chatter word ("omg", "ok", "thanks",
    "great"), contraction, single letter or repeat."""
    words = term.split()
    return bool(words) and len(set(words)) == len(words) and all(
        len(w) > 1 and "'" not in w and w not in GENERIC_WORDS and w not in CHATTER_WORDS for w in words
    )


def _term_analyzer() -> Callable[[str], list[str]]:
    """The labeller's analysis (light lemmas, stop words out, uni- and bigrams) for one text."""
    return CountVectorizer(
        tokenizer=tokenize, token_pattern=None, lowercase=False, stop_words=STOP_WORDS, ngram_range=(1, 2)
    ).build_analyzer()


def key_phrase(text: str, n_words: int = 3) -> str:
    """The first ``n_words`` content words of a sentence, in order (a name of last resort)."""
    return " ".join([w for w in _term_analyzer()(text) if " " not in w and is_content_term(w)][:n_words])


def theme_name(
    keywords: Sequence[str], fallback: str, texts: Sequence[str] | None = None, min_coverage: float = 0.1
) -> str:
    """A short readable name: the best content keyword and the next one that adds words.

    Keywords come ranked by c-TF-IDF (distinctive for the theme); generic words and
    contractions are skipped. With the theme's ``texts`` a keyword must also occur
    in at least ``min_coverage`` of them (a distinctive but rare word describes a
    handful of sentences, not the theme), and the leading word gives way to a bigram
    containing it that covers at least half as many sentences ("price" ->
    "price increase"), since a phrase reads better than a word. ``fallback`` (e.g.
    the key phrase of the most central sentence) is used when nothing qualifies.
    """
    content = [k for k in keywords if is_content_term(k)]
    candidates = content
    coverage: dict[str, float] = {}
    if texts is not None and len(texts) > 0:
        analyze = _term_analyzer()
        analyzed = [set(analyze(t)) for t in texts]
        coverage = {k: sum(k in terms for terms in analyzed) / len(analyzed) for k in candidates}
        candidates = [k for k in candidates if coverage[k] >= min_coverage]
    if not candidates:
        return fallback
    first = candidates[0]
    if coverage and " " not in first:
        phrases = [k for k in candidates if " " in k and first in k.split() and coverage[k] >= 0.5 * coverage[first]]
        first = max(phrases, key=lambda k: coverage[k], default=first)  # max keeps the first of ties
    # a second term that adds words; a one-word name takes one even below min_coverage ("place" says too little)
    for pool in (candidates[1:], content if " " not in first else ()):
        for other in pool:
            if not set(other.split()) & set(first.split()):
                # two words that are also a qualifying phrase read as that phrase ("price increase")
                phrase = next((p for p in (f"{first} {other}", f"{other} {first}") if p in candidates), None)
                return phrase or f"{first} · {other}"
    return first


# --------------------------------------------------------------------------- helpers
def _centroids(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """L2-normalised mean vector of each label ``0..max`` (rows of ``X`` with label -1 ignored)."""
    k = int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0
    return normalize(_class_sums(X, labels, k)).astype(np.float32)


def _class_sums(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Sum of the rows of each label 0..k-1 (a sparse one-hot product; -1 rows skipped)."""
    from scipy import sparse

    mask = labels >= 0
    onehot = sparse.csr_matrix(
        (np.ones(int(mask.sum())), (labels[mask], np.flatnonzero(mask))), shape=(k, X.shape[0])
    )
    return np.asarray(onehot @ X, dtype=np.float64)


def _check_rows(texts: Sequence[str], embeddings: np.ndarray | None) -> tuple[list[str], np.ndarray]:
    """Validate texts/embeddings and return them as a list and a normalised float32 array."""
    if isinstance(texts, str):
        raise InputError("Expected a sequence of texts, got one string.", hint="Wrap it in a list.")
    texts = [str(t) for t in texts]
    if embeddings is None:
        raise InputError("Embeddings are required: compute them once (insight.embed) and pass them in.")
    X = np.asarray(embeddings, dtype=np.float32)
    if X.ndim != 2 or X.shape[0] != len(texts):
        raise InputError(
            f"Embeddings have shape {X.shape} but there are {len(texts)} texts.",
            hint="Pass one embedding row per text, in the same order.",
        )
    if not np.isfinite(X).all():
        raise InputError("Embeddings contain NaN or infinite values.")
    return texts, normalize(X)


def _soft_probs(similarities: np.ndarray) -> np.ndarray:
    """Softmax over centroid similarities: each row sums to 1, monotone in the margins."""
    z = (similarities - similarities.max(axis=1, keepdims=True)) / SOFT_ASSIGN_TEMPERATURE
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------- the model
SPLIT_MIN_CLUSTERS = 10  # oversized themes are split only in corpora that could hold this many themes


class ThemeModel:
    """Discover themes in sentence embeddings (BERTopic-like, scikit-learn contract).

    Parameters
    ----------
    min_cluster_size : int, default=15
        Clusters smaller than this are dissolved; their sentences go through outlier
        reassignment. Also bounds the number of themes to ``n / min_cluster_size``.
    max_themes : int, default=120
        Upper bound on the number of themes (the clusterer searches up to it and
        normally stops below it, see :class:`SpectralWardClusterer`; extra themes
        are merged, most similar first).
    merge_threshold : float, default=0.9
        Themes whose centroids have cosine >= this are merged (each merge logged).
    max_theme_share : float, default=0.3
        A theme holding more than this share of the sentences is split again (each
        split logged): "food" in restaurant reviews is too broad to act on, its
        dishes, drinks and portions are not; the parent level keeps them together.
    outlier_threshold : float, default=0.35
        An unclustered sentence joins its nearest theme when their cosine is >= this;
        ``transform`` uses the same rule.
    n_keywords : int, default=8
        Keywords kept per theme.
    reducer, clusterer, labeller : objects following :class:`Reducer`,
        :class:`Clusterer`, :class:`Labeller`; None builds the defaults
        (:class:`IdentityReducer`, :class:`SpectralWardClusterer`, :class:`CTfidfLabeller`).
    random_state : int, default=0
        Seed of every stochastic step: same seed and data, same themes.
    cache_dir : str or Path, optional
        Keep the clusterer's labels there between runs (:class:`CachedClusterer`);
        None clusters every time.

    Attributes
    ----------
    labels_ : ndarray of shape (n_sentences,)
        Theme id per sentence, -1 = unclassified. Ids are sorted by size (0 = largest).
    themes_ : DataFrame
        One row per theme: theme_id, theme, parent, keywords, representatives,
        n_sentences, centroid_index (row of the sentence closest to the centroid).
    centroids_ : ndarray of shape (n_themes, n_dims)
        L2-normalised theme centroids in embedding space.
    parents_ : DataFrame
        Parent themes: parent_id, parent, keywords, children (theme ids).
    merges_ : list of dict
        Log of the clean-up: dissolved clusters, merges (with cosine and reason).
    n_themes_ : int

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(m, 0.05, (30, 8)) for m in np.eye(8)[:3]])
    >>> texts = ["refund late"] * 30 + ["app crash"] * 30 + ["great staff"] * 30
    >>> ThemeModel(min_cluster_size=5).fit(texts, X).n_themes_
    3
    """

    def __init__(
        self,
        *,
        min_cluster_size: int = 15,
        max_themes: int = 120,
        merge_threshold: float = 0.9,
        max_theme_share: float = 0.3,
        outlier_threshold: float = 0.35,
        n_keywords: int = 8,
        reducer: Reducer | None = None,
        clusterer: Clusterer | None = None,
        labeller: Labeller | None = None,
        random_state: int = 0,
        cache_dir: str | Path | None = None,
    ) -> None:
        self.min_cluster_size = min_cluster_size
        self.max_themes = max_themes
        self.merge_threshold = merge_threshold
        self.max_theme_share = max_theme_share
        self.outlier_threshold = outlier_threshold
        self.n_keywords = n_keywords
        self.reducer = reducer
        self.clusterer = clusterer
        self.labeller = labeller
        self.random_state = random_state
        self.cache_dir = cache_dir

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        """The constructor parameters, as given (sklearn convention)."""
        return {k: getattr(self, k) for k in (
            "min_cluster_size", "max_themes", "merge_threshold", "max_theme_share", "outlier_threshold", "n_keywords",
            "reducer", "clusterer", "labeller", "random_state", "cache_dir",
        )}

    def _validate_params(self) -> None:
        if not isinstance(self.min_cluster_size, int) or self.min_cluster_size < 2:
            raise InputError(f"min_cluster_size must be an integer >= 2, got {self.min_cluster_size!r}.")
        if not isinstance(self.max_themes, int) or self.max_themes < 1:
            raise InputError(f"max_themes must be an integer >= 1, got {self.max_themes!r}.")
        if not 0.0 < float(self.max_theme_share) <= 1.0:
            raise InputError(f"max_theme_share must lie in (0, 1], got {self.max_theme_share!r}.")
        for name in ("merge_threshold", "outlier_threshold"):
            value = getattr(self, name)
            if not -1.0 <= float(value) <= 1.0:
                raise InputError(f"{name} is a cosine similarity and must lie in [-1, 1], got {value!r}.")
        if not isinstance(self.n_keywords, int) or self.n_keywords < 1:
            raise InputError(f"n_keywords must be an integer >= 1, got {self.n_keywords!r}.")

    def fit(self, texts: Sequence[str], embeddings: np.ndarray, *, shown: Sequence[str] | None = None) -> "ThemeModel":
        """Cluster the sentences and describe each theme.

        Parameters
        ----------
        texts : sequence of str, length n
            The texts keywords and names are drawn from (the text stage's
            ``analysis_text``: no handles or links).
        embeddings : array of shape (n, d)
            One row per text (any embedding backend; rows are L2-normalised here).
        shown : sequence of str, length n, optional
            The texts to quote as representatives (as written); default ``texts``.

        Returns
        -------
        self

        Raises
        ------
        InputError
            Row count mismatch, non-finite embeddings or invalid parameters.
        """
        self._validate_params()
        texts, X = _check_rows(texts, embeddings)
        n = len(texts)
        if n == 0:
            raise InputError("No sentences to discover themes in.")
        self.merges_: list[dict[str, Any]] = []
        k_max = max(1, min(self.max_themes, n // self.min_cluster_size))
        reducer = self.reducer if self.reducer is not None else IdentityReducer()
        clusterer = (
            self.clusterer if self.clusterer is not None
            # a neighbourhood no larger than the smallest theme, so small themes stay separable
            else SpectralWardClusterer(n_neighbors=min(15, self.min_cluster_size), k_max=k_max,
                                       random_state=self.random_state)
        )
        if self.cache_dir is not None:
            clusterer = CachedClusterer(clusterer, Path(self.cache_dir))
        raw = np.asarray(clusterer.fit_predict(reducer.fit_transform(X)), dtype=int) if k_max > 1 else np.zeros(n, int)
        labels = self._clean(X, raw)
        self._describe(texts, X, labels, texts if shown is None else [str(t) for t in shown])
        return self

    # -- clean-up ------------------------------------------------------------------
    def _clean(self, X: np.ndarray, raw: np.ndarray) -> np.ndarray:
        """Dissolve tiny clusters, merge near-duplicates, reassign outliers, sort ids by size."""
        labels = raw.copy()
        sizes = pd.Series(labels[labels >= 0]).value_counts()
        small = sorted(int(c) for c in sizes.index[sizes < self.min_cluster_size])
        if small and len(small) < len(sizes):
            labels[np.isin(labels, small)] = UNCLASSIFIED_ID
            self.merges_.append({"op": "dissolve", "clusters": small, "reason": f"fewer than {self.min_cluster_size}"})
        labels = _compact(labels)
        labels = self._merge(X, labels)
        labels = self._split_oversized(X, labels)
        labels = self._reassign_outliers(X, labels)
        # ids by size (largest first); ties by first occurrence, so the order is deterministic
        present = [c for c in np.unique(labels) if c >= 0]
        first = {c: int(np.argmax(labels == c)) for c in present}
        order = sorted(present, key=lambda c: (-int((labels == c).sum()), first[c]))
        remap = {old: new for new, old in enumerate(order)}
        return np.array([remap.get(int(c), UNCLASSIFIED_ID) for c in labels], dtype=int)

    def _merge(self, X: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Merge the most similar pair while cosine >= merge_threshold or themes > max_themes."""
        while labels.max() >= 1:
            C = _centroids(X, labels)
            sim = C @ C.T
            np.fill_diagonal(sim, -np.inf)
            a, b = np.unravel_index(int(np.argmax(sim)), sim.shape)
            best = float(sim[a, b])
            too_many = C.shape[0] > self.max_themes
            if best < self.merge_threshold and not too_many:
                break
            keep, drop = (int(min(a, b)), int(max(a, b)))
            reason = "near-duplicate" if best >= self.merge_threshold else f"more than {self.max_themes} themes"
            self.merges_.append({"op": "merge", "clusters": [keep, drop], "cosine": round(best, 4), "reason": reason})
            logger.info("merged cluster %d into %d (cosine %.3f, %s)", drop, keep, best, reason)
            labels = labels.copy()
            labels[labels == drop] = keep
            labels = _compact(labels)
        return labels

    def _split_oversized(self, X: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Re-cluster the largest theme while it holds more than ``max_theme_share`` of the
        sentences and ``max_themes`` leaves room. A corpus of fewer than ``SPLIT_MIN_CLUSTERS *
        min_cluster_size`` sentences is left alone: with room for only a few themes, a large
        one is no sign of two topics lumped together."""
        limit = self.max_theme_share * len(labels)
        while labels.max() >= 0 and len(labels) >= SPLIT_MIN_CLUSTERS * self.min_cluster_size:
            sizes = np.bincount(labels[labels >= 0])
            big = int(np.argmax(sizes))
            members = np.flatnonzero(labels == big)
            k_max = min(len(members) // self.min_cluster_size, self.max_themes - len(sizes) + 1)
            if sizes[big] <= limit or k_max < 2:
                break
            parts = SpectralWardClusterer(n_neighbors=min(15, self.min_cluster_size), k_max=k_max,
                                          random_state=self.random_state).fit_predict(X[members])
            if len(np.unique(parts)) < 2:
                break
            labels = labels.copy()
            labels[members[parts > 0]] = labels.max() + parts[parts > 0]
            self.merges_.append({"op": "split", "cluster": big, "into": int(len(np.unique(parts))),
                                 "reason": f"more than {self.max_theme_share:.0%} of the sentences"})
            labels = _compact(labels)
        return labels

    def _reassign_outliers(self, X: np.ndarray, labels: np.ndarray) -> np.ndarray:
        outliers = np.flatnonzero(labels < 0)
        if outliers.size == 0 or labels.max() < 0:
            return labels
        C = _centroids(X, labels)
        sim = X[outliers] @ C.T
        best = sim.argmax(axis=1)
        ok = sim[np.arange(len(outliers)), best] >= self.outlier_threshold
        labels = labels.copy()
        labels[outliers[ok]] = best[ok]
        self.merges_.append({"op": "reassign_outliers", "reassigned": int(ok.sum()), "left": int((~ok).sum())})
        return labels

    # -- description -----------------------------------------------------------------
    def _describe(self, texts: list[str], X: np.ndarray, labels: np.ndarray, shown: list[str]) -> None:
        labeller = self.labeller if self.labeller is not None else CTfidfLabeller()
        n_themes = int(labels.max()) + 1 if labels.max() >= 0 else 0
        self.labels_ = labels
        self.n_themes_ = n_themes
        self.centroids_ = _centroids(X, labels) if n_themes else np.zeros((0, X.shape[1]), np.float32)
        members = [np.flatnonzero(labels == c) for c in range(n_themes)]
        docs = [[texts[i] for i in m] for m in members]
        # a larger pool, so that keywords dropped as generic leave room for content ones
        pool = labeller.keywords(docs, 3 * self.n_keywords) if n_themes else []
        keywords = _content_keywords(pool, self.n_keywords)
        rows = []
        for c, idx in enumerate(members):
            closeness = X[idx] @ self.centroids_[c]
            ranked = idx[np.argsort(-closeness, kind="stable")]
            reps = first_distinct(shown[i] for i in ranked)
            central = (texts[i] for i in ranked[:3])
            rows.append({
                Col.THEME_ID: c, Col.KEYWORDS: keywords[c],
                Col.THEME: theme_name(pool[c], next((p for p in map(key_phrase, central) if p), f"theme {c}"), docs[c]),
                "representatives": reps, "n_sentences": len(idx), "centroid_index": int(ranked[0]),
            })
        themes = pd.DataFrame(rows, columns=[Col.THEME_ID, Col.THEME, Col.KEYWORDS, "representatives",
                                             "n_sentences", "centroid_index"])
        themes[Col.THEME] = make_unique(themes[Col.THEME], "{name} ({n})")
        parent_of, self.parents_ = self._hierarchy(texts, members, labeller, themes[Col.THEME].tolist())
        themes.insert(2, Col.PARENT, [parent_of.get(c, "") for c in range(n_themes)])
        self.themes_ = themes

    def _hierarchy(self, texts: list[str], members: list[np.ndarray], labeller: Labeller, theme_names: list[str]
                   ) -> tuple[dict[int, str], pd.DataFrame]:
        """Parents over themes: Ward clustering of the unit centroids into about sqrt(k) groups.

        A parent whose keywords do not qualify for a name takes its largest child's name.
        """
        columns = ["parent_id", Col.PARENT, Col.KEYWORDS, "children"]
        k = self.n_themes_
        if k == 0:
            return {}, pd.DataFrame(columns=columns)
        n_parents = max(1, int(round(np.sqrt(k)))) if k > 2 else 1
        if n_parents == 1:
            groups = np.zeros(k, dtype=int)
        else:
            from sklearn.cluster import AgglomerativeClustering

            groups = AgglomerativeClustering(n_parents, linkage="ward").fit_predict(self.centroids_)
        groups = _compact_by_first(groups)
        docs = [[texts[i] for c in np.flatnonzero(groups == g) for i in members[c]] for g in range(groups.max() + 1)]
        pool = labeller.keywords(docs, 3 * self.n_keywords)
        parent_keywords = _content_keywords(pool, self.n_keywords)
        largest_child = [theme_names[int(np.flatnonzero(groups == g)[0])] for g in range(len(docs))]
        names = make_unique([theme_name(kw, largest_child[g], docs[g]) for g, kw in enumerate(pool)], "{name} ({n})")
        parents = pd.DataFrame({
            "parent_id": range(len(names)), Col.PARENT: names, Col.KEYWORDS: parent_keywords,
            "children": [np.flatnonzero(groups == g).tolist() for g in range(len(names))],
        }, columns=columns)
        return {c: names[groups[c]] for c in range(k)}, parents

    # -- transform -----------------------------------------------------------------
    def transform(self, texts: Sequence[str], embeddings: np.ndarray) -> pd.DataFrame:
        """Assign new sentences to the fitted themes (nearest centroid).

        Returns
        -------
        DataFrame with one row per text: theme_id (-1 when the best cosine is below
        ``outlier_threshold``), theme, theme_confidence in [0, 1] (softmax
        responsibility of the nearest centroid, 0 for unclassified).

        Raises
        ------
        NotFittedError, InputError
        """
        check_fitted(self)
        texts, X = _check_rows(texts, embeddings)
        if X.shape[1] != self.centroids_.shape[1]:
            raise InputError(
                f"Embeddings have {X.shape[1]} dimensions, the model was fitted on {self.centroids_.shape[1]}.",
                hint="Use the same embedding backend as for fit.",
            )
        return self._transform(X)

    def _transform(self, X: np.ndarray) -> pd.DataFrame:
        if self.n_themes_ == 0:
            ids = np.full(X.shape[0], UNCLASSIFIED_ID)
            conf = np.zeros(X.shape[0])
        else:
            sim = X @ self.centroids_.T
            ids = sim.argmax(axis=1)
            conf = _soft_probs(sim).max(axis=1)
            low = sim[np.arange(len(ids)), ids] < self.outlier_threshold
            ids = np.where(low, UNCLASSIFIED_ID, ids)
            conf = np.where(low, 0.0, conf)
        names = np.array(self.themes_[Col.THEME].tolist() + [UNCLASSIFIED], dtype=object)
        return pd.DataFrame({Col.THEME_ID: ids, Col.THEME: names[ids], Col.THEME_CONFIDENCE: conf})

    @property
    def embedder(self) -> None:
        """None: discovery clusters the run's vectors and embeds nothing of its own."""
        return None

    @property
    def assigns_by_confidence(self) -> bool:
        """False: clusters, not a confidence threshold, decide the themes, so no sensitivity control applies."""
        return False

    def to_codeframe(self) -> Codeframe:
        """The discovered themes as an editable codeframe (keywords, representatives, parents)."""
        return Codeframe.from_theme_model(self)

    def confidences(self, embeddings: np.ndarray) -> np.ndarray:
        """theme_confidence of the fitted sentences for their theme in ``labels_`` (0 if unclassified)."""
        check_fitted(self)
        X = normalize(np.asarray(embeddings, dtype=np.float32))
        if X.shape[0] != self.labels_.shape[0]:
            raise InputError(f"Expected the {self.labels_.shape[0]} fitted rows, got {X.shape[0]}.")
        if self.n_themes_ == 0:
            return np.zeros(X.shape[0])
        p = _soft_probs(X @ self.centroids_.T)
        return np.where(self.labels_ >= 0, p[np.arange(X.shape[0]), np.maximum(self.labels_, 0)], 0.0)


def _compact(labels: np.ndarray) -> np.ndarray:
    """Relabel non-negative labels to 0..k-1 keeping their order; -1 stays."""
    present = np.unique(labels[labels >= 0])
    lookup = {int(c): i for i, c in enumerate(present)}
    return np.array([lookup.get(int(c), UNCLASSIFIED_ID) for c in labels], dtype=int)


def _compact_by_first(groups: np.ndarray) -> np.ndarray:
    """Relabel groups by order of first appearance (stable names across runs)."""
    order: dict[int, int] = {}
    for g in groups:
        order.setdefault(int(g), len(order))
    return np.array([order[int(g)] for g in groups], dtype=int)


def _content_keywords(pool: list[list[str]], n_keywords: int) -> list[list[str]]:
    """The first ``n_keywords`` content terms (:func:`is_content_term`) of each ranked list."""
    return [[k for k in kw if is_content_term(k)][:n_keywords] for kw in pool]


# --------------------------------------------------------------------------- entry point
@dataclass
class ThemeResult:
    """What the theme stage produced.

    Attributes
    ----------
    themes : one row per theme: theme_id, theme, parent, keywords (list),
        description, representatives (list), n_sentences.
    assignments : one row per (sentence, theme): sentence_id, theme_id, theme,
        theme_confidence. Unclassified sentences have no row.
    model : the fitted ThemeModel (discover) or CodeframeAssigner (codeframe).
    n_no_topic : content-free sentences ("Thanks!", "ok") left out of every theme: the
        *no topic* bucket.
    """

    themes: pd.DataFrame
    assignments: pd.DataFrame
    model: Any
    n_no_topic: int = 0


THEME_COLUMNS = (Col.THEME_ID, Col.THEME, Col.PARENT, Col.KEYWORDS, "description", "representatives", "n_sentences")
ASSIGNMENT_COLUMNS = (Col.SENTENCE_ID, Col.THEME_ID, Col.THEME, Col.THEME_CONFIDENCE)
MODES = ("auto", "codeframe", "discover")


def assign_themes(
    sentences: pd.DataFrame,
    embeddings: np.ndarray,
    *,
    config: ThemeConfig = ThemeConfig(),
    embedder: Embedder | None = None,
    codeframe: Any = None,
    refit_from: Any = None,
    random_state: int = 0,
    cache_dir: str | Path | None = None,
    progress: Callable[[str, int, int, str], None] | None = None,
) -> ThemeResult:
    """The theme stage: discover themes or assign sentences to a codeframe.

    Parameters
    ----------
    sentences : DataFrame with columns sentence_id, text
    embeddings : array of shape (len(sentences), d), same row order
    config : ThemeConfig
        ``mode`` "discover", "codeframe" or "auto" (codeframe when one is given
        or ``config.codeframe`` is set, else discover).
    embedder : object with ``embed(texts)``; needed in codeframe mode to embed the
        theme prototypes (None: the registry's ``minilm.v1``).
    codeframe : Codeframe or None
    refit_from : CodeframeAssigner or None
        A fitted assigner whose prototype vectors are reused, so after an edit only
        the changed themes' descriptions and examples are embedded.
    random_state : int
    cache_dir : where discovery keeps cluster labels between runs (None: no cache)
    progress : ``progress(stage, done, total, message)`` or None

    Returns
    -------
    ThemeResult

    Raises
    ------
    InputError
        Unknown mode, missing columns, or embeddings that do not match the sentences.
    """
    report = progress or (lambda *args: None)
    if config.mode not in MODES:
        raise InputError(f"Unknown theme mode {config.mode!r}.", hint=f"Use one of {', '.join(MODES)}.")
    ids, shown, analysed, X, n_no_topic = _topical(sentences, embeddings)
    use_codeframe = config.mode == "codeframe" or (
        config.mode == "auto" and (codeframe is not None or config.codeframe is not None)
    )
    if not use_codeframe:
        report("themes", 0, 2, "discovering themes")
        if not len(analysed):
            raise InsufficientDataError("Every sentence is content-free (greetings, thanks, 'ok'): no theme to discover.")
        model = ThemeModel(
            min_cluster_size=config.min_cluster_size, max_themes=config.max_themes,
            merge_threshold=config.merge_threshold, outlier_threshold=config.outlier_threshold,
            random_state=random_state, cache_dir=cache_dir,
        ).fit(analysed, X, shown=shown)
        report("themes", 1, 2, f"{model.n_themes_} themes found")
        assignments = _cluster_assignments(model, ids, model.labels_, model.confidences(X))
        themes = model.themes_.copy()
        themes["description"] = [
            f"Sentences mentioning {', '.join(kw[:4])}." if kw else "" for kw in themes[Col.KEYWORDS]
        ]
        report("themes", 2, 2, "done")
        return ThemeResult(themes=themes[list(THEME_COLUMNS)].reset_index(drop=True), assignments=assignments,
                           model=model, n_no_topic=n_no_topic)

    if codeframe is None:
        codeframe = Codeframe.from_yaml(config.codeframe) if config.codeframe else Codeframe.default()
    if embedder is None:
        embedder = get_embedder(EmbedConfig().backend)
    report("themes", 0, 2, f"assigning to {len(codeframe.themes)} codeframe themes")
    if isinstance(refit_from, CodeframeAssigner):
        assigner = refit_from.refit(codeframe, analysed, X, min_confidence=config.min_confidence)
    else:
        assigner = CodeframeAssigner(codeframe, embedder=embedder, min_confidence=config.min_confidence,
                                     random_state=random_state).fit(analysed, X)
    long = assigner.transform(analysed, X)
    report("themes", 2, 2, "done")
    return ThemeResult(themes=assigner.themes_frame(shown, long), assignments=_codeframe_assignments(ids, long),
                       model=assigner, n_no_topic=n_no_topic)


def _topical(sentences: pd.DataFrame, embeddings: np.ndarray) -> tuple[np.ndarray, list[str], list[str], np.ndarray, int]:
    """Ids, shown and analysed texts and vectors of the sentences that have a topic, and how many have none."""
    missing = [c for c in (Col.SENTENCE_ID, Col.TEXT) if c not in sentences.columns]
    if missing:
        raise InputError(f"The sentences frame lacks column(s) {missing}.")
    shown = sentences[Col.TEXT].astype(str).to_numpy()
    _check_rows(shown, embeddings)
    analysed = sentences[Col.ANALYSIS_TEXT].astype(str).to_numpy() if Col.ANALYSIS_TEXT in sentences else shown
    topical = ~sentences[Col.NO_TOPIC].to_numpy(dtype=bool) if Col.NO_TOPIC in sentences else np.ones(len(shown), bool)
    ids = sentences[Col.SENTENCE_ID].to_numpy()[topical]
    return (ids, shown[topical].tolist(), analysed[topical].tolist(), np.asarray(embeddings)[topical],
            int((~topical).sum()))


def _cluster_assignments(model: ThemeModel, ids: np.ndarray, labels: np.ndarray, conf: np.ndarray) -> pd.DataFrame:
    keep = labels >= 0
    return pd.DataFrame({
        Col.SENTENCE_ID: ids[keep], Col.THEME_ID: labels[keep],
        Col.THEME: model.themes_[Col.THEME].to_numpy()[labels[keep]] if keep.any() else [],
        Col.THEME_CONFIDENCE: conf[keep],
    }, columns=list(ASSIGNMENT_COLUMNS))


def _codeframe_assignments(ids: np.ndarray, long: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        Col.SENTENCE_ID: ids[long["sentence_pos"].to_numpy()], Col.THEME_ID: long[Col.THEME_ID].to_numpy(),
        Col.THEME: long[Col.THEME].to_numpy(), Col.THEME_CONFIDENCE: long[Col.THEME_CONFIDENCE].to_numpy(),
    }, columns=list(ASSIGNMENT_COLUMNS))


def apply_themes(model: Any, sentences: pd.DataFrame, embeddings: np.ndarray) -> tuple[pd.DataFrame, int]:
    """Assign more sentences to the themes of a fitted model (one partition of a large run).

    Returns the assignments (as :func:`assign_themes` makes them) and the number of
    content-free sentences left out.
    """
    ids, _, analysed, X, n_no_topic = _topical(sentences, embeddings)
    if isinstance(model, ThemeModel):
        fitted = model.transform(analysed, X)
        labels = fitted[Col.THEME_ID].to_numpy()
        return _cluster_assignments(model, ids, labels, fitted[Col.THEME_CONFIDENCE].to_numpy()), n_no_topic
    return _codeframe_assignments(ids, model.transform(analysed, X)), n_no_topic
