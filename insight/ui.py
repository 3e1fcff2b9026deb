"""Streamlit pages of the insight app, one ``render_*`` function per page.

``app.py`` only picks a page and calls its renderer; everything the app shows is
built here from a :class:`insight.pipeline.RunResult` and the chart builders of
:mod:`insight.charts`. Conventions:

- every renderer takes keyword-only ``key``, a prefix for its widget keys, so
  tests find widgets by key (``f"{key}:run"``) and pages never collide;
- state that must survive page switches lives in ``st.session_state`` under the
  ``STATE_*`` names below, never only in widgets (a widget that is not drawn on
  the current page forgets its value);
- every user-triggered action is wrapped by :func:`_guard`, which shows an
  :class:`insight.errors.InsightError` as one line in ``st.error`` instead of a
  traceback;
- user text (comments, theme names, column names) is shown through
  ``st.dataframe``/``st.text`` or escaped with :func:`md_escape`; nothing here
  uses ``unsafe_allow_html``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from insight import charts
from insight.config import InsightConfig
from insight.errors import InsightError
from insight.schemas import COVERAGE, SENTIMENT_FALLBACK, SENTIMENT_LABELS, SKIPPED, UNCLASSIFIED, Col
from insight.privacy import redact, redact_frame
from insight.text import language_summary
from insight.views import as_text_list, theme_table, theme_verbatims

PAGES: tuple[str, ...] = (
    "Start",
    "Upload & map",
    "Run",
    "Overview",
    "Themes",
    "Drivers",
    "Segments",
    "Trends",
    "Export",
)
FILE_TYPES: tuple[str, ...] = ("csv", "tsv", "txt", "xlsx", "json", "jsonl", "parquet")
DEMO_DIR = Path(__file__).resolve().parents[1] / "corpora" / "demo"
DEMO_RUN_DIR = DEMO_DIR / "out" / "run"
"""Where ``make run`` saves the demo run (``insight analyze --out corpora/demo/out`` saves it in ``out/run``)."""
NAV_KEY = "nav"

STATE_RESULT = "insight:result"
"""The RunResult every result page shows."""
STATE_SOURCE = "insight:source"
"""One line saying where the current result came from."""
STATE_RUN_INFO = "insight:run_info"
"""Settings and timing of the last run (shown on Run and Overview)."""
STATE_UPLOAD = "insight:upload:{kind}"
"""``(file name, bytes)`` of an uploaded table; ``kind`` is feedback or customers."""
STATE_ROLES = "insight:roles:{kind}"
"""Column roles the user confirmed for an uploaded table."""
STATE_CODEFRAME = "insight:codeframe"
"""The codeframe being edited (applied with Re-assign)."""
STATE_CODEFRAME_EDITS = "insight:codeframe_edits"
"""Human-readable log of the pending codeframe edits."""
STATE_DEMO_TRIED = "insight:demo_tried"

_NONE = "(none)"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


# --------------------------------------------------------------------------- helpers
def md_escape(text: object) -> str:
    """Escape ``text`` so Streamlit markdown shows it literally (no links, no emphasis).

    Examples
    --------
    >>> md_escape("[link](http://x)")
    '\\\\[link\\\\]\\\\(http://x\\\\)'
    """
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def digest(data: bytes) -> str:
    """SHA-256 of file bytes: the cache key of everything computed from a file."""
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def _guard(action: str) -> Iterator[None]:
    """Show insight errors (and unexpected ones) as one line instead of a traceback."""
    try:
        yield
    except InsightError as exc:
        st.error(md_escape(f"{action} failed: {exc.one_line()}"))
    except Exception as exc:  # noqa: BLE001 - the app must never show a traceback
        st.error(md_escape(redact(f"{action} failed unexpectedly: {type(exc).__name__}: {exc}".replace("\n", " "))))


def _table(frame: pd.DataFrame, *, key: str, **kwargs: Any) -> None:
    """A read-only table in a container keyed ``key`` (a plain dataframe has no key tests can find)."""
    with st.container(key=key):
        st.dataframe(frame, hide_index=True, **kwargs)


def _go(page: str) -> None:
    st.session_state[NAV_KEY] = page


def _nav_button(label: str, page: str, *, key: str) -> None:
    st.button(label, key=key, on_click=_go, args=(page,))


def _config_json(config: InsightConfig) -> str:
    return json.dumps(config.to_dict(), sort_keys=True, default=str)


def _estimate_text(est: dict[str, Any] | None, fmt: str = "{:.1f}") -> tuple[str, str]:
    """(value, "95% CI a–b · n=N") of a kpi Estimate dict."""
    if not est or est.get("value") is None:
        return "—", ""
    unit = "%" if est.get("unit") == "%" else ""
    value = fmt.format(est["value"]) + unit
    if est.get("ci_low") is None or est.get("ci_high") is None:
        return value, f"n={est.get('n', 0):,}, no interval"
    return (
        value,
        f"95% CI {fmt.format(est['ci_low'])}{unit} to {fmt.format(est['ci_high'])}{unit} · n={est.get('n', 0):,}",
    )


def _drivers_table(result: Any) -> pd.DataFrame | None:
    drivers = getattr(result, "drivers", None)
    table = getattr(drivers, "table", None)
    return table if isinstance(table, pd.DataFrame) and not table.empty else None


def _theme_palette(result: Any) -> dict[str, str]:
    return charts.theme_colors(result.themes[Col.THEME]) if len(result.themes) else {}


def _no_result(key: str) -> None:
    st.info("Nothing analysed yet. Analyse the demo corpus on the Start page or upload your own data.")
    _nav_button("Go to Start", "Start", key=f"{key}:to_start")


def current_result() -> Any:
    """The RunResult in session state; loads the precomputed demo run the first time."""
    state = st.session_state
    if state.get(STATE_RESULT) is None and not state.get(STATE_DEMO_TRIED):
        state[STATE_DEMO_TRIED] = True
        saved = DEMO_RUN_DIR / "run.json"
        if saved.is_file():
            with _guard("Loading the demo run"):
                state[STATE_RESULT] = _load_demo_run(str(saved.parent), saved.stat().st_mtime)
                state[STATE_SOURCE] = "the built-in demo corpus (precomputed)"
    return state.get(STATE_RESULT)


@st.cache_resource(show_spinner="Loading the demo run…")
def _load_demo_run(path: str, mtime: float) -> Any:
    from insight.store import load_run

    return load_run(path)


def render_sidebar(result: Any, *, key: str = NAV_KEY) -> str:
    """The page picker (a radio whose value survives page switches); returns the page."""
    with st.sidebar:
        st.title("insight")
        page = st.radio("Page", PAGES, key=key, label_visibility="collapsed")
        if result is not None:
            st.caption(f"Showing: {md_escape(st.session_state.get(STATE_SOURCE, 'an analysis'))}")
            st.caption(f"{len(result.comments):,} comments · {len(result.themes):,} themes")
    return page


# --------------------------------------------------------------------------- ingest + run (cached)
@st.cache_data(show_spinner=False, max_entries=16)
def _inspect(kind: str, name: str, file_hash: str, config_json: str, _data: bytes) -> dict[str, Any]:
    """Columns, detected roles, role candidates and a preview of a file (cached by hash + config).

    An ambiguous role is not an error here (the page asks the user to choose,
    from what ingest reports): only its candidates come back.
    """
    from insight.errors import AmbiguousColumnError
    from insight.ingest import detect_roles, read_table

    config = InsightConfig.from_dict(json.loads(config_json))
    frame, meta = read_table(_data, name=name, config=config.ingest)
    out: dict[str, Any] = {
        "columns": [str(c) for c in frame.columns],
        "preview": redact_frame(frame.head(20)),  # shown before the text stage: personal data masked here too
        "layout": meta.layout,
        "warnings": list(meta.warnings),
        "roles": {},
        "candidates": {},
        "text_columns": [],
    }
    try:
        detection = detect_roles(frame, kind=kind)
    except AmbiguousColumnError as exc:
        out["candidates"] = {exc.role: list(exc.candidates)}
        return out
    out["roles"] = dict(detection.roles)
    out["candidates"] = {role: list(cols) for role, cols in detection.candidates.items()}
    out["text_columns"] = list(detection.text_columns)
    return out


@st.cache_data(show_spinner=False, max_entries=16)
def _ingest(kind: str, name: str, file_hash: str, roles_json: str, config_json: str, _data: bytes) -> Any:
    """IngestResult of a file with the confirmed roles (cached by hash + roles + config)."""
    from insight.ingest import ingest_customers, ingest_feedback

    config = InsightConfig.from_dict(json.loads(config_json))
    ingest = ingest_feedback if kind == "feedback" else ingest_customers
    return ingest(_data, roles=json.loads(roles_json), name=name, config=config.ingest)


@st.cache_resource(show_spinner=False, max_entries=4)
def _run_cached(run_key: str, _feedback: Any, _customers: Any, _config: InsightConfig, _progress: Callable) -> Any:
    """Run the pipeline once per (file hashes, roles, config).

    ``cache_resource`` rather than ``cache_data``: a RunResult holds the theme
    model and the embedding matrix, which ``cache_data`` would copy on every hit.
    The app never mutates a RunResult (re-assignment returns a new one).
    """
    from insight.pipeline import run_pipeline

    return run_pipeline(_feedback, _customers, config=_config, progress=_progress)


def _roles_json(roles: dict[str, str | None] | None) -> str:
    return json.dumps(roles, sort_keys=True)


def _ingested(kind: str, config: InsightConfig) -> Any:
    """IngestResult of the uploaded ``kind`` file with its confirmed roles, or None."""
    upload = st.session_state.get(STATE_UPLOAD.format(kind=kind))
    if upload is None:
        return None
    name, data = upload
    roles = st.session_state.get(STATE_ROLES.format(kind=kind))  # None: let ingest detect them
    return _ingest(kind, name, digest(data), _roles_json(roles), _config_json(config), data)


class _ProgressWidget:
    """Turns ``progress(stage, done, total, message)`` calls into one progress bar."""

    def __init__(self, bar: Any, stages: tuple[str, ...]) -> None:
        self.bar = bar
        self.stages = stages
        self.calls = 0

    def __call__(self, stage: str, done: int, total: int, message: str) -> None:
        self.calls += 1
        index = self.stages.index(stage) if stage in self.stages else 0
        within = done / total if total else 0.0
        fraction = min(1.0, (index + within) / len(self.stages))
        detail = message or (f"{done:,} of {total:,}" if total else "")
        self.bar.progress(fraction, text=f"Stage {index + 1}/{len(self.stages)} · {stage}: {detail}")


def _execute_run(
    feedback: Any, customers: Any, config: InsightConfig, *, files: dict[str, Any], source: str, key: str
) -> None:
    """Run (or reuse) the analysis with a progress bar and store it as the current result."""
    from insight.pipeline import STAGES

    run_key = digest(json.dumps({"files": files, "config": _config_json(config)}, sort_keys=True, default=str).encode())
    bar = st.progress(0.0, text="Starting…")
    progress = _ProgressWidget(bar, STAGES)
    started = time.perf_counter()
    result = _run_cached(run_key, feedback, customers, config, progress)
    seconds = time.perf_counter() - started
    reused = progress.calls == 0
    bar.progress(1.0, text="Reused the cached result of an identical run." if reused else f"Done in {seconds:.1f} s.")
    st.session_state[STATE_RESULT] = result
    st.session_state[STATE_SOURCE] = source
    st.session_state[STATE_RUN_INFO] = {
        "run_key": run_key,
        "files": files,
        "config": config.to_dict(),
        "seconds": round(seconds, 2),
        "reused_cached_result": reused,
        "timings": dict(getattr(result, "timings", {}) or {}),
    }
    st.session_state.pop(STATE_CODEFRAME, None)
    st.session_state.pop(STATE_CODEFRAME_EDITS, None)
    st.success(f"Analysis ready: {len(result.comments):,} comments, {len(result.themes):,} themes.")
    _nav_button("See the overview", "Overview", key=f"{key}:to_overview")


# --------------------------------------------------------------------------- Start
def _size_limit_text(config: InsightConfig) -> str:
    return (
        f"Files up to {config.ingest.max_bytes / 1024**2:,.0f} MB and {config.ingest.max_rows:,} rows; "
        f"formats {', '.join(FILE_TYPES)}."
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
    else:
        demo = DEMO_DIR / "feedback.csv"
        if demo.is_file():
            st.info("The demo corpus has not been analysed yet. It takes about a minute.")
            if st.button("Analyse the demo corpus", key=f"{key}:analyse_demo", type="primary"):
                with _guard("Analysing the demo corpus"):
                    _analyse_demo(key=key)
        else:
            st.info("No demo corpus found (corpora/demo/feedback.csv). Upload your own data to start.")
    st.subheader("Upload your own data")
    st.write(_size_limit_text(InsightConfig()))
    _nav_button("Upload your own data", "Upload & map", key=f"{key}:to_upload")


def _analyse_demo(*, key: str) -> None:
    # the same settings as `make run`'s precomputed demo: the default codeframe
    config = InsightConfig().replace(themes__mode="codeframe")
    files: dict[str, Any] = {}
    for kind in ("feedback", "customers"):
        path = DEMO_DIR / f"{kind}.csv"
        if path.is_file():
            data = path.read_bytes()
            st.session_state[STATE_UPLOAD.format(kind=kind)] = (path.name, data)
            st.session_state[STATE_ROLES.format(kind=kind)] = None
            files[kind] = {"name": path.name, "sha256": digest(data), "roles": None}
    feedback = _ingested("feedback", config)
    customers = _ingested("customers", config)
    _execute_run(feedback, customers, config, files=files, source="the built-in demo corpus", key=key)


# --------------------------------------------------------------------------- Upload & map
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

        found = _inspect(kind, name, digest(data), _config_json(config), data)
        for warning in found["warnings"]:
            st.caption(f"Note: {md_escape(warning)}")
        if len(found["text_columns"]) > 1:
            st.caption(f"Wide survey: comments are taken from {len(found['text_columns'])} open-text columns.")
        overrides = st.session_state.get(STATE_ROLES.format(kind=kind)) or {}
        ingested, problem = None, None
        try:
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
    config = config or InsightConfig()
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


# --------------------------------------------------------------------------- Run
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
        config = InsightConfig().replace(
            seed=int(seed),
            themes__mode=mode,
            drivers__min_support=int(support),
            sentiment__adapt_to_scores=bool(adapt),
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


# --------------------------------------------------------------------------- Overview
def render_overview(result: Any, *, key: str) -> None:
    """Headline KPIs as metric cards, sentiment, and volume by channel and over time."""
    st.title("Overview")
    if result is None:
        _no_result(key)
        return
    kpis = result.kpis or {}
    cards = st.columns(5)
    cards[0].metric("Comments", f"{len(result.comments):,}")
    n_customers = kpis.get("n_customers")
    cards[1].metric("Customers", f"{n_customers:,}" if n_customers is not None else "—")
    for col, name, label, fmt in (
        (cards[2], "nps", "NPS", "{:.1f}"),
        (cards[3], "churn_rate", "Churn rate", "{:.1f}"),
        (cards[4], "mean_clv", "Mean CLV", "{:,.0f}"),
    ):
        value, detail = _estimate_text(kpis.get(name), fmt)
        col.metric(label, value, help=detail or None)
        if detail:
            col.caption(detail)
    breakdown = (kpis.get("nps") or {}).get("breakdown")
    if breakdown:
        st.plotly_chart(
            charts.nps_split_bar(
                breakdown["promoters_pct"] / 100, breakdown["passives_pct"] / 100, breakdown["detractors_pct"] / 100
            ),
            key=f"{key}:nps_split",
        )
    if result.customers is None:
        st.info("No customer table: upload one to see churn, NPS and CLV alongside the comments.")
    _render_languages(result.comments)
    _render_redactions(kpis.get("redactions"))
    left, right = st.columns(2)
    left.plotly_chart(charts.sentiment_distribution(result.comments), key=f"{key}:sentiment")
    _render_score_agreement(kpis.get("sentiment_score_agreement"), key=key)
    _render_adaptation(kpis.get("sentiment_adaptation"))
    if kpis.get(SENTIMENT_FALLBACK):
        st.warning(md_escape(kpis[SENTIMENT_FALLBACK]))
    right.plotly_chart(charts.volume_by_channel(result.comments), key=f"{key}:channels")
    st.plotly_chart(charts.volume_over_time(result.comments), key=f"{key}:over_time")
    with st.expander("Settings of this run"):
        st.json({"config": result.config.to_dict(), "timings_seconds": dict(result.timings or {})})


def _render_languages(comments: pd.DataFrame) -> None:
    """Say how many comments are not in English: they are kept, but the English models read them less well."""
    languages = language_summary(comments)
    n = languages["non_english"]
    if not n:
        return
    top = ", ".join(f"{md_escape(code)} {count:,}" for code, count in list(languages["by_language"].items())[:5])
    st.warning(
        f"{n:,} comments ({n / max(len(comments), 1):.1%}) look non-English ({top}). They are kept and analysed, "
        "but themes and sentiment come from English models and are less reliable for them; "
        "the `language` column of comments.csv marks them."
    )


def _render_redactions(counts: dict[str, int] | None) -> None:
    """What personal data the text stage replaced before anything was stored or shown."""
    found = {kind: n for kind, n in (counts or {}).items() if n}
    if found:
        items = ", ".join(f"{n:,} {kind.lower()}" for kind, n in found.items())
        st.caption(f"Personal data replaced by placeholders before analysis: {items} (e.g. [EMAIL], [PHONE]).")


def _render_score_agreement(agreement: dict[str, Any] | None, *, key: str) -> None:
    """How well text sentiment agrees with the file's own scores, per channel where scales differ."""
    if not agreement:
        return
    groups = agreement.get("groups") or {"all comments": agreement}
    rows = [
        {"comments": name, "score scale": g["scale"], "n": g["n"], "Spearman rho": round(g["spearman_rho"], 2),
         "3-class agreement": round(g.get("accuracy_3class", float("nan")), 2)}
        for name, g in groups.items()
    ]
    st.caption("Text sentiment vs the file's own score (stars 1–2/3/4–5, NPS 0–6/7–8/9–10):")
    _table(pd.DataFrame(rows), key=f"{key}:agreement")


