"""Checks shared by the stages (in the manner of ``sklearn.utils.validation``)."""
from __future__ import annotations

import importlib.util
from typing import Any

from insight.errors import MissingDependencyError, NotFittedError


def check_fitted(model: Any, attribute: str = "centroids_") -> None:
    """Raise NotFittedError when ``model`` has not been fitted (sklearn's check_is_fitted, our error)."""
    if not hasattr(model, attribute):
        raise NotFittedError(
            f"This {type(model).__name__} is not fitted yet.", hint="Call fit(...) before using it."
        )


def require(module: str, pip_name: str, *, purpose: str) -> None:
    """Raise :class:`MissingDependencyError` with an install hint if ``module`` is absent.

    Uses ``importlib.util.find_spec`` so the check does not import the module.
    """
    if importlib.util.find_spec(module) is None:
        raise MissingDependencyError(
            f"{purpose} needs the Python package {pip_name!r}, which is not installed.",
            hint=f"Install it with: pip install {pip_name}",
        )
