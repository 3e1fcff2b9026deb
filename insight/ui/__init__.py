"""The insight app: one module per Streamlit page, and here what the pages share.

:mod:`insight.ui.navigation` gives every page its own URL (``st.navigation``) and
the sidebar that switches between them; ``app.py`` only calls it. Each page module
(``start``, ``upload``, ``run``, ``overview``, ``themes``, ``drivers``, ``segments``,
``trends``, ``export``) has one ``render_*`` function and builds what it shows from
a :class:`insight.pipeline.RunResult`, the tables of :mod:`insight.views` and the
charts of :mod:`insight.charts`. This module holds the session-state names, the
helpers and the cached ingest and run that several pages use. Conventions:

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
  uses ``unsafe_allow_html``;
- a page stays fast on a million-comment run: what it derives from the whole run
  is computed once per run (:func:`per_run`), tables show at most
  :data:`PAGE_ROWS` rows at a time (:func:`_table` pages them), verbatims are a
  seeded sample and charts are drawn from counts, never from one point per row.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import re
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from insight import charts
from insight.config import InsightConfig
from insight.errors import InsightError
from insight.privacy import redact, redact_frame
from insight.schemas import Col


FILE_TYPES: tuple[str, ...] = ("csv", "tsv", "txt", "xlsx", "json", "jsonl", "parquet")
DEMO_DIR = Path(__file__).resolve().parents[2] / "corpora" / "demo"
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
STATE_PICKED_OUTCOMES = "insight:picked_outcomes"
"""Drivers of outcomes picked on the Drivers page: ``{"result": RunResult, "drivers": {column: DriverResult}}``."""

PAGE_ROWS = 1_000
"""The most rows a table sends to the browser at once; longer tables get a page picker (``{key}:page``)."""

_NONE = "(none)"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


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
    """A read-only table in a container keyed ``key`` (a plain dataframe has no key tests can find).

    A table longer than :data:`PAGE_ROWS` is shown one page at a time (picker keyed
    ``{key}:page``): the browser gets a thousand rows, not a million.
    """
    with st.container(key=key):
        if len(frame) > PAGE_ROWS:
            pages = -(-len(frame) // PAGE_ROWS)
            page = int(st.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, value=1, step=1,
                                       key=f"{key}:page"))
            start = (min(page, pages) - 1) * PAGE_ROWS
            st.caption(f"Rows {start + 1:,}–{min(start + PAGE_ROWS, len(frame)):,} of {len(frame):,}")
            frame = frame.iloc[start:start + PAGE_ROWS]
        st.dataframe(frame, hide_index=True, **kwargs)


_PER_RUN: dict[int, tuple[weakref.ref, dict[str, Any]]] = {}


def per_run(result: Any, name: str, compute: Callable[[Any], Any]) -> Any:
    """``compute(result)``, computed once per run object and shared by every session showing it.

    A RunResult is never mutated (a re-assignment returns a new one), so its identity
    is the cache key; the entry goes when the run is garbage-collected. This is what
    keeps a page that aggregates a million comments from doing it on every rerun.
    """
    entry = _PER_RUN.get(id(result))
    if entry is None or entry[0]() is not result:
        entry = _PER_RUN[id(result)] = (weakref.ref(result), {})
        weakref.finalize(result, _PER_RUN.pop, id(result), None)
    memo = entry[1]
    if name not in memo:
        memo[name] = compute(result)
    return memo[name]


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


def _opened(title: str, result: Any, *, key: str) -> bool:
    """Open a results page: its title, and a way to Start when nothing is analysed yet (then False)."""
    st.title(title)
    if result is None:
        st.info("Nothing analysed yet. Analyse the demo corpus on the Start page or upload your own data.")
        _nav_button("Go to Start", "Start", key=f"{key}:to_start")
    return result is not None


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


def app_config() -> InsightConfig:
    """The app's settings: the defaults, with the ingest size limit set to Streamlit's upload limit.

    ``server.maxUploadSize`` (MB, ``.streamlit/config.toml``) is the one setting: the
    uploader and ingest then refuse the same files, and raising it raises both.
    """
    return InsightConfig().replace(ingest__max_bytes=int(st.get_option("server.maxUploadSize")) * 1024**2)


def _size_limit_text(config: InsightConfig) -> str:
    return (
        f"Files up to {config.ingest.max_bytes / 1024**2:,.0f} MB and {config.ingest.max_rows:,} rows; "
        f"formats {', '.join(FILE_TYPES)}."
    )


def _has_demo_corpus() -> bool:
    return (DEMO_DIR / "feedback.csv").is_file()


def _analyse_demo(*, key: str) -> None:
    # the same settings as `make run`'s precomputed demo: the default codeframe
    config = app_config().replace(themes__mode="codeframe")
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


def _skipped_warning(result: Any, stage: str) -> None:
    """Why a customer-side stage was left out of this run, if it was."""
    reason = result.skipped.get(stage)
    if reason:
        st.warning(f"The {stage} stage was skipped for this run: {md_escape(reason)}")