def _render_adaptation(report: dict[str, Any] | None) -> None:
    """The held-out gain of adapting the sentiment head to the file's own scores."""
    if not report:
        return
    if "skipped" in report:
        st.caption(f"Sentiment was not adapted to your scores: {md_escape(report['skipped'])}.")
        return
    before, after = report["before"], report["after"]
    where = f" ({md_escape(report['channel'])} comments)" if report.get("channel") else ""
    verdict = ("Sentiment adapted to" if report.get("used", True)
               else "Adapting sentiment did not help on held-out comments, so the shipped model scored")
    st.caption(
        f"{verdict} your {report['scale']} scores{where}: held-out accuracy "
        f"{before['accuracy']:.2f} → {after['accuracy']:.2f}, macro-F1 {before['macro_f1']:.2f} → "
        f"{after['macro_f1']:.2f} (n = {report['n_test']})."
    )


# --------------------------------------------------------------------------- Themes
def _segment_columns(result: Any, frame: pd.DataFrame) -> list[str]:
    """Segment columns of the run that the verbatims frame carries."""
    if result.segments is None or result.segments.empty:
        return []
    return [str(c) for c in result.segments[Col.SEGMENT_COLUMN].unique() if c in frame]


def _render_verbatims(result: Any, *, key: str) -> None:
    names = theme_table(result)[Col.THEME].tolist()
    if not names:
        return
    st.subheader("Read a theme's verbatims")
    theme = st.selectbox("Theme", names, key=f"{key}:drill")
    frame = theme_verbatims(result, theme)
    row = result.themes.loc[result.themes[Col.THEME].astype(str) == theme]
    if len(row) and "representatives" in row:
        st.caption("Representative sentences")
        for sentence in list(row["representatives"].iloc[0] or [])[:3]:
            st.text(str(sentence))
    # Filter options come from the whole run, not the theme, so a filter keeps its
    # value when the user switches theme (a keyed widget whose options change resets).
    filters = st.columns(4)
    labels = list(SENTIMENT_LABELS)
    chosen = filters[0].multiselect("Sentiment", labels, default=labels, key=f"{key}:f_sentiment")
    frame = frame.loc[frame[Col.SENTIMENT_LABEL].astype(str).isin(chosen)]
    if Col.CHANNEL in result.comments and result.comments[Col.CHANNEL].notna().any():
        channels = sorted(result.comments[Col.CHANNEL].dropna().astype(str).unique())
        picked = filters[1].multiselect("Channel", channels, default=channels, key=f"{key}:f_channel")
        if set(picked) != set(channels):  # untouched filters keep rows whose value is missing
            frame = frame.loc[frame[Col.CHANNEL].astype(str).isin(picked)]
    segment_cols = _segment_columns(result, frame)
    if segment_cols:
        column = filters[2].selectbox("Segment", [_NONE, *segment_cols], key=f"{key}:f_segment")
        if column != _NONE:
            segs = result.segments
            values = sorted(
                segs.loc[segs[Col.SEGMENT_COLUMN] == column, Col.SEGMENT_VALUE].dropna().astype(str).unique()
            )
            picked = filters[2].multiselect(
                f"{column} is", values, default=values, key=f"{key}:f_segment_values:{column}"
            )
            if set(picked) != set(values):
                frame = frame.loc[frame[column].astype(str).isin(picked)]
    all_dates = pd.to_datetime(result.comments[Col.DATE], errors="coerce") if Col.DATE in result.comments else None
    if all_dates is not None and all_dates.notna().any():
        lo, hi = all_dates.min().date(), all_dates.max().date()
        span = filters[3].date_input("Dates", (lo, hi), min_value=lo, max_value=hi, key=f"{key}:f_dates")
        if isinstance(span, tuple | list) and len(span) == 2 and tuple(span) != (lo, hi):
            dates = pd.to_datetime(frame[Col.DATE], errors="coerce").dt.date
            frame = frame.loc[((dates >= span[0]) & (dates <= span[1])).to_numpy()]
    st.caption(f"{len(frame):,} sentences")
    shown = [
        c
        for c in (
            "sentence",
            "comment",
            Col.SENTIMENT_LABEL,
            Col.SENTIMENT_SCORE,
            Col.CHANNEL,
            Col.DATE,
            *segment_cols,
            Col.THEME_CONFIDENCE,
        )
        if c in frame
    ]
    _table(frame[shown], key=f"{key}:verbatims")


