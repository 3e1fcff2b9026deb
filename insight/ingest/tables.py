"""The two table entry points, :func:`ingest_feedback` and :func:`ingest_customers`.

Both build the canonical columns and account for every row: kept, or dropped with a reason.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insight.config import IngestConfig, did_you_mean
from insight.errors import EmptyFileError, MissingColumnError
from insight.ingest.common import (
    CUSTOMER_ROLES,
    DROP_CONFLICTING_ID,
    DROP_DUPLICATE,
    DROP_DUPLICATE_ID,
    DROP_EMPTY_TEXT,
    DROP_MALFORMED,
    DROP_MISSING_ID,
    DROP_UNCACHED_FORMULA,
    FEEDBACK_ROLES,
    IngestResult,
    RoleDetection,
    TableMeta,
    _ATTR_LABELS,
    _ATTR_LAYOUT,
    _ATTR_MALFORMED,
    _ATTR_UNCACHED,
    _LAYOUT_CHANNEL,
    _SURVEY_LAYOUTS,
    _mapping_hint,
    _stringify,
    _with_warnings,
)
from insight.ingest.layouts import _structural_layout
from insight.ingest.reading import _check_rows, _stringify_frame, _unique_columns, read_table
from insight.ingest.roles import _detect
from insight.ingest.values import (
    _FALSE,
    _TRUE,
    _count_bad,
    _numeric_role,
    _parse_flags,
    _role_dates,
    _role_ids,
    _role_scores,
    _role_strings,
)
from insight.pii import clean_text
from insight.privacy import redact, redact_frame
from insight.schemas import KPI_FLAGS, KPI_ROLES, Col, make_unique


def _prepare(source: Any, name: str | None, config: IngestConfig) -> tuple[pd.DataFrame, pd.DataFrame | None, TableMeta]:
    """Frame of strings, the user's original frame (DataFrame input only) and the meta."""
    if isinstance(source, pd.DataFrame):
        _check_rows(len(source), config, name)
        original, warnings = _unique_columns(source.reset_index(drop=True).set_axis([str(c) for c in source.columns], axis=1))
        frame, nested_warnings = _stringify_frame(original)
        warnings += nested_warnings
        if frame.empty:
            raise EmptyFileError("The frame has no rows." if frame.shape[1] else "The frame has no columns.")
        layout = _structural_layout(frame)
        frame.attrs[_ATTR_LAYOUT] = layout
        frame.attrs[_ATTR_LABELS] = {}
        return frame, original, TableMeta("dataframe", None, None, 0, layout, len(frame), tuple(warnings))
    frame, meta = read_table(source, name=name, config=config)
    return frame, None, meta


def _resolve_roles(frame: pd.DataFrame, kind: str, overrides: Mapping[str, Any] | None) -> RoleDetection:
    """Detected roles with the user's overrides; a column name holding personal data is found under its redacted name."""
    allowed = FEEDBACK_ROLES if kind == "feedback" else CUSTOMER_ROLES
    resolved: dict[str, Any] = {}
    for role, value in (overrides or {}).items():
        if role not in allowed:
            raise MissingColumnError(f"Unknown role '{role}'; {kind} roles are: {', '.join(allowed)}.",
                                     hint=did_you_mean(str(role), allowed).strip() or None)
        if value is None or value == "":
            if role != "text":
                resolved[role] = None
            continue
        columns = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else None
        if columns is None or not all(isinstance(c, str) for c in columns):
            raise MissingColumnError(f"roles['{role}'] must name a column, got {value!r}.")
        if role != "text" and len(columns) != 1:
            raise MissingColumnError(f"Role '{role}' takes one column, not {columns}.")
        columns = [c if c in frame.columns else redact(c) for c in columns]
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise MissingColumnError(
                f"roles['{role}'] names {', '.join(map(repr, missing))}, which is not a column of the table. "
                f"Available columns: {', '.join(map(repr, frame.columns))}."
            )
        resolved[role] = columns[0] if isinstance(value, str) else columns
    return _detect(frame, kind, resolved)


