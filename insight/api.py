"""The Python entry point: one call from files to a :class:`~insight.pipeline.RunResult`.

The CLI and a notebook go through :func:`analyze`, so both read a codeframe and a
config the same way and record them in the run.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from insight.codeframe import Codeframe
from insight.config import InsightConfig
from insight.pipeline import RunResult, run_pipeline
from insight.types import Progress


def analyze(
    feedback: Any,
    customers: Any = None,
    *,
    config: InsightConfig | str | Path | None = None,
    codeframe: Codeframe | str | Path | None = None,
    feedback_roles: dict[str, str] | None = None,
    customer_roles: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Themes, sentiment and, with a customer table, their effect on churn, NPS and CLV.

    Parameters
    ----------
    feedback : path, bytes, file-like or DataFrame
        The comments (CSV, TSV, Excel, JSON, JSON lines or Parquet); columns are recognised by
        name and content, ``feedback_roles`` overrides them.
    customers : the same kinds, or None
        A customer table (id, churned, NPS, CLV, ...); None skips the join, drivers and segments.
    config : InsightConfig, or the path of a TOML/JSON config file, default=InsightConfig()
    codeframe : Codeframe, or the path of its YAML file, default=None
        Themes to assign sentences to; a path is recorded in the run's config. None
        follows ``config.themes`` (discovery unless a codeframe is set there).
    feedback_roles, customer_roles : dict, optional
        Column-role overrides, e.g. ``{"text": "Review"}``.
    progress : ``progress(stage, done, total, message)``, optional

    Returns
    -------
    RunResult
        ``summary()`` prints the headline figures; ``save(folder)`` keeps the run.

    Raises
    ------
    insight.errors.InputError
        A file cannot be read or mapped; the message says what to change.

    Warns
    -----
    insight.errors.FallbackWarning, insight.errors.SmallSampleWarning
        What limits the figures (also in ``result.notes``).

    Examples
    --------
    >>> from insight import analyze
    >>> result = analyze("feedback.csv", customers="customers.csv")  # doctest: +SKIP
    >>> result.summary()  # doctest: +SKIP
    """
    if not isinstance(config, InsightConfig):
        config = InsightConfig.load(config) if config is not None else InsightConfig()
    if isinstance(codeframe, (str, Path)):
        path, codeframe = codeframe, Codeframe.from_yaml(codeframe)
        config = config.replace(themes__mode="codeframe", themes__codeframe=str(path))  # on record
    return run_pipeline(feedback, customers, config=config, feedback_roles=feedback_roles,
                        customer_roles=customer_roles, codeframe=codeframe, progress=progress).warn()