def render_themes(result: Any, *, key: str) -> None:
    """Theme table, verbatims of one theme with filters, and the codeframe editor."""
    st.title("Themes")
    if result is None:
        _no_result(key)
        return
    if result.themes.empty:
        st.info("No themes were found. Add themes to the codeframe below and re-assign.")
    else:
        table = theme_table(result)
        _table(
            table,
            key=f"{key}:table",
            column_config={
                "share": st.column_config.NumberColumn("share", format="percent"),
                "avg_sentiment": st.column_config.NumberColumn("sentiment", format="%.2f"),
                "trend": st.column_config.LineChartColumn("trend"),
            },
        )
        _render_coverage(result, key=f"{key}:coverage")
        _render_verbatims(result, key=key)
    render_codeframe_editor(result, key=f"{key}:cf")


def _render_coverage(result: Any, *, key: str) -> None:
    """How many sentences no theme covers, and (codeframe runs) the sensitivity that sets it."""
    from insight.themes import ThemeModel

    coverage = result.kpis.get(COVERAGE)
    if not coverage:  # a run saved before coverage was reported
        n_assigned = result.assignments[Col.SENTENCE_ID].nunique()
        coverage = {"sentences": len(result.sentences), "no_topic": 0, "unclassified": len(result.sentences) - n_assigned,
                    "unclassified_share": 1.0 - n_assigned / max(len(result.sentences), 1)}
    st.caption(
        f"{coverage['unclassified_share']:.0%} of topical sentences ({coverage['unclassified']}) are {UNCLASSIFIED}; "
        f"{coverage['no_topic']} of {coverage['sentences']} sentences have no topic (thanks, greetings, 'ok') "
        "and are left out of every theme."
    )
    if isinstance(result.theme_model, ThemeModel):
        return
    current = float(result.config.themes.min_confidence)
    cols = st.columns([3, 1])
    value = cols[0].slider(
        "Sensitivity: the confidence a theme needs", min_value=0.05, max_value=0.95, value=current, step=0.05,
        key=f"{key}:slider", help="Lower assigns more sentences (and more loosely); higher leaves more unclassified.",
    )
    if cols[1].button("Apply", key=f"{key}:apply", disabled=value == current):
        with _guard("Re-assigning"):
            _reassign(result, _codeframe(result), min_confidence=value)


