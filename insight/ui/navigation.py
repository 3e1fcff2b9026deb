"""Every page of the app at its own URL (``st.navigation``), and the sidebar that switches between them.

The sidebar keeps one radio (key ``nav``): a button on a page sets it to go elsewhere
(:func:`insight.ui._go`), choosing in it switches page with ``st.switch_page``, and a
page opened by its URL sets it to that page.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from insight.ui import NAV_KEY, STATE_SOURCE, current_result, md_escape
from insight.ui.drivers import render_drivers
from insight.ui.export import render_export
from insight.ui.overview import render_overview
from insight.ui.run import render_run
from insight.ui.segments import render_segments
from insight.ui.start import render_start
from insight.ui.themes import render_themes
from insight.ui.trends import render_trends
from insight.ui.upload import render_upload

RESULT_PAGES: dict[str, Callable[..., None]] = {
    "Start": render_start,
    "Overview": render_overview,
    "Themes": render_themes,
    "Drivers": render_drivers,
    "Segments": render_segments,
    "Trends": render_trends,
    "Export": render_export,
}
"""Pages rendered as ``render(result, key=...)``; Upload & map and Run take no result."""
INPUT_PAGES: dict[str, Callable[..., None]] = {"Upload & map": render_upload, "Run": render_run}
PAGES: tuple[str, ...] = (
    "Start", "Upload & map", "Run", "Overview", "Themes", "Drivers", "Segments", "Trends", "Export",
)
STATE_PAGE = "insight:page"
"""The page drawn last: when the current page differs, it was opened by its URL or switched to."""


def page_key(page: str) -> str:
    """Widget-key prefix and URL path of a page (``"Upload & map"`` -> ``"upload"``)."""
    return page.split()[0].lower()


def _page(title: str) -> Any:
    key = page_key(title)

    def render() -> None:
        if title in INPUT_PAGES:
            INPUT_PAGES[title](key=key)
        else:
            RESULT_PAGES[title](current_result(), key=key)

    return st.Page(render, title=title, url_path=key, default=title == PAGES[0])


def render_sidebar(result: Any, page: str, *, key: str = NAV_KEY) -> str:
    """The page picker, showing ``page`` unless a button asked for another; returns the page picked."""
    state = st.session_state
    if state.get(STATE_PAGE) != page:
        state[key] = state[STATE_PAGE] = page
    with st.sidebar:
        st.title("insight")
        picked = st.radio("Page", PAGES, key=key, label_visibility="collapsed")
        if result is not None:
            st.caption(f"Showing: {md_escape(state.get(STATE_SOURCE, 'an analysis'))}")
            st.caption(f"{len(result.comments):,} comments · {len(result.themes):,} themes")
    return picked


def run_app() -> None:
    """Draw the sidebar and the current page (the one in the URL, Start by default)."""
    pages = {title: _page(title) for title in PAGES}
    current = st.navigation(list(pages.values()), position="hidden")
    picked = render_sidebar(current_result(), current.title)
    if picked != current.title:
        st.switch_page(pages[picked])
    current.run()