def ingest_feedback(
    source: Any,
    *,
    roles: Mapping[str, Any] | None = None,
    name: str | None = None,
    config: IngestConfig = IngestConfig(),
) -> IngestResult:
    """Read a feedback file and return its comments with every row accounted for.

    Parameters
    ----------
    source : path, bytes, uploaded file or DataFrame
    roles : dict, optional
        Role -> column overrides, e.g. ``{"text": "Review Text"}``. ``"text"``
        may also be a list of columns (a wide survey). A role mapped to None
        has no column (e.g. ``{"title": None}`` keeps a title out of the text);
        roles not given are detected.
    name : str, optional
        File name when ``source`` has none; its stem is the default channel.
    config : IngestConfig

    Returns
    -------
    IngestResult
        ``data`` columns: row_id, comment_id, customer_id, text, date, score,
        channel, source_column, then the user's other columns. Rows with empty
        text or duplicating an earlier comment are in ``dropped``; a duplicate is
        the whole input row repeated (every column, and for a wide survey the
        same text column), never just the same text.

    Raises
    ------
    MissingColumnError, AmbiguousColumnError, and the errors of :func:`read_table`.

    Examples
    --------
    >>> res = ingest_feedback(b"comment,stars\\nGreat app,5\\n  ,4\\n", name="reviews.csv")
    >>> res.accounting()
    {'rows_in': 2, 'rows_kept': 1, 'rows_dropped': 1, 'dropped_by_reason': {'empty text': 1}}
    """
    frame, original, meta = _prepare(source, name, config)
    detection = _resolve_roles(frame, "feedback", roles)
    r = dict(detection.roles)
    named = {role for role, column in (roles or {}).items() if column}
    warnings = list(meta.warnings) + list(detection.notes)
    n = len(frame)
    base = pd.DataFrame({Col.ROW_ID: np.arange(n, dtype=np.int64)})
    # dates and scores first: a column named for them that holds none is the error to report, not the missing text
    base[Col.DATE] = _role_dates(frame, r["date"], warnings, named="date" in named)
    base[Col.SCORE] = _role_scores(frame, r["score"], warnings, named="score" in named)
    if not detection.text_columns:
        elsewhere = [f"{col!r} ({role})" for role, col in detection.roles.items() if col]
        raise MissingColumnError(
            "No column with comment text found. Columns: " + ", ".join(map(repr, frame.columns)) + "."
            + (f" Used for other roles: {', '.join(elsewhere)}." if elsewhere else ""),
            hint=f"Name the text column {_mapping_hint('text')}.",
        )
    text_columns = detection.text_columns
    wide = len(text_columns) > 1
    if wide and meta.layout == "plain":
        meta = dataclasses.replace(meta, layout="wide_survey")
    role_columns = {c for c in r.values() if c} | set(text_columns)
    others = [c for c in frame.columns if c not in role_columns]
    base.insert(1, Col.CUSTOMER_ID, _role_ids(frame, r["customer_id"], "customer ids", warnings))
    default_channel = _default_channel(meta.layout, name or _source_name(source))
    base[Col.CHANNEL] = redact_frame(_role_strings(frame, r["channel"]).fillna(default_channel).to_frame(Col.CHANNEL))[Col.CHANNEL]
    ids = _role_ids(frame, r["comment_id"], "comment ids", warnings) if r["comment_id"] else None
    title = _clean_text(frame[r["title"]]) if r["title"] else None

    parts = []
    for column in text_columns:
        part = base.copy()
        body = _clean_text(frame[column])
        part[Col.TEXT] = _join_title(title, body) if title is not None else body
        part[Col.SOURCE_COLUMN] = column
        own_id = ids.fillna(part[Col.ROW_ID].astype(str)) if ids is not None else part[Col.ROW_ID].astype(str)
        part[Col.COMMENT_ID] = (own_id + ":" + column) if wide else own_id
        parts.append(part)
    data = pd.concat(parts, ignore_index=True) if wide else parts[0]
    user = redact_frame((original if original is not None else frame)[others])
    user = user.set_axis([f"input_{c}" if c in _FEEDBACK_COLUMNS else c for c in others], axis=1)
    user = pd.concat([user] * len(text_columns), ignore_index=True) if wide else user

    reason = pd.Series(None, index=data.index, dtype=object)
    # judged on the text as the text stage will see it: "<br>" or "&nbsp;" alone is empty
    cleaned = data[Col.TEXT].map(lambda t: clean_text(t) if isinstance(t, str) else "")
    empty = ~cleaned.str.contains(_HAS_CONTENT, regex=True).fillna(False).astype(bool)
    reason[empty] = DROP_EMPTY_TEXT
    uncached = frame.attrs.get(_ATTR_UNCACHED, {})
    formula = np.concatenate([np.isin(np.arange(n), uncached.get(column, ())) for column in text_columns])
    reason[empty & formula] = DROP_UNCACHED_FORMULA
    reason[np.tile(np.isin(np.arange(n), frame.attrs.get(_ATTR_MALFORMED, ())), len(text_columns))] = DROP_MALFORMED
    if config.drop_duplicates:
        # only a whole input row repeated is a duplicate: the same customer may legitimately send
        # the same text twice (another comment id, date, channel or rating). The first of identical
        # rows has the same text, so it is kept: a duplicate always points at an earlier kept comment.
        whole_row = pd.concat([frame] * len(text_columns), ignore_index=True).assign(_src=data[Col.SOURCE_COLUMN])
        reason[reason.isna() & ~empty & whole_row.duplicated().to_numpy()] = DROP_DUPLICATE
    keep = reason.isna().to_numpy()
    if not keep.any():
        raise EmptyFileError(
            f"No comment to analyse: all {len(data):,} values of {', '.join(map(repr, text_columns))} are empty "
            "(blank or punctuation only).",
            hint=f"Check the text column {_mapping_hint('text')}.",
        )
    kept = pd.concat([data[keep].reset_index(drop=True), user[keep].reset_index(drop=True)], axis=1)
    kept[Col.COMMENT_ID] = _unique_ids(kept[Col.COMMENT_ID], warnings)
    kept = kept[list(_FEEDBACK_COLUMNS) + list(user.columns)]
    for column in (Col.COMMENT_ID, Col.TEXT, Col.CHANNEL, Col.SOURCE_COLUMN):
        kept[column] = kept[column].astype("string")
    dropped_columns = [Col.ROW_ID, Col.REASON] + ([Col.SOURCE_COLUMN] if wide else [])
    dropped = data.loc[~keep, [Col.ROW_ID, Col.SOURCE_COLUMN]].assign(**{Col.REASON: reason[~keep]})
    dropped = dropped[dropped_columns].reset_index(drop=True)
    r["text"] = text_columns[0]
    if wide:
        warnings.append(
            f"Wide survey: {len(text_columns)} open-text columns ({', '.join(map(repr, text_columns))}); "
            "each answer is one comment and rows are counted per (row, column)."
        )
    return IngestResult(kept, dropped, r, _with_warnings(meta, warnings), len(data), "feedback")


