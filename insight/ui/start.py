"""The Start page: the demo analysis, and the way to one's own data."""
from __future__ import annotations

from typing import Any

import streamlit as st

from insight.ui import (
    STATE_SOURCE, _analyse_demo, _has_demo_corpus, _guard, _nav_button, _size_limit_text, app_config, md_escape,
)


def render_start(result: Any, *, key: str) -> None:
    """Welcome page: the demo analysis, and the way to upload one's own data."""
    st.title("insight — what your customers talk about, and what it costs you")
    st.write(
        "insight reads customer feedback (reviews, tickets, survey answers) and optionally your customer "
        "table, finds the themes and their sentiment, and shows which themes go with churn, low NPS and "
        "lost lifetime value — with confidence intervals."
    )
    if result is not None:
        st.success(
            f"Showing {md_escape(st.session_state.get(STATE_SOURCE, 'an analysis'))}: "
            f"{len(result.comments):,} comments, {len(result.themes):,} themes. Use the pages on the left."
        )
        _nav_button("Explore the overview", "Overview", key=f"{key}:to_overview")
    elif _has_demo_corpus():
        st.info("The demo corpus has not been analysed yet. It takes about a minute.")
        if st.button("Analyse the demo corpus", key=f"{key}:analyse_demo", type="primary"):
            with _guard("Analysing the demo corpus"):
                _analyse_demo(key=key)
    else:
        st.info("No demo corpus found (corpora/demo/feedback.csv). Upload your own data to start.")
    st.subheader("Upload your own data")
    st.write(_size_limit_text(app_config()))
    _nav_button("Upload your own data", "Upload & map", key=f"{key}:to_upload")
