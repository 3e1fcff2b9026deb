"""The Themes page: the theme table, verbatims, coverage and the codeframe editor."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from insight.schemas import COVERAGE, SENTIMENT_LABELS, UNCLASSIFIED, Col
from insight.ui import (
    STATE_CODEFRAME,
    STATE_CODEFRAME_EDITS,
    STATE_RESULT,
    STATE_SOURCE,
    _NONE,
    _ProgressWidget,
    _guard,
    _opened,
    _table,
    md_escape,
    per_run,
)
from insight.views import VerbatimIndex, as_text_list, theme_table

VERBATIM_SAMPLE = 5_000
"""The most verbatims of one theme the page keeps after filtering: a seeded random sample, most confident first."""


def _segment_columns(result: Any, frame: pd.DataFrame) -> list[str]:
    """Segment columns of the run that the verbatims frame carries."""
    if result.segments is None or result.segments.empty:
        return []
    return [str(c) for c in result.segments[Col.SEGMENT_COLUMN].unique() if c in frame]


def _render_verbatims(result: Any, *, key: str) -> None:
    names = per_run(result, "theme_table", theme_table)[Col.THEME].tolist()
    if not names:
        return
    st.subheader("Read a theme's verbatims")
    theme = st.selectbox("Theme", names, key=f"{key}:drill")
    frame = per_run(result, "verbatims", VerbatimIndex).frame(theme)
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
    channels = per_run(result, "channels", _channels)
    if channels:
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
    date_span = per_run(result, "date_span", _date_span)
    if date_span is not None:
        lo, hi = date_span
        span = filters[3].date_input("Dates", (lo, hi), min_value=lo, max_value=hi, key=f"{key}:f_dates")
        if isinstance(span, tuple | list) and len(span) == 2 and tuple(span) != (lo, hi):
            dates = pd.to_datetime(frame[Col.DATE], errors="coerce").dt.date
            frame = frame.loc[((dates >= span[0]) & (dates <= span[1])).to_numpy()]
    if len(frame) > VERBATIM_SAMPLE:
        st.caption(f"{len(frame):,} sentences; showing a random sample of {VERBATIM_SAMPLE:,} "
                   f"(seed {result.config.seed}), most confident first")
        frame = frame.sample(n=VERBATIM_SAMPLE, random_state=result.config.seed).sort_index()
    else:
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


def _channels(result: Any) -> list[str]:
    """The run's channels (the options of the channel filter)."""
    if Col.CHANNEL not in result.comments:
        return []
    return sorted(result.comments[Col.CHANNEL].dropna().astype(str).unique())


def _date_span(result: Any) -> tuple[Any, Any] | None:
    """First and last comment date of the run (the date filter's bounds), or None without dates."""
    if Col.DATE not in result.comments:
        return None
    dates = pd.to_datetime(result.comments[Col.DATE], errors="coerce")
    return (dates.min().date(), dates.max().date()) if dates.notna().any() else None


def render_themes(result: Any, *, key: str) -> None:
    """Theme table, verbatims of one theme with filters, and the codeframe editor."""
    if not _opened("Themes", result, key=key):
        return
    if result.themes.empty:
        st.info("No themes were found. Add themes to the codeframe below and re-assign.")
    else:
        table = per_run(result, "theme_table", theme_table)
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
    if not result.theme_model.assigns_by_confidence:
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
