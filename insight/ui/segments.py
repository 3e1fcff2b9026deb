"""The Segments page: segment x theme priorities and the high-value, high-churn niches."""
from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
import streamlit as st

from insight import charts
from insight.schemas import Col
from insight.ui import _guard, _opened, _skipped_warning, _table, per_run


def _picked_segments(result: Any, *, key: str) -> tuple[pd.DataFrame | None, Any]:
    """The run's segment table, or one rebuilt for the segment columns the user picks.

    Rebuilding is a tabulation over the joined customers (well under a second on
    20,000 customers), so choosing columns needs no new run.
    """
    from insight.segments import segment_columns, segment_table

    current = list(dict.fromkeys(result.segments[Col.SEGMENT_COLUMN].astype(str)))
    # the run's own columns first: one chosen with --segments need not be one auto-detection would pick
    detected = per_run(result, "segment_columns", lambda r: list(segment_columns(r.join.customers)))
    available = list(dict.fromkeys([*current, *detected]))
    picked = st.multiselect(
        "Segment columns", available, default=current, key=f"{key}:columns",
        help="Customer-table columns to break the priorities down by.",
    )
    if not picked:
        st.info("Pick at least one segment column.")
        return None, None
    config = dataclasses.replace(result.config.segments, columns=tuple(picked))
    if set(picked) == set(current):
        return result.segments, config
    with _guard("Ranking the segments"):
        return per_run(result, f"segments:{picked!r}", lambda r: segment_table(r.join, r.drivers, config=config)), config
    return None, None


def render_segments(result: Any, *, key: str) -> None:
    """Priority heat map, the top-10 actions, and the high-value high-turnover niches."""
    if not _opened("Segments", result, key=key):
        return
    segments = result.segments
    if segments is None or segments.empty:
        _skipped_warning(result, "segments")
        st.info("No segment results: upload a customer table with segment columns (plan, region, …) to see them.")
        return
    segments, segment_config = _picked_segments(result, key=key)
    if segments is None:
        return
    st.plotly_chart(charts.priority_heatmap(segments), key=f"{key}:heatmap")
    st.subheader("Top 10 actions")
    st.caption(
        "Priority = customers affected × CLV × excess churn, with its 95% interval (priority_ci_low to "
        "priority_ci_high). Flagged cells (small_cell: too few customers to compare; no priority) come last. "
        "confounded: the theme's churn link disappears after adjustment, so its priority is likely not its own."
    )
    _table(charts.top_actions(segments), key=f"{key}:actions")
    st.subheader("High-value, high-turnover niches")
    st.caption("Segments with above-median mean CLV and above-median churn, and the themes behind their churn.")
    with _guard("Finding the niches"):
        from insight.segments import high_value_high_churn

        niches = per_run(result, f"niches:{segment_config.columns!r}",
                         lambda r: high_value_high_churn(r.join, r.drivers, config=segment_config, cells=segments))
        if niches.empty:
            st.write("No segment has both above-median CLV and above-median churn.")
        else:
            _table(niches, key=f"{key}:niches")