# --------------------------------------------------------------------------- codeframe editor
def _codeframe(result: Any) -> Any:
    """The codeframe being edited: the run's the first time, then the user's edits.

    Every kind of theme model a run can hold (discovery, codeframe assigner, a saved
    run's codeframe) gives its editable codeframe through ``to_codeframe()``.
    """
    state = st.session_state
    if state.get(STATE_CODEFRAME) is None:
        state[STATE_CODEFRAME] = result.theme_model.to_codeframe()
        state[STATE_CODEFRAME_EDITS] = []
    return state[STATE_CODEFRAME]


def _edit(description: str, change: Callable[[Any], Any], *, key: str) -> None:
    """Apply one edit (``change(codeframe) -> new codeframe``), log it, and redraw the editor.

    Codeframes are immutable: the edit returns a new one whose ``log`` records
    it, so :meth:`Codeframe.undo` can revert it. The editor's input widgets are
    cleared so they do not hold names that no longer exist.
    """
    with _guard(description):
        st.session_state[STATE_CODEFRAME] = change(st.session_state[STATE_CODEFRAME])
        st.session_state[STATE_CODEFRAME_EDITS] = [*st.session_state.get(STATE_CODEFRAME_EDITS, []), description]
        for widget_key in [
            k for k in st.session_state if str(k).startswith(f"{key}:") and not str(k).endswith(":upload")
        ]:
            del st.session_state[widget_key]
        st.rerun()


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _split_parts(spec: str) -> dict[str, Any]:
    """Blocks separated by blank lines; first line the new theme's name, the rest its examples."""
    from insight.codeframe import CodeframeTheme

    parts = {}
    for block in re.split(r"\n\s*\n", spec or ""):
        lines = _lines(block)
        if lines:
            parts[lines[0]] = CodeframeTheme(name=lines[0], description=lines[0], examples=tuple(lines[1:]))
    return parts


