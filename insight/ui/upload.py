"""The Upload & map page: files in, column roles confirmed, every row accounted for."""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from insight.config import InsightConfig
from insight.errors import InsightError
from insight.schemas import Col
from insight.ui import (
    FILE_TYPES,
    STATE_ROLES,
    STATE_UPLOAD,
    _NONE,
    _config_json,
    _guard,
    _ingest,
    _inspect,
    _nav_button,
    _roles_json,
    _size_limit_text,
    _table,
    app_config,
    digest,
    md_escape,
)


def _store_upload(kind: str, uploaded: Any, *, key: str) -> None:
    """Keep the uploaded file's bytes in session state; a new file resets its role choices."""
    state_key = STATE_UPLOAD.format(kind=kind)
    new = (uploaded.name, uploaded.getvalue())
    old = st.session_state.get(state_key)
    if old is None or old[0] != new[0] or digest(old[1]) != digest(new[1]):
        st.session_state[state_key] = new
        st.session_state[STATE_ROLES.format(kind=kind)] = None
        for widget_key in [k for k in st.session_state if str(k).startswith(f"{key}:{kind}:role:")]:
            del st.session_state[widget_key]


def _on_upload(kind: str, key: str) -> None:
    """Uploader callback: clearing the uploader (its ✕) forgets the stored file too."""
    if st.session_state.get(f"{key}:{kind}_file") is None:
        _forget_upload(kind, key)


def _forget_upload(kind: str, key: str) -> None:
    st.session_state.pop(STATE_UPLOAD.format(kind=kind), None)
    st.session_state.pop(STATE_ROLES.format(kind=kind), None)
    for widget_key in [k for k in st.session_state if str(k).startswith(f"{key}:{kind}:role:")]:
        del st.session_state[widget_key]


def _role_names(kind: str) -> tuple[str, ...]:
    from insight.ingest import CUSTOMER_ROLES, FEEDBACK_ROLES

    return FEEDBACK_ROLES if kind == "feedback" else CUSTOMER_ROLES


def _render_table_upload(kind: str, config: InsightConfig, *, key: str) -> Any:
    """Uploader, role mapping, preview and row accounting of one table; returns its IngestResult."""
    label = (
        "Feedback comments (required)" if kind == "feedback" else "Customer table (optional: plan, churn, NPS, CLV…)"
    )
    uploaded = st.file_uploader(
        label, type=list(FILE_TYPES), key=f"{key}:{kind}_file", on_change=_on_upload, args=(kind, key)
    )
    if uploaded is not None and uploaded.size > config.ingest.max_bytes:
        st.error(
            f"{md_escape(uploaded.name)} is {uploaded.size / 1024**2:,.1f} MB, over the app's limit of "
            f"{config.ingest.max_bytes / 1024**2:,.0f} MB. Raise `server.maxUploadSize` in .streamlit/config.toml "
            "(see the README), or analyse it with the command line: `insight analyze --config` sets `max_bytes`."
        )
        return None
    if uploaded is not None:
        _store_upload(kind, uploaded, key=key)
    upload = st.session_state.get(STATE_UPLOAD.format(kind=kind))
    if upload is None:
        return None
    name, data = upload
    kept = "" if uploaded is not None else " (kept from before; upload another file to replace it)"
    st.caption(f"{md_escape(name)} · {len(data) / 1024:,.1f} KB{kept}")
    if uploaded is None:
        st.button("Remove this file", key=f"{key}:{kind}:remove", on_click=_forget_upload, args=(kind, key))
    with _guard(f"Reading {name}"):
        from insight.errors import AmbiguousColumnError

        with st.spinner(f"Reading {name} ({len(data) / 1024**2:,.1f} MB)…"):  # cached: only a new file waits
            found = _inspect(kind, name, digest(data), _config_json(config), data)
        for warning in found["warnings"]:
            st.caption(f"Note: {md_escape(warning)}")
        if len(found["text_columns"]) > 1:
            st.caption(f"Wide survey: comments are taken from {len(found['text_columns'])} open-text columns.")
        overrides = st.session_state.get(STATE_ROLES.format(kind=kind)) or {}
        ingested, problem = None, None
        try:
            with st.spinner(f"Checking every row of {name}…"):
                ingested = _ingest(kind, name, digest(data), _roles_json(overrides), _config_json(config), data)
        except InsightError as exc:  # the drop-downs must still show, or the user could not fix the mapping
            problem = exc
        ask = problem.role if isinstance(problem, AmbiguousColumnError) else None
        if ask:
            what = "the comment text" if ask == "text" else f"the {ask} column"
            candidates = ", ".join(f"'{c}'" for c in problem.candidates)
            st.warning(md_escape(f"Several columns could be {what}: {candidates}.") + " Choose one below.")
        st.markdown("**Column roles** (detected; change them if they are wrong)")
        used = ingested.roles if ingested is not None else {**found["roles"], **overrides}
        _render_roles(kind, found, used, ask=ask, key=key)
        with st.expander("Preview (first rows as read, personal data masked)"):
            st.dataframe(found["preview"], hide_index=True)
        if problem is not None and not ask:
            raise problem
        if ingested is not None:
            _render_accounting(ingested, kind, key=key)
        return ingested
    return None


