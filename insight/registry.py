"""Named, versioned factories for the pluggable parts (embedders, later sentiment models).

One explicit place maps a name such as ``"minilm.v1"`` to the function that builds
it, so a config file can name a backend and a run records exactly which one it
used. Factories import their heavy libraries lazily: listing or validating names
never imports torch. Everything is registered in this module, in one
``_register_builtins()`` call, so import order does not matter.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from insight.errors import InputError
from insight.types import Embedder
from insight.validation import require

T = TypeVar("T")


class Registry(Generic[T]):
    """A mapping of versioned names to factories of one kind of component.

    Parameters
    ----------
    kind : str
        What the registry holds ("embedder", ...), used in error messages.

    Examples
    --------
    >>> reg = Registry("greeter")
    >>> reg.register("hello.v1", lambda name="you": f"hello {name}")
    >>> reg.get("hello.v1", name="insight")
    'hello insight'
    >>> reg.names()
    ['hello.v1']
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str, factory: Callable[..., T]) -> None:
        """Register ``factory`` under ``name``; re-registering the same factory is a no-op.

        Raises
        ------
        ValueError
            If ``name`` is already taken by a different factory.
        """
        existing = self._factories.get(name)
        if existing is not None and existing is not factory:
            raise ValueError(f"{self.kind} {name!r} is already registered to {existing!r}.")
        self._factories[name] = factory

    def get(self, name: str, /, **kwargs: Any) -> T:
        """Build the component registered under ``name`` with ``kwargs``.

        Raises
        ------
        InputError
            If ``name`` is unknown; the message lists the valid names.
        MissingDependencyError
            If the component needs a package that is not installed.
        """
        try:
            factory = self._factories[name]
        except KeyError:
            raise InputError(
                f"Unknown {self.kind} {name!r}.", hint=f"Valid names: {', '.join(self.names())}."
            ) from None
        return factory(**kwargs)

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._factories)

    def __contains__(self, name: object) -> bool:
        return name in self._factories


# --------------------------------------------------------------------------- embedders


# Every factory takes ``cache_dir`` (the run's cache root) and ``device`` so callers can
# build any embedder the same way; only those that keep files of their own use the
# first, only the MiniLM ones the second.


def _minilm_v1(*, cache_dir: Any = None, **kwargs: Any) -> Embedder:
    require("torch", "torch==2.13.0", purpose="The 'minilm.v1' embedder")
    require("sentence_transformers", "sentence-transformers", purpose="The 'minilm.v1' embedder")
    from insight.backends import MiniLMEmbedder

    return MiniLMEmbedder(**kwargs)


def _encoder_output(name: str) -> Callable[..., Embedder]:
    """A factory for one output of the shared MiniLM encoder (see insight.encoder)."""

    def build(*, cache_dir: Any = None, **kwargs: Any) -> Embedder:
        require("torch", "torch==2.13.0", purpose=f"The {name!r} embedder")
        require("sentence_transformers", "sentence-transformers", purpose=f"The {name!r} embedder")
        from insight.encoder import EncoderEmbedder

        return EncoderEmbedder(name, **kwargs)

    return build


def _tfidf_lsa_v1(*, cache_dir: Any = None, device: str = "cpu", **kwargs: Any) -> Embedder:
    require("sklearn", "scikit-learn", purpose="The 'tfidf_lsa.v1' embedder")
    from insight.backends import TfidfLsaEmbedder

    return TfidfLsaEmbedder(**kwargs)


def _model2vec_v1(*, device: str = "cpu", **kwargs: Any) -> Embedder:
    require("model2vec", "model2vec", purpose="The 'model2vec.v1' embedder")
    from insight.backends import Model2VecEmbedder

    return Model2VecEmbedder(**kwargs)


def _static_v1(*, cache_dir: Any = None, device: str = "cpu", batch_size: Any = None) -> Embedder:
    """Fast mode (CPU only); ``batch_size`` is ignored: the default's 64 would split work that is cheapest in one piece."""
    from insight.static import StaticEmbedder

    return StaticEmbedder()


embedders: Registry[Embedder] = Registry("embedder")


def _register_builtins() -> None:
    """Register every built-in component (idempotent)."""
    embedders.register("minilm-idf.v1", _encoder_output("minilm-idf.v1"))
    embedders.register("minilm-sentiment.v1", _encoder_output("minilm-sentiment.v1"))
    embedders.register("minilm.v1", _minilm_v1)
    embedders.register("tfidf_lsa.v1", _tfidf_lsa_v1)
    embedders.register("model2vec.v1", _model2vec_v1)
    embedders.register("static.v1", _static_v1)
    embedders.register("fast", _static_v1)  # the CLI's name for fast mode


_register_builtins()


def get_embedder(name: str, /, **kwargs: Any) -> Embedder:
    """Build the embedder registered under ``name``: ``"minilm-idf.v1"`` (default: MiniLM
    token states pooled by word rarity), ``"minilm-sentiment.v1"`` (the sentiment
    branch), ``"minilm.v1"`` (plain mean pooling), ``"tfidf_lsa.v1"`` (no torch),
    ``"model2vec.v1"`` (static embeddings distilled into the cache on first use),
    ``"static.v1"`` or ``"fast"`` (fast mode: the shipped static embeddings, no torch).

    Raises
    ------
    InputError
        Unknown name (the message lists the valid ones).
    MissingDependencyError
        The backend's package is not installed (the message says what to pip install).
    """
    return embedders.get(name, **kwargs)
