"""insight — a feedback insight engine.

Comments in, themes and sentiment out, joined to churn, NPS and CLV with honest
statistics. Each stage is its own module (ingest, text, embed, themes, sentiment,
join, drivers, segments, trends); ``insight.pipeline.run_pipeline`` runs them all.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("insight")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