def render_codeframe_editor(result: Any, *, key: str) -> None:
    """Rename, merge, split, delete and add themes; re-assign without re-embedding; YAML in and out.

    Edits change a pending codeframe in session state; "Re-assign sentences"
    applies it with :func:`insight.pipeline.reassign`, which reuses the run's
    sentence embeddings and recomputes themes, drivers, segments and trends.
    """
    st.subheader("Edit the codeframe")
    with _guard("Opening the codeframe editor"):
        _codeframe_editor(result, key=key)


def _codeframe_editor(result: Any, *, key: str) -> None:
    from insight.codeframe import Codeframe, CodeframeTheme

    cf = _codeframe(result)
    names = list(cf.names)
    rename, merge, split, delete, add, io = st.tabs(["Rename", "Merge", "Split", "Delete", "Add", "YAML"])
    with rename:
        old = st.selectbox("Theme", names, key=f"{key}:rename_old")
        new = st.text_input("New name", key=f"{key}:rename_new").strip()
        if st.button("Rename", key=f"{key}:rename", disabled=not new):
            _edit(f"Renamed {old!r} to {new!r}", lambda c: c.rename(old, new), key=key)
    with merge:
        picked = st.multiselect("Themes to merge", names, key=f"{key}:merge_names")
        into = st.text_input("Name of the merged theme (default: the first one)", key=f"{key}:merge_into").strip()
        if st.button("Merge", key=f"{key}:merge", disabled=len(picked) < 2):
            target = into or picked[0]
            _edit(f"Merged {', '.join(map(repr, picked))} into {target!r}", lambda c: c.merge(picked, target), key=key)
    with split:
        source = st.selectbox("Theme to split", names, key=f"{key}:split_source")
        st.caption(
            "One block per new theme: its name on the first line, example sentences on the next lines; "
            "a blank line between blocks."
        )
        parts = _split_parts(st.text_area("New themes", key=f"{key}:split_spec", height=150))
        if st.button("Split", key=f"{key}:split", disabled=len(parts) < 2):
            _edit(f"Split {source!r} into {', '.join(map(repr, parts))}", lambda c: c.split(source, parts), key=key)
    with delete:
        gone = st.selectbox("Theme", names, key=f"{key}:delete_name")
        if st.button("Delete", key=f"{key}:delete", disabled=len(names) < 2):
            _edit(f"Deleted {gone!r}", lambda c: c.delete(gone), key=key)
    with add:
        name = st.text_input("Name", key=f"{key}:add_name").strip()
        description = st.text_area("Description", key=f"{key}:add_description").strip()
        keywords = st.text_input("Keywords (comma-separated)", key=f"{key}:add_keywords")
        examples = st.text_area("Example sentences (one per line)", key=f"{key}:add_examples")
        if st.button("Add theme", key=f"{key}:add", disabled=not name):
            theme = CodeframeTheme(
                name=name,
                description=description or name,
                keywords=tuple(k.strip() for k in keywords.split(",") if k.strip()),
                examples=tuple(_lines(examples)),
            )
            _edit(f"Added {name!r}", lambda c: c.add(theme), key=key)
    with io:
        st.download_button(
            "Download codeframe YAML",
            cf.to_yaml().encode("utf-8"),
            file_name="codeframe.yaml",
            mime="application/x-yaml",
            key=f"{key}:download",
        )
        uploaded = st.file_uploader("Upload a codeframe YAML", type=["yaml", "yml"], key=f"{key}:upload")
        if uploaded is not None and st.button("Use the uploaded codeframe", key=f"{key}:use_upload"):
            _edit(
                f"Loaded {uploaded.name!r}", lambda _: Codeframe.from_yaml(uploaded.getvalue().decode("utf-8")), key=key
            )
    edits = st.session_state.get(STATE_CODEFRAME_EDITS, [])
    _table(
        pd.DataFrame(
            {
                Col.THEME: list(cf.names),
                "description": [t.description for t in cf.themes],
                Col.KEYWORDS: [as_text_list(t.keywords) for t in cf.themes],
                "examples": [len(t.examples) for t in cf.themes],
            }
        ),
        key=f"{key}:themes",
    )
    if edits:
        st.warning(
            f"{len(edits)} pending edit(s), applied when you re-assign: " + "; ".join(md_escape(e) for e in edits)
        )
    cols = st.columns(3)
    # A loaded YAML replaces the codeframe rather than editing it, so it is not undone by Codeframe.undo.
    can_undo = bool(edits) and not edits[-1].startswith("Loaded ")
    if cols[0].button("Undo last edit", key=f"{key}:undo", disabled=not can_undo):
        with _guard("Undo"):
            st.session_state[STATE_CODEFRAME] = cf.undo()
            st.session_state[STATE_CODEFRAME_EDITS] = edits[:-1]
            st.rerun()
    if cols[1].button("Re-assign sentences", key=f"{key}:reassign", type="primary", disabled=not edits):
        with _guard("Re-assigning"):
            _reassign(result, cf)