_FEEDBACK_COLUMNS = (
    Col.ROW_ID, Col.COMMENT_ID, Col.CUSTOMER_ID, Col.TEXT, Col.DATE, Col.SCORE, Col.CHANNEL, Col.SOURCE_COLUMN,
)
_HAS_CONTENT = re.compile(r"[^\W_]|[\u2600-\u27bf\U0001f300-\U0001faff]")


def _source_name(source: Any) -> str | None:
    if isinstance(source, (str, Path)):
        return Path(source).name
    value = getattr(source, "name", None)
    return value if isinstance(value, str) else None


def _default_channel(layout: str, name: str | None) -> str:
    if layout in _LAYOUT_CHANNEL:
        return _LAYOUT_CHANNEL[layout]
    if layout in _SURVEY_LAYOUTS:
        return "survey"
    return Path(name).stem if name else "feedback"


def _clean_text(values: pd.Series) -> pd.Series:
    """Raw text with NUL bytes removed, newlines normalised and outer whitespace stripped."""
    text = _stringify(values).str.replace("\x00", "", regex=False)
    return text.str.replace("\r\n", "\n", regex=False).str.replace("\r", "\n", regex=False).str.strip()


def _join_title(title: pd.Series, body: pd.Series) -> pd.Series:
    """``title + ". " + body`` (no extra period after a title ending in . ! ? or :)."""
    sep = pd.Series(np.where(title.str.contains(r"[.!?:…]$", regex=True), " ", ". "), index=title.index)
    both = title.ne("") & body.ne("")
    return pd.Series(np.where(both, title + sep + body, title + body), index=title.index, dtype=str)


def _unique_ids(ids: pd.Series, warnings: list[str]) -> pd.Series:
    """Make repeated comment ids unique (``id``, ``id_2``, ...) and say how many."""
    n_repeats = int(ids.duplicated().sum())
    if not n_repeats:
        return ids
    warnings.append(f"{n_repeats:,} duplicated comment ids were made unique with a _2, _3 ... suffix.")
    return pd.Series(make_unique(ids), index=ids.index, dtype=ids.dtype)


_CUSTOMER_BOUNDS = {
    Col.NPS: (0.0, 10.0),
    Col.CLV: (0.0, None),
    Col.REVENUE: (None, None),
    Col.TENURE: (0.0, None),
}
_KPI_BOUNDS = {Col.CSAT: (1.0, 5.0)}  # the other numeric KPI inputs are counts and money: >= 0


