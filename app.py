"""insight — the Streamlit front end. All logic lives in insight/ (see insight/ui/)."""

import streamlit as st

from insight.ui.navigation import run_app

# Streamlit runs this file as __main__; a worker process of a partitioned run (started
# fresh, not forked) imports it under another name and must not draw the app.
if __name__ == "__main__":
    st.set_page_config(page_title="insight", page_icon="💬", layout="wide")
    run_app()
