"""Exports of a run: the CLI output files, an Excel workbook and a self-contained HTML report.

Everything leaving insight as a table goes through :func:`output_tables`, so the
CSV files, the Excel sheets, the app's downloads and the HTML report show the same
numbers under the same column names (``insight.schemas.OUTPUT_CONTRACT``).

Two safety rules hold for every export:

* spreadsheet cells are guarded against formula injection (:func:`safe_cell`):
  a comment such as ``=HYPERLINK("http://x")`` is written as text, never as a
  formula that Excel or LibreOffice would evaluate;
* every user string in the HTML report is escaped (tables here, chart labels by
  ``insight.charts``), and the report loads nothing
  from the network (plotly.js is inlined once), so it opens offline and cannot
  run a script a customer typed into a comment.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import html
import io
import json
import math
import os
import platform
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insight.errors import SchemaValidationError
from insight.privacy import redact_tree
from insight.schemas import OUTPUT_CONTRACT, SENTIMENT_FALLBACK, SKIPPED, Col
from insight.text import language_summary

FORMULA_TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20\u2212")
"""First characters that make a spreadsheet read a cell as a formula: ``= + - @``,
tab / CR / LF (which some importers strip before parsing), their full-width forms
``＝ ＋ － ＠`` (normalised to ASCII by some locales) and the minus sign ``−``."""

_LEADING_BLANKS = " \u00a0\u3000"
"""Blanks a spreadsheet may trim before deciding whether a cell is a formula."""

VERSIONED_PACKAGES = (
    "insight",
    "pandas",
    "numpy",
    "scikit-learn",
    "sentence-transformers",
    "torch",
    "statsmodels",
    "spacy",
)
"""Packages whose versions are recorded in ``summary.json``."""

NOT_INSTALLED = "not installed"
EXCEL_MAX_ROWS = 1_048_575  # one row of the sheet's 1,048,576 is the header
SUMMARY_FILE = "summary.json"
_REDACTIONS = "redactions"  # the text stage's PII counts, kept in ``RunResult.kpis`` by the pipeline
DROPPED_CUSTOMERS_FILE = "dropped_customers.csv"
UNMATCHED_IDS_FILE = "unmatched_ids.csv"  # feedback customer ids with no row in the customer table
KPI_TABLES = ("kpis_by_segment", "kpis_by_month", "kpis_by_theme")
"""RunResult fields written as ``<name>.csv``: every KPI per segment value, per month and per theme."""
TRENDS_FILE = "trends.csv"  # theme volume and sentiment per period, when the comments have dates

# Extra columns appended (when present) after each file's contract columns.
_EXTRAS: dict[str, tuple[str, ...]] = {
    "comments.csv": (Col.DATE, Col.CHANNEL, Col.LANGUAGE, Col.TEXT),
    "sentences.csv": (Col.COMMENT_ID, Col.SENTENCE_ID, Col.THEME_ID, Col.NO_TOPIC),
    "themes.csv": (Col.THEME_ID, "n_sentences", "description", "representatives"),
    "dropped.csv": (Col.SOURCE_COLUMN,),
}


# --------------------------------------------------------------------------- guards
def safe_cell(value: Any) -> Any:
    """Neutralise a value a spreadsheet would execute as a formula.

    Strings whose first character (after blanks) is a formula trigger
    (:data:`FORMULA_TRIGGERS`) get a leading single quote, the OWASP-recommended
    guard: the cell then shows the text as typed and is never evaluated. Anything
    that is not a string (numbers, including negative ones, dates, None) is
    returned unchanged, because only text cells are parsed as formulas.

    Parameters
    ----------
    value : Any
        One cell.

    Returns
    -------
    Any
        ``value``, or ``"'" + value`` for a dangerous string.

    Examples
    --------
    >>> safe_cell("=SUM(A1:A2)")
    "'=SUM(A1:A2)"
    >>> safe_cell(-3), safe_cell("fine")
    (-3, 'fine')
    """
    if not isinstance(value, str) or not value:
        return value
    if value[0] in FORMULA_TRIGGERS or value.lstrip(_LEADING_BLANKS)[:1] in FORMULA_TRIGGERS:
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`safe_cell` applied to every text column.

    Numeric, boolean and datetime columns are left as they are (a negative number
    is not a formula); text, object and categorical columns are guarded cell by
    cell. Column names are guarded too, since user segment columns become headers.
    """
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if _is_text_column(column):
            out[name] = column.astype(object).map(safe_cell)
    out.columns = [safe_cell(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


def _is_text_column(column: pd.Series) -> bool:
    kinds = (
        pd.api.types.is_numeric_dtype,
        pd.api.types.is_bool_dtype,
        pd.api.types.is_datetime64_any_dtype,
        pd.api.types.is_timedelta64_dtype,
    )
    return not any(kind(column.dtype) for kind in kinds)


# --------------------------------------------------------------------------- tables
def output_tables(result: Any) -> dict[str, pd.DataFrame]:
    """Every exported table of a run, keyed by its CLI file name, formula-safe.

    The contract files of ``OUTPUT_CONTRACT`` come first with exactly their
    contract columns first (extra columns appended); a stage that produced nothing
    gives a header-only frame. ``dropped_customers.csv`` is added when a customer
    table was read. The app's CSV downloads use these tables too.

    Parameters
    ----------
    result : insight.pipeline.RunResult

    Returns
    -------
    dict of str to DataFrame
        File name -> table, each passed through :func:`safe_frame`.

    Raises
    ------
    SchemaValidationError
        A stage's frame lacks a contract column (an upstream bug).
    """
    return {name: safe_frame(frame) for name, frame in export_tables(result).items()}


def export_tables(result: Any) -> dict[str, pd.DataFrame]:
    """The export tables as computed, not yet formula-guarded: the HTML report shows text as typed, and
    the app lists them and guards one only when it is downloaded (seconds per million rows)."""
    drivers = None if result.drivers is None else result.drivers.table
    tables = {
        "comments.csv": _comments_table(result.comments),
        "sentences.csv": _sentences_table(result.sentences, result.assignments),
        "themes.csv": _themes_table(result.themes),
        "drivers.csv": _contract_frame(drivers, "drivers.csv"),
        "segments.csv": _contract_frame(result.segments, "segments.csv"),
        "dropped.csv": _contract_frame(result.feedback.dropped, "dropped.csv"),
    }
    if result.customers is not None:
        tables[DROPPED_CUSTOMERS_FILE] = _contract_frame(result.customers.dropped, "dropped.csv")
    if result.join is not None:
        tables[UNMATCHED_IDS_FILE] = result.join.unmatched_ids.reset_index(drop=True)
    if result.trends is not None and not result.trends.empty:
        tables[TRENDS_FILE] = result.trends.reset_index(drop=True)
    for name in KPI_TABLES:  # None in runs without a customer table and in runs saved before they existed
        if getattr(result, name, None) is not None:
            tables[f"{name}.csv"] = getattr(result, name)
    return tables


def _contract_frame(frame: pd.DataFrame | None, name: str, *, known_extras_only: bool = False) -> pd.DataFrame:
    """Contract columns first, in order, then the known extras, then (unless
    ``known_extras_only``) every other column of the frame."""
    contract = list(OUTPUT_CONTRACT[name])
    if frame is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in contract})
    missing = [c for c in contract if c not in frame.columns]
    if missing:
        raise SchemaValidationError(
            f"Cannot write {name}: the frame has no column(s) {missing}; it has {list(frame.columns)}.",
            hint="This is a bug in the stage that made the frame; the output contract is fixed.",
        )
    extras = [c for c in _EXTRAS.get(name, ()) if c in frame.columns and c not in contract]
    rest = [] if known_extras_only else [c for c in frame.columns if c not in contract and c not in extras]
    return frame.loc[:, contract + extras + rest].reset_index(drop=True)


