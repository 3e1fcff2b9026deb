"""A run's summary for a reader at a terminal or in a notebook, in the manner of statsmodels' ``Summary``.

One object renders as text (``str``) and as HTML (``_repr_html_``, which notebooks show);
what a reader must know to trust the figures (a stage skipped, a fallback taken) comes
last as numbered notes. Every user string is escaped in the HTML.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import pandas as pd

from insight.schemas import COVERAGE, Col

THEME_COLUMNS = {Col.THEME: "theme", "n_comments": "comments", "share": "share", "avg_sentiment": "avg sentiment"}


@dataclass(frozen=True)
class RunSummary:
    """Headline figures, the largest themes and numbered notes of one run.

    Attributes
    ----------
    facts : (label, value) pairs, in reading order.
    themes : the largest themes: theme, comments, share, avg sentiment.
    notes : what limits the figures (skipped stages, fallbacks), numbered from 1 when shown.
    """

    facts: tuple[tuple[str, str], ...]
    themes: pd.DataFrame
    notes: tuple[str, ...]

    def as_text(self) -> str:
        width = max(len(label) for label, _ in self.facts)
        lines = ["insight run summary", "=" * 19]
        lines += [f"{label:<{width}}  {value}" for label, value in self.facts]
        lines += ["", "Largest themes", self.themes.to_string(index=False) if len(self.themes) else "(none)"]
        if self.notes:
            lines += ["", "Notes"] + [f"[{i}] {note}" for i, note in enumerate(self.notes, 1)]
        return "\n".join(lines)

    def as_html(self) -> str:
        rows = "".join(f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>" for label, value in self.facts)
        parts = ["<h4>insight run summary</h4>", f"<table>{rows}</table>", "<h5>Largest themes</h5>",
                 self.themes.to_html(index=False, escape=True)]
        if self.notes:
            parts += ["<h5>Notes</h5>", "<ol>" + "".join(f"<li>{html.escape(n)}</li>" for n in self.notes) + "</ol>"]
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()


def summarize(result: Any, top: int = 10) -> RunSummary:
    """The :class:`RunSummary` of a RunResult: rows, themes and their coverage, customers, drivers, notes."""
    acc = result.feedback.accounting()
    facts = [("rows", f"{acc['rows_in']:,} in, {acc['rows_kept']:,} kept, {acc['rows_dropped']:,} dropped"),
             ("comments", f"{len(result.comments):,} ({len(result.sentences):,} sentences)"),
             ("themes", f"{len(result.themes):,}")]
    coverage = result.kpis.get(COVERAGE)
    if coverage:
        facts.append(("theme coverage", f"{coverage['no_topic']:,} sentences without a topic, "
                                        f"{coverage['unclassified']:,} fitting no theme"))
    if result.join is not None:
        facts.append(("customers", f"{result.join.n_comments_matched:,} of {result.join.n_comments:,} comments "
                                   f"matched a customer ({result.join.match_rate:.0%})"))
    if result.drivers is not None:
        facts.append(("drivers", f"{len(result.drivers.table):,} estimates over {result.drivers.n_customers:,} "
                                 "customers; result.drivers.summary() lists them"))
    columns = [c for c in THEME_COLUMNS if c in result.themes.columns]
    themes = result.themes.nlargest(top, "n_comments") if "n_comments" in columns else result.themes.head(top)
    themes = themes[columns].rename(columns=THEME_COLUMNS).round(2).reset_index(drop=True)
    return RunSummary(tuple(facts), themes, tuple(result.notes))
