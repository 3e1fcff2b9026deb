"""The Export page: CSV files, the Excel workbook and the HTML report."""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from insight.ui import _guard, _opened, _table, per_run


def render_export(result: Any, *, key: str) -> None:
    """Download every table as CSV (formula-safe), the Excel workbook and the HTML report.

    Each file is made on click and the click does not rerun the page: a rerun re-registers every
    button's deferred file, and a second click landing during it downloaded nothing."""
    if not _opened("Export", result, key=key):
        return
    from insight import report

    with _guard("Preparing the tables"):
        tables = per_run(result, "export_tables", report.export_tables)
        _table(pd.DataFrame({"file": list(tables), "rows": [len(t) for t in tables.values()]}), key=f"{key}:files")
        st.caption("Cells starting with =, +, −, @ are prefixed with ' so spreadsheets do not run them as formulas.")
        cols = st.columns(3)
        for i, (name, table) in enumerate(tables.items()):
            cols[i % 3].download_button(
                name,
                # formula-guarded and written on click, not per render (seconds for a million comments)
                lambda table=table: report.safe_frame(table).to_csv(index=False).encode("utf-8"),
                file_name=name,
                mime="text/csv",
                key=f"{key}:csv:{name}",
                on_click="ignore",
            )
        st.download_button(
            "Excel workbook (all tables)",
            lambda: report.to_excel(result),
            file_name="insight.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key=f"{key}:excel",
            on_click="ignore",
        )
        st.download_button(
            "HTML report (self-contained, with charts)",
            lambda: report.to_html(result).encode("utf-8"),
            file_name="insight_report.html",
            mime="text/html",
            key=f"{key}:html",
            on_click="ignore",
        )