def _joined(value: Any, sep: str) -> Any:
    """Lists/arrays of names as one string (CSV cells hold text, not Python reprs)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return sep.join(str(v) for v in value)
    return "" if pd.isna(value) else value


def _comments_table(comments: pd.DataFrame) -> pd.DataFrame:
    frame = comments.copy()
    if Col.CUSTOMER_ID not in frame.columns:  # feedback without a customer id column
        frame[Col.CUSTOMER_ID] = pd.Series(pd.NA, index=frame.index, dtype=object)
    if Col.THEMES in frame.columns:
        frame[Col.THEMES] = frame[Col.THEMES].map(lambda v: _joined(v, "|"))
    return _contract_frame(frame, "comments.csv", known_extras_only=True)


def _sentences_table(sentences: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """One row per (sentence, theme); an unclassified sentence keeps one row with no theme."""
    keep = [Col.SENTENCE_ID, Col.THEME_ID, Col.THEME, Col.THEME_CONFIDENCE]
    links = assignments.loc[:, [c for c in keep if c in assignments.columns]]
    frame = sentences.merge(links, on=Col.SENTENCE_ID, how="left", sort=False)
    frame[Col.THEME] = frame[Col.THEME].astype(object).where(frame[Col.THEME].notna(), "")
    if Col.THEME_ID in frame.columns:  # NaN for unclassified rows would turn ids into floats
        frame[Col.THEME_ID] = frame[Col.THEME_ID].astype("Int64")
    return _contract_frame(frame, "sentences.csv", known_extras_only=True)


def _themes_table(themes: pd.DataFrame) -> pd.DataFrame:
    frame = themes.copy()
    for name, sep in ((Col.KEYWORDS, "; "), (Col.PARENT, "; "), ("representatives", " | ")):
        if name in frame.columns:
            frame[name] = frame[name].map(lambda v, sep=sep: _joined(v, sep))
    return _contract_frame(frame, "themes.csv", known_extras_only=True)


# --------------------------------------------------------------------------- summary
def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape a result (``"not installed"`` if absent)."""
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = NOT_INSTALLED
    return versions