def _reassign(result: Any, cf: Any, *, min_confidence: float | None = None) -> None:
    from insight.pipeline import STAGES, reassign

    bar = st.progress(0.0, text="Re-assigning…")
    new = reassign(result, cf, min_confidence=min_confidence, progress=_ProgressWidget(bar, STAGES))
    bar.progress(1.0, text="Re-assigned without re-embedding.")
    st.session_state[STATE_RESULT] = new
    st.session_state[STATE_SOURCE] = f"{st.session_state.get(STATE_SOURCE, 'an analysis')}, codeframe edited"
    st.session_state.pop(STATE_CODEFRAME, None)
    st.session_state.pop(STATE_CODEFRAME_EDITS, None)
    st.rerun()


# --------------------------------------------------------------------------- Drivers
EXPOSURE_LABELS = {"mentioned": "mentioned the theme", "negative": "mentioned it negatively"}


def _significant_rows(table: pd.DataFrame, outcome: str, exposure: str, alpha: float) -> pd.DataFrame:
    rows = table.loc[(table[Col.OUTCOME] == outcome) & (table[Col.Q_VALUE] <= alpha)]
    if charts.EXPOSURE in rows:
        rows = rows.loc[rows[charts.EXPOSURE] == exposure]
    if "flags" in rows:
        rows = rows.loc[~rows["flags"].map(charts.is_insufficient)]
    return rows.reindex(rows[Col.EFFECT].abs().sort_values(ascending=False).index)