def ingest_customers(
    source: Any,
    *,
    roles: Mapping[str, Any] | None = None,
    name: str | None = None,
    config: IngestConfig = IngestConfig(),
) -> IngestResult:
    """Read a customer table: one row per customer with outcome and segment columns.

    Parameters
    ----------
    source : path, bytes, uploaded file or DataFrame
    roles : dict, optional
        Role -> column overrides, e.g. ``{"churned": "Exited"}``; None means
        "no column for this role"; roles not given are detected.
    name : str, optional
    config : IngestConfig

    Returns
    -------
    IngestResult
        ``data`` columns: row_id, customer_id, churned (Int64 0/1), nps, clv,
        monthly_revenue, tenure_months (float), plan, region (string),
        signup_date, churn_date (datetime), the KPI inputs the table has
        (``schemas.KPI_ROLES``: orders, revenue, csat, sessions ... as numbers;
        converted, upsell, cross_sell as Int64 0/1), then the other columns
        (segment candidates). Drops: "missing customer id"; "duplicate customer id"
        (identical repeats, the first is kept); "conflicting duplicate customer
        id" (all rows of an id whose rows disagree).

    Raises
    ------
    MissingColumnError
        No customer id column.
    InvalidValueError
        Unknown churn (or other yes/no) spellings, NPS outside 0-10, CSAT outside 1-5, negative CLV, tenure
        or counts, text in numeric columns.

    Examples
    --------
    >>> res = ingest_customers(b"customer_id,churned\\nc1,Yes\\nc2,no\\n", name="c.csv")
    >>> res.data["churned"].tolist()
    [1, 0]
    """
    frame, original, meta = _prepare(source, name, config)
    detection = _resolve_roles(frame, "customers", roles)
    r = dict(detection.roles)
    if not r["customer_id"]:
        raise MissingColumnError(
            "The customer table has no customer id column. Columns: " + ", ".join(map(repr, frame.columns)) + ".",
            hint=f"Name it {_mapping_hint('customer_id', 'customers')}.",
        )
    warnings = list(meta.warnings)
    if not any(r[k] for k in ("churned", "nps", "clv")):
        warnings.append("No churned, NPS or CLV column found: driver analysis will have no outcome to explain.")
    data = pd.DataFrame({Col.ROW_ID: np.arange(len(frame), dtype=np.int64)})
    data[Col.CUSTOMER_ID] = _role_ids(frame, r["customer_id"], "customer ids", warnings)
    data[Col.CHURNED] = _parse_flags(frame[r["churned"]], r["churned"], "churned", _TRUE, _FALSE) if r["churned"] else pd.array([pd.NA] * len(frame), dtype="Int64")
    for role, (low, high) in _CUSTOMER_BOUNDS.items():
        data[role] = _numeric_role(frame[r[role]], r[role], role, low, high) if r[role] else np.nan
    if r[Col.NPS]:  # NPS is a 0-10 answer: 7.5 is no answer the driver stage can use
        fractional = data[Col.NPS].mod(1).gt(0)
        _count_bad(fractional, frame[r[Col.NPS]], r[Col.NPS], "whole numbers (kept, NPS left empty)", warnings)
        data.loc[fractional, Col.NPS] = np.nan
    data[[Col.PLAN, Col.REGION]] = redact_frame(pd.DataFrame({role: _role_strings(frame, r[role]) for role in (Col.PLAN, Col.REGION)}))
    for role in (Col.SIGNUP_DATE, Col.CHURN_DATE):
        data[role] = _role_dates(frame, r[role], warnings)
    for role in (k for k in KPI_ROLES if r[k]):  # KPI inputs are kept only when the table has them
        data[role] = (_parse_flags(frame[r[role]], r[role], role) if role in KPI_FLAGS
                      else _numeric_role(frame[r[role]], r[role], role, *_KPI_BOUNDS.get(role, (0.0, None))))
    others = [c for c in frame.columns if c not in {c for c in r.values() if c}]
    user = redact_frame((original if original is not None else frame)[others])
    user = user.set_axis([f"input_{c}" if c in data.columns else c for c in others], axis=1)
    data = pd.concat([data, user], axis=1)

    reason = pd.Series(None, index=data.index, dtype=object)
    missing = data[Col.CUSTOMER_ID].isna()
    reason[missing] = DROP_MISSING_ID
    reason[np.isin(data[Col.ROW_ID], frame.attrs.get(_ATTR_MALFORMED, ()))] = DROP_MALFORMED
    content = data.drop(columns=[Col.ROW_ID])[~missing]
    versions = content.drop_duplicates().groupby(Col.CUSTOMER_ID).size()
    conflicting = data[Col.CUSTOMER_ID].isin(versions.index[versions > 1]) & ~missing
    reason[conflicting] = DROP_CONFLICTING_ID
    repeat = content.duplicated().reindex(data.index, fill_value=False)
    reason[repeat & ~conflicting] = DROP_DUPLICATE_ID
    if conflicting.any():
        warnings.append(
            f"{int(versions.gt(1).sum()):,} customer ids appear in rows that disagree; all "
            f"{int(conflicting.sum()):,} of their rows were dropped ('{DROP_CONFLICTING_ID}')."
        )
    keep = reason.isna().to_numpy()
    dropped = pd.DataFrame({Col.ROW_ID: data.loc[~keep, Col.ROW_ID].to_numpy(), Col.REASON: reason[~keep].to_numpy()})
    return IngestResult(data[keep].reset_index(drop=True), dropped, r, _with_warnings(meta, warnings), len(data), "customers")
