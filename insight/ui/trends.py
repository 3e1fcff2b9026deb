"""The Trends page: theme volume and sentiment over time, with spikes."""
from __future__ import annotations

from typing import Any

import streamlit as st

from insight import charts
from insight.schemas import Col
from insight.ui import _opened, _table, _theme_palette, md_escape


def render_trends(result: Any, *, key: str) -> None:
    """Theme volume and sentiment over time, spikes and emerging themes marked."""
    if not _opened("Trends", result, key=key):
        return
    trends = result.trends
    if trends is None or trends.empty:
        st.info("No dates in the feedback, so no trends. Map a date column on the Upload page to see them.")
        return
    totals = trends.groupby(Col.THEME)["n_comments"].sum().sort_values(ascending=False)
    names = [str(t) for t in totals.index]
    picked = st.multiselect("Themes", names, default=names[:5], key=f"{key}:themes")
    palette = _theme_palette(result)
    st.plotly_chart(charts.trend_chart(trends, metric="n_comments", themes=picked, colors=palette), key=f"{key}:volume")
    st.plotly_chart(
        charts.trend_chart(trends, metric="avg_sentiment", themes=picked, colors=palette), key=f"{key}:sentiment"
    )
    st.subheader("Spikes and emerging themes")
    emerging = (
        sorted(trends.loc[trends["is_emerging"].fillna(False).astype(bool), Col.THEME].astype(str).unique())
        if "is_emerging" in trends
        else []
    )
    st.write(f"Emerging themes: {', '.join(md_escape(t) for t in emerging)}." if emerging else "No emerging themes.")
    spikes = trends.loc[trends["is_spike"].fillna(False).astype(bool)]
    if spikes.empty:
        st.write("No spikes.")
    else:
        _table(spikes.sort_values("period"), key=f"{key}:spikes")