def _skipped_warning(result: Any, stage: str) -> None:
    """Why a customer-side stage was left out of this run, if it was."""
    reason = ((result.kpis or {}).get(SKIPPED) or {}).get(stage)
    if reason:
        st.warning(f"The {stage} stage was skipped for this run: {md_escape(reason)}")


def _with_units(rows: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Effect columns named with their unit: for NPS the raw and adjusted effects are in different units."""
    if outcome not in charts.EFFECT_UNITS:
        return rows
    unit, adjusted_unit = charts.EFFECT_UNITS[outcome]
    raw = (Col.EFFECT, Col.CI_LOW, Col.CI_HIGH)
    adjusted = (Col.ADJUSTED_EFFECT, "adjusted_ci_low", "adjusted_ci_high")
    return rows.rename(columns={c: f"{c} ({unit})" for c in raw} | {c: f"{c} ({adjusted_unit})" for c in adjusted})


def render_drivers(result: Any, *, key: str) -> None:
    """Per outcome: the forest chart, plain-language captions, impact vs volume, revenue at risk."""
    st.title("Drivers")
    if result is None:
        _no_result(key)
        return
    table = _drivers_table(result)
    if table is None:
        _skipped_warning(result, "drivers")
        st.info("No customer table (or no churn / NPS / CLV columns in it): upload one to see drivers.")
        _nav_button("Upload a customer table", "Upload & map", key=f"{key}:to_upload")
        return
    alpha = result.drivers.alpha
    outcomes = list(dict.fromkeys(table[Col.OUTCOME].astype(str)))
    cols = st.columns(2)
    outcome = cols[0].radio("Outcome", outcomes, horizontal=True, key=f"{key}:outcome")
    exposures = list(dict.fromkeys(table[charts.EXPOSURE])) if charts.EXPOSURE in table else ["mentioned"]
    exposure = cols[1].radio(
        "Customers who…",
        exposures,
        horizontal=True,
        key=f"{key}:exposure",
        format_func=lambda e: EXPOSURE_LABELS.get(e, e),
    )
    adjusted = st.checkbox(
        "Show adjusted effects (controlling for segment covariates and the other themes)",
        value=True,
        key=f"{key}:adjusted",
    )
    st.plotly_chart(
        charts.forest_chart(table, outcome, exposure=exposure, alpha=alpha, show_adjusted=adjusted), key=f"{key}:forest"
    )
    st.caption(
        f"Filled markers: significant after FDR correction (q ≤ {alpha:g}); hollow: not significant; "
        "grey: too few customers to say. Bars: 95% confidence intervals. "
        + charts.UNITS_NOTES.get(outcome, "")
    )
    rows = _significant_rows(table, outcome, exposure, alpha)
    st.subheader("What the numbers say")
    if rows.empty:
        st.write(f"No theme has a significant association with {outcome} at q ≤ {alpha:g}.")
    with _guard("Describing the drivers"):
        for theme in rows[Col.THEME].head(5):
            st.markdown("- " + md_escape(result.drivers.caption(theme, outcome, exposure)))
    left, right = st.columns(2)
    left.plotly_chart(
        charts.impact_volume_scatter(result.themes, table, outcome, exposure=exposure), key=f"{key}:scatter"
    )
    if "churn" in outcomes:
        right.plotly_chart(
            charts.revenue_at_risk_bar(table, exposure=exposure, colors=_theme_palette(result)), key=f"{key}:revenue"
        )
    with st.expander("All driver statistics and notes"):
        shown = table.loc[table[Col.OUTCOME] == outcome]
        if charts.EXPOSURE in shown:
            shown = shown.loc[shown[charts.EXPOSURE] == exposure]
        _table(_with_units(shown, outcome), key=f"{key}:table")
        st.text(result.drivers.summary())


# --------------------------------------------------------------------------- Segments

def _picked_segments(result: Any, *, key: str) -> tuple[pd.DataFrame | None, Any]:
    """The run's segment table, or one rebuilt for the segment columns the user picks.

    Rebuilding is a tabulation over the joined customers (well under a second on
    20,000 customers), so choosing columns needs no new run.
    """
    from insight.segments import segment_columns, segment_table

    current = list(dict.fromkeys(result.segments[Col.SEGMENT_COLUMN].astype(str)))
    # the run's own columns first: one chosen with --segments need not be one auto-detection would pick
    available = list(dict.fromkeys([*current, *segment_columns(result.join.customers)]))
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
        return segment_table(result.join, result.drivers, config=config), config
    return None, None


def render_segments(result: Any, *, key: str) -> None:
    """Priority heat map, the top-10 actions, and the high-value high-turnover niches."""
    st.title("Segments")
    if result is None:
        _no_result(key)
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

        niches = high_value_high_churn(result.join, result.drivers, config=segment_config, cells=segments)
        if niches.empty:
            st.write("No segment has both above-median CLV and above-median churn.")
        else:
            _table(niches, key=f"{key}:niches")


# --------------------------------------------------------------------------- Trends
def render_trends(result: Any, *, key: str) -> None:
    """Theme volume and sentiment over time, spikes and emerging themes marked."""
    st.title("Trends")
    if result is None:
        _no_result(key)
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


# --------------------------------------------------------------------------- Export
def render_export(result: Any, *, key: str) -> None:
    """Download every table as CSV (formula-safe), the Excel workbook and the HTML report."""
    st.title("Export")
    if result is None:
        _no_result(key)
        return
    from insight import report

    with _guard("Preparing the tables"):
        tables = report.output_tables(result)
        _table(pd.DataFrame({"file": list(tables), "rows": [len(t) for t in tables.values()]}), key=f"{key}:files")
        st.caption("Cells starting with =, +, −, @ are prefixed with ' so spreadsheets do not run them as formulas.")
        cols = st.columns(3)
        for i, (name, table) in enumerate(tables.items()):
            cols[i % 3].download_button(
                name,
                lambda table=table: table.to_csv(index=False).encode("utf-8"),  # built on click, not per render
                file_name=name,
                mime="text/csv",
                key=f"{key}:csv:{name}",
            )
        st.download_button(
            "Excel workbook (all tables)",
            lambda: report.to_excel(result),
            file_name="insight.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key=f"{key}:excel",
        )
        st.download_button(
            "HTML report (self-contained, with charts)",
            lambda: report.to_html(result).encode("utf-8"),
            file_name="insight_report.html",
            mime="text/html",
            key=f"{key}:html",
        )


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


def page_key(page: str) -> str:
    """Widget-key prefix of a page (``"Upload & map"`` -> ``"upload"``)."""
    return page.split()[0].lower()
