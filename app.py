"""insight — the Streamlit front end. All logic lives in insight/ (see insight/ui/)."""

import streamlit as st

from insight.ui.navigation import run_app

st.set_page_config(page_title="insight", page_icon="💬", layout="wide")
run_app()
