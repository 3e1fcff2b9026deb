"""Protocols shared by the stages, in one leaf module so that no stage imports another for a type."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

Progress = Callable[[str, int, int, str], None]
"""``progress(stage, done, total, message)``: how every stage reports how far it got (``total`` 0: unknown)."""


@runtime_checkable
class Embedder(Protocol):
    """What the embed stage needs from a backend (built by :mod:`insight.registry`).

    Attributes
    ----------
    name : str
        Registry name including its version (``"minilm.v1"``); part of the cache key.
    dim : int
        Length of each vector.
    cacheable : bool
        True when a text's vector depends on the text alone, so it may be cached.
        False for corpus-fitted backends (``tfidf_lsa.v1``).
    """

    name: str
    dim: int
    cacheable: bool

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        """float32 array of shape (len(texts), dim), L2-normalised rows, deterministic."""
        ...
