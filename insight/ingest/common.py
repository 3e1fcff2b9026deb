"""What ingest returns (:class:`TableMeta`, :class:`RoleDetection`, :class:`IngestResult`) and what its modules share:
drop reasons, frame attributes, cells as strings, and the wording of messages.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from insight.errors import SchemaValidationError
from insight.privacy import redact
from insight.schemas import KPI_ROLES, Col


FEEDBACK_ROLES = ("text", "customer_id", "comment_id", "date", "score", "channel", "title")
CUSTOMER_ROLES = (
    "customer_id",
    "churned",
    "nps",
    "clv",
    "monthly_revenue",
    "tenure_months",
    "plan",
    "region",
    "signup_date",
    "churn_date",
    *KPI_ROLES,
)

# Drop reasons: exact strings, written to dropped.csv and shown in the app.
DROP_EMPTY_TEXT = "empty text"
DROP_DUPLICATE = "duplicate"
DROP_MISSING_ID = "missing customer id"
DROP_DUPLICATE_ID = "duplicate customer id"
DROP_CONFLICTING_ID = "conflicting duplicate customer id"
DROP_UNCACHED_FORMULA = "formula read as empty"
DROP_MALFORMED = "malformed line"
_SURVEY_LAYOUTS = frozenset({"qualtrics", "surveymonkey", "wide_survey"})
_LAYOUT_CHANNEL = {"appstore": "review", "helpdesk": "ticket"}
_CLI_FLAGS = {"text": "--text-col", "date": "--date-col", "score": "--score-col"}
_ATTR_LAYOUT = "insight.layout"
_ATTR_LABELS = "insight.labels"
_ATTR_UNCACHED = "insight.uncached_formulas"  # column -> rows whose Excel formula had no cached value
_ATTR_MALFORMED = "insight.malformed_rows"  # rows of a text file with more fields than the header


@dataclass(frozen=True)
class TableMeta:
    """What :func:`read_table` found in a file.

    Attributes
    ----------
    format : "csv" | "tsv" | "xlsx" | "json" | "jsonl" | "parquet" ("dataframe" when a frame was passed).
    encoding : text encoding used, None for binary formats.
    delimiter : field separator of a delimited text file, else None.
    header_rows_skipped : extra header rows of survey tools that were skipped
        (2 for Qualtrics: question text and import ids; 1 for SurveyMonkey's answer labels).
    layout : "plain" | "qualtrics" | "surveymonkey" | "helpdesk" | "appstore" | "wide_survey".
    n_rows : data rows after the header rows.
    warnings : everything the reader (and later ingest) noticed but did not refuse.
    chunks : how many chunks a large delimited file was parsed in (0: parsed whole).
    """

    format: str
    encoding: str | None
    delimiter: str | None
    header_rows_skipped: int
    layout: str
    n_rows: int
    warnings: tuple[str, ...] = ()
    chunks: int = 0


@dataclass(frozen=True)
class RoleDetection:
    """Columns found for each role.

    Attributes
    ----------
    roles : role -> chosen column, None when no column fits.
    candidates : role -> plausible columns, best first (what the app offers in its drop-downs).
    text_columns : the open-text columns comments are taken from; several for a wide survey.
    notes : columns named like a role whose values do not fit it, so the role was left without
        a column, and why (ingest adds them to the warnings: no role is dropped silently).
    """

    roles: dict[str, str | None]
    candidates: dict[str, tuple[str, ...]]
    text_columns: tuple[str, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class IngestResult:
    """Kept rows, dropped rows with reasons, and how columns were mapped.

    For a wide survey file (several open-text columns) the unit of accounting
    is one (row, text column) cell: ``rows_in`` is input rows x text columns,
    and ``dropped`` carries a ``source_column``. ``rows_in == rows_kept +
    rows_dropped`` holds in every case and is checked on construction.

    Attributes
    ----------
    data : kept rows: canonical columns first, then the user's other columns.
    dropped : one row per dropped row: ``row_id``, ``reason`` (+ ``source_column`` for wide files).
    roles : role -> column used (None when absent).
    meta : what the reader found, with ingest's warnings appended.
    rows_in : rows (or row x text-column cells) read.
    kind : "feedback" or "customers".
    """

    data: pd.DataFrame
    dropped: pd.DataFrame
    roles: dict[str, Any]
    meta: TableMeta
    rows_in: int
    kind: str

    def __post_init__(self) -> None:
        if self.rows_in != self.rows_kept + self.rows_dropped:
            raise SchemaValidationError(
                f"Row accounting broken: rows_in={self.rows_in} but kept={self.rows_kept} + "
                f"dropped={self.rows_dropped}. This is a bug in insight.ingest."
            )

    @property
    def rows_kept(self) -> int:
        return len(self.data)

    @property
    def rows_dropped(self) -> int:
        return len(self.dropped)

    def accounting(self) -> dict[str, Any]:
        """Row counts and drops per reason (goes into summary.json)."""
        by_reason = self.dropped[Col.REASON].value_counts(sort=True)
        return {
            "rows_in": self.rows_in,
            "rows_kept": self.rows_kept,
            "rows_dropped": self.rows_dropped,
            "dropped_by_reason": {str(k): int(v) for k, v in by_reason.items()},
        }


def _is_nested(value: Any) -> bool:
    return isinstance(value, (dict, list, tuple, np.ndarray))


def _json_value(value: Any) -> Any:
    """JSON stand-ins for what Parquet nests in a cell: arrays, NumPy scalars, bytes, timestamps."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _stringify(series: pd.Series) -> pd.Series:
    """Values as strings with "" for missing; integral floats lose their ".0" (ids, counts); lists and
    records become JSON text; bytes are decoded as UTF-8."""
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.na_value is np.nan:  # pandas' default str
        return series.fillna("")
    missing = series.isna().to_numpy()
    present = series[~missing]
    if pd.api.types.is_float_dtype(series) and np.all(np.mod(present, 1) == 0) and np.all(np.abs(present) < 2**53):
        out = series.astype("Int64").astype(str)
    elif pd.api.types.is_object_dtype(series):
        out = series.map(_cell_text)
    else:
        out = series.astype(str)
    return pd.Series(np.where(missing, "", out.to_numpy(dtype=object)), index=series.index, dtype=str)


def _cell_text(value: Any) -> str:
    if _is_nested(value):
        return json.dumps(value, ensure_ascii=False, default=_json_value)
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _mapping_hint(role: str, kind: str = "feedback") -> str:
    """How to name a role's column, for whoever reads the message: app user, CLI user or Python caller."""
    flag = _CLI_FLAGS.get(role) if kind == "feedback" else None
    cli = f"{flag} COLUMN" if flag else f"--customer-col {role}=COLUMN" if kind == "customers" else None
    where = "under Column roles on the Upload page" + (f", with {cli} on the command line" if cli else "")
    return f"{where}, or roles={{'{role}': ...}} in Python"


def _with_warnings(meta: TableMeta, warnings: list[str]) -> TableMeta:
    """``meta`` carrying ``warnings``, personal data redacted (they quote values and names and are stored)."""
    return dataclasses.replace(meta, warnings=tuple(redact(w) for w in warnings))


def _examples(values: pd.Series, n: int) -> str:
    """Up to ``n`` distinct values quoted for a message, personal data redacted (messages are shown and stored)."""
    return ", ".join(repr(redact(v)) for v in values.astype(str).unique()[:n])
