"""Protocols shared by the stages, in one leaf module so that no stage imports another for a type."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from insight.codeframe import Codeframe

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


@runtime_checkable
class ThemeSource(Protocol):
    """What a run's theme model offers, whichever kind it is.

    A discovery run holds a ``ThemeModel``, a codeframe run a ``CodeframeAssigner``
    and a run loaded from the store its ``Codeframe``: callers read these three
    members rather than asking which class they hold.

    Attributes
    ----------
    embedder : Embedder or None
        The embedder the model's theme prototypes live in, ready to embed more of
        them in the run's vector space; None unless a live codeframe assigner.
    assigns_by_confidence : bool
        True when a confidence threshold decides the assignments (a codeframe, live
        or loaded), so a stricter or looser ``min_confidence`` re-assigns them.
    """

    @property
    def embedder(self) -> Embedder | None: ...

    @property
    def assigns_by_confidence(self) -> bool: ...

    def to_codeframe(self) -> Codeframe:
        """The themes as an editable codeframe."""
        ...