def _render_roles(kind: str, found: dict[str, Any], used: dict[str, Any], *, ask: str | None, key: str) -> None:
    """One drop-down per role showing the column ingest used; a change becomes an override.

    They show ``used`` (IngestResult.roles) rather than the first detection
    because one choice (the text column, say) changes what is detected for the
    others. While ``ask`` names an ambiguous role, only its drop-down is shown,
    with nothing chosen. "(none)" unmaps a role; the text has no "(none)"
    because ingest needs one.
    """
    cells = st.columns(4)
    for i, role in enumerate((ask,) if ask else _role_names(kind)):
        options = found["columns"] if role == "text" else [_NONE, *found["columns"]]
        shown = None if role == ask else used.get(role) or (None if role == "text" else _NONE)
        widget_key = f"{key}:{kind}:role:{role}"
        st.session_state[widget_key] = shown  # set each run: widget state would keep a stale detection
        others = [c for c in found["candidates"].get(role, []) if c != shown]
        with cells[i % 4]:
            st.selectbox(
                role,
                options,
                index=None,
                placeholder="Choose a column",
                key=widget_key,
                on_change=_on_role,
                args=(kind, role, widget_key),
                help=f"Other candidates: {', '.join(others)}" if others else None,
            )


def _on_role(kind: str, role: str, widget_key: str) -> None:
    """A drop-down change becomes an override kept across page switches; "(none)" maps the role to no column."""
    state_key = STATE_ROLES.format(kind=kind)
    choice = st.session_state[widget_key]
    st.session_state[state_key] = {**(st.session_state.get(state_key) or {}), role: None if choice == _NONE else choice}


def _render_accounting(ingested: Any, kind: str, *, key: str) -> None:
    acc = ingested.accounting()
    a, b, c = st.columns(3)
    a.metric("Rows in file", f"{ingested.rows_in:,}")
    b.metric("Rows kept", f"{ingested.rows_kept:,}")
    c.metric("Rows dropped", f"{ingested.rows_dropped:,}")
    dropped = ingested.dropped
    if dropped is not None and len(dropped):
        reasons = dropped[Col.REASON].value_counts().rename_axis(Col.REASON).reset_index(name="rows")
        _table(reasons, key=f"{key}:{kind}:reasons")
        from insight.report import safe_frame

        st.download_button(
            "Download dropped rows (CSV)",
            safe_frame(dropped).to_csv(index=False).encode("utf-8"),
            file_name=f"dropped_{kind}.csv",
            mime="text/csv",
            key=f"{key}:{kind}:dropped_csv",
        )
    with st.expander("Row accounting (all figures)"):
        st.json(acc)


def render_upload(*, key: str, config: InsightConfig | None = None) -> None:
    """Upload feedback and an optional customer table, confirm column roles, check the join.

    The uploaded bytes are kept in ``st.session_state[STATE_UPLOAD.format(kind=...)]``
    as ``(name, bytes)``, so the page can also be driven by setting that state
    (tests, the demo button) and the file survives page switches.
    """
    config = config or app_config()
    st.title("Upload & map")
    st.info(
        _size_limit_text(config)
        + " Survey exports with extra header rows and wide multi-question files are recognised."
    )
    st.subheader("1 · Feedback")
    feedback = _render_table_upload("feedback", config, key=key)
    st.subheader("2 · Customers (optional)")
    customers = _render_table_upload("customers", config, key=key)
    # an uploaded table without a result waits for a column choice or has an error, both shown above
    uploaded = {k for k in ("feedback", "customers") if st.session_state.get(STATE_UPLOAD.format(kind=k)) is not None}
    if feedback is None:
        if "feedback" not in uploaded:
            st.info("Upload a feedback file to continue.")
        return
    if customers is None:
        if "customers" in uploaded:
            return
        st.info("No customer table: themes and sentiment work without one; drivers and segments need it.")
    else:
        with _guard("Checking the join"):
            from insight.join import join_customers

            empty_themes = pd.DataFrame({Col.COMMENT_ID: pd.Series(dtype=object), Col.THEME: pd.Series(dtype=object)})
            join = join_customers(feedback.data, empty_themes, customers.data)
            st.metric(
                "Join match rate",
                f"{join.match_rate:.0%}",
                help="Share of comments with a customer id that matches a customer.",
            )
            st.caption(
                f"{join.n_comments_matched:,} of {join.n_comments:,} comments matched a customer; "
                f"{join.n_comments_without_id:,} have no customer id; {len(join.unmatched_ids):,} ids match nobody."
            )
            if join.match_rate < 0.5:
                st.warning("Fewer than half of the comments match a customer: check the customer id columns.")
    _nav_button("Continue to Run", "Run", key=f"{key}:to_run")
