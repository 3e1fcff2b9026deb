"""insight — the Streamlit front end. All logic lives in insight/ (see insight/ui.py)."""

import streamlit as st

from insight import ui

st.set_page_config(page_title="insight", page_icon="💬", layout="wide")

result = ui.current_result()
page = ui.render_sidebar(result, key=ui.NAV_KEY)
key = ui.page_key(page)
if page == "Upload & map":
    ui.render_upload(key=key)
elif page == "Run":
    ui.render_run(key=key)
else:
    ui.RESULT_PAGES[page](ui.current_result(), key=key)