def run_summary(result: Any) -> dict[str, Any]:
    """The ``summary.json`` record of a run: row accounting, KPIs, settings, versions.

    Returns a JSON-ready dict (numpy scalars, NaN and dataclasses converted).
    """
    n_sentences = len(result.sentences)
    classified = result.assignments[Col.SENTENCE_ID].nunique() if len(result.assignments) else 0
    kpis = {k: v for k, v in result.kpis.items() if k != _REDACTIONS}
    if result.skipped:
        kpis[SKIPPED] = result.skipped
    if result.sentiment_fallback is not None:
        kpis[SENTIMENT_FALLBACK] = result.sentiment_fallback
    summary = {
        **result.feedback.accounting(),  # rows_in, rows_kept, rows_dropped, dropped_by_reason
        "match_rate": None if result.join is None else result.join.match_rate,
        "kpis": kpis,
        "n_comments": len(result.comments),
        "n_sentences": n_sentences,
        "n_themes": len(result.themes),
        "unclassified_share": (n_sentences - classified) / n_sentences if n_sentences else None,
        "redactions": result.kpis.get(_REDACTIONS, {}),
        "languages": language_summary(result.comments),
        "settings": result.config.to_dict(),
        "versions": package_versions(),
        "timings": result.timings,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    summary["feedback_input"] = _input_record(result.feedback)
    if result.customers is not None:
        summary["customers"] = {**result.customers.accounting(), **_input_record(result.customers)}
    if result.join is not None:
        summary["join"] = {
            "n_comments_matched": result.join.n_comments_matched,
            "n_comments_without_id": result.join.n_comments_without_id,
            "n_unmatched_ids": len(result.join.unmatched_ids),
            "n_comments_with_unmatched_id": int(result.join.unmatched_ids["n_comments"].sum()),
            "n_customers_without_id": result.join.n_customers_without_id,
        }
    if result.drivers is not None:
        summary["driver_notes"] = list(result.drivers.notes)
    return redact_tree(_jsonable(summary))  # it quotes file names, column names, channels and values


def _input_record(ingested: Any) -> dict[str, Any]:
    """How a file was read and mapped, and what ingest noticed without refusing (summary.json)."""
    meta = ingested.meta
    return {
        "format": meta.format, "encoding": meta.encoding, "layout": meta.layout,
        "roles": {role: column for role, column in ingested.roles.items() if column is not None},
        "warnings": list(meta.warnings),
    }


def _jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars unboxed, NaN/NA -> None, dataclasses -> dicts."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return value


# --------------------------------------------------------------------------- writers
def write_outputs(result: Any, out_dir: str | Path) -> dict[str, Path]:
    """Write the CLI output files of a run to ``out_dir`` (created if needed).

    Every contract file is written, header-only when its stage produced nothing,
    so scripts reading the folder never meet a missing file. CSVs are UTF-8
    without an index and formula-safe.

    Parameters
    ----------
    result : insight.pipeline.RunResult
    out_dir : str or Path

    Returns
    -------
    dict of str to Path
        File name -> path written (the contract CSVs, ``dropped_customers.csv``
        when a customer table was read, and ``summary.json``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, table in output_tables(result).items():
        written[name] = _replace(out / name, lambda tmp, table=table: table.to_csv(tmp, index=False, encoding="utf-8"))
    summary = json.dumps(run_summary(result), indent=2, ensure_ascii=False)
    written[SUMMARY_FILE] = _replace(out / SUMMARY_FILE, lambda tmp: tmp.write_text(summary, encoding="utf-8"))
    return written


def _replace(path: Path, write: Any) -> Path:
    """Write ``path`` through a temporary file renamed over it: a killed run leaves whole files, old or new
    (and a temporary file that the next run's write of the same file replaces)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def to_excel(result: Any) -> bytes:
    """An .xlsx workbook with one sheet per exported table plus a summary sheet.

    Cells are formula-safe (:func:`safe_cell`), headers bold, the header row
    frozen. Characters Excel cannot store (control characters) are removed, and
    a table longer than Excel's row limit is truncated with a note in the summary.
    """
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    def clean(value: Any) -> Any:
        return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value

    summary = run_summary(result)
    notes = []
    sheets: dict[str, pd.DataFrame] = {}
    for name, table in output_tables(result).items():
        sheet = name.removesuffix(".csv")[:31]
        if len(table) > EXCEL_MAX_ROWS:
            notes.append(f"{sheet}: first {EXCEL_MAX_ROWS:,} of {len(table):,} rows (Excel's limit); see {name}")
            table = table.iloc[:EXCEL_MAX_ROWS]
        sheets[sheet] = _excel_ready(table)
    flat = _flatten(summary) + [("note", n) for n in notes]
    sheets = {"summary": safe_frame(pd.DataFrame(flat, columns=["key", "value"])), **sheets}

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for sheet, table in sheets.items():
            table.map(clean).to_excel(writer, sheet_name=sheet, index=False)
            ws = writer.sheets[sheet]
            ws.freeze_panes = "A2"
            for cell in ws[1]:
                cell.font = Font(bold=True)
    return buffer.getvalue()


def _excel_ready(table: pd.DataFrame) -> pd.DataFrame:
    """Timezone-aware datetimes as naive UTC (Excel has no time zones)."""
    out = table.copy()
    for name in out.columns:
        if isinstance(out[name].dtype, pd.DatetimeTZDtype):
            out[name] = out[name].dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested summary dict as (dotted key, scalar) rows for the summary sheet."""
    if isinstance(value, dict):
        rows: list[tuple[str, Any]] = []
        for key, item in value.items():
            rows += _flatten(item, f"{prefix}.{key}" if prefix else str(key))
        return rows
    if isinstance(value, list):
        return [(prefix, ", ".join(str(v) for v in value))]
    return [(prefix, value)]


# --------------------------------------------------------------------------- HTML
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;color:#1f2937;padding:0 1rem}
h1{margin-bottom:.2rem}h2{border-bottom:2px solid #e5e7eb;padding-bottom:.3rem;margin-top:2.5rem}
.meta{color:#6b7280;font-size:.9rem}
.cards{display:flex;flex-wrap:wrap;gap:.8rem}
.card{border:1px solid #e5e7eb;border-radius:8px;padding:.7rem 1rem;min-width:150px}
.card .label{color:#6b7280;font-size:.8rem;text-transform:uppercase;letter-spacing:.03em}
.card .value{font-size:1.5rem;font-weight:600}.card .ci{color:#6b7280;font-size:.8rem}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.6rem 0}
th,td{border-bottom:1px solid #e5e7eb;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f9fafb}td.num{text-align:right;font-variant-numeric:tabular-nums}
.verbatim{margin:.3rem 0;padding:.4rem .7rem;border-left:3px solid #d1d5db;background:#f9fafb;white-space:pre-wrap}
.neg{border-left-color:#dc2626}.pos{border-left-color:#16a34a}
.empty{color:#6b7280;font-style:italic}.scroll{overflow-x:auto}
"""
_PLOT_CONFIG = {"displaylogo": False, "responsive": True}
_MAX_TABLE_ROWS = 50
_VERBATIMS_PER_THEME = 3
_VERBATIM_THEMES = 12


def to_html(result: Any, *, title: str = "insight report") -> str:
    """One self-contained HTML report of a run: KPIs, themes, drivers, segments, trends, verbatims.

    plotly.js is inlined once (the first chart), so the file opens offline and
    fetches nothing. Every user-supplied string (comment text, theme names,
    keywords, segment values) is HTML-escaped: in the tables here, in chart
    labels by the ``insight.charts`` builders (plotly reads labels as markup).

    Parameters
    ----------
    result : insight.pipeline.RunResult
    title : str, default="insight report"

    Returns
    -------
    str
        The HTML document.
    """
    tables = export_tables(result)
    summary = run_summary(result)
    charts = _Charts()
    sections = [
        _section("Headline KPIs", _kpi_cards(summary)),
        _section("KPI catalogue", _table_html(_catalogue_table(summary))),
        _section("Themes", _table_html(tables["themes.csv"])),
        _section("Drivers", _drivers_html(tables["drivers.csv"], charts)),
        _section("Segments", charts.add(_segments_figure(tables["segments.csv"])) + _top_segments(tables["segments.csv"])),
        _section("Trends", charts.add(_trends_figure(result.trends))),
        _section("Verbatims", _verbatims_html(tables["sentences.csv"])),
    ]
    meta = (
        f"{summary['rows_kept']:,} comments kept of {summary['rows_in']:,} rows · "
        f"{summary['n_themes']} themes · created {summary['created']} · insight {summary['versions']['insight']}"
    )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class=\"meta\">{html.escape(meta)}</p>"
        + "".join(sections)
        + "</body></html>\n"
    )


class _Charts:
    """Renders figures as HTML divs, inlining plotly.js with the first one only."""

    def __init__(self) -> None:
        self._inlined = False

    def add(self, figure: Any) -> str:
        if figure is None:
            return '<p class="empty">No data for this chart.</p>'
        include = "inline" if not self._inlined else False
        self._inlined = True
        return figure.to_html(full_html=False, include_plotlyjs=include, config=_PLOT_CONFIG)


def _section(title: str, body: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2>{body}</section>"


def _escape(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, (float, np.floating)):
        value = float(value) + 0.0  # no "-0"
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return html.escape(str(value))


def _table_html(table: pd.DataFrame, max_rows: int = _MAX_TABLE_ROWS) -> str:
    if table.empty:
        return '<p class="empty">Nothing to show.</p>'
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    numeric = [pd.api.types.is_numeric_dtype(table[c].dtype) for c in table.columns]
    rows = []
    for record in table.head(max_rows).itertuples(index=False):
        cells = "".join(
            f'<td class="num">{_escape(v)}</td>' if is_num else f"<td>{_escape(v)}</td>"
            for v, is_num in zip(record, numeric)
        )
        rows.append(f"<tr>{cells}</tr>")
    more = f'<p class="meta">First {max_rows} of {len(table):,} rows.</p>' if len(table) > max_rows else ""
    table_html = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return f'<div class="scroll">{table_html}</div>{more}'



_UNITS = {"%": "%", "points": " pts"}
_SHARE_KPIS = frozenset({"match_rate"})


def _kpi_cards(summary: dict[str, Any]) -> str:
    """Metric cards: counts, then every KPI that is a number or an estimate with an interval."""
    cards = [("comments", _escape(summary["rows_kept"]), ""), ("themes", _escape(summary["n_themes"]), "")]
    for name, kpi in (summary["kpis"] or {}).items():
        if isinstance(kpi, dict) and isinstance(kpi.get("value"), (int, float)):
            unit = _UNITS.get(kpi.get("unit", ""), "")
            low, high = kpi.get("ci_low"), kpi.get("ci_high")
            ci = f"95% CI {_escape(low)} – {_escape(high)}" if low is not None and high is not None else ""
            n = f" · n={kpi['n']:,}" if isinstance(kpi.get("n"), int) else ""
            cards.append((name, _escape(kpi["value"]) + unit, ci + n))
        elif isinstance(kpi, (int, float)) and not isinstance(kpi, bool):
            cards.append((name, f"{kpi:.0%}" if name in _SHARE_KPIS else _escape(kpi), ""))
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="label">{html.escape(label.replace("_", " "))}</div>'
        f'<div class="value">{value}</div><div class="ci">{note}</div></div>'
        for label, value, note in cards
    ) + "</div>"


def _catalogue_table(summary: dict[str, Any]) -> pd.DataFrame:
    """One row per KPI of :func:`insight.kpi.catalogue`: value and interval, or the columns it still needs."""
    catalogue = (summary["kpis"] or {}).get("catalogue") or {}
    return pd.DataFrame([
        {"kpi": name, **{k: entry.get(k) for k in ("value", "ci_low", "ci_high", "n", "unit")},
         "formula": entry["formula"], "needs": ", ".join(entry.get("needs", []))}
        for name, entry in catalogue.items()
    ])  # fmt: skip


def _verbatims_html(sentences: pd.DataFrame) -> str:
    """A few sentences per theme (largest themes first), already PII-redacted upstream."""
    rows = sentences[sentences[Col.THEME].astype(str) != ""]
    if rows.empty:
        return '<p class="empty">No classified sentences.</p>'
    order = rows[Col.THEME].value_counts().index[:_VERBATIM_THEMES]
    parts = []
    for theme in order:
        sample = rows[rows[Col.THEME] == theme].sort_values(Col.THEME_CONFIDENCE, ascending=False)
        quotes = []
        for record in sample.head(_VERBATIMS_PER_THEME).itertuples(index=False):
            label = getattr(record, Col.SENTIMENT_LABEL)
            css = {"negative": "neg", "positive": "pos"}.get(label, "")
            quotes.append(f'<div class="verbatim {css}">{_escape(getattr(record, Col.TEXT))}</div>')
        parts.append(f"<h3>{_escape(theme)}</h3>{''.join(quotes)}")
    return "".join(parts)


def _top_segments(segments: pd.DataFrame) -> str:
    """The cells in segments.csv order (flagged ones last), with the priority interval and the flags."""
    from insight.charts import top_actions

    note = (
        '<p class="meta">Priority = customers affected × CLV × excess churn, with its 95% interval. Flagged cells '
        "(small_cell: too few customers to compare; no priority) come last. confounded: the theme's churn link "
        "disappears after adjustment, so its priority is likely not its own. Every column is in segments.csv.</p>"
    )
    return note + _table_html(top_actions(segments, top=None))


def _segments_figure(segments: pd.DataFrame) -> Any:
    from insight.charts import priority_heatmap

    return None if segments.empty else priority_heatmap(segments)


def _trends_figure(trends: pd.DataFrame | None) -> Any:
    from insight.charts import trend_chart

    return None if trends is None or trends.empty else trend_chart(trends)


def _drivers_html(drivers: pd.DataFrame, charts: "_Charts") -> str:
    """One forest chart per outcome (themes mentioned at all), then the table with the intervals."""
    from insight.charts import UNITS_NOTES, forest_chart
    from insight.drivers import EXPOSURE, FLAGS

    mentioned = drivers[drivers[EXPOSURE] == "mentioned"] if EXPOSURE in drivers else drivers
    outcomes = list(dict.fromkeys(mentioned[Col.OUTCOME])) if len(mentioned) else []
    figures = "".join(
        charts.add(forest_chart(mentioned, outcome)) + f'<p class="meta">{html.escape(UNITS_NOTES.get(outcome, ""))}</p>'
        for outcome in outcomes
    )
    shown = [c for c in (*OUTPUT_CONTRACT["drivers.csv"], FLAGS) if c in mentioned]
    table = mentioned.loc[:, shown]
    table.insert(shown.index(Col.OUTCOME) + 1, "units", table[Col.OUTCOME].map(_effect_units))
    note = '<p class="meta">Themes mentioned at all; every exposure and statistic is in drivers.csv.</p>'
    return (figures or charts.add(None)) + note + _table_html(table, max_rows=200)


def _effect_units(outcome: str) -> str:
    """Units of a driver row's effect and adjusted_effect, spelt out where they differ (NPS)."""
    from insight.charts import EFFECT_UNITS

    unit, adjusted_unit = EFFECT_UNITS.get(outcome, ("", ""))
    return unit if unit == adjusted_unit else f"effect: {unit}; adjusted: {adjusted_unit}"
