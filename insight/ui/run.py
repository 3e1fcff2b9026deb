"""The Run page: settings, then the analysis with a progress bar per stage."""
from __future__ import annotations

import streamlit as st

from insight.config import InsightConfig
from insight.ui import (
    STATE_ROLES,
    STATE_RUN_INFO,
    STATE_UPLOAD,
    _execute_run,
    _guard,
    _ingested,
    _nav_button,
    app_config,
    digest,
    md_escape,
)


def render_run(*, key: str) -> None:
    """Settings, the run button with stage progress, and the record of the last run."""
    st.title("Run the analysis")
    upload = st.session_state.get(STATE_UPLOAD.format(kind="feedback"))
    info = st.session_state.get(STATE_RUN_INFO)
    if upload is None:
        st.info("Upload a feedback file first.")
        _nav_button("Go to Upload & map", "Upload & map", key=f"{key}:to_upload")
    else:
        cust = st.session_state.get(STATE_UPLOAD.format(kind="customers"))
        st.write(
            f"Feedback: {md_escape(upload[0])}"
            + (f" · Customers: {md_escape(cust[0])}" if cust else " · no customer table")
        )
        with st.expander("Settings", expanded=False):
            seed = st.number_input("Random seed", min_value=0, value=0, step=1, key=f"{key}:seed")
            mode = st.selectbox(
                "Themes",
                ("auto", "discover", "codeframe"),
                key=f"{key}:mode",
                help="auto: the codeframe when one is given, otherwise discover themes.",
            )
            support = st.number_input(
                "Minimum customers per theme for driver statistics",
                min_value=5,
                value=InsightConfig().drivers.min_support,
                step=5,
                key=f"{key}:min_support",
            )
            adapt = st.checkbox(
                "Adapt sentiment to this file's own scores (stars / NPS as weak labels)",
                value=InsightConfig().sentiment.adapt_to_scores,
                key=f"{key}:adapt_sentiment",
                help="Refits the sentiment head on your scored comments and keeps it where it beats the shipped "
                "head on held-out comments; the gain is shown on the Overview.",
            )
            where = st.radio(
                "Where the sentence-level work runs", ("this machine", "a Dask cluster"), horizontal=True,
                key=f"{key}:engine",
                help=f"Files over {InsightConfig().engine.partitioned_above:,} comments are analysed in partitions "
                "on this machine's cores; a Dask scheduler spreads the partitions over a cluster.",
            )
            scheduler = st.text_input(
                "Dask scheduler address (empty: a local cluster of 2 workers)", key=f"{key}:scheduler",
                placeholder="tcp://scheduler:8786", disabled=where == "this machine",
            ).strip()
        config = app_config().replace(
            seed=int(seed),
            themes__mode=mode,
            drivers__min_support=int(support),
            sentiment__adapt_to_scores=bool(adapt),
            engine__engine="dask" if where == "a Dask cluster" else "local",
            engine__scheduler=(scheduler or None) if where == "a Dask cluster" else None,
        )
        if st.button("Analyse", key=f"{key}:run", type="primary"):
            with _guard("The analysis"):
                feedback = _ingested("feedback", config)
                customers = _ingested("customers", config)
                files = {
                    kind: {
                        "name": up[0],
                        "sha256": digest(up[1]),
                        "roles": st.session_state.get(STATE_ROLES.format(kind=kind)),
                    }
                    for kind in ("feedback", "customers")
                    if (up := st.session_state.get(STATE_UPLOAD.format(kind=kind))) is not None
                }
                _execute_run(feedback, customers, config, files=files, source=f"your upload ({upload[0]})", key=key)
                info = st.session_state.get(STATE_RUN_INFO)
    if info:
        with st.expander("Settings and timings of the last run (recorded with the result)"):
            st.json(info)
