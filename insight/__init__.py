"""insight — a feedback insight engine.

Comments in, themes and sentiment out, joined to churn, NPS and CLV with honest
statistics. Each stage is its own module (ingest, text, embed, themes, sentiment,
join, drivers, segments, trends); ``insight.pipeline.run_pipeline`` runs them all.

In a notebook::

    from insight import analyze
    result = analyze("feedback.csv", customers="customers.csv")
    result.summary()

The names below are imported on first use, so ``import insight`` stays fast and
loads neither torch nor sentence-transformers.
"""
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("insight")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

_EXPORTS = {
    "analyze": "insight.api",
    "RunResult": "insight.pipeline",
    "InsightConfig": "insight.config",
    "Codeframe": "insight.codeframe",
    "load_run": "insight.store",
}
__all__ = ["Codeframe", "InsightConfig", "RunResult", "analyze", "load_run"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'insight' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
